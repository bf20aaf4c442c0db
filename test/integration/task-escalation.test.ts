import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addWorkingDays } from '../../src/domain/workingDays.js';
import { escalateOverdueTasks } from '../../src/services/escalation.js';
import { client, createTestContext, seedMunicipality, startTestServer, type TestContext, type TestServer } from '../helpers/context.js';
import { createKeyWithId, seedTask } from '../helpers/tasks.js';

/**
 * The escalation run with a fixed clock: a task is overdue from the day after its due date
 * (Europe/Amsterdam) as long as nobody attempted contact; due dates count Dutch working days.
 */

let clock = new Date('2025-04-01T10:00:00Z');
let t: TestContext;
let server: TestServer;

beforeAll(async () => {
  t = await createTestContext('task_escalation', { now: () => clock, env: { RATE_LIMIT_PER_MINUTE: '0' } });
  server = await startTestServer(t.ctx);
  await seedMunicipality(t.ctx, '1916', ['2261']);
  await seedMunicipality(t.ctx, '0363', ['1011']);
});
afterAll(async () => {
  await server.close();
  await t.close();
});

async function overdueIds(): Promise<number[]> {
  const { rows } = await t.ctx.pool.query<{ id: number }>(`select id from tasks where overdue order by id`);
  return rows.map((r) => r.id);
}

async function gauge(municipality: string): Promise<number | undefined> {
  const metric = await t.ctx.metrics.tasksOverdue.get();
  return metric.values.find((v) => v.labels.municipality === municipality)?.value;
}

describe('escalateOverdueTasks', () => {
  it('marks open and claimed tasks without a contact attempt past their due date, once', async () => {
    await t.ctx.pool.query(`truncate task_history, contact_attempts, task_notes, signals, tasks cascade`);
    const consultant = await createKeyWithId(t.ctx, { role: 'consultant', municipality: '1916', teams: ['noord'] });
    const seed = (input: Partial<Parameters<typeof seedTask>[1]>) => seedTask(t.ctx.pool, { municipality: '1916', team: 'noord', ...input }).then((s) => s.taskId);
    const open = await seed({ dueDate: '2025-04-01' });
    const claimed = await seed({ dueDate: '2025-03-20', status: 'claimed', assignee: consultant.id });
    const attempted = await seed({ dueDate: '2025-03-20', status: 'claimed', assignee: consultant.id });
    await t.ctx.pool.query(`insert into contact_attempts (task_id, channel, reached, attempt_date) values ($1, 'letter', false, '2025-03-25')`, [attempted]);
    await seed({ dueDate: '2025-03-20', status: 'closed' });
    await seed({ dueDate: null });
    const otherMunicipality = await seedTask(t.ctx.pool, { municipality: '0363', team: 'x', dueDate: '2025-03-31' }).then((s) => s.taskId);

    // 1 April, noon in Amsterdam: due 1 April is still on time.
    clock = new Date('2025-04-01T10:00:00Z');
    expect(await escalateOverdueTasks(t.ctx)).toBe(2);
    expect(await overdueIds()).toEqual([claimed, otherMunicipality]);
    expect(await gauge('1916')).toBe(1);
    expect(await gauge('0363')).toBe(1);

    // Idempotent: a second run marks nothing and records nothing.
    expect(await escalateOverdueTasks(t.ctx)).toBe(0);
    const { rows: history } = await t.ctx.pool.query(`select task_id, actor_key_id, action, detail, at from task_history order by id`);
    expect(history).toEqual([
      { task_id: claimed, actor_key_id: null, action: 'overdue', detail: { dueDate: '2025-03-20', today: '2025-04-01' }, at: clock },
      { task_id: otherMunicipality, actor_key_id: null, action: 'overdue', detail: { dueDate: '2025-03-31', today: '2025-04-01' }, at: clock },
    ]);

    // 1 April 22:30 UTC is already 2 April in Amsterdam (CEST): now the 1 April task is late.
    clock = new Date('2025-04-01T22:30:00Z');
    expect(await escalateOverdueTasks(t.ctx)).toBe(1);
    expect(await overdueIds()).toEqual([open, claimed, otherMunicipality]);
    expect(await gauge('1916')).toBe(2);
  });

  it('raises an overdue task to the top of the queue, and the first contact attempt clears it', async () => {
    clock = new Date('2025-04-02T08:00:00Z');
    const key = await createKeyWithId(t.ctx, { role: 'consultant', municipality: '1916', teams: ['top'] });
    const api = client(server.url, key.key);
    const important = await seedTask(t.ctx.pool, { municipality: '1916', team: 'top', priority: 90, dueDate: '2025-04-10' }).then((s) => s.taskId);
    const late = await seedTask(t.ctx.pool, { municipality: '1916', team: 'top', priority: 1, dueDate: '2025-04-01' }).then((s) => s.taskId);
    expect((await api.get('/v1/tasks/queue')).json.tasks.map((x: { id: number }) => x.id)).toEqual([important, late]);

    await escalateOverdueTasks(t.ctx);
    const queue = await api.get('/v1/tasks/queue');
    expect(queue.json.tasks.map((x: { id: number; overdue: boolean }) => [x.id, x.overdue])).toEqual([
      [late, true],
      [important, false],
    ]);

    const claimed = await api.post('/v1/tasks/claim');
    expect(claimed.json).toMatchObject({ id: late, overdue: true });
    expect((await api.post(`/v1/tasks/${late}/contact-attempts`, { channel: 'phone', reached: false, date: '2025-04-02' })).status).toBe(201);
    const { rows } = await t.ctx.pool.query(`select overdue, picked_up_date from tasks where id = $1`, [late]);
    expect(rows[0]).toEqual({ overdue: false, picked_up_date: '2025-04-02' });
    expect(await escalateOverdueTasks(t.ctx)).toBe(0);
    expect((await api.get(`/v1/tasks/${late}/history`)).json.history.map((h: { action: string }) => h.action)).toEqual(['overdue', 'claim', 'contact-attempt']);
  });

  it('clears a task whose due date moved on re-evaluation', async () => {
    clock = new Date('2025-04-03T08:00:00Z');
    const { taskId } = await seedTask(t.ctx.pool, { municipality: '1916', team: 'moved', dueDate: '2025-04-01' });
    await escalateOverdueTasks(t.ctx);
    expect(await overdueIds()).toContain(taskId);
    await t.ctx.pool.query(`update tasks set due_date = '2025-04-15' where id = $1`, [taskId]);
    await escalateOverdueTasks(t.ctx);
    expect(await overdueIds()).not.toContain(taskId);
    const { rows } = await t.ctx.pool.query(`select action from task_history where task_id = $1 order by id`, [taskId]);
    expect(rows.map((r) => r.action)).toEqual(['overdue', 'overdue-cleared']);
  });
});

