import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectOperationalMetrics } from '../../src/services/operationalMetrics.js';
import { percentile, monthsOf } from '../../src/services/monitoring.js';
import { client, createKey, createTestContext, seedMunicipality, startTestServer, type TestContext, type TestServer } from '../helpers/context.js';
import { seedAttempt, seedHousehold, seedSignal, seedTask } from '../fixtures/ddas-seed.js';

/**
 * A small municipality whose figures are worked out by hand below. Period: March and April
 * 2025 (Europe/Amsterdam; summer time from 30 March). Households and what happens to them:
 *
 * H1 noord  S1 energy 03-03, S2 rent 03-05 → T1 (rules: several partners), attempts 03-06 phone ✗,
 *           03-10 home visit ✓, closed 03-20 advice_or_quick_fix.          multiple
 * H2 noord  S3 water 2024-12-10 (T0, closed January), S4 water 03-12 → T2 (high amount),
 *           attempts 03-27 letter ✗ (due 03-26: late), 04-02 phone ✗, closed 04-10 no_contact_possible.   single, repeat
 * H3 zuid   S5 health insurance 03-20, suppressed: T3 (known) closed at once, already_known_debt_help.   single
 * H4 zuid   S6 energy 04-01, S7 energy signal date 02-25 received 04-03 → T4 (crisis), claimed,
 *           attempt 04-03 home visit ✓ (due 04-04).                                                     repeat
 * H5 noord  S8 rent 04-15 → T5 (high amount, several partners), attempt 04-22 phone ✓ (Easter Monday
 *           21 April is no working day: 4 working days), closed 04-25 follow_up_or_referral_financial.  single
 * H6 noord  S9 other, received 2025-02-28 23:30 UTC = 1 March 00:30 in Amsterdam, no task yet.          single
 * H7        S10 received 30 April 22:30 UTC = 1 May in Amsterdam, S11 28 February 22:30 UTC: both outside.
 * H8 zuid   S12 rent January → T6 (no rules), open and overdue since January.
 * H9 zuid   S13 tax February → T7 (high amount), attempt 02-12 e-mail ✓, closed 03-03 paid_or_arrangement_made.
 * 0363      S14 energy 03-10 → T8 (crisis), attempt 03-11 phone ✓, closed 03-15 deceased (admin only).
 */

let t: TestContext;
let server: TestServer;
let coordinator: ReturnType<typeof client>;
let admin: ReturnType<typeof client>;
const NOW = new Date('2025-05-01T10:00:00Z');

