import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { snapshotsForPeriod } from '../../src/db/simulation.js';
import type { HouseholdSnapshot } from '../../src/domain/facts.js';
import { createTestContext, seedMunicipality, type TestContext } from '../helpers/context.js';
import { seedSignals } from '../helpers/signals.js';

/**
 * The households a simulation sees for a period, read as two ordered COPY streams: which
 * households, which of their signals and which earlier tasks, across chunk boundaries, and that
 * a caller stopping early leaves no connection behind.
 */
let t: TestContext;
const FROM = '2025-03-01';
const TO = '2025-03-31';
// Intake times in the Netherlands: the period is in Dutch calendar days.
const at = (date: string, time = '12:00') => `${date} ${time} Europe/Amsterdam`;

let inPeriod: number; // signals before, in and after the period; a task closed before and one in the period
let lateInPeriod: number; // its only signal at 23:30 on the last day (21:30/22:30 UTC)
let beforePeriod: number; // only a signal before the period
let otherMunicipality: number;
let punctuated: number; // a postcode with a backslash would be escaped by COPY (stored here only to prove decoding)

async function closedTask(householdId: number, closedAt: string, result: string, signalExternalIds: string[]): Promise<number> {
  const { rows } = await t.ctx.pool.query<{ id: number }>(
    `insert into tasks (household_id, municipality_code, status, priority, result, assignee_key_id, created_at, closed_at, matched_on)
     values ($1, '1916', 'closed', 0, $2, null, $3::timestamptz - interval '3 days', $3::timestamptz, current_date) returning id`,
    [householdId, result, closedAt],
  );
  await t.ctx.pool.query(`insert into task_signals (signal_id, task_id) select id, $1 from signals where external_id = any($2)`, [rows[0]!.id, signalExternalIds]);
  return rows[0]!.id;
}

beforeAll(async () => {
  t = await createTestContext('simulation_snapshots');
  await seedMunicipality(t.ctx, '1916', ['2261']);
  await seedMunicipality(t.ctx, '0363', ['1011']);
  [inPeriod] = await seedSignals(t.ctx, [
    { postcode: '2261AA', houseNumber: 1, partnerType: 'rent', amountCents: 1000, signalDate: '2025-01-10', externalId: 'jan', receivedAt: at('2025-01-10') },
    { postcode: '2261AA', houseNumber: 1, partnerType: 'energy', amountCents: 2000, signalDate: '2025-02-20', externalId: 'feb', receivedAt: at('2025-02-20') },
    { postcode: '2261AA', houseNumber: 1, partnerType: 'water', amountCents: 3000, signalDate: '2025-03-05', externalId: 'mar', receivedAt: at('2025-03-05', '08:15:30.1234'), birthDate: '1990-07-31', childrenInHousehold: 2 },
    { postcode: '2261AA', houseNumber: 1, partnerType: 'rent', amountCents: 4000, signalDate: '2025-04-02', externalId: 'apr', receivedAt: at('2025-04-02') },
  ]) as [number];
  [lateInPeriod] = await seedSignals(t.ctx, [{ postcode: '2261AB', houseNumber: 2, partnerType: 'tax', amountCents: 500, signalDate: '2025-03-31', receivedAt: at('2025-03-31', '23:30') }]) as [number];
  [beforePeriod] = await seedSignals(t.ctx, [{ postcode: '2261AC', houseNumber: 3, partnerType: 'rent', amountCents: 700, signalDate: '2025-02-28', receivedAt: at('2025-02-28', '23:59') }]) as [number];
  [otherMunicipality] = await seedSignals(t.ctx, [{ postcode: '1011AA', houseNumber: 4, partnerType: 'rent', amountCents: 800, signalDate: '2025-03-10', receivedAt: at('2025-03-10') }]) as [number];
  [punctuated] = await seedSignals(t.ctx, [{ postcode: '2261AD', houseNumber: 5, partnerType: 'other', amountCents: 900, signalDate: '2025-03-11', receivedAt: at('2025-03-11') }]) as [number];
  await t.ctx.pool.query(`update households set postcode = E'2261\\\\\\tD' where id = $1`, [punctuated]);
  await closedTask(inPeriod, at('2025-01-20'), 'no_help_needed', ['jan']); // before the period: an earlier task
  await closedTask(inPeriod, at('2025-03-10'), 'already_known_debt_help', ['feb']); // in the period: not known yet
});
afterAll(async () => {
  await t.close();
});