describe('due dates over Dutch public holidays', () => {
  it('counts working days past Easter Monday and King’s Day, end to end through the escalation run', async () => {
    // Thursday 17 April 2025 + 3 working days: Good Friday counts, Easter Monday (21st) does not.
    const easterDue = addWorkingDays('2025-04-17', 3);
    expect(easterDue).toBe('2025-04-23');
    // Friday 24 April 2026 + 1 working day: King's Day is Monday 27 April 2026.
    const kingsDayDue = addWorkingDays('2026-04-24', 1);
    expect(kingsDayDue).toBe('2026-04-28');

    const easter = await seedTask(t.ctx.pool, { municipality: '1916', team: 'holiday', dueDate: easterDue, signalDates: ['2025-04-17'] }).then((s) => s.taskId);
    const kingsDay = await seedTask(t.ctx.pool, { municipality: '1916', team: 'holiday', dueDate: kingsDayDue, signalDates: ['2026-04-24'] }).then((s) => s.taskId);

    // On 23 April 2025 a weekday count (which would have given the 22nd) would already escalate.
    clock = new Date('2025-04-23T15:00:00Z');
    await escalateOverdueTasks(t.ctx);
    expect(await overdueIds()).not.toContain(easter);
    clock = new Date('2025-04-24T06:00:00Z');
    await escalateOverdueTasks(t.ctx);
    expect(await overdueIds()).toContain(easter);

    clock = new Date('2026-04-28T20:00:00Z');
    await escalateOverdueTasks(t.ctx);
    expect(await overdueIds()).not.toContain(kingsDay);
    clock = new Date('2026-04-28T22:00:00Z'); // 29 April, 00:00 in Amsterdam
    await escalateOverdueTasks(t.ctx);
    expect(await overdueIds()).toContain(kingsDay);
  });
});
