import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TASK_LIMITS } from '../../src/domain/taskStateMachine.js';
import { client, createTestContext, seedMunicipality, startTestServer, type TestContext, type TestServer } from '../helpers/context.js';
import { createKeyWithId, seedTask } from '../helpers/tasks.js';

/** Every refusal of the task state machine (409) and of the scoping rules (404, 403), over HTTP. */

const NOW = new Date('2025-03-10T10:00:00Z');

let t: TestContext;
let server: TestServer;
type Api = ReturnType<typeof client>;
let me: { id: string; api: Api };
let colleague: { id: string; api: Api };
let coordinatorApi: Api;

beforeAll(async () => {
  t = await createTestContext('task_conflicts', { now: () => NOW, env: { RATE_LIMIT_PER_MINUTE: '0' } });
  server = await startTestServer(t.ctx);
  await seedMunicipality(t.ctx, '1916', ['2261']);
  await seedMunicipality(t.ctx, '0363', ['1011']);
  const a = await createKeyWithId(t.ctx, { role: 'consultant', municipality: '1916', teams: ['noord'] });
  const b = await createKeyWithId(t.ctx, { role: 'consultant', municipality: '1916', teams: ['noord'] });
  me = { id: a.id, api: client(server.url, a.key) };
  colleague = { id: b.id, api: client(server.url, b.key) };
  coordinatorApi = client(server.url, (await createKeyWithId(t.ctx, { role: 'coordinator', municipality: '1916' })).key);
});
afterAll(async () => {
  await server.close();
  await t.close();
});

const task = (input: Partial<Parameters<typeof seedTask>[1]> = {}) => seedTask(t.ctx.pool, { municipality: '1916', team: 'noord', signalDates: ['2025-02-03'], ...input }).then((s) => s.taskId);
const claimedByMe = () => task({ status: 'claimed', assignee: me.id });
const closed = () => task({ status: 'closed', assignee: me.id });

async function expectConflict(response: Promise<{ status: number; json: { code?: string; status?: number }; headers: Headers }>, code: string) {
  const res = await response;
  expect(res.status, JSON.stringify(res.json)).toBe(409);
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  expect(res.json).toMatchObject({ status: 409, title: 'Conflict', code });
}

async function addAttempts(taskId: number, attempts: { channel: string; reached?: boolean; date?: string }[]) {
  for (const a of attempts) {
    await t.ctx.pool.query(`insert into contact_attempts (task_id, channel, reached, attempt_date) values ($1, $2, $3, $4)`, [taskId, a.channel, a.reached ?? false, a.date ?? '2025-03-01']);
  }
}

