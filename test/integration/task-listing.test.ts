import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCursor } from '../../src/api/openapi.js';
import type { TaskStatus } from '../../src/api/schemas/task.js';
import { claimNext, listTeamQueue } from '../../src/db/taskWork.js';
import { claimNextTask, listQueue } from '../../src/services/taskWork.js';
import { listVisibleTasks, taskListPosition, toTaskListPosition, type TaskFilter, type TaskListPosition } from '../../src/db/taskReads.js';
import type { Queryable } from '../../src/db/pool.js';
import type { Actor } from '../../src/domain/apiKey.js';
import { client, createKey, createTestContext, seedMunicipality, startTestServer, type TestContext, type TestServer } from '../helpers/context.js';

/**
 * The task list (GET /v1/tasks, the web queue page): its order, its keyset paging under every
 * filter, and that a page is read from the listing index in order instead of sorting the
 * municipality's tasks.
 */

let t: TestContext;
let server: TestServer;
let coordinatorKey: string;
let coordinatorId: string;
const consultantIds: string[] = [];

beforeAll(async () => {
  t = await createTestContext('task_listing');
  server = await startTestServer(t.ctx);
  await seedMunicipality(t.ctx, '1916', ['2261', '2262'], [{ id: 'noord', areas: ['2261'] }, { id: 'zuid', areas: ['2262'] }]);
  coordinatorKey = await createKey(t.ctx, { role: 'coordinator', municipality: '1916', label: 'coordinator' });
  coordinatorId = (await t.ctx.pool.query<{ id: string }>(`select id from api_keys where label = 'coordinator'`)).rows[0]!.id;
  for (const label of ['consultant a', 'consultant b']) {
    await createKey(t.ctx, { role: 'consultant', municipality: '1916', teams: ['noord'], label });
    consultantIds.push((await t.ctx.pool.query<{ id: string }>('select id from api_keys where label = $1', [label])).rows[0]!.id);
  }
});
afterAll(async () => {
  await server.close();
  await t.close();
});

interface SeedTask {
  status: TaskStatus;
  priority: number;
  dueDate: string | null;
  team: string | null;
  /** Index into consultantIds, or null. */
  assignee: number | null;
  overdue: boolean;
}

interface StoredTask extends SeedTask {
  id: number;
  assigneeId: string | null;
}

let householdSequence = 0;

/** Tasks straight into the table, in one statement. An overdue task is never closed (closing clears it). */
async function insertTasks(municipality: string, tasks: readonly SeedTask[]): Promise<StoredTask[]> {
  if (tasks.length === 0) return [];
  const assigneeIds = tasks.map((task) => (task.assignee === null ? null : consultantIds[task.assignee]!));
  const { rows } = await t.ctx.pool.query<{ id: number }>(
    `insert into tasks (household_id, municipality_code, status, priority, due_date, team, assignee_key_id, overdue, closed_at)
     select h, $1, s, p, d, tm, a, o and s <> 'closed', case when s = 'closed' then now() end
       from unnest($2::bigint[], $3::text[], $4::int[], $5::date[], $6::text[], $7::uuid[], $8::bool[]) with ordinality as u(h, s, p, d, tm, a, o, n)
      order by n
     returning id`,
    [
      municipality,
      tasks.map(() => ++householdSequence),
      tasks.map((task) => task.status),
      tasks.map((task) => task.priority),
      tasks.map((task) => task.dueDate),
      tasks.map((task) => task.team),
      assigneeIds,
      tasks.map((task) => task.overdue),
    ],
  );
  return tasks.map((task, i) => ({ ...task, overdue: task.overdue && task.status !== 'closed', id: rows[i]!.id, assigneeId: assigneeIds[i]! }));
}

/** The same order in plain SQL, written out here rather than taken from the code under test. */
const LIST_ORDER_SQL = `(t.status = 'closed'), (not t.overdue), (-(t.priority::bigint)), coalesce(t.due_date, 'infinity'::date), t.id`;

/** The list order, written out: to do before closed, overdue first, priority high first, due date (none last), id. */
function listOrder(a: StoredTask, b: StoredTask): number {
  const closed = Number(a.status === 'closed') - Number(b.status === 'closed');
  if (closed !== 0) return closed;
  if (a.overdue !== b.overdue) return a.overdue ? -1 : 1;
  if (a.priority !== b.priority) return b.priority - a.priority;
  const [dueA, dueB] = [a.dueDate ?? '9999-12-31', b.dueDate ?? '9999-12-31'];
  if (dueA !== dueB) return dueA < dueB ? -1 : 1;
  return a.id - b.id;
}