async function collect(chunkSize: number, municipality = '1916', from = FROM, to = TO): Promise<{ chunks: number; households: HouseholdSnapshot[] }> {
  const households: HouseholdSnapshot[] = [];
  let chunks = 0;
  for await (const chunk of snapshotsForPeriod(t.ctx.pool, municipality, from, to, chunkSize)) {
    chunks++;
    households.push(...chunk);
  }
  return { chunks, households };
}

describe('snapshotsForPeriod', () => {
  it('holds the households with a signal received in the period, as they were at its end', async () => {
    const { households } = await collect(100);
    expect(households.map((h) => h.householdId)).toEqual([inPeriod, lateInPeriod, punctuated]);
    const first = households[0]!;
    expect(first).toMatchObject({ municipalityCode: '1916', postcode: '2261AA', today: TO });
    // The April signal did not exist yet; the task closed in the period is left out, so its
    // signal ('feb') is attached to no task: back in the window.
    expect(first.signals.map((s) => s.amountCents).sort()).toEqual([1000, 2000, 3000]);
    expect(first.tasks).toHaveLength(1);
    expect(first.tasks[0]).toMatchObject({ status: 'closed', result: 'no_help_needed', assigneeKeyId: null });
    expect(first.tasks[0]!.closedAt).toBe(new Date('2025-01-20T11:00:00Z').toISOString());
    const march = first.signals.find((s) => s.amountCents === 3000)!;
    expect(march).toMatchObject({ partnerType: 'water', signalDate: '2025-03-05', originDate: null, birthDate: '1990-07-31', childrenInHousehold: 2, crisis: false, taskId: null });
    expect(march.receivedAt).toBe('2025-03-05T07:15:30.123Z');
    const january = first.signals.find((s) => s.amountCents === 1000)!;
    expect(january.taskId).toBe(first.tasks[0]!.id);
    expect(first.signals.find((s) => s.amountCents === 2000)!.taskId).toBeNull();
    expect(first.signals.find((s) => s.amountCents === 2000)!.childrenInHousehold).toBeNull();
    expect(households[2]!.postcode).toBe('2261\\\tD');
  });

  it('yields the same households in chunks of any size', async () => {
    const whole = await collect(100);
    const single = await collect(1);
    expect(single.chunks).toBe(3);
    expect(single.households).toEqual(whole.households);
  });

  it('finds nothing in an empty period, and keeps municipalities apart', async () => {
    expect((await collect(10, '1916', '2024-01-01', '2024-12-31')).households).toEqual([]);
    expect((await collect(10, '0363')).households.map((h) => h.householdId)).toEqual([otherMunicipality]);
    expect((await collect(10, '1916', '2025-02-01', '2025-02-28')).households.map((h) => h.householdId)).toEqual([inPeriod, beforePeriod]);
  });

  it('gives its connections up when the caller stops early', async () => {
    for (let i = 0; i < 20; i++) {
      for await (const chunk of snapshotsForPeriod(t.ctx.pool, '1916', FROM, TO, 1)) {
        expect(chunk).toHaveLength(1);
        break;
      }
    }
    // Twenty runs of two connections each went through a pool of twelve: none was kept. The
    // half-read streams' sessions end (closed, not handed back to the pool mid-COPY).
    const busy = async () =>
      (await t.ctx.pool.query<{ n: number }>(
        `select count(*)::int as n from pg_stat_activity where datname = current_database() and state <> 'idle' and query like 'copy (%'
            and query like '%''2025-03-31''%'`,
      )).rows[0]!.n;
    const deadline = Date.now() + 5_000;
    while ((await busy()) > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await busy()).toBe(0);
    expect(t.ctx.pool.totalCount).toBeLessThanOrEqual(12);
  });
});
