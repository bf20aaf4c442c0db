import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.js';
import { createPool, type Pool } from '../../src/db/pool.js';
import { TEST_DATABASE_URL } from '../helpers/context.js';

/**
 * Upgrading an installation that already holds data: the schema of an older release is
 * filled, then the newer migrations run over it.
 */

const schema = `t_migrations_${randomBytes(4).toString('hex')}`;
let pool: Pool;

beforeAll(async () => {
  pool = createPool({ connectionString: TEST_DATABASE_URL, schema, max: 2 });
});
afterAll(async () => {
  await pool.query(`drop schema if exists "${schema}" cascade`).catch(() => {});
  await pool.end();
});

describe('090_task_signals', () => {
  it("moves every signal's task into task_signals and leaves unlinked signals unlinked", async () => {
    const before = await migrate(pool, schema, { until: '080_explanation_json.sql' });
    expect(before.at(-1)).toBe('080_explanation_json.sql');

    const { rows: seeded } = await pool.query<{ task_a: number; task_b: number }>(
      `with m as (insert into municipalities (code, name) values ('1916', 'Pijnacker-Nootdorp') returning code),
            b as (insert into signal_batches (source, status) values ('cli', 'completed') returning id),
            h as (insert into households (address_key, municipality_code, postcode, house_number)
                  select '2261AA|' || g || '||', (select code from m), '2261AA', g from generate_series(1, 2) g returning id),
            t as (insert into tasks (household_id, municipality_code, status)
                  select id, (select code from m), 'open' from h returning id, household_id),
            s as (insert into signals (batch_id, household_id, municipality_code, task_id, partner_type, external_id, signal_date, amount_cents)
                  select (select id from b), t.household_id, '1916', case when n < 3 then t.id end, 'energy', t.id || '-' || n, '2025-01-06', 100
                    from t, generate_series(1, 3) n)
       select min(id)::int as task_a, max(id)::int as task_b from t`,
    );
    const { task_a: taskA, task_b: taskB } = seeded[0]!;

    expect(await migrate(pool, schema, { until: '090_task_signals.sql' })).toEqual(['090_task_signals.sql']);

    const { rows: links } = await pool.query<{ task_id: number; external_id: string }>(
      `select ts.task_id::int, s.external_id from task_signals ts join signals s on s.id = ts.signal_id order by s.external_id`,
    );
    expect(links).toEqual([
      { task_id: taskA, external_id: `${taskA}-1` },
      { task_id: taskA, external_id: `${taskA}-2` },
      { task_id: taskB, external_id: `${taskB}-1` },
      { task_id: taskB, external_id: `${taskB}-2` },
    ]);
    const { rows: unlinked } = await pool.query<{ n: number }>(
      `select count(*)::int as n from signals s where not exists (select 1 from task_signals ts where ts.signal_id = s.id)`,
    );
    expect(unlinked[0]!.n).toBe(2);
    const { rows: columns } = await pool.query(
      `select 1 from information_schema.columns where table_schema = $1 and table_name = 'signals' and column_name = 'task_id'`,
      [schema],
    );
    expect(columns).toHaveLength(0);
    // A signal is linked at most once.
    await expect(pool.query(`insert into task_signals (signal_id, task_id) select signal_id, $1 from task_signals limit 1`, [taskB])).rejects.toMatchObject({
      code: '23505',
    });
  });
});