describe('409: the state machine refuses what makes no sense', () => {
  it('claim: a closed task, another’s claim, a task routed to another', async () => {
    await expectConflict(me.api.post(`/v1/tasks/${await closed()}/claim`), 'task_closed');
    await expectConflict(me.api.post(`/v1/tasks/${await task({ status: 'claimed', assignee: colleague.id })}/claim`), 'claimed_by_other');
    await expectConflict(me.api.post(`/v1/tasks/${await task({ assignee: colleague.id })}/claim`), 'assigned_to_other');
  });

  it('release: nothing to release, another’s claim, a closed task', async () => {
    await expectConflict(me.api.post(`/v1/tasks/${await task()}/release`), 'not_assigned');
    await expectConflict(me.api.post(`/v1/tasks/${await task({ status: 'claimed', assignee: colleague.id })}/release`), 'claimed_by_other');
    await expectConflict(me.api.post(`/v1/tasks/${await closed()}/release`), 'task_closed');
  });

  it('assign: a closed task', async () => {
    await expectConflict(coordinatorApi.post(`/v1/tasks/${await closed()}/assign`, { consultantKeyId: me.id }), 'task_closed');
  });

  it('contact attempt: not claimed by me, closed, before the earliest signal, over the limit', async () => {
    const body = { channel: 'phone', reached: false, date: '2025-03-01' };
    await expectConflict(me.api.post(`/v1/tasks/${await task()}/contact-attempts`, body), 'not_claimed_by_you');
    await expectConflict(me.api.post(`/v1/tasks/${await task({ assignee: me.id })}/contact-attempts`, body), 'not_claimed_by_you');
    await expectConflict(me.api.post(`/v1/tasks/${await task({ status: 'claimed', assignee: colleague.id })}/contact-attempts`, body), 'not_claimed_by_you');
    await expectConflict(me.api.post(`/v1/tasks/${await closed()}/contact-attempts`, body), 'task_closed');

    // The earliest of the task's signals is the bound, not the first one stored.
    const twoSignals = await task({ status: 'claimed', assignee: me.id, signalDates: ['2025-02-10', '2025-02-03'] });
    await expectConflict(me.api.post(`/v1/tasks/${twoSignals}/contact-attempts`, { ...body, date: '2025-02-02' }), 'attempt_before_signal');
    expect((await me.api.post(`/v1/tasks/${twoSignals}/contact-attempts`, { ...body, date: '2025-02-03' })).status).toBe(201);

    const full = await claimedByMe();
    await addAttempts(full, Array.from({ length: DEFAULT_TASK_LIMITS.maxAttemptsPerTask }, () => ({ channel: 'letter' })));
    await expectConflict(me.api.post(`/v1/tasks/${full}/contact-attempts`, body), 'attempt_limit');
  });

  it('note: over the limit (also on a closed task, where notes are otherwise allowed)', async () => {
    const id = await closed();
    expect((await colleague.api.post(`/v1/tasks/${id}/notes`, { text: 'Later teruggebeld.' })).status).toBe(201);
    await t.ctx.pool.query(`insert into task_notes (task_id, text) select $1, 'n' || g from generate_series(2, $2) g`, [id, DEFAULT_TASK_LIMITS.maxNotesPerTask]);
    await expectConflict(me.api.post(`/v1/tasks/${id}/notes`, { text: 'one too many' }), 'note_limit');
  });

  it('close: twice, not claimed by me, too few attempts or channels, contact that was made, contact that was not', async () => {
    await expectConflict(me.api.post(`/v1/tasks/${await closed()}/close`, { result: 'deceased' }), 'task_closed');
    await expectConflict(me.api.post(`/v1/tasks/${await task()}/close`, { result: 'deceased' }), 'not_claimed_by_you');
    await expectConflict(me.api.post(`/v1/tasks/${await task({ status: 'claimed', assignee: colleague.id })}/close`, { result: 'deceased' }), 'not_claimed_by_you');

    const oneChannel = await claimedByMe();
    await addAttempts(oneChannel, [{ channel: 'phone' }, { channel: 'phone' }, { channel: 'phone' }]);
    await expectConflict(me.api.post(`/v1/tasks/${oneChannel}/close`, { result: 'no_contact_possible' }), 'too_few_attempts');
    await addAttempts(oneChannel, [{ channel: 'letter' }]);
    expect((await me.api.post(`/v1/tasks/${oneChannel}/close`, { result: 'no_contact_possible' })).status).toBe(200);

    const reached = await claimedByMe();
    await addAttempts(reached, [{ channel: 'phone' }, { channel: 'letter' }, { channel: 'home_visit', reached: true }]);
    await expectConflict(me.api.post(`/v1/tasks/${reached}/close`, { result: 'no_contact_possible' }), 'contact_was_made');
    expect((await me.api.post(`/v1/tasks/${reached}/close`, { result: 'no_response_after_contact' })).status).toBe(200);

    const notReached = await claimedByMe();
    await addAttempts(notReached, [{ channel: 'phone' }]);
    await expectConflict(me.api.post(`/v1/tasks/${notReached}/close`, { result: 'advice_or_quick_fix' }), 'result_needs_contact');
  });

  it('close: an attempt dated before the earliest signal (recorded before the signal joined the task)', async () => {
    const id = await claimedByMe();
    await addAttempts(id, [{ channel: 'phone', date: '2025-01-15', reached: true }]);
    await expectConflict(me.api.post(`/v1/tasks/${id}/close`, { result: 'advice_or_quick_fix' }), 'attempt_before_signal');
  });

  it('leaves a refused task exactly as it was, and records nothing', async () => {
    const id = await claimedByMe();
    const before = await t.ctx.pool.query(`select * from tasks where id = $1`, [id]);
    await expectConflict(me.api.post(`/v1/tasks/${id}/close`, { result: 'no_contact_possible' }), 'too_few_attempts');
    const after = await t.ctx.pool.query(`select * from tasks where id = $1`, [id]);
    expect(after.rows).toEqual(before.rows);
    const { rows } = await t.ctx.pool.query(`select count(*)::int as n from task_history where task_id = $1`, [id]);
    expect(rows[0].n).toBe(0);
  });
});

