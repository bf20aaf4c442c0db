import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateHouseholds } from '../../src/services/evaluation.js';
import { client, createKey, createTestContext, seedMunicipality, startTestServer, type TestContext, type TestServer } from '../helpers/context.js';
import { seedSignals } from '../helpers/signals.js';

const RULES = {
  name: 'amount rules',
  description: 'priority is the amount in hundreds of euros',
  rules: [
    { name: 'large', conditions: { all: [{ fact: 'totalAmountCents', operator: 'greaterThanInclusive', value: 50000 }] }, event: { type: 'score', params: { points: 50, reason: 'large' } } },
    { name: 'very large', conditions: { all: [{ fact: 'totalAmountCents', operator: 'greaterThanInclusive', value: 100000 }] }, event: { type: 'score', params: { points: 50, reason: 'very large' } } },
  ],
};

let t: TestContext;
let server: TestServer;
let coordinator: ReturnType<typeof client>;
let otherCoordinator: ReturnType<typeof client>;
let noordConsultant: ReturnType<typeof client>;
let zuidConsultant: ReturnType<typeof client>;
let integrator: ReturnType<typeof client>;
const households: Record<string, number> = {};
const signalDate = new Date(Date.now() - 2 * 86_400_000).toISOString().slice(0, 10);

beforeAll(async () => {
  t = await createTestContext('task_reads');
  server = await startTestServer(t.ctx);
  await seedMunicipality(t.ctx, '1916', ['2261', '2262'], [{ id: 'noord', areas: ['2261'] }, { id: 'zuid', areas: ['2262'] }]);
  await seedMunicipality(t.ctx, '0363', ['1011'], [{ id: 'centrum', areas: ['1011'] }]);
  for (const code of ['1916', '0363']) {
    await t.ctx.pool.query(`insert into rule_sets (municipality_code, version, name, definition) values ($1, 1, 'amount', $2)`, [code, JSON.stringify(RULES)]);
    await t.ctx.pool.query(`update municipalities set active_rule_set_version = 1 where code = $1`, [code]);
  }
  const seeds = [
    { name: 'small', postcode: '2261AA', amount: 10000 },
    { name: 'large', postcode: '2261AB', amount: 60000 },
    { name: 'veryLarge', postcode: '2262AA', amount: 150000 },
    { name: 'amsterdam', postcode: '1011AA', amount: 150000 },
  ];
  for (const s of seeds) {
    const [id] = await seedSignals(t.ctx, [{ postcode: s.postcode, houseNumber: 1, partnerType: 'rent', amountCents: s.amount, signalDate }]);
    households[s.name] = id!;
  }
  await evaluateHouseholds(t.ctx, Object.values(households));
  coordinator = client(server.url, await createKey(t.ctx, { role: 'coordinator', municipality: '1916', label: 'coordinator 1916' }));
  otherCoordinator = client(server.url, await createKey(t.ctx, { role: 'coordinator', municipality: '0363', label: 'coordinator 0363' }));
  noordConsultant = client(server.url, await createKey(t.ctx, { role: 'consultant', municipality: '1916', teams: ['noord'], label: 'noord' }));
  zuidConsultant = client(server.url, await createKey(t.ctx, { role: 'consultant', municipality: '1916', teams: ['zuid'], label: 'zuid' }));
  integrator = client(server.url, await createKey(t.ctx, { role: 'integrator', label: 'integrator' }));
});
afterAll(async () => {
  await server.close();
  await t.close();
});

