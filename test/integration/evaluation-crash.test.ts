import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueEvaluation } from '../../src/queue/index.js';
import { startCli } from '../helpers/cli.js';
import { TEST_DATABASE_URL, TEST_REDIS_URL, createTestContext, seedMunicipality, type TestContext } from '../helpers/context.js';

/**
 * Kill -9 a worker in the middle of a 20,000-signal burst and start it again: every household
 * ends up evaluated once, none gets a second task.
 */

const SIGNALS = 20_000;
let t: TestContext;

beforeAll(async () => {
  t = await createTestContext('evaluation_crash');
  await seedMunicipality(t.ctx, '1916', ['2261', '2262'], [{ id: 'noord', areas: ['2261'] }, { id: 'zuid', areas: ['2262'] }]);
});
afterAll(async () => {
  await t.close();
});

async function seedBurst(): Promise<number[]> {
  const batchId = randomUUID();
  await t.ctx.pool.query(`insert into signal_batches (id, source, status) values ($1, 'cli', 'completed')`, [batchId]);
  // 20,000 signals over 12,000 addresses: some households get two signals.
  const { rows } = await t.ctx.pool.query<{ id: number }>(
    `insert into households (address_key, municipality_code, postcode, house_number)
     select (case when n % 2 = 0 then '2261AA' else '2262BB' end) || '|' || n || '||', '1916',
            case when n % 2 = 0 then '2261AA' else '2262BB' end, n
       from generate_series(1, 12000) n
     returning id`,
  );
  await t.ctx.pool.query(`insert into evaluation_queue (household_id, since) select unnest($1::bigint[]), now()`, [rows.map((r) => r.id)]);
  await t.ctx.pool.query(
    `insert into signals (batch_id, household_id, municipality_code, partner_type, external_id, signal_date, amount_cents, crisis)
     select $1, h.id, '1916', (array['energy','rent','water','health_insurance'])[1 + n % 4], 'burst-' || n,
            current_date - (n % 20), 1000 + (n * 37) % 200000, n % 97 = 0
       from generate_series(1, $2::int) n
       join households h on h.house_number = 1 + (n % 12000)`,
    [batchId, SIGNALS],
  );
  return rows.map((r) => r.id);
}

describe('a worker killed mid-burst', () => {
  it('loses nothing and doubles nothing', async () => {
    const households = await seedBurst();
    const env = {
      DATABASE_URL: TEST_DATABASE_URL,
      DATABASE_SCHEMA: t.ctx.schema,
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: `test:${t.ctx.schema}`,
      SWEEP_AFTER_SECONDS: '2',
      EVALUATION_CONCURRENCY: '2',
      LOG_LEVEL: 'info',
    };
    // Small jobs so that the kill lands between and inside jobs.
    for (let i = 0; i < households.length; i += 100) await enqueueEvaluation(t.ctx.queues, households.slice(i, i + 100));

    const first = startCli(['worker'], env);
    const evaluatedCount = async () =>
      (await t.ctx.pool.query(`select count(*)::int as n from unnest($1::bigint[]) as h(id) where not exists (select 1 from evaluation_queue q where q.household_id = h.id)`, [households])).rows[0].n as number;
    const started = Date.now();
    while ((await evaluatedCount()) < 1_000 && Date.now() - started < 60_000) await new Promise((r) => setTimeout(r, 50));
    first.child.kill('SIGKILL');
    await first.exited;
    const atKill = await evaluatedCount();
    expect(atKill).toBeGreaterThan(0);
    expect(atKill).toBeLessThan(households.length);

    const second = startCli(['worker'], env);
    try {
      const deadline = Date.now() + 120_000;
      while ((await evaluatedCount()) < households.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    } finally {
      await second.stop();
    }
    expect(await evaluatedCount()).toBe(households.length);
    const { rows } = await t.ctx.pool.query(
      `select count(*)::int as tasks, count(distinct household_id)::int as households,
              (select count(*)::int from signals s where not exists (select 1 from task_signals ts where ts.signal_id = s.id)) as unattached
         from tasks`,
    );
    expect(rows[0]).toEqual({ tasks: households.length, households: households.length, unattached: 0 });
  });
});
