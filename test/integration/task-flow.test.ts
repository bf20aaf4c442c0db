import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createTestContext, seedMunicipality, startTestServer, type TestContext, type TestServer } from '../helpers/context.js';
import { createKeyWithId, seedTask } from '../helpers/tasks.js';

// A fixed clock: "today" in the Netherlands is 2025-03-10 for every contact attempt below.
const NOW = new Date('2025-03-10T10:00:00Z');

let t: TestContext;
let server: TestServer;

beforeAll(async () => {
  t = await createTestContext('task_flow', { now: () => NOW, env: { RATE_LIMIT_PER_MINUTE: '0' } });
  server = await startTestServer(t.ctx);
  await seedMunicipality(t.ctx, '1916', ['2261']);
  await seedMunicipality(t.ctx, '0363', ['1011']);
});
afterAll(async () => {
  await server.close();
  await t.close();
});

async function consultant(teams: string[], municipality = '1916') {
  const key = await createKeyWithId(t.ctx, { role: 'consultant', municipality, teams });
  return { id: key.id, api: client(server.url, key.key) };
}

async function coordinator(municipality = '1916') {
  const key = await createKeyWithId(t.ctx, { role: 'coordinator', municipality });
  return { id: key.id, api: client(server.url, key.key) };
}

describe('the consultant flow: queue → claim → attempts → close', () => {
  it('works a task from the queue to a coded result, with history, DDAS dates and audit', async () => {
    const a = await consultant(['flow']);
    const { taskId, signalIds } = await seedTask(t.ctx.pool, { municipality: '1916', team: 'flow', priority: 40, dueDate: '2025-03-20', signalDates: ['2025-02-03', '2025-02-20'] });

    const queue = await a.api.get('/v1/tasks/queue');
    expect(queue.status).toBe(200);
    expect(queue.headers.get('api-version')).toBe('1.0.0');
    expect(queue.json.tasks.map((x: { id: number }) => x.id)).toEqual([taskId]);

    const claimed = await a.api.post('/v1/tasks/claim');
    expect(claimed.status).toBe(200);
    expect(claimed.json).toMatchObject({ id: taskId, status: 'claimed', assignee: a.id, pickedUpDate: null });
    expect(claimed.json.signals.map((s: { id: number }) => s.id)).toEqual(signalIds);

    const first = await a.api.post(`/v1/tasks/${taskId}/contact-attempts`, { channel: 'phone', reached: false, date: '2025-03-04', dayPart: 'morning' });
    expect(first.status).toBe(201);
    expect(first.json).toMatchObject({ taskId, channel: 'phone', reached: false, date: '2025-03-04', dayPart: 'morning', recordedBy: a.id });
    const { rows: afterFirst } = await t.ctx.pool.query(`select picked_up_date from tasks where id = $1`, [taskId]);
    expect(afterFirst[0].picked_up_date).toBe('2025-03-04');
    const { rows: signals } = await t.ctx.pool.query(`select distinct s.status from task_signals ts join signals s on s.id = ts.signal_id where ts.task_id = $1`, [taskId]);
    expect(signals).toEqual([{ status: 'picked_up' }]);

    // An earlier attempt recorded later moves the pick-up date back to it (DDAS datumOpgepakt).
    expect((await a.api.post(`/v1/tasks/${taskId}/contact-attempts`, { channel: 'letter', reached: false, date: '2025-03-03' })).status).toBe(201);
    const note = await a.api.post(`/v1/tasks/${taskId}/notes`, { text: '  Voicemail ingesproken, brief gestuurd.  ' });
    expect(note.status).toBe(201);
    expect(note.json).toMatchObject({ taskId, text: 'Voicemail ingesproken, brief gestuurd.', author: a.id });

    const tooEarly = await a.api.post(`/v1/tasks/${taskId}/close`, { result: 'no_contact_possible' });
    expect(tooEarly.status).toBe(409);
    expect(tooEarly.json).toMatchObject({ status: 409, code: 'too_few_attempts' });
    expect(tooEarly.json.detail).toContain('at least 3 contact attempts over at least 2 channels; the task has 2 over 2');

    expect((await a.api.post(`/v1/tasks/${taskId}/contact-attempts`, { channel: 'home_visit', reached: false, date: '2025-03-10', dayPart: 'evening' })).status).toBe(201);
    const closed = await a.api.post(`/v1/tasks/${taskId}/close`, { result: 'no_contact_possible', note: 'Drie pogingen, geen contact.' });
    expect(closed.status).toBe(200);
    expect(closed.json).toMatchObject({ id: taskId, status: 'closed', result: 'no_contact_possible', pickedUpDate: '2025-03-03', closedAt: NOW.toISOString() });
    expect(closed.json.signals.every((s: { status: string }) => s.status === 'picked_up')).toBe(true);

    const again = await a.api.post(`/v1/tasks/${taskId}/close`, { result: 'no_contact_possible' });
    expect(again.status).toBe(409);
    expect(again.json.code).toBe('task_closed');

    const attempts = await a.api.get(`/v1/tasks/${taskId}/contact-attempts`);
    expect(attempts.json.contactAttempts.map((x: { date: string }) => x.date)).toEqual(['2025-03-04', '2025-03-03', '2025-03-10']);
    const notes = await a.api.get(`/v1/tasks/${taskId}/notes`);
    expect(notes.json.notes.map((x: { text: string }) => x.text)).toEqual(['Voicemail ingesproken, brief gestuurd.', 'Drie pogingen, geen contact.']);

    const history = await a.api.get(`/v1/tasks/${taskId}/history`);
    expect(history.status).toBe(200);
    expect(history.json.history.map((h: { action: string }) => h.action)).toEqual(['claim', 'contact-attempt', 'contact-attempt', 'note', 'contact-attempt', 'close']);
    expect(history.json.history.every((h: { actor: string; at: string }) => h.actor === a.id && h.at === NOW.toISOString())).toBe(true);
    expect(history.json.history[5].detail).toMatchObject({ result: 'no_contact_possible', previousStatus: 'claimed' });
    // The history says a note was written, never what it says.
    expect(JSON.stringify(history.json)).not.toContain('Voicemail');

    expect((await a.api.post('/v1/tasks/claim')).status).toBe(204);

    const { rows: audit } = await t.ctx.pool.query<{ action: string }>(`select action from audit_events where actor_key_id = $1 order by id`, [a.id]);
    expect(audit.map((r) => r.action)).toEqual([
      'task.queue.read',
      'task.claim',
      'task.contact-attempt.create',
      'task.contact-attempt.create',
      'task.note.create',
      'task.contact-attempt.create',
      'task.close',
      'task.contact-attempts.read',
      'task.notes.read',
      'task.history.read',
    ]);
  });

  it('marks unpicked signals with the status the result implies when closing without contact', async () => {
    const a = await consultant(['repeat']);
    const { taskId } = await seedTask(t.ctx.pool, { municipality: '1916', team: 'repeat' });
    expect((await a.api.post(`/v1/tasks/${taskId}/claim`)).status).toBe(200);
    const closed = await a.api.post(`/v1/tasks/${taskId}/close`, { result: 'not_picked_up_repeat_signal' });
    expect(closed.status).toBe(200);
    expect(closed.json.signals.map((s: { status: string }) => s.status)).toEqual(['not_picked_up_repeat_signal']);
    expect(closed.json.pickedUpDate).toBeNull();
  });
});