describe('task and household reads', () => {
  it('lists a municipality’s tasks by priority, then due date, with cursor paging', async () => {
    const first = await coordinator.get('/v1/tasks?limit=2');
    expect(first.status).toBe(200);
    expect(first.json.tasks.map((task: { priority: number }) => task.priority)).toEqual([100, 50]);
    const second = await coordinator.get(`/v1/tasks?limit=2&cursor=${first.json.nextCursor}`);
    expect(second.json.tasks.map((task: { householdId: number }) => task.householdId)).toEqual([households.small]);
    expect(second.json.nextCursor).toBeNull();
    const all = [...first.json.tasks, ...second.json.tasks];
    expect(all.every((task: { municipality: string }) => task.municipality === '1916')).toBe(true);
  });

  it('shows a task with its explanation and signals', async () => {
    const list = await coordinator.get('/v1/tasks?limit=1');
    const task = await coordinator.get(`/v1/tasks/${list.json.tasks[0].id}`);
    expect(task.status).toBe(200);
    expect(task.json.explanation.ruleSetVersion).toBe(1);
    expect(task.json.explanation.rules.map((r: { name: string }) => r.name).sort()).toEqual(['large', 'very large']);
    expect(task.json.explanation.rules[0].facts).toEqual({ totalAmountCents: 150000 });
    expect(task.json.signals).toHaveLength(1);
    expect(task.json.signals[0]).toMatchObject({ partnerType: 'rent', amountCents: 150000 });
  });

  it("explains with the rule set version's rules: stored are names and facts, shown is what each rule does", async () => {
    const list = await coordinator.get('/v1/tasks?limit=1');
    const id = list.json.tasks[0].id;
    const { rows } = await t.ctx.pool.query<{ explanation: { rules: Record<string, unknown>[] } }>(`select explanation from tasks where id = $1`, [id]);
    expect(rows[0]!.explanation.rules.map((rule) => Object.keys(rule).sort())).toEqual([['facts', 'name'], ['facts', 'name']]);
    const task = await coordinator.get(`/v1/tasks/${id}`);
    const shown = [...task.json.explanation.rules].sort((a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name));
    expect(shown).toEqual([
      { name: 'large', type: 'score', points: 50, reason: 'large', params: { points: 50, reason: 'large' }, facts: { totalAmountCents: 150000 } },
      { name: 'very large', type: 'score', points: 50, reason: 'very large', params: { points: 50, reason: 'very large' }, facts: { totalAmountCents: 150000 } },
    ]);
    // An explanation stored whole is shown as stored; a name the version lacks keeps its facts.
    const whole = { name: 'earlier', type: 'route', points: 0, reason: 'as it was', params: { team: 'noord', reason: 'as it was' }, facts: { crisis: true } };
    await t.ctx.pool.query(`update tasks set explanation = $2 where id = $1`, [id, JSON.stringify({ ruleSetVersion: 1, rules: [whole, { name: 'gone', facts: { signalCount: 2 } }] })]);
    try {
      const again = await coordinator.get(`/v1/tasks/${id}`);
      expect(again.json.explanation.rules).toEqual([whole, { name: 'gone', type: 'unknown', points: 0, reason: null, params: {}, facts: { signalCount: 2 } }]);
      // Entries that are no rule objects explain nothing, and never fail the view.
      await t.ctx.pool.query(`update tasks set explanation = $2 where id = $1`, [id, JSON.stringify({ ruleSetVersion: 1, rules: [null, 5, 'large', { name: 'large', facts: { totalAmountCents: 1 } }] })]);
      const odd = await coordinator.get(`/v1/tasks/${id}`);
      expect(odd.status).toBe(200);
      expect(odd.json.explanation.rules.map((rule: { name: string; type: string }) => [rule.name, rule.type])).toEqual([['large', 'score']]);
      await t.ctx.pool.query(`update tasks set explanation = $2 where id = $1`, [id, JSON.stringify({ rules: 5 })]);
      const none = await coordinator.get(`/v1/tasks/${id}`);
      expect(none.status).toBe(200);
      expect(none.json.explanation.rules).toEqual([]);
    } finally {
      await t.ctx.pool.query(`update tasks set explanation = $2 where id = $1`, [id, JSON.stringify(rows[0]!.explanation)]);
    }
  });

  it('scopes consultants to their teams and answers 404 across teams and municipalities', async () => {
    const noord = await noordConsultant.get('/v1/tasks');
    expect(noord.json.tasks.map((task: { team: string }) => task.team)).toEqual(['noord', 'noord']);
    const zuidTask = (await zuidConsultant.get('/v1/tasks')).json.tasks[0];
    expect((await noordConsultant.get(`/v1/tasks/${zuidTask.id}`)).status).toBe(404);
    expect((await noordConsultant.get(`/v1/households/${zuidTask.householdId}`)).status).toBe(404);
    expect((await otherCoordinator.get(`/v1/tasks/${zuidTask.id}`)).status).toBe(404);
    expect((await otherCoordinator.get(`/v1/households/${households.large}`)).status).toBe(404);
    expect((await integrator.get(`/v1/tasks/${zuidTask.id}`)).status).toBe(403);
    expect((await coordinator.get('/v1/tasks/999999')).status).toBe(404);
    expect((await coordinator.get('/v1/tasks/abc')).status).toBe(400);
  });

  it('shows the household at a glance and audits the read', async () => {
    const res = await coordinator.get(`/v1/households/${households.veryLarge}`);
    expect(res.status).toBe(200);
    expect(res.json.address).toMatchObject({ postcode: '2262AA', houseNumber: 1 });
    expect(res.json.signals).toHaveLength(1);
    expect(res.json.tasks).toHaveLength(1);
    const { rows } = await t.ctx.pool.query(`select actor_label from audit_events where action = 'household.read' and object_id = $1`, [String(households.veryLarge)]);
    expect(rows.map((r: { actor_label: string }) => r.actor_label)).toContain('coordinator 1916');
  });

  it('shows earlier contact: the attempts of the tasks the key may see, in the order they were made', async () => {
    const household = households.veryLarge!;
    const current = (await t.ctx.pool.query<{ id: number }>(`select id from tasks where household_id = $1 and status <> 'closed'`, [household])).rows[0]!.id;
    // An earlier task of this household, closed by team noord, with its own attempts.
    const earlier = (
      await t.ctx.pool.query<{ id: number }>(
        `insert into tasks (household_id, municipality_code, status, team, result, created_at, closed_at, matched_on)
         values ($1, '1916', 'closed', 'noord', 'no_contact', now() - interval '200 days', now() - interval '150 days', current_date - 200)
         returning id`,
        [household],
      )
    ).rows[0]!.id;
    const attempt = (taskId: number, channel: string, reached: boolean, date: string) =>
      t.ctx.pool.query(`insert into contact_attempts (task_id, channel, reached, attempt_date, day_part) values ($1, $2, $3, $4, 'morning')`, [taskId, channel, reached, date]);
    await attempt(current, 'phone', true, signalDate);
    await attempt(earlier, 'letter', false, '2025-03-02');
    await attempt(earlier, 'home_visit', false, '2025-03-20');
    const summary = (a: { taskId: number; channel: string; reached: boolean; date: string }) => [a.taskId, a.channel, a.reached, a.date];

    const all = await coordinator.get(`/v1/households/${household}`);
    expect(all.json.tasks.map((task: { id: number }) => task.id)).toEqual([earlier, current]);
    expect(all.json.contactAttempts.map(summary)).toEqual([
      [earlier, 'letter', false, '2025-03-02'],
      [earlier, 'home_visit', false, '2025-03-20'],
      [current, 'phone', true, signalDate],
    ]);
    expect(all.json.contactAttempts[0]).toMatchObject({ dayPart: 'morning', recordedBy: null, id: expect.any(Number), createdAt: expect.any(String) });
    // Team zuid sees the household through its current task, and the attempts of that task only.
    const zuid = await zuidConsultant.get(`/v1/households/${household}`);
    expect(zuid.status).toBe(200);
    expect(zuid.json.contactAttempts.map(summary)).toEqual([[current, 'phone', true, signalDate]]);
    // A household without attempts has an empty list.
    expect((await coordinator.get(`/v1/households/${households.large}`)).json.contactAttempts).toEqual([]);
  });

  it('filters by team and refuses unknown query keys', async () => {
    const zuid = await coordinator.get('/v1/tasks?team=zuid');
    expect(zuid.json.tasks).toHaveLength(1);
    const bad = await coordinator.get('/v1/tasks?sort=evil');
    expect(bad.status).toBe(400);
    expect(bad.json.errors[0].pointer).toMatch(/^\/query/);
  });
});