beforeAll(async () => {
  t = await createTestContext('monitoring', { now: () => NOW });
  server = await startTestServer(t.ctx);
  const ctx = t.ctx;
  await seedMunicipality(ctx, '1916', ['2261', '2262'], [
    { id: 'noord', areas: ['2261'] },
    { id: 'zuid', areas: ['2262'] },
  ]);
  await seedMunicipality(ctx, '0363', ['1011']);
  coordinator = client(server.url, await createKey(ctx, { role: 'coordinator', municipality: '1916', label: 'coordinator 1916' }));
  admin = client(server.url, await createKey(ctx, { role: 'admin', label: 'admin' }));
  const m = '1916';

  const h1 = await seedHousehold(ctx, { municipality: m, postcode: '2261AA', houseNumber: 1 });
  const t1 = await seedTask(ctx, { householdId: h1, municipality: m, status: 'closed', createdAt: '2025-03-03T12:00:00+01:00', closedAt: '2025-03-20T15:00:00+01:00', result: 'advice_or_quick_fix', team: 'noord', dueDate: '2025-03-17', rules: ['several partners'] });
  await seedSignal(ctx, { householdId: h1, municipality: m, partnerType: 'energy', signalDate: '2025-03-03', receivedAt: '2025-03-03T10:00:00+01:00', status: 'picked_up', taskId: t1 });
  await seedSignal(ctx, { householdId: h1, municipality: m, partnerType: 'rent', signalDate: '2025-03-05', receivedAt: '2025-03-05T10:00:00+01:00', status: 'picked_up', taskId: t1 });
  await seedAttempt(ctx, { taskId: t1, channel: 'phone', reached: false, date: '2025-03-06' });
  await seedAttempt(ctx, { taskId: t1, channel: 'home_visit', reached: true, date: '2025-03-10' });

  const h2 = await seedHousehold(ctx, { municipality: m, postcode: '2261AA', houseNumber: 2 });
  const t0 = await seedTask(ctx, { householdId: h2, municipality: m, status: 'closed', createdAt: '2024-12-10T12:00:00+01:00', closedAt: '2025-01-15T12:00:00+01:00', result: 'no_help_needed', team: 'noord', rules: ['high amount'] });
  await seedSignal(ctx, { householdId: h2, municipality: m, partnerType: 'water', signalDate: '2024-12-10', receivedAt: '2024-12-10T10:00:00+01:00', status: 'picked_up', taskId: t0 });
  await seedAttempt(ctx, { taskId: t0, channel: 'phone', reached: true, date: '2024-12-12' });
  const t2 = await seedTask(ctx, { householdId: h2, municipality: m, status: 'closed', createdAt: '2025-03-12T12:00:00+01:00', closedAt: '2025-04-10T12:00:00+02:00', result: 'no_contact_possible', team: 'noord', dueDate: '2025-03-26', rules: ['high amount'] });
  await seedSignal(ctx, { householdId: h2, municipality: m, partnerType: 'water', signalDate: '2025-03-12', receivedAt: '2025-03-12T10:00:00+01:00', status: 'picked_up', taskId: t2 });
  await seedAttempt(ctx, { taskId: t2, channel: 'letter', reached: false, date: '2025-03-27' });
  await seedAttempt(ctx, { taskId: t2, channel: 'phone', reached: false, date: '2025-04-02' });

  const h3 = await seedHousehold(ctx, { municipality: m, postcode: '2262BB', houseNumber: 5 });
  const t3 = await seedTask(ctx, { householdId: h3, municipality: m, status: 'closed', createdAt: '2025-03-20T14:05:00+01:00', closedAt: '2025-03-20T14:05:00+01:00', result: 'already_known_debt_help', suppressed: true, rules: ['known'] });
  await seedSignal(ctx, { householdId: h3, municipality: m, partnerType: 'health_insurance', signalDate: '2025-03-20', receivedAt: '2025-03-20T14:00:00+01:00', status: 'already_known_debt_help', taskId: t3 });

  const h4 = await seedHousehold(ctx, { municipality: m, postcode: '2262BB', houseNumber: 7 });
  const t4 = await seedTask(ctx, { householdId: h4, municipality: m, status: 'claimed', createdAt: '2025-04-01T10:00:00+02:00', team: 'zuid', dueDate: '2025-04-04', rules: ['crisis'] });
  await seedSignal(ctx, { householdId: h4, municipality: m, partnerType: 'energy', signalDate: '2025-04-01', receivedAt: '2025-04-01T09:00:00+02:00', status: 'picked_up', taskId: t4 });
  await seedSignal(ctx, { householdId: h4, municipality: m, partnerType: 'energy', signalDate: '2025-02-25', receivedAt: '2025-04-03T09:00:00+02:00', status: 'picked_up', taskId: t4 });
  await seedAttempt(ctx, { taskId: t4, channel: 'home_visit', reached: true, date: '2025-04-03' });

  const h5 = await seedHousehold(ctx, { municipality: m, postcode: '2261CC', houseNumber: 9 });
  const t5 = await seedTask(ctx, { householdId: h5, municipality: m, status: 'closed', createdAt: '2025-04-15T10:00:00+02:00', closedAt: '2025-04-25T10:00:00+02:00', result: 'follow_up_or_referral_financial', team: 'noord', dueDate: '2025-04-29', rules: ['high amount', 'several partners'] });
  await seedSignal(ctx, { householdId: h5, municipality: m, partnerType: 'rent', signalDate: '2025-04-15', receivedAt: '2025-04-15T09:00:00+02:00', status: 'picked_up', taskId: t5 });
  await seedAttempt(ctx, { taskId: t5, channel: 'phone', reached: true, date: '2025-04-22' });

  const h6 = await seedHousehold(ctx, { municipality: m, postcode: '2261DD', houseNumber: 3, evaluationPendingSince: '2025-05-01T09:58:00Z' });
  await seedSignal(ctx, { householdId: h6, municipality: m, partnerType: 'other', signalDate: '2025-02-28', receivedAt: '2025-02-28T23:30:00Z' });

  const h7 = await seedHousehold(ctx, { municipality: m, postcode: '2261DD', houseNumber: 4 });
  await seedSignal(ctx, { householdId: h7, municipality: m, partnerType: 'energy', signalDate: '2025-04-30', receivedAt: '2025-04-30T22:30:00Z' });
  await seedSignal(ctx, { householdId: h7, municipality: m, partnerType: 'energy', signalDate: '2025-02-28', receivedAt: '2025-02-28T22:30:00Z' });

  const h8 = await seedHousehold(ctx, { municipality: m, postcode: '2262EE', houseNumber: 1 });
  const t6 = await seedTask(ctx, { householdId: h8, municipality: m, status: 'open', createdAt: '2025-01-10T12:00:00+01:00', team: 'zuid', dueDate: '2025-01-24', overdue: true });
  await seedSignal(ctx, { householdId: h8, municipality: m, partnerType: 'rent', signalDate: '2025-01-10', receivedAt: '2025-01-10T10:00:00+01:00', taskId: t6 });

  const h9 = await seedHousehold(ctx, { municipality: m, postcode: '2262EE', houseNumber: 3 });
  const t7 = await seedTask(ctx, { householdId: h9, municipality: m, status: 'closed', createdAt: '2025-02-10T12:00:00+01:00', closedAt: '2025-03-03T12:00:00+01:00', result: 'paid_or_arrangement_made', team: 'zuid', dueDate: '2025-02-24', rules: ['high amount'] });
  await seedSignal(ctx, { householdId: h9, municipality: m, partnerType: 'tax', signalDate: '2025-02-10', receivedAt: '2025-02-10T10:00:00+01:00', status: 'picked_up', taskId: t7 });
  await seedAttempt(ctx, { taskId: t7, channel: 'email', reached: true, date: '2025-02-12' });

  const h10 = await seedHousehold(ctx, { municipality: '0363', postcode: '1011AA', houseNumber: 1 });
  const t8 = await seedTask(ctx, { householdId: h10, municipality: '0363', status: 'closed', createdAt: '2025-03-10T12:00:00+01:00', closedAt: '2025-03-15T12:00:00+01:00', result: 'deceased', dueDate: '2025-03-24', rules: ['crisis'] });
  await seedSignal(ctx, { householdId: h10, municipality: '0363', partnerType: 'energy', signalDate: '2025-03-10', receivedAt: '2025-03-10T10:00:00+01:00', status: 'picked_up', taskId: t8 });
  await seedAttempt(ctx, { taskId: t8, channel: 'phone', reached: true, date: '2025-03-11' });
});

