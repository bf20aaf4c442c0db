import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/domain/apiKey.js';
import { loadSnapshots } from '../../src/db/evaluation.js';
import type { Queryable } from '../../src/db/pool.js';
import { findVisibleHousehold } from '../../src/db/taskReads.js';
import { escalate } from '../../src/db/taskWork.js';
import { createTestContext, seedMunicipality, type TestContext } from '../helpers/context.js';

/**
 * Migration 150: no index holds every task by household or every task by due date any more.
 * The reads that needed them (a household's tasks, the escalation run) must reach the tasks
 * through the indexes that remain — over a table of realistic size a scan of all tasks would
 * answer the same, only slowly, so the plans are checked, and the answers beside them.
 */

let t: TestContext;
const HOUSEHOLDS = 12_000;
const CLOSED_PER_HOUSEHOLD = 6;

beforeAll(async () => {
  t = await createTestContext('task_index_plans');
  await seedMunicipality(t.ctx, '1916', ['2261']);
  await seedMunicipality(t.ctx, '0363', ['1011']);
  // Per household six closed tasks and (for two in three) one still to be worked, in both
  // municipalities: closed tasks outnumber the open ones, as they do once a municipality has
  // worked for a while. Due dates from March to May 2025.
  await t.ctx.pool.query(
    `insert into households (id, address_key, municipality_code, postcode, house_number)
     overriding system value
     select n, 'plan-' || n, case when n % 2 = 0 then '1916' else '0363' end, '2261AB', n from generate_series(1, $1::int) n`,
    [HOUSEHOLDS],
  );
  await t.ctx.pool.query(
    `insert into tasks (household_id, municipality_code, status, priority, due_date, closed_at, created_at)
     select h, case when h % 2 = 0 then '1916' else '0363' end, s, (h % 5) * 10, date '2025-03-01' + (h % 90),
            case when s = 'closed' then timestamptz '2025-01-01' + make_interval(days => h % 60 + k) end,
            timestamptz '2024-12-01' + make_interval(days => k)
       from generate_series(1, $1::int) h
      cross join generate_series(1, ${CLOSED_PER_HOUSEHOLD + 1}) k
      cross join lateral (select case when k <= ${CLOSED_PER_HOUSEHOLD} then 'closed'
                                      when h % 3 = 0 then null when h % 2 = 0 then 'open' else 'claimed' end) v(s)
      where s is not null`,
    [HOUSEHOLDS],
  );
  await t.ctx.pool.query('analyze households; analyze tasks; analyze municipalities');
});
afterAll(async () => {
  await t.close();
});

/** A Queryable that records every statement it passes on. */
function recorder(statements: { text: string; values: unknown[] }[], target: Queryable = t.ctx.pool): Queryable {
  return {
    query: (query: string | { text: string; values?: unknown[] }, values?: unknown[]) => {
      const statement = typeof query === 'string' ? { text: query, values: values ?? [] } : { text: query.text, values: query.values ?? [] };
      statements.push(statement);
      return target.query(statement.text, statement.values);
    },
  } as unknown as Queryable;
}

async function plan(statement: { text: string; values: unknown[] }): Promise<string> {
  const { rows } = await t.ctx.pool.query<{ 'QUERY PLAN': unknown }>(`explain (format json) ${statement.text}`, statement.values);
  return JSON.stringify(rows[0]!['QUERY PLAN']);
}

const SCAN_OF_TASKS = /"Node Type":"Seq Scan"[^{}]*"Relation Name":"tasks"/;

