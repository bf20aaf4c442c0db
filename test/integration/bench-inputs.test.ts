import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyReference, writeCsv } from '../../bench/lib.js';
import { importCsvStream } from '../../src/services/intake.js';
import { createTestContext, seedMunicipality, type TestContext } from '../helpers/context.js';

/**
 * The benchmarks' inputs stay in step with the code: the generated CSV holds every column
 * intake knows, every row of it is valid, and the COPY reference table takes it. (The
 * benchmarks themselves are timed and never run as tests.)
 */

let t: TestContext;
let dir: string;

beforeAll(async () => {
  t = await createTestContext('bench_inputs');
  dir = await mkdtemp(path.join(tmpdir(), 'vroegsein-bench-inputs-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await t.close();
});

describe('the benchmark inputs', () => {
  it('are a CSV that intake accepts whole and the COPY reference stores whole', async () => {
    const file = path.join(dir, 'signals.csv');
    await writeCsv(file, 500);
    // The generated postcodes' areas (1000–1999) belong to one municipality, as in the benchmark.
    await seedMunicipality(t.ctx, '0363', Array.from({ length: 1000 }, (_, i) => String(1000 + i)));
    const reference = await copyReference(t.ctx.pool, file, 500);
    expect(reference.seconds).toBeGreaterThan(0);
    const answer = await importCsvStream(t.ctx, createReadStream(file), { source: 'cli' });
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ received: 500, accepted: 500, duplicates: 0, rejectedCount: 0 });
    const { rows } = await t.ctx.pool.query<{ n: number }>(`select count(*)::int as n from signals where children_in_household is not null`);
    expect(rows[0]!.n).toBeGreaterThan(0);
  });
});
