import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createTestContext, seedMunicipality, startTestServer, type TestContext, type TestServer } from '../helpers/context.js';
import { createKeyWithId, seedManyTasks, seedTask } from '../helpers/tasks.js';

/**
 * Fifty consultants press "next task" as fast as they can over 1,000 tasks, over HTTP against
 * the real server: every task is claimed exactly once, by someone allowed to claim it.
 */

const CONSULTANTS = 50;
const TASKS = 1_000;
const ROUTED = 20;

let t: TestContext;
let server: TestServer;

beforeAll(async () => {
  t = await createTestContext('task_claim_race', { env: { RATE_LIMIT_PER_MINUTE: '0' } });
  server = await startTestServer(t.ctx);
  await seedMunicipality(t.ctx, '1916', ['2261']);
});
afterAll(async () => {
  await server.close();
  await t.close();
});

describe('claiming under contention', () => {
  it('gives each of 1,000 tasks to exactly one of 50 concurrent claimers', async () => {
    // Overlapping scopes: a third works team a, a third team b, a third both.
    const teamsOf = (i: number) => [['a'], ['b'], ['a', 'b']][i % 3]!;
    const consultants = await Promise.all(
      Array.from({ length: CONSULTANTS }, async (_, i) => {
        const key = await createKeyWithId(t.ctx, { role: 'consultant', municipality: '1916', teams: teamsOf(i), label: `c${i}` });
        return { id: key.id, teams: teamsOf(i), api: client(server.url, key.key) };
      }),
    );
    const teamTasks = await seedManyTasks(t.ctx.pool, TASKS - ROUTED, { municipality: '1916', teams: ['a', 'b'] });
    // Some tasks are routed to one consultant ("one household, one contact person").
    const routed = new Map<number, string>();
    for (let i = 0; i < ROUTED; i++) {
      const { taskId } = await seedTask(t.ctx.pool, { municipality: '1916', team: 'b', priority: 0, assignee: consultants[i]!.id });
      routed.set(taskId, consultants[i]!.id);
    }

    const claims = new Map<number, string[]>();
    const statuses = new Set<number>();
    await Promise.all(
      consultants.map(async (c) => {
        for (;;) {
          const res = await c.api.post('/v1/tasks/claim');
          statuses.add(res.status);
          if (res.status !== 200) return;
          claims.set(res.json.id, [...(claims.get(res.json.id) ?? []), c.id]);
          expect(res.json).toMatchObject({ status: 'claimed', assignee: c.id });
        }
      }),
    );

    expect([...statuses].sort()).toEqual([200, 204]);
    expect(claims.size).toBe(TASKS);
    expect([...claims.values()].filter((by) => by.length !== 1)).toEqual([]);
    expect(new Set(claims.keys())).toEqual(new Set([...teamTasks, ...routed.keys()]));

    // A routed task went to its consultant; a team task to someone of that team.
    for (const [taskId, keyId] of routed) expect(claims.get(taskId)).toEqual([keyId]);
    const { rows } = await t.ctx.pool.query<{ id: number; team: string; assignee_key_id: string; status: string; claims: number }>(
      `select t.id, t.team, t.assignee_key_id, t.status, (select count(*)::int from task_history h where h.task_id = t.id and h.action = 'claim') as claims
         from tasks t`,
    );
    expect(rows).toHaveLength(TASKS);
    const { rows: audited } = await t.ctx.pool.query(`select count(distinct object_id)::int as tasks, count(*)::int as records from audit_events where action = 'task.claim'`);
    expect(audited[0]).toEqual({ tasks: TASKS, records: TASKS });
    const teamsById = new Map(consultants.map((c) => [c.id, c.teams]));
    for (const row of rows) {
      expect(row).toMatchObject({ status: 'claimed', claims: 1 });
      expect(claims.get(row.id)).toEqual([row.assignee_key_id]);
      if (!routed.has(row.id)) expect(teamsById.get(row.assignee_key_id)).toContain(row.team);
    }
  });
});