describe('100_assigned_tasks_index', () => {
  it("holds assigned tasks only, and a consultant's tasks are still found through it", async () => {
    await migrate(pool, schema, { until: '100_assigned_tasks_index.sql' });
    const keyId = '00000000-0000-4000-8000-000000000001';
    await pool.query(`insert into municipalities (code, name) values ('0363', 'Amsterdam') on conflict do nothing`);
    await pool.query(
      `insert into api_keys (id, role, municipality_code, key_hash, key_prefix, label) values ($1, 'consultant', '0363', 'hash', 'prefix', 'consulent')`,
      [keyId],
    );
    await pool.query(
      `insert into tasks (household_id, municipality_code, status, assignee_key_id)
       select 100 + g, '0363', case when g % 50 = 0 then 'claimed' else 'open' end, case when g % 50 = 0 then $1::uuid end
         from generate_series(1, 20000) g`,
      [keyId],
    );
    await pool.query('analyze tasks');
    // 400 assigned tasks take a page or two; with the 19,600 unassigned ones it took nineteen.
    const { rows: size } = await pool.query<{ pages: number }>(`select (pg_relation_size('tasks_assignee') / 8192)::int as pages`);
    expect(size[0]!.pages).toBeLessThanOrEqual(4);
    const client = await pool.connect();
    try {
      await client.query(`set plan_cache_mode = force_generic_plan`);
      const { rows: plan } = await client.query<{ 'QUERY PLAN': string }>(
        `explain select t.id from tasks t where t.assignee_key_id = $1 and t.municipality_code = $2 and t.status <> 'closed'`,
        [keyId, '0363'],
      );
      expect(plan.map((r) => r['QUERY PLAN']).join('\n')).toContain('tasks_assignee');
    } finally {
      await client.query('reset plan_cache_mode');
      client.release();
    }
  });
});

describe('110_evaluation_queue', () => {
  it('queues the households that waited, with the time they waited since, and no other', async () => {
    await migrate(pool, schema, { until: '100_assigned_tasks_index.sql' });
    await pool.query(
      `insert into households (address_key, municipality_code, postcode, house_number, evaluation_pending_since, evaluated_at)
       select '1011AB|' || g || '||', '0363', '1011AB', g,
              case when g % 3 = 0 then timestamptz '2026-03-01 10:00:00+01' + make_interval(mins => g) end,
              case when g % 3 <> 0 then now() end
         from generate_series(1, 9) g`,
    );

    expect(await migrate(pool, schema, { until: '110_evaluation_queue.sql' })).toEqual(['110_evaluation_queue.sql']);

    const { rows } = await pool.query<{ house_number: number; since: Date }>(
      `select h.house_number, q.since from evaluation_queue q join households h on h.id = q.household_id order by h.house_number`,
    );
    expect(rows.map((r) => [r.house_number, r.since.toISOString()])).toEqual([
      [3, '2026-03-01T09:03:00.000Z'],
      [6, '2026-03-01T09:06:00.000Z'],
      [9, '2026-03-01T09:09:00.000Z'],
    ]);
    const { rows: columns } = await pool.query<{ column_name: string }>(
      `select column_name from information_schema.columns
        where table_schema = $1 and table_name = 'households' and column_name in ('evaluation_pending_since', 'evaluated_at')`,
      [schema],
    );
    expect(columns).toEqual([]);
    // A household is queued at most once.
    await expect(pool.query(`insert into evaluation_queue (household_id, since) select household_id, now() from evaluation_queue limit 1`)).rejects.toMatchObject({
      code: '23505',
    });
  });
});

describe('120_task_listing', () => {
  it('replaces tasks_queue and tasks_claimable_municipality by an index in list order that holds every task, closed ones too', async () => {
    await migrate(pool, schema, { until: '110_evaluation_queue.sql' });
    await pool.query(
      `insert into tasks (household_id, municipality_code, status, priority, due_date, closed_at)
       select 900000 + g, '0363', case when g % 2 = 0 then 'closed' else 'open' end, g % 3, date '2026-03-01' + g,
              case when g % 2 = 0 then now() end
         from generate_series(1, 6) g`,
    );

    expect(await migrate(pool, schema, { until: '120_task_listing.sql' })).toEqual(['120_task_listing.sql']);

    const { rows: indexes } = await pool.query<{ indexname: string; indexdef: string }>(
      `select indexname, indexdef from pg_indexes
        where schemaname = $1 and tablename = 'tasks' and indexname in ('tasks_queue', 'tasks_claimable_municipality', 'tasks_listing')`,
      [schema],
    );
    expect(indexes.map((i) => i.indexname)).toEqual(['tasks_listing']);
    expect(indexes[0]!.indexdef).not.toContain('WHERE');
    // The tasks that were there are in it, in list order: open before closed, priority high first.
    await pool.query('set enable_seqscan = off');
    const { rows } = await pool.query<{ household_id: number }>(
      `select household_id from tasks t where municipality_code = '0363' and household_id > 900000
        order by (t.status = 'closed'), (not t.overdue), (-(t.priority::bigint)), (coalesce(t.due_date, 'infinity'::date)), t.id`,
    );
    await pool.query('reset enable_seqscan');
    expect(rows.map((r) => r.household_id)).toEqual([900005, 900001, 900003, 900002, 900004, 900006]);
  });
});