describe('reads without an index of all tasks by household or by due date (migration 150)', () => {
  it('has neither index, and the closed tasks by household only', async () => {
    const { rows } = await t.ctx.pool.query<{ indexname: string; indexdef: string }>(
      `select indexname, indexdef from pg_indexes where schemaname = current_schema() and tablename = 'tasks' and indexname like 'tasks_household%' or indexname = 'tasks_escalation'`,
    );
    expect(rows.map((r) => r.indexname)).toEqual(['tasks_household_closed']);
    expect(rows[0]!.indexdef).toMatch(/WHERE \(status = 'closed'::text\)$/);
  });

  it("reads a household's tasks, open and closed, through the unique open-task index and the closed-task index", async () => {
    const statements: { text: string; values: unknown[] }[] = [];
    const coordinator: Actor = { keyId: '00000000-0000-4000-8000-000000000001', label: 'c', role: 'coordinator', municipality: '1916', partnerTypes: null, teams: [] };
    const household = await findVisibleHousehold(recorder(statements), coordinator, 20);
    expect(household!.tasks.map((task) => task.status)).toEqual([...Array(CLOSED_PER_HOUSEHOLD).fill('closed'), 'open']);
    const consultant: Actor = { ...coordinator, role: 'consultant', teams: ['noord'] };
    expect(await findVisibleHousehold(recorder(statements), consultant, 20)).toBeNull();

    const fromTasks = statements.filter((s) => /from \(select \* from tasks/.test(s.text));
    expect(fromTasks).toHaveLength(3);
    for (const statement of fromTasks) {
      const explained = await plan(statement);
      expect(explained, statement.text).toContain('"Index Name":"tasks_one_open_per_household"');
      expect(explained, statement.text).toContain('"Index Name":"tasks_household_closed"');
      expect(explained, statement.text).not.toMatch(SCAN_OF_TASKS);
    }
  });

  it("loads the tasks of households evaluated before through the same two indexes, every one of them", async () => {
    const statements: { text: string; values: unknown[] }[] = [];
    const ids = Array.from({ length: 1_000 }, (_, i) => i * 7 + 1);
    const locked = ids.map((id) => ({ id, municipalityCode: id % 2 === 0 ? '1916' : '0363', postcode: '2261AB', neverEvaluated: false }));
    const { tasks } = await loadSnapshots(recorder(statements), locked, new Date('2025-04-01T10:00:00Z'));
    const { rows } = await t.ctx.pool.query<{ household_id: number; n: number }>(
      `select household_id, count(*)::int as n from tasks where household_id = any($1) group by 1`,
      [ids],
    );
    expect(new Map([...tasks].map(([id, list]) => [id, list.length]))).toEqual(new Map(rows.map((r) => [r.household_id, r.n])));
    // In order of creation: the closed ones, then the one still open (household 15 has none open).
    expect(tasks.get(8)!.map((task) => task.status)).toEqual([...Array(CLOSED_PER_HOUSEHOLD).fill('closed'), 'open']);
    expect(tasks.has(15)).toBe(true);
    expect(tasks.get(15)!.every((task) => task.status === 'closed')).toBe(true);

    const tasksQuery = statements.find((s) => /from unnest\(\$1::bigint\[\]\) as h\(id\)\s+cross join lateral/.test(s.text));
    expect(tasksQuery).toBeDefined();
    const explained = await plan(tasksQuery!);
    expect(explained).toContain('"Index Name":"tasks_one_open_per_household"');
    expect(explained).toContain('"Index Name":"tasks_household_closed"');
    expect(explained).not.toMatch(SCAN_OF_TASKS);
  });

  it('marks overdue tasks by walking the listing index per municipality, comparing the due date on the index entry', async () => {
    const statements: { text: string; values: unknown[] }[] = [];
    const expected = await t.ctx.pool.query<{ id: number }>(
      `select id from tasks t where status <> 'closed' and not overdue and due_date < '2025-03-05'
          and not exists (select 1 from contact_attempts a where a.task_id = t.id) order by id`,
    );
    expect(expected.rows.length).toBeGreaterThan(100);
    // In a transaction rolled back afterwards: the other tests read the tasks as seeded.
    const connection = await t.ctx.pool.connect();
    try {
      await connection.query('begin');
      const { marked } = await escalate(recorder(statements, connection), '2025-03-05', new Date('2025-03-05T05:00:00Z'));
      expect(marked).toBe(expected.rows.length);
      const { rows } = await connection.query<{ id: number }>(`select id from tasks where overdue order by id`);
      expect(rows).toEqual(expected.rows);
    } finally {
      await connection.query('rollback');
      connection.release();
    }
    const marking = statements.find((s) => /set overdue = true/.test(s.text))!;
    const explained = await plan(marking);
    expect(explained).toContain('"Index Name":"tasks_listing"');
    expect(explained).toMatch(/"Index Cond":"[^"]*COALESCE\(due_date, 'infinity'::date\) < /);
    expect(explained).not.toMatch(SCAN_OF_TASKS);
  });
});