const seedTaskArbitrary = fc.record({
  status: fc.constantFrom<TaskStatus>('open', 'claimed', 'closed'),
  // Few distinct values, so that ties on priority and due date are the rule, as with real rule sets.
  priority: fc.integer({ min: -2, max: 3 }).map((n) => n * 25),
  dueDate: fc.option(fc.constantFrom('2026-01-05', '2026-01-06', '2026-03-02'), { nil: null }),
  team: fc.option(fc.constantFrom('noord', 'zuid'), { nil: null }),
  assignee: fc.option(fc.constantFrom(0, 1), { nil: null }),
  overdue: fc.boolean(),
});

const filterArbitrary = fc.record({
  actor: fc.constantFrom('coordinator', 'consultant'),
  status: fc.option(fc.constantFrom<TaskStatus>('open', 'claimed', 'closed'), { nil: undefined }),
  team: fc.option(fc.constantFrom('noord', 'zuid'), { nil: undefined }),
  assignee: fc.option(fc.constantFrom(0, 1), { nil: undefined }),
  overdue: fc.option(fc.boolean(), { nil: undefined }),
  limit: fc.integer({ min: 1, max: 7 }),
});

/** The indexes scanned below a Sort node anywhere in an EXPLAIN (FORMAT JSON) plan. */
function sortedIndexes(plan: unknown, underSort = false): string[] {
  if (Array.isArray(plan)) return plan.flatMap((p) => sortedIndexes(p, underSort));
  if (plan === null || typeof plan !== 'object') return [];
  const node = plan as Record<string, unknown>;
  const sorted = underSort || node['Node Type'] === 'Sort';
  const own = sorted && typeof node['Index Name'] === 'string' ? [node['Index Name']] : [];
  return [...own, ...Object.values(node).flatMap((value) => sortedIndexes(value, sorted))];
}

/** The indexes scanned by a node whose parent is a Limit, anywhere in an EXPLAIN (FORMAT JSON) plan. */
function indexesRightUnderLimit(plan: unknown, parent = ''): string[] {
  if (Array.isArray(plan)) return plan.flatMap((p) => indexesRightUnderLimit(p, parent));
  if (plan === null || typeof plan !== 'object') return [];
  const node = plan as Record<string, unknown>;
  const type = typeof node['Node Type'] === 'string' ? (node['Node Type'] as string) : parent;
  const own = parent === 'Limit' && typeof node['Index Name'] === 'string' ? [node['Index Name']] : [];
  return [...own, ...Object.values(node).flatMap((value) => indexesRightUnderLimit(value, type))];
}