describe('130_claimable_team_index', () => {
  it('keeps only tasks with a team in the consultants\' claim index, which their claims still read', async () => {
    await pool.query(
      `insert into tasks (household_id, municipality_code, status, priority, team)
       select 910000 + g, '0363', 'open', g, case when g % 2 = 0 then 'noord' end from generate_series(1, 6) g`,
    );

    expect(await migrate(pool, schema, { until: '130_claimable_team_index.sql' })).toEqual(['130_claimable_team_index.sql']);

    const { rows: indexes } = await pool.query<{ indexdef: string }>(
      `select indexdef from pg_indexes where schemaname = $1 and tablename = 'tasks' and indexname = 'tasks_claimable_team'`,
      [schema],
    );
    expect(indexes[0]!.indexdef).toContain('(team IS NOT NULL)');
    // A team's open tasks in queue order, as a consultant's queue reads them: through the index.
    await pool.query('set enable_seqscan = off');
    const query = `select t.household_id from unnest(array['noord']) as tm(team)
                     cross join lateral (select household_id from tasks t
                                          where t.municipality_code = '0363' and t.team = tm.team and t.status = 'open' and t.assignee_key_id is null
                                          order by (not t.overdue), (-(t.priority::bigint)), (coalesce(t.due_date, 'infinity'::date)), t.id limit 10) t`;
    const plan = (await pool.query<{ 'QUERY PLAN': string }>(`explain ${query}`)).rows.map((r) => r['QUERY PLAN']).join('\n');
    const { rows } = await pool.query<{ household_id: number }>(query);
    await pool.query('reset enable_seqscan');
    expect(plan).toContain('tasks_claimable_team');
    expect(rows.map((r) => r.household_id)).toEqual([910006, 910004, 910002]);
  });
});

describe('140_queue_never_evaluated', () => {
  it('marks the households already queued as ones to look up', async () => {
    await pool.query(`insert into evaluation_queue (household_id, since) values (920001, now()), (920002, now())`);

    expect(await migrate(pool, schema, { until: '140_queue_never_evaluated.sql' })).toEqual(['140_queue_never_evaluated.sql']);

    const { rows } = await pool.query(`select household_id, never_evaluated from evaluation_queue where household_id > 920000 order by 1`);
    expect(rows).toEqual([
      { household_id: 920001, never_evaluated: false },
      { household_id: 920002, never_evaluated: false },
    ]);
    await pool.query(`delete from evaluation_queue where household_id > 920000`);
  });
});