describe('the queue', () => {
  it('lists tasks assigned to me first, then my teams’ open tasks: overdue, priority, due date, id; paged by cursor', async () => {
    const a = await consultant(['q1', 'q2']);
    const other = await consultant(['q1']);
    const seed = (input: Parameters<typeof seedTask>[1]) => seedTask(t.ctx.pool, input).then((s) => s.taskId);
    const low = await seed({ municipality: '1916', team: 'q1', priority: 10, dueDate: '2025-03-20' });
    const highLate = await seed({ municipality: '1916', team: 'q2', priority: 50, dueDate: '2025-03-25' });
    const highEarly = await seed({ municipality: '1916', team: 'q1', priority: 50, dueDate: '2025-03-15' });
    const overdue = await seed({ municipality: '1916', team: 'q2', priority: 5, dueDate: '2025-03-01', overdue: true });
    const highNoDue = await seed({ municipality: '1916', team: 'q1', priority: 50, dueDate: null });
    const highEarlyTwin = await seed({ municipality: '1916', team: 'q2', priority: 50, dueDate: '2025-03-15' });
    const routedToMe = await seed({ municipality: '1916', team: 'elsewhere', priority: 0, assignee: a.id });
    const claimedByMe = await seed({ municipality: '1916', team: 'q1', priority: 1, status: 'claimed', assignee: a.id });
    // Not in my queue: another's claim, routed to another, another team, another municipality, closed.
    await seed({ municipality: '1916', team: 'q1', priority: 99, status: 'claimed', assignee: other.id });
    await seed({ municipality: '1916', team: 'q1', priority: 99, assignee: other.id });
    await seed({ municipality: '1916', team: 'q3', priority: 99 });
    await seed({ municipality: '0363', team: 'q1', priority: 99 });
    await seed({ municipality: '1916', team: 'q1', priority: 99, status: 'closed' });

    const expected = [claimedByMe, routedToMe, overdue, highEarly, highEarlyTwin, highLate, highNoDue, low];
    const full = await a.api.get('/v1/tasks/queue');
    expect(full.json.tasks.map((x: { id: number }) => x.id)).toEqual(expected);
    expect(full.json.nextCursor).toBeNull();

    for (const limit of [1, 2, 3]) {
      const seen: number[] = [];
      let cursor: string | null = null;
      do {
        const res = await a.api.get(`/v1/tasks/queue?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
        expect(res.status).toBe(200);
        expect(res.json.tasks.length).toBeLessThanOrEqual(limit);
        seen.push(...res.json.tasks.map((x: { id: number }) => x.id));
        cursor = res.json.nextCursor;
      } while (cursor);
      expect(seen).toEqual(expected);
    }

    // Claim next follows the same order: what is routed to me, then the overdue task.
    expect((await a.api.post('/v1/tasks/claim')).json.id).toBe(routedToMe);
    expect((await a.api.post('/v1/tasks/claim')).json.id).toBe(overdue);
    const history = await a.api.get(`/v1/tasks/${routedToMe}/history`);
    expect(history.json.history[0]).toMatchObject({ action: 'claim', detail: { next: true, routed: true } });
  });

  it('refuses a cursor it did not make and a page size out of range', async () => {
    const a = await consultant(['q1']);
    for (const query of ['cursor=nonsense', `cursor=${Buffer.from('[0,true,1,"x",1]').toString('base64url')}`, 'limit=0', 'limit=501']) {
      const res = await a.api.get(`/v1/tasks/queue?${query}`);
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.json.errors[0].pointer).toMatch(/^\/query\/(cursor|limit)$/);
    }
    const unknown = await a.api.get('/v1/tasks/queue?team=noord');
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(unknown.json.errors)).toContain('team');
  });

  it('gives a coordinator the whole municipality, tasks without a team included', async () => {
    const c = await coordinator('0363');
    const noTeam = await seedTask(t.ctx.pool, { municipality: '0363', team: null, priority: 1000 });
    const res = await c.api.get('/v1/tasks/queue?limit=500');
    expect(res.json.tasks[0].id).toBe(noTeam.taskId);
    expect(res.json.tasks.every((x: { municipality: string }) => x.municipality === '0363')).toBe(true);
    const claimed = await c.api.post('/v1/tasks/claim');
    expect(claimed.json).toMatchObject({ id: noTeam.taskId, status: 'claimed', assignee: c.id });
  });
});

describe('claiming, releasing and assigning', () => {
  it('claims a given task, releases it to the team, and lets a colleague claim it', async () => {
    const a = await consultant(['rel']);
    const b = await consultant(['rel']);
    const { taskId } = await seedTask(t.ctx.pool, { municipality: '1916', team: 'rel' });
    expect((await a.api.post(`/v1/tasks/${taskId}/claim`)).json).toMatchObject({ status: 'claimed', assignee: a.id });
    // Claiming my own claim again is harmless (a retried request).
    expect((await a.api.post(`/v1/tasks/${taskId}/claim`)).status).toBe(200);
    expect((await b.api.post(`/v1/tasks/${taskId}/claim`)).json.code).toBe('claimed_by_other');
    expect((await b.api.get('/v1/tasks/queue')).json.tasks).toEqual([]);

    const released = await a.api.post(`/v1/tasks/${taskId}/release`);
    expect(released.status).toBe(200);
    expect(released.json).toMatchObject({ status: 'open', assignee: null });
    expect((await b.api.post('/v1/tasks/claim')).json).toMatchObject({ id: taskId, assignee: b.id });
    const history = await b.api.get(`/v1/tasks/${taskId}/history`);
    expect(history.json.history.map((h: { action: string; actor: string }) => [h.action, h.actor])).toEqual([
      ['claim', a.id],
      ['release', a.id],
      ['claim', b.id],
    ]);
  });

  it('lets a coordinator route a task to a consultant of another team; it tops their queue and is their next claim', async () => {
    const c = await coordinator();
    const a = await consultant(['asg-a']);
    const b = await consultant(['asg-b']);
    const mine = await seedTask(t.ctx.pool, { municipality: '1916', team: 'asg-b', priority: 99 });
    const { taskId } = await seedTask(t.ctx.pool, { municipality: '1916', team: 'asg-a', priority: 0 });
    expect((await a.api.post(`/v1/tasks/${taskId}/claim`)).status).toBe(200);

    const assigned = await c.api.post(`/v1/tasks/${taskId}/assign`, { consultantKeyId: b.id });
    expect(assigned.status).toBe(200);
    expect(assigned.json).toMatchObject({ status: 'open', assignee: b.id });
    // Another team's task is visible to the consultant it is assigned to, and no longer to a.
    expect((await b.api.get('/v1/tasks/queue')).json.tasks.map((x: { id: number }) => x.id)).toEqual([taskId, mine.taskId]);
    expect((await b.api.post('/v1/tasks/claim')).json).toMatchObject({ id: taskId, status: 'claimed', assignee: b.id });
    expect((await a.api.post(`/v1/tasks/${taskId}/release`)).json.code).toBe('claimed_by_other');
    // Assigning what they hold changes nothing.
    expect((await c.api.post(`/v1/tasks/${taskId}/assign`, { consultantKeyId: b.id })).json).toMatchObject({ status: 'claimed', assignee: b.id });
    // A coordinator may release anyone's task.
    expect((await c.api.post(`/v1/tasks/${taskId}/release`)).json).toMatchObject({ status: 'open', assignee: null });
    const history = await c.api.get(`/v1/tasks/${taskId}/history`);
    expect(history.json.history.map((h: { action: string }) => h.action)).toEqual(['claim', 'assign', 'claim', 'release']);
    expect(history.json.history[1].detail).toMatchObject({ assignee: b.id, previousAssignee: a.id, previousStatus: 'claimed' });
  });

  it('assigns only to an active consultant key of the same municipality', async () => {
    const c = await coordinator();
    const { taskId } = await seedTask(t.ctx.pool, { municipality: '1916', team: 'asg' });
    const revoked = await createKeyWithId(t.ctx, { role: 'consultant', municipality: '1916', teams: ['asg'] });
    await t.ctx.pool.query(`update api_keys set revoked_at = now() where id = $1`, [revoked.id]);
    const foreign = await createKeyWithId(t.ctx, { role: 'consultant', municipality: '0363', teams: ['asg'] });
    const notConsultant = await createKeyWithId(t.ctx, { role: 'coordinator', municipality: '1916' });
    for (const id of [revoked.id, foreign.id, notConsultant.id, '00000000-0000-4000-8000-000000000000']) {
      const res = await c.api.post(`/v1/tasks/${taskId}/assign`, { consultantKeyId: id });
      expect(res.status).toBe(400);
      expect(res.json.errors).toEqual([{ pointer: '/consultantKeyId', detail: expect.stringContaining('active consultant key') }]);
    }
    expect((await c.api.post(`/v1/tasks/${taskId}/assign`, { consultantKeyId: 'nope' })).status).toBe(400);
    const { rows } = await t.ctx.pool.query(`select assignee_key_id from tasks where id = $1`, [taskId]);
    expect(rows[0].assignee_key_id).toBeNull();
  });

  it('lets a coordinator record attempts and close a task nobody claimed', async () => {
    const c = await coordinator();
    const { taskId } = await seedTask(t.ctx.pool, { municipality: '1916', team: 'coord' });
    expect((await c.api.post(`/v1/tasks/${taskId}/contact-attempts`, { channel: 'letter', reached: true, date: '2025-03-05' })).status).toBe(201);
    const closed = await c.api.post(`/v1/tasks/${taskId}/close`, { result: 'advice_or_quick_fix' });
    expect(closed.json).toMatchObject({ status: 'closed', result: 'advice_or_quick_fix', assignee: null, pickedUpDate: '2025-03-05' });
  });

  it('gives a task claimed by two consultants at once to exactly one of them', async () => {
    const ids = await Promise.all([0, 1, 2, 3].map(() => seedTask(t.ctx.pool, { municipality: '1916', team: 'duel' }).then((s) => s.taskId)));
    const a = await consultant(['duel']);
    const b = await consultant(['duel']);
    for (const id of ids) {
      const [ra, rb] = await Promise.all([a.api.post(`/v1/tasks/${id}/claim`), b.api.post(`/v1/tasks/${id}/claim`)]);
      expect([ra.status, rb.status].sort()).toEqual([200, 409]);
    }
  });
});

describe('input', () => {
  it('refuses invalid bodies with pointers, unknown properties included', async () => {
    const a = await consultant(['input']);
    const { taskId } = await seedTask(t.ctx.pool, { municipality: '1916', team: 'input' });
    await a.api.post(`/v1/tasks/${taskId}/claim`);
    const cases: [string, unknown, string][] = [
      ['contact-attempts', { channel: 'pigeon', reached: false, date: '2025-03-01' }, '/channel'],
      ['contact-attempts', { channel: 'phone', reached: 'no', date: '2025-03-01' }, '/reached'],
      ['contact-attempts', { channel: 'phone', reached: false, date: '2025-02-30' }, '/date'],
      ['contact-attempts', { channel: 'phone', reached: false, date: '01-03-2025' }, '/date'],
      ['contact-attempts', { channel: 'phone', reached: false, date: '2025-03-01', dayPart: 'night' }, '/dayPart'],
      ['contact-attempts', { channel: 'phone', reached: false, date: '2025-03-01', outcome: 'x' }, '/outcome'],
      ['notes', { text: '' }, '/text'],
      ['notes', { text: 'x'.repeat(4001) }, '/text'],
      ['notes', { text: 'ok', author: 'me' }, '/author'],
      ['close', { result: 'solved' }, '/result'],
      ['close', {}, '/result'],
    ];
    for (const [path, body, pointer] of cases) {
      const res = await a.api.post(`/v1/tasks/${taskId}/${path}`, body);
      expect(res.status, `${path} ${JSON.stringify(body).slice(0, 80)}`).toBe(400);
      expect(res.json.errors.map((e: { pointer: string }) => e.pointer)).toContain(pointer);
    }
    expect((await a.api.post(`/v1/tasks/${taskId}/notes`, 'text=hi', { 'content-type': 'application/x-www-form-urlencoded' })).status).toBe(415);
    expect((await a.api.post(`/v1/tasks/${taskId}/notes`, '{"text":', { 'content-type': 'application/json' })).status).toBe(400);
    expect((await a.api.post('/v1/tasks/abc/claim')).status).toBe(400);
    expect((await a.api.post('/v1/tasks/0/claim')).status).toBe(400);
    // Nothing of the refused requests was written.
    const { rows } = await t.ctx.pool.query(`select (select count(*)::int from contact_attempts where task_id = $1) as a, (select count(*)::int from task_notes where task_id = $1) as n`, [taskId]);
    expect(rows[0]).toEqual({ a: 0, n: 0 });
  });

  it('answers an attempt dated after today (Europe/Amsterdam) with 400', async () => {
    const a = await consultant(['future']);
    const { taskId } = await seedTask(t.ctx.pool, { municipality: '1916', team: 'future' });
    await a.api.post(`/v1/tasks/${taskId}/claim`);
    const res = await a.api.post(`/v1/tasks/${taskId}/contact-attempts`, { channel: 'phone', reached: false, date: '2025-03-11' });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ code: 'attempt_in_future', errors: [{ pointer: '/date' }] });
  });
});