describe('scoping: another team’s or municipality’s task is 404, the wrong role 403', () => {
  const routes = (id: number): [string, string, unknown?][] => [
    ['post', `/v1/tasks/${id}/claim`],
    ['post', `/v1/tasks/${id}/release`],
    ['post', `/v1/tasks/${id}/contact-attempts`, { channel: 'phone', reached: false, date: '2025-03-01' }],
    ['get', `/v1/tasks/${id}/contact-attempts`],
    ['post', `/v1/tasks/${id}/notes`, { text: 'x' }],
    ['get', `/v1/tasks/${id}/notes`],
    ['post', `/v1/tasks/${id}/close`, { result: 'deceased' }],
    ['get', `/v1/tasks/${id}/history`],
  ];
  const call = (api: Api, [method, path, body]: [string, string, unknown?]) => (method === 'get' ? api.get(path) : api.post(path, body));

  it('hides another team’s task, another municipality’s and one that does not exist', async () => {
    const otherTeam = await task({ team: 'zuid', status: 'claimed', assignee: colleague.id });
    const otherMunicipality = await seedTask(t.ctx.pool, { municipality: '0363', team: 'noord' }).then((s) => s.taskId);
    const foreignCoordinator = client(server.url, (await createKeyWithId(t.ctx, { role: 'coordinator', municipality: '0363' })).key);
    const cases: [Api, number][] = [
      [me.api, otherTeam],
      [me.api, otherMunicipality],
      [me.api, 999_999_999],
      [foreignCoordinator, otherTeam],
    ];
    for (const [api, id] of cases) {
      for (const route of routes(id)) {
        const res = await call(api, route);
        expect(res.status, `${route[0]} ${route[1]}`).toBe(404);
        expect(res.json).toMatchObject({ status: 404, detail: 'No such task' });
      }
    }
    expect((await coordinatorApi.post(`/v1/tasks/${otherMunicipality}/assign`, { consultantKeyId: me.id })).status).toBe(404);
    expect((await foreignCoordinator.post(`/v1/tasks/${otherTeam}/assign`, { consultantKeyId: me.id })).status).toBe(404);
    // Nothing happened to the hidden tasks.
    const { rows } = await t.ctx.pool.query(`select count(*)::int as n from task_history where task_id = any($1)`, [[otherTeam, otherMunicipality]]);
    expect(rows[0].n).toBe(0);
  });

  it('keeps the queue and claim-next inside the consultant’s teams and municipality', async () => {
    const loner = await createKeyWithId(t.ctx, { role: 'consultant', municipality: '1916', teams: ['nobody-here'] });
    const api = client(server.url, loner.key);
    expect((await api.get('/v1/tasks/queue')).json.tasks).toEqual([]);
    expect((await api.post('/v1/tasks/claim')).status).toBe(204);
    const foreign = await createKeyWithId(t.ctx, { role: 'consultant', municipality: '0363', teams: ['noord'] });
    const queue = await client(server.url, foreign.key).get('/v1/tasks/queue?limit=500');
    expect(queue.json.tasks.length).toBeGreaterThan(0);
    expect(queue.json.tasks.every((x: { municipality: string }) => x.municipality === '0363')).toBe(true);
  });

  it('refuses admins and integrators (403), and consultants the assignment (403)', async () => {
    const id = await task();
    const admin = client(server.url, (await createKeyWithId(t.ctx, { role: 'admin' })).key);
    const integrator = client(server.url, (await createKeyWithId(t.ctx, { role: 'integrator', municipality: '1916' })).key);
    for (const api of [admin, integrator]) {
      expect((await api.get('/v1/tasks/queue')).status).toBe(403);
      expect((await api.post('/v1/tasks/claim')).status).toBe(403);
      for (const route of routes(id)) expect((await call(api, route)).status, route[1]).toBe(403);
    }
    expect((await me.api.post(`/v1/tasks/${id}/assign`, { consultantKeyId: me.id })).status).toBe(403);
    expect((await client(server.url).post('/v1/tasks/claim')).status).toBe(401);
  });
});
