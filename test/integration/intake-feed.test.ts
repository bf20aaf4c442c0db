import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startImportWorker, type ImportWorker } from '../../workers/import.js';
import { createTestContext, seedMunicipality, type TestContext } from '../helpers/context.js';

/**
 * The drop folder: files in FEED_DIR go through the same intake as the API and end up in
 * processed/ or failed/ with a report; replicas never import a file twice; a file abandoned in
 * processing/ is imported again.
 */

let t: TestContext;
let feedDir: string;
const workers: ImportWorker[] = [];

beforeAll(async () => {
  feedDir = await mkdtemp(path.join(tmpdir(), 'vroegsein-feed-'));
  // A long poll interval: the tests drive the polls themselves.
  t = await createTestContext('intake_feed', { env: { FEED_DIR: feedDir, FEED_POLL_SECONDS: '3600' } });
  await seedMunicipality(t.ctx, '1916', ['2261']);
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await t.close();
  await rm(feedDir, { recursive: true, force: true });
});
beforeEach(async () => {
  for (const sub of ['', 'processing', 'processed', 'failed']) {
    const dir = path.join(feedDir, sub);
    await mkdir(dir, { recursive: true });
    for (const entry of await readdir(dir, { withFileTypes: true })) if (entry.isFile()) await rm(path.join(dir, entry.name));
  }
});

function worker(): ImportWorker {
  const w = startImportWorker(t.ctx, { settleSeconds: 0, staleSeconds: 60 });
  workers.push(w);
  return w;
}

let counter = 0;
function csvFile(rows: number, options: { invalid?: number } = {}): string {
  const lines = ['externalId;partnerType;signalDate;amountCents;postcode;houseNumber'];
  for (let i = 0; i < rows; i++) {
    counter++;
    lines.push(`F-${counter};water;2026-01-05;${i < (options.invalid ?? 0) ? 'veel' : '3000'};2261AB;${counter}`);
  }
  return lines.join('\n') + '\n';
}

/** Sets a file's modification time `seconds` ago. */
async function age(file: string, seconds: number): Promise<void> {
  const then = new Date(Date.now() - seconds * 1000);
  await utimes(file, then, then);
}

async function readJson(file: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
}

describe('the feed folder', () => {
  it('imports a file, moves it to processed/ and writes the report next to it', async () => {
    await writeFile(path.join(feedDir, 'water-januari.csv'), csvFile(20, { invalid: 2 }));
    await worker().poll();
    expect(await readdir(feedDir)).not.toContain('water-januari.csv');
    expect((await readdir(path.join(feedDir, 'processed'))).sort()).toEqual(['water-januari.csv', 'water-januari.csv.report.json']);
    const report = await readJson(path.join(feedDir, 'processed', 'water-januari.csv.report.json'));
    expect(report).toMatchObject({ received: 20, accepted: 18, duplicates: 0, rejectedCount: 2 });
    expect(report.rejected).toEqual([
      { row: 2, errors: [{ column: 'amountCents', detail: expect.any(String) }] },
      { row: 3, errors: [{ column: 'amountCents', detail: expect.any(String) }] },
    ]);
    const { rows } = await t.ctx.pool.query(`select source, file_name, api_key_id, status from signal_batches where id = $1`, [report.batchId]);
    expect(rows[0]).toEqual({ source: 'feed', file_name: 'water-januari.csv', api_key_id: null, status: 'completed' });
    const audit = await t.ctx.pool.query(`select actor_key_id, actor_label, result from audit_events where action = 'signals.intake' and object_id = $1`, [report.batchId]);
    expect(audit.rows).toEqual([{ actor_key_id: null, actor_label: 'feed', result: 'success' }]);
  });

  it('moves a file that cannot be imported to failed/ with the problem as report', async () => {
    await writeFile(path.join(feedDir, 'wrong-header.csv'), 'id;type\n1;water\n');
    await writeFile(path.join(feedDir, 'all-invalid.csv'), csvFile(3, { invalid: 3 }));
    await worker().poll();
    expect((await readdir(path.join(feedDir, 'failed'))).sort()).toEqual([
      'all-invalid.csv',
      'all-invalid.csv.report.json',
      'wrong-header.csv',
      'wrong-header.csv.report.json',
    ]);
    expect(await readJson(path.join(feedDir, 'failed', 'wrong-header.csv.report.json'))).toMatchObject({ status: 400, detail: expect.stringContaining('header') });
    expect(await readJson(path.join(feedDir, 'failed', 'all-invalid.csv.report.json'))).toMatchObject({ status: 400, rejectedCount: 3 });
  });

  it('leaves files that are still being written, and other names, alone', async () => {
    await writeFile(path.join(feedDir, 'busy.csv'), csvFile(1));
    await writeFile(path.join(feedDir, 'notes.txt'), 'not a feed');
    await writeFile(path.join(feedDir, '.hidden.csv'), csvFile(1));
    const slow = startImportWorker(t.ctx, { settleSeconds: 3600 });
    workers.push(slow);
    await slow.poll();
    expect((await readdir(feedDir)).sort()).toEqual(['.hidden.csv', 'busy.csv', 'failed', 'notes.txt', 'processed', 'processing']);
  });

  it('imports each file once when several replicas poll at the same time', async () => {
    const names = ['a.csv', 'b.csv', 'c.csv', 'd.csv'];
    for (const name of names) await writeFile(path.join(feedDir, name), csvFile(50));
    const replicas = [worker(), worker(), worker()];
    await Promise.all(replicas.map((r) => r.poll()));
    const processed = await readdir(path.join(feedDir, 'processed'));
    expect(processed.filter((n) => n.endsWith('.csv')).sort()).toEqual(names);
    const { rows } = await t.ctx.pool.query(`select file_name, count(*)::int as n, sum(accepted)::int as accepted from signal_batches where file_name = any($1) group by 1 order by 1`, [names]);
    expect(rows).toEqual(names.map((name) => ({ file_name: name, n: 1, accepted: 50 })));
  });

  it('imports a file again that was abandoned in processing/, and keeps a second file of the same name apart', async () => {
    const content = csvFile(10);
    const abandoned = path.join(feedDir, 'processing', 'retry.csv');
    await writeFile(abandoned, content);
    await age(abandoned, 3600);
    const fresh = path.join(feedDir, 'processing', 'in-progress.csv');
    await writeFile(fresh, csvFile(1)); // another replica is importing it right now
    await worker().poll();
    expect(await readdir(path.join(feedDir, 'processing'))).toEqual(['in-progress.csv']);
    expect(await readJson(path.join(feedDir, 'processed', 'retry.csv.report.json'))).toMatchObject({ accepted: 10 });

    // The same file dropped again: all duplicates, and the first import's file and report stay.
    await writeFile(path.join(feedDir, 'retry.csv'), content);
    await worker().poll();
    const processed = (await readdir(path.join(feedDir, 'processed'))).filter((n) => n.startsWith('retry'));
    expect(processed).toHaveLength(4);
    const second = processed.find((n) => n !== 'retry.csv.report.json' && n.endsWith('.report.json'))!;
    expect(await readJson(path.join(feedDir, 'processed', second))).toMatchObject({ accepted: 0, duplicates: 10 });
  });
});