afterAll(async () => {
  await server?.close();
  await t?.close();
});

const PERIOD = 'from=2025-03-01&to=2025-04-30';

interface Row {
  group: string | null;
  results: { result: string; tasks: number }[];
  suppressedByStatus: { status: string; signals: number }[];
  [figure: string]: unknown;
}

const resultsOf = (row: Row) => Object.fromEntries(row.results.filter((r) => r.tasks > 0).map((r) => [r.result, r.tasks]));
const suppressedOf = (row: Row) => Object.fromEntries(row.suppressedByStatus.filter((s) => s.signals > 0).map((s) => [s.status, s.signals]));

async function summary(groupBy: string, who = coordinator, extra = '') {
  const res = await who.get(`/v1/monitoring/summary?${PERIOD}&groupBy=${groupBy}${extra}`);
  expect(res.status, res.text).toBe(200);
  return res.json as { rows: Row[]; total: Row; municipalities: string[]; groupBy: string };
}

function rowOf(rows: Row[], group: string | null): Row {
  const row = rows.find((r) => r.group === group);
  if (!row) throw new Error(`no row ${group}`);
  return row;
}

describe('monitoring summary', () => {
  it('totals the period for a coordinator, by hand', async () => {
    const { total, municipalities } = await summary('month');
    expect(municipalities).toEqual(['1916']);
    expect(total).toMatchObject({
      group: null,
      signals: 8,
      households: 6,
      householdsSingle: 4,
      householdsMultiple: 1,
      householdsRepeat: 2,
      signalsSuppressed: 1,
      tasksOpened: 4,
      tasksClosed: 4,
      tasksOpen: 2,
      tasksClosedReached: 3,
      reachRate: 0.75,
      tasksAcceptedHelp: 2,
      acceptedHelpRate: 0.5,
      firstAttempts: 4,
      medianWorkingDaysToFirstAttempt: 3.5,
      p90WorkingDaysToFirstAttempt: 8.9,
      firstAttemptsWithDue: 4,
      firstAttemptsOnTime: 3,
      onTimeRate: 0.75,
    });
    expect(resultsOf(total)).toEqual({ advice_or_quick_fix: 1, no_contact_possible: 1, follow_up_or_referral_financial: 1, paid_or_arrangement_made: 1 });
    expect(suppressedOf(total)).toEqual({ already_known_debt_help: 1 });
    expect(total.results).toHaveLength(16);
    expect(total.suppressedByStatus).toHaveLength(6);
    expect(total).not.toHaveProperty('timesFired');
  });

  it('groups by month, each month read as a period of its own', async () => {
    const { rows } = await summary('month');
    expect(rows.map((r) => r.group)).toEqual(['2025-03', '2025-04']);
    const [march, april] = rows as [Row, Row];
    expect(march).toMatchObject({
      signals: 5, households: 4, householdsSingle: 3, householdsMultiple: 1, householdsRepeat: 1, signalsSuppressed: 1,
      tasksOpened: 2, tasksClosed: 2, tasksOpen: 2, tasksClosedReached: 2, reachRate: 1, tasksAcceptedHelp: 1,
      firstAttempts: 2, medianWorkingDaysToFirstAttempt: 7, p90WorkingDaysToFirstAttempt: 10.2, firstAttemptsOnTime: 1, onTimeRate: 0.5,
    });
    expect(resultsOf(march)).toEqual({ advice_or_quick_fix: 1, paid_or_arrangement_made: 1 });
    expect(april).toMatchObject({
      signals: 3, households: 2, householdsSingle: 1, householdsMultiple: 0, householdsRepeat: 1, signalsSuppressed: 0,
      tasksOpened: 2, tasksClosed: 2, tasksOpen: 2, tasksClosedReached: 1, reachRate: 0.5, tasksAcceptedHelp: 1,
      firstAttempts: 2, medianWorkingDaysToFirstAttempt: 3, p90WorkingDaysToFirstAttempt: 3.8, firstAttemptsOnTime: 2, onTimeRate: 1,
    });
    expect(resultsOf(april)).toEqual({ no_contact_possible: 1, follow_up_or_referral_financial: 1 });
  });

  it('groups by team: signals through their task, the rest without a team', async () => {
    const { rows } = await summary('team');
    expect(rows.map((r) => r.group)).toEqual(['noord', 'zuid', null]);
    expect(rowOf(rows, 'noord')).toMatchObject({
      signals: 4, households: 3, householdsSingle: 2, householdsMultiple: 1, householdsRepeat: 1,
      tasksOpened: 3, tasksClosed: 3, tasksOpen: 0, tasksClosedReached: 2, acceptedHelpRate: 0.6667,
      firstAttempts: 3, medianWorkingDaysToFirstAttempt: 4, p90WorkingDaysToFirstAttempt: 9.6, firstAttemptsOnTime: 2, onTimeRate: 0.6667,
    });
    expect(rowOf(rows, 'zuid')).toMatchObject({
      signals: 2, households: 1, householdsSingle: 0, householdsRepeat: 1,
      tasksOpened: 1, tasksClosed: 1, tasksOpen: 2, tasksClosedReached: 1, reachRate: 1,
      firstAttempts: 1, medianWorkingDaysToFirstAttempt: 2, onTimeRate: 1,
    });
    expect(rowOf(rows, null)).toMatchObject({ signals: 2, households: 2, householdsSingle: 2, signalsSuppressed: 1, tasksOpened: 0, tasksClosed: 0, reachRate: null });
  });

  it('groups by rule: how often it fired and what the tasks it fired on ended in', async () => {
    const { rows } = await summary('rule');
    expect(rows.map((r) => r.group)).toEqual(['crisis', 'high amount', 'known', 'several partners', null]);
    expect(rowOf(rows, 'several partners')).toMatchObject({
      timesFired: 2, signals: 3, households: 2, householdsMultiple: 1, tasksClosed: 2, tasksClosedReached: 2, tasksAcceptedHelp: 2, acceptedHelpRate: 1,
      medianWorkingDaysToFirstAttempt: 3.5,
    });
    expect(resultsOf(rowOf(rows, 'several partners'))).toEqual({ advice_or_quick_fix: 1, follow_up_or_referral_financial: 1 });
    // T0 fired "high amount" too, but was created and closed before the period.
    expect(rowOf(rows, 'high amount')).toMatchObject({
      timesFired: 2, signals: 2, households: 2, householdsRepeat: 1, tasksClosed: 3, tasksClosedReached: 2, tasksAcceptedHelp: 1, acceptedHelpRate: 0.3333,
      medianWorkingDaysToFirstAttempt: 7.5,
    });
    expect(resultsOf(rowOf(rows, 'high amount'))).toEqual({ no_contact_possible: 1, follow_up_or_referral_financial: 1, paid_or_arrangement_made: 1 });
    expect(rowOf(rows, 'known')).toMatchObject({ timesFired: 1, signals: 1, signalsSuppressed: 1, tasksOpened: 0, tasksClosed: 0 });
    expect(rowOf(rows, 'crisis')).toMatchObject({ timesFired: 1, signals: 2, tasksOpened: 1, tasksOpen: 1, tasksClosed: 0, acceptedHelpRate: null });
    expect(rowOf(rows, null)).toMatchObject({ timesFired: 0, signals: 1, tasksOpen: 1 });
  });

  it('groups by partner type, every type listed; a task counts for each type among its signals', async () => {
    const { rows } = await summary('partnerType');
    expect(rows.map((r) => r.group)).toEqual([
      'energy', 'rent', 'mortgage', 'health_insurance', 'health_insurance_cak', 'water', 'student_finance', 'tax', 'cak_own_contribution', 'allowances', 'other',
    ]);
    expect(rowOf(rows, 'energy')).toMatchObject({ signals: 3, households: 2, householdsSingle: 0, householdsMultiple: 1, householdsRepeat: 1, tasksOpened: 2, tasksClosed: 1, tasksOpen: 1 });
    expect(rowOf(rows, 'rent')).toMatchObject({ signals: 2, households: 2, householdsSingle: 1, householdsMultiple: 1, tasksOpened: 2, tasksClosed: 2, tasksOpen: 1, tasksAcceptedHelp: 2 });
    expect(rowOf(rows, 'water')).toMatchObject({ signals: 1, householdsSingle: 1, householdsRepeat: 1, tasksOpened: 1, tasksClosed: 1, tasksClosedReached: 0, reachRate: 0 });
    expect(rowOf(rows, 'health_insurance')).toMatchObject({ signals: 1, signalsSuppressed: 1, tasksOpened: 0 });
    expect(rowOf(rows, 'tax')).toMatchObject({ signals: 0, households: 0, tasksClosed: 1, tasksClosedReached: 1 });
    expect(rowOf(rows, 'mortgage')).toMatchObject({ signals: 0, tasksOpened: 0, reachRate: null, medianWorkingDaysToFirstAttempt: null });
  });

  it('groups by the channel of the first contact attempt', async () => {
    const { rows } = await summary('channel');
    expect(rowOf(rows, 'phone')).toMatchObject({ signals: 3, tasksOpened: 2, tasksClosed: 2, tasksClosedReached: 2, firstAttempts: 2, medianWorkingDaysToFirstAttempt: 3.5 });
    expect(rowOf(rows, 'letter')).toMatchObject({ signals: 1, tasksClosed: 1, tasksClosedReached: 0, firstAttempts: 1, medianWorkingDaysToFirstAttempt: 11, onTimeRate: 0 });
    expect(rowOf(rows, 'home_visit')).toMatchObject({ signals: 2, tasksOpen: 1, medianWorkingDaysToFirstAttempt: 2 });
    expect(rowOf(rows, 'email')).toMatchObject({ signals: 0, tasksClosed: 1, firstAttempts: 0 });
    expect(rowOf(rows, null)).toMatchObject({ signals: 2, tasksOpen: 1 });
    expect(rows.at(-1)!.group).toBeNull();
  });

  it('lets an admin see every municipality, or one; teams are then named by municipality', async () => {
    const all = await summary('month', admin);
    expect(all.municipalities).toEqual(['0363', '1916']);
    expect(all.total).toMatchObject({ signals: 9, households: 7, householdsSingle: 5, tasksOpened: 5, tasksClosed: 5, tasksClosedReached: 4, firstAttempts: 5, medianWorkingDaysToFirstAttempt: 3 });
    expect(resultsOf(all.total)).toMatchObject({ deceased: 1 });
    const teams = await summary('team', admin);
    expect(teams.rows.map((r) => r.group)).toEqual(['1916/noord', '1916/zuid', null]);
    const one = await summary('month', admin, '&municipality=0363');
    expect(one.total).toMatchObject({ signals: 1, households: 1, tasksClosed: 1 });
  });

  it('answers the same table as CSV', async () => {
    const res = await coordinator.get(`/v1/monitoring/summary?${PERIOD}&groupBy=rule`, { accept: 'text/csv' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/csv');
    expect(res.headers.get('api-version')).toBe('1.0.0');
    const lines = res.text.trimEnd().split('\r\n').map((line) => line.split(','));
    const header = lines[0]!;
    expect(header.slice(0, 3)).toEqual(['group', 'signals', 'households']);
    expect(header).toContain('result:advice_or_quick_fix');
    expect(header).toContain('suppressed:already_known_debt_help');
    expect(header.at(-1)).toBe('timesFired');
    const byGroup = new Map(lines.slice(1).map((cells) => [cells[0], Object.fromEntries(header.map((h, i) => [h, cells[i]]))]));
    expect([...byGroup.keys()]).toEqual(['crisis', 'high amount', 'known', 'several partners', '(none)', '(total)']);
    expect(byGroup.get('several partners')).toMatchObject({ signals: '3', acceptedHelpRate: '1', timesFired: '2', 'result:advice_or_quick_fix': '1' });
    expect(byGroup.get('crisis')).toMatchObject({ reachRate: '', tasksOpen: '1' });
    expect(byGroup.get('(total)')).toMatchObject({ signals: '8', medianWorkingDaysToFirstAttempt: '3.5', timesFired: '' });
  });

  it('audits each summary read', async () => {
    const { rows } = await t.ctx.pool.query(`select action, object_id, municipality_code from audit_events where object_type = 'monitoring-summary'`);
    expect(rows).toEqual(expect.arrayContaining([
      { action: 'monitoring.read', object_id: '2025-03-01..2025-04-30 by month', municipality_code: '1916' },
      { action: 'monitoring.export', object_id: '2025-03-01..2025-04-30 by rule', municipality_code: '1916' },
    ]));
  });

  it('takes rule names only from rule objects in an explanation; any other shape counts as no rule', async () => {
    const { rows: tasks } = await t.ctx.pool.query<{ id: number; explanation: unknown }>(`select id, explanation from tasks where municipality_code = '0363'`);
    expect(tasks).toHaveLength(1);
    const groups = async () => (await summary('rule', admin, '&municipality=0363')).rows.filter((r) => r.timesFired !== 0 || r.group === null).map((r) => r.group);
    try {
      for (const [explanation, expected] of [
        [{ rules: 5 }, [null]],
        [{}, [null]],
        [[1, 2], [null]],
        [{ rules: [1, 'x', null, [], { name: 'crisis' }] }, ['crisis']],
      ] as const) {
        await t.ctx.pool.query(`update tasks set explanation = $1 where id = $2`, [JSON.stringify(explanation), tasks[0]!.id]);
        expect(await groups()).toEqual(expected);
      }
    } finally {
      await t.ctx.pool.query(`update tasks set explanation = $1 where id = $2`, [JSON.stringify(tasks[0]!.explanation), tasks[0]!.id]);
    }
  });
});

describe('monitoring access and input', () => {
  it('refuses consultants and integrators with 403', async () => {
    const consultant = client(server.url, await createKey(t.ctx, { role: 'consultant', municipality: '1916', teams: ['noord'], label: 'consultant' }));
    const integrator = client(server.url, await createKey(t.ctx, { role: 'integrator', label: 'integrator' }));
    for (const who of [consultant, integrator]) {
      const res = await who.get(`/v1/monitoring/summary?${PERIOD}&groupBy=month`);
      expect(res.status).toBe(403);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    }
  });

  it("answers 404 for another municipality's figures, as for one that does not exist", async () => {
    expect((await coordinator.get(`/v1/monitoring/summary?${PERIOD}&groupBy=month&municipality=0363`)).status).toBe(404);
    expect((await admin.get(`/v1/monitoring/summary?${PERIOD}&groupBy=month&municipality=9999`)).status).toBe(404);
    expect((await coordinator.get(`/v1/monitoring/summary?${PERIOD}&groupBy=month&municipality=1916`)).status).toBe(200);
  });

  it.each([
    ['from=2025-04-30&to=2025-03-01&groupBy=month', '/query/to'],
    ['from=2025-02-30&to=2025-03-01&groupBy=month', '/query/from'],
    ['from=2025-03-01&groupBy=month', '/query/to'],
    ['from=2025-03-01&to=2025-04-30&groupBy=week', '/query/groupBy'],
    ['from=2025-03-01&to=2025-04-30&groupBy=month&extra=1', '/query/extra'],
    ['from=2025-03-01&to=2025-04-30&groupBy=month&municipality=19', '/query/municipality'],
  ])('refuses %s with 400 at %s', async (query, pointer) => {
    const res = await coordinator.get(`/v1/monitoring/summary?${query}`);
    expect(res.status).toBe(400);
    expect(res.json.errors.map((e: { pointer: string }) => e.pointer)).toContain(pointer);
  });
});

describe('monitoring helpers', () => {
  it('interpolates percentiles like percentile_cont', () => {
    expect(percentile([], 0.5)).toBeNull();
    expect(percentile([5], 0.9)).toBe(5);
    expect(percentile([11, 2, 4, 3], 0.5)).toBe(3.5);
    expect(percentile([2, 3, 4, 11], 0.9)).toBe(8.9);
  });

  it('lists the months of a period', () => {
    expect(monthsOf('2024-11-15', '2025-02-01')).toEqual(['2024-11', '2024-12', '2025-01', '2025-02']);
    expect(monthsOf('2025-03-01', '2025-03-31')).toEqual(['2025-03']);
  });
});

describe('operational metrics', () => {
  it('sets task, lag, signal and queue gauges from the database and the queue', async () => {
    await collectOperationalMetrics(t.ctx);
    await collectOperationalMetrics(t.ctx); // a second scrape reuses the gauges
    const text = await t.ctx.metrics.registry.metrics();
    expect(text).toContain('vroegsein_tasks_not_closed{municipality="1916",status="open"} 1');
    expect(text).toContain('vroegsein_tasks_not_closed{municipality="1916",status="claimed"} 1');
    expect(text).toContain('vroegsein_tasks_not_closed{municipality="0363",status="open"} 0');
    expect(text).toContain('vroegsein_tasks_overdue_not_closed{municipality="1916"} 1');
    expect(text).toContain('vroegsein_evaluation_lag_seconds 120');
    expect(text).toContain('vroegsein_signals_received_24h{partner_type="energy"} 1');
    expect(text).toMatch(/vroegsein_queue_job_counts\{queue="evaluate",state="waiting"\} 0/);
  });
});