describe('task list', () => {
  it('pages through exactly the visible, filtered tasks in list order, under any filter and page size', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(seedTaskArbitrary, { maxLength: 30 }), filterArbitrary, async (seeds, f) => {
        // A municipality per run: tasks are never deleted, and the list is per municipality.
        const municipality = `L${++run}`;
        const stored = await insertTasks(municipality, seeds);
        const actor: Actor =
          f.actor === 'coordinator'
            ? { keyId: consultantIds[0]!, label: 'c', role: 'coordinator', municipality, partnerTypes: null, teams: [] }
            : { keyId: consultantIds[0]!, label: 'a', role: 'consultant', municipality, partnerTypes: null, teams: ['noord'] };
        const assigneeId = f.assignee === undefined ? undefined : consultantIds[f.assignee]!;
        const expected = stored
          .filter((task) => f.actor === 'coordinator' || task.team === 'noord' || task.assigneeId === consultantIds[0])
          .filter((task) => f.status === undefined || task.status === f.status)
          .filter((task) => f.team === undefined || task.team === f.team)
          .filter((task) => assigneeId === undefined || task.assigneeId === assigneeId)
          .filter((task) => f.overdue === undefined || task.overdue === f.overdue)
          .sort(listOrder)
          .map((task) => task.id);
        const listed: number[] = [];
        let after: TaskListPosition | null = null;
        for (let page = 0; page <= expected.length + 1; page++) {
          const filter: TaskFilter = { status: f.status, team: f.team, assignee: assigneeId, overdue: f.overdue, limit: f.limit, after };
          const tasks = await listVisibleTasks(t.ctx.pool, actor, filter);
          listed.push(...tasks.map((task) => task.id));
          const last = tasks[tasks.length - 1];
          if (tasks.length < f.limit || !last) break;
          after = taskListPosition(last);
        }
        expect(listed).toEqual(expected);
      }),
      { numRuns: 60 },
    );
  });

  it("gives a coordinator the municipality's open, unassigned tasks in queue order, listed page by page and claimed one by one", async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(seedTaskArbitrary, { maxLength: 20 }), fc.integer({ min: 1, max: 5 }), async (seeds, limit) => {
        const municipality = `Q${++run}`;
        const stored = await insertTasks(municipality, seeds);
        const actor: Actor = { keyId: coordinatorId, label: 'coordinator', role: 'coordinator', municipality, partnerTypes: null, teams: [] };
        const expected = stored
          .filter((task) => task.status === 'open' && task.assigneeId === null)
          .sort(listOrder)
          .map((task) => task.id);
        const listed: number[] = [];
        let cursor: string | undefined;
        for (let page = 0; page <= expected.length; page++) {
          const { tasks, nextCursor } = await listQueue(t.ctx, actor, { limit, cursor });
          listed.push(...tasks.map((task) => task.id));
          if (!nextCursor) break;
          cursor = nextCursor;
        }
        expect(listed).toEqual(expected);
        const claimed: number[] = [];
        for (let claim = 0; claim <= expected.length; claim++) {
          const task = await claimNextTask(t.ctx, actor, { actorKeyId: coordinatorId, actorLabel: 'coordinator' });
          if (!task) break;
          claimed.push(task.id);
        }
        expect(claimed).toEqual(expected);
      }),
      { numRuns: 40 },
    );
  });

  it('reads a page from the listing index in order, with or without a status, also after a cursor', async () => {
    // A year of work: most tasks closed, some open or claimed, a few priorities (ties everywhere).
    const seeds: SeedTask[] = Array.from({ length: 20_000 }, (_, i) => ({
      status: i % 10 === 0 ? 'open' : i % 10 === 1 ? 'claimed' : 'closed',
      priority: (i % 4) * 25,
      dueDate: i % 7 === 0 ? null : `2026-0${1 + (i % 9)}-1${i % 10}`,
      team: i % 3 === 0 ? 'zuid' : 'noord',
      assignee: null,
      overdue: false,
    }));
    for (let i = 0; i < seeds.length; i += 5_000) await insertTasks('1916', seeds.slice(i, i + 5_000));
    await t.ctx.pool.query('analyze tasks');

    // The statements the list runs, recorded on their way to PostgreSQL, then explained.
    const statements: { text: string; values: unknown[] }[] = [];
    const recording = {
      query: (query: string | { text: string; values: unknown[] }, values?: unknown[]) => {
        const statement = typeof query === 'string' ? { text: query, values: values ?? [] } : { text: query.text, values: query.values };
        if (/from tasks t where/.test(statement.text)) statements.push(statement);
        return t.ctx.pool.query(statement.text, statement.values);
      },
    } as unknown as Queryable;
    const coordinator: Actor = { keyId: consultantIds[0]!, label: 'c', role: 'coordinator', municipality: '1916', partnerTypes: null, teams: [] };
    const consultant: Actor = { keyId: consultantIds[0]!, label: 'a', role: 'consultant', municipality: '1916', partnerTypes: null, teams: ['noord'] };
    const first = await listVisibleTasks(recording, coordinator, { limit: 25, after: null });
    await listVisibleTasks(recording, coordinator, { status: 'open', limit: 25, after: null });
    await listVisibleTasks(recording, coordinator, { status: 'closed', limit: 25, after: null });
    await listVisibleTasks(recording, consultant, { limit: 25, after: taskListPosition(first[first.length - 1]!) });
    // A coordinator's queue, its second page, and a coordinator's claim.
    const scope = { municipality: '1916', keyId: coordinatorId, teams: 'all' as const };
    const queue = await listTeamQueue(recording, scope, null, 25);
    const last = queue[queue.length - 1]!;
    await listTeamQueue(recording, scope, { segment: 1, notOverdue: last.k_not_overdue, negPriority: last.k_neg_priority, dueKey: last.k_due, id: last.id }, 25);
    expect(await claimNext(recording, scope, new Date(), { actorLabel: 'coordinator' })).not.toBeNull();
    expect(statements).toHaveLength(7);
    const plans: string[] = [];
    for (const statement of statements) {
      const { rows } = await t.ctx.pool.query<{ 'QUERY PLAN': unknown }>(`explain (format json) ${statement.text}`, statement.values);
      const plan = rows[0]!['QUERY PLAN'];
      plans.push(JSON.stringify(plan));
      // Read in order from tasks_listing: no sort above a scan of it. (The claim also sorts the
      // claimer's own few assigned tasks, read from tasks_assignee.)
      expect(JSON.stringify(plan)).toContain('"Index Name":"tasks_listing"');
      expect(sortedIndexes(plan), statement.text).not.toContain('tasks_listing');
    }
    // The coordinator's queue page after a cursor starts the index range at it.
    expect(plans[5]).toMatch(/"Index Cond":"[^"]*ROW\(\(status = 'closed'::text\)/);
    // A status bounds the range to its part of the list (closed or not), not only filters it.
    expect(plans[1]).toMatch(/"Index Cond":"[^"]*\(status = 'closed'::text\) = false/);
    expect(plans[2]).toMatch(/"Index Cond":"[^"]*\(status = 'closed'::text\) = true/);
  });

  it("gives an admin of every municipality the list in list order, merged from each municipality's index range", async () => {
    const admin: Actor = { keyId: coordinatorId, label: 'admin', role: 'admin', municipality: null, partnerTypes: null, teams: [] };
    // Tasks of a second municipality among those of 1916 (from the test before, and its own).
    await insertTasks('1916', Array.from({ length: 40 }, (_, i) => ({ status: 'open', priority: (i % 3) * 30, dueDate: null, team: 'noord', assignee: null, overdue: i % 5 === 0 })));
    await insertTasks('0599', Array.from({ length: 40 }, (_, i) => ({ status: i % 2 ? 'open' : 'closed', priority: (i % 4) * 25, dueDate: `2026-02-${10 + (i % 9)}`, team: null, assignee: null, overdue: false })));
    await t.ctx.pool.query(`insert into municipalities (code, name) values ('0599', 'Rotterdam') on conflict do nothing`);
    // Every task's municipality is a registered one (a task's comes from its household's postcode
    // area); the property runs above stored tasks of unregistered codes, left out here.
    const registered = `t.municipality_code in (select code from municipalities)`;
    const plain = async (after: string, values: unknown[]) =>
      (await t.ctx.pool.query<{ id: number }>(`select t.id from tasks t where ${registered} ${after} order by ${LIST_ORDER_SQL} limit 30`, values)).rows.map((r) => r.id);

    const statements: { text: string; values: unknown[] }[] = [];
    const recording = {
      query: (text: string, values: unknown[]) => {
        statements.push({ text, values });
        return t.ctx.pool.query(text, values);
      },
    } as unknown as Queryable;
    const first = await listVisibleTasks(recording, admin, { limit: 30, after: null });
    expect(first.map((task) => task.id)).toEqual(await plain('', []));
    const position = taskListPosition(first[first.length - 1]!);
    const second = await listVisibleTasks(t.ctx.pool, admin, { limit: 30, after: position });
    const [closed, overdue, priority, dueKey, id] = position;
    expect(second.map((task) => task.id)).toEqual(
      await plain(`and (${LIST_ORDER_SQL}) > ($1::boolean, $2::boolean, $3::bigint, $4::date, $5::bigint)`, [closed, !overdue, -priority, dueKey, id]),
    );
    const overdueOnly = await listVisibleTasks(t.ctx.pool, admin, { overdue: true, limit: 30, after: null });
    expect(overdueOnly.map((task) => task.id)).toEqual(await plain(`and t.overdue`, []));

    const { rows } = await t.ctx.pool.query<{ 'QUERY PLAN': unknown }>(`explain (format json) ${statements[0]!.text}`, statements[0]!.values);
    const plan = rows[0]!['QUERY PLAN'];
    // Per municipality a Limit right above a scan of tasks_listing (its first rows, in order);
    // the one sort is of those few rows, above the loop over the municipalities.
    expect(indexesRightUnderLimit(plan)).toContain('tasks_listing');
    expect(JSON.stringify(plan)).toMatch(/"Node Type":"Sort".*"Node Type":"Nested Loop"/);
  });

  it("reads a consultant's team queue and claim from the team index, which holds no task without a team", async () => {
    // Open tasks without a team as well (a postcode area no team covers): not in tasks_claimable_team.
    const seeds: SeedTask[] = Array.from({ length: 6_000 }, (_, i) => ({
      status: 'open',
      priority: (i % 4) * 25,
      dueDate: null,
      team: i % 3 === 0 ? 'noord' : null,
      assignee: null,
      overdue: false,
    }));
    await insertTasks('1916', seeds);
    await t.ctx.pool.query('analyze tasks');
    const { rows: entries } = await t.ctx.pool.query<{ with_team: boolean }>(
      `select team is not null as with_team from tasks where municipality_code = '1916' and status = 'open' and assignee_key_id is null group by 1 order by 1`,
    );
    expect(entries.map((r) => r.with_team)).toEqual([false, true]);

    const statements: { text: string; values: unknown[] }[] = [];
    const recording = {
      query: (query: string | { text: string; values: unknown[] }, values?: unknown[]) => {
        const statement = typeof query === 'string' ? { text: query, values: values ?? [] } : { text: query.text, values: query.values };
        statements.push(statement);
        return t.ctx.pool.query(statement.text, statement.values);
      },
    } as unknown as Queryable;
    const scope = { municipality: '1916', keyId: consultantIds[1]!, teams: ['noord'] };
    expect((await listTeamQueue(recording, scope, null, 25)).length).toBe(25);
    const claimed = await claimNext(recording, scope, new Date(), { actorLabel: 'consultant' });
    expect(claimed).toMatchObject({ team: 'noord' });
    for (const statement of statements) {
      const { rows } = await t.ctx.pool.query<{ 'QUERY PLAN': unknown }>(`explain (format json) ${statement.text}`, statement.values);
      const plan = JSON.stringify(rows[0]!['QUERY PLAN']);
      expect(plan, statement.text).toContain('"Index Name":"tasks_claimable_team"');
      expect(plan, statement.text).not.toMatch(/"Node Type":"Seq Scan"[^{}]*"Relation Name":"tasks"/);
    }
    const { rows: teamless } = await t.ctx.pool.query<{ n: number }>(
      `select count(*)::int as n from tasks where municipality_code = '1916' and team is null and status = 'open' and assignee_key_id is null`,
    );
    expect(teamless[0]!.n).toBe(4_000);
  });

  it('answers a cursor that is not a position of the list or the work queue with 400', async () => {
    await insertTasks('1916', [{ status: 'open', priority: 0, dueDate: null, team: null, assignee: null, overdue: false }]);
    const coordinator = client(server.url, coordinatorKey);
    const good = await coordinator.get('/v1/tasks?limit=1');
    expect(good.status).toBe(200);
    expect(toTaskListPosition(JSON.parse(Buffer.from(good.json.nextCursor as string, 'base64url').toString('utf8')))).not.toBeNull();
    for (const forged of [
      ['x', 'y', 'z', 'w', 'v'],
      [false, false, 50, '2026-02-30', 1],
      [false, false, 50, 'tomorrow', 1],
      [false, false, 1.5, '2026-01-01', 1],
      [false, false, 50, '2026-01-01', 0],
      ['false', false, 50, '2026-01-01', 1],
      [false, null, 50, '2026-01-01', 1],
      [false, 50, '2026-01-01', 1],
    ]) {
      const response = await coordinator.get(`/v1/tasks?cursor=${encodeCursor(forged)}`);
      expect(response.status, JSON.stringify(forged)).toBe(400);
      expect(response.json.errors[0].pointer).toBe('/query/cursor');
    }
    // The work queue's cursor (part, then its queue position) is checked the same way.
    expect((await coordinator.get(`/v1/tasks/queue?cursor=${encodeCursor([1, true, -50, '2026-01-01', 1])}`)).status).toBe(200);
    for (const forged of [
      [1, true, -50, '2026-02-30', 1],
      [1, true, 2 ** 40, '2026-01-01', 1],
      [1, 'true', -50, '2026-01-01', 1],
      [2, true, -50, 'infinity', 1],
    ]) {
      const response = await coordinator.get(`/v1/tasks/queue?cursor=${encodeCursor(forged)}`);
      expect(response.status, JSON.stringify(forged)).toBe(400);
      expect(response.json.errors[0].pointer).toBe('/query/cursor');
    }
  });
});