describe('150_fewer_task_index_entries', () => {
  it("keeps the closed tasks of stored households in the household index, and a household's tasks are found", async () => {
    await pool.query(
      `insert into tasks (household_id, municipality_code, status, closed_at, created_at)
       values (930001, '0363', 'closed', now() - interval '2 days', now() - interval '9 days'),
              (930001, '0363', 'closed', now() - interval '1 day', now() - interval '5 days'),
              (930001, '0363', 'open', null, now())`,
    );

    expect(await migrate(pool, schema, { until: '150_fewer_task_index_entries.sql' })).toEqual(['150_fewer_task_index_entries.sql']);

    const { rows: indexes } = await pool.query<{ indexname: string }>(
      `select indexname from pg_indexes where schemaname = $1 and tablename = 'tasks' and indexname in ('tasks_escalation', 'tasks_household', 'tasks_household_closed')`,
      [schema],
    );
    expect(indexes.map((r) => r.indexname)).toEqual(['tasks_household_closed']);
    await pool.query('set enable_seqscan = off');
    const { rows: closed } = await pool.query<{ n: number }>(`select count(*)::int as n from tasks where household_id = 930001 and status = 'closed'`);
    const plan = (await pool.query<{ 'QUERY PLAN': string }>(`explain select * from tasks where household_id = 930001 and status = 'closed'`)).rows
      .map((r) => r['QUERY PLAN'])
      .join('\n');
    await pool.query('reset enable_seqscan');
    expect(closed[0]!.n).toBe(2);
    expect(plan).toContain('tasks_household_closed');
  });
});

describe('160_batch_duplicates', () => {
  it('adds the per-batch list of duplicates, one row per position', async () => {
    expect(await migrate(pool, schema, { until: '160_batch_duplicates.sql' })).toEqual(['160_batch_duplicates.sql']);
    const { rows } = await pool.query<{ id: string }>(`insert into signal_batches (source, format) values ('cli', 'csv') returning id`);
    const batchId = rows[0]!.id;
    await pool.query(`insert into signal_batch_duplicates (batch_id, position, external_id) values ($1, 2, 'E-1'), ($1, 3, 'E-1')`, [batchId]);
    await expect(pool.query(`insert into signal_batch_duplicates (batch_id, position, external_id) values ($1, 2, 'E-2')`, [batchId])).rejects.toThrow(/duplicate key/);
    await expect(pool.query(`insert into signal_batch_duplicates (batch_id, position, external_id) values (gen_random_uuid(), 2, 'E-2')`)).rejects.toThrow(/foreign key/);
  });
});

describe('170_monitor_snapshots', () => {
  it('adds the daily work-stock snapshots, one row per municipality, day and team', async () => {
    expect(await migrate(pool, schema, { until: '170_monitor_snapshots.sql' })).toEqual(['170_monitor_snapshots.sql']);
    await pool.query(`insert into municipalities (code, name) values ('0599', 'Rotterdam') on conflict do nothing`);
    const row = `('2026-01-12', '0599', '', 1, 0, 0, null, now())`;
    await pool.query(`insert into monitor_snapshots (taken_on, municipality_code, team, tasks_open, tasks_claimed, tasks_overdue, oldest_open_since, taken_at) values ${row}`);
    await expect(
      pool.query(`insert into monitor_snapshots (taken_on, municipality_code, team, tasks_open, tasks_claimed, tasks_overdue, oldest_open_since, taken_at) values ${row}`),
    ).rejects.toThrow(/duplicate key/);
  });
});

describe('180_children_in_household', () => {
  it('adds the reported children to signals, unknown for the signals stored before, 0 to 30', async () => {
    const { rows: before } = await pool.query<{ n: number }>(`select count(*)::int as n from signals`);
    expect(await migrate(pool, schema, { until: '180_children_in_household.sql' })).toEqual(['180_children_in_household.sql']);
    const { rows: after } = await pool.query<{ n: number }>(`select count(*)::int as n from signals where children_in_household is null`);
    expect(after[0]!.n).toBe(before[0]!.n);
    await expect(pool.query(`update signals set children_in_household = 31`)).rejects.toThrow(/check constraint/);
  });
});

describe('190_municipality_retention', () => {
  it("gives every municipality the installation's terms until it sets its own, 1 to 120 months", async () => {
    expect(await migrate(pool, schema)).toEqual(['190_municipality_retention.sql']);
    const { rows } = await pool.query(`select count(*)::int as n from municipalities where retention_untasked_months is not null or retention_closed_task_months is not null`);
    expect(rows[0].n).toBe(0);
    await expect(pool.query(`update municipalities set retention_closed_task_months = 0`)).rejects.toThrow(/check constraint/);
  });
});
