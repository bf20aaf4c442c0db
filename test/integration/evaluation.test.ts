import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSnapshots, takePendingHouseholds } from '../../src/db/evaluation.js';
import { withTransaction, type Client, type Queryable } from '../../src/db/pool.js';
import { CopyData, writeSignalChunk } from '../../src/db/signals.js';
import { addressKey } from '../../src/domain/address.js';
import { evaluateHouseholds } from '../../src/services/evaluation.js';
import { sweepPendingHouseholds } from '../../src/services/sweeper.js';
import { startEvaluateWorker } from '../../workers/evaluate.js';
import { addWorkingDays } from '../../src/domain/workingDays.js';
import { dutchToday } from '../../src/domain/dates.js';
import { createKey, createTestContext, seedMunicipality, type TestContext } from '../helpers/context.js';
import { seedSignals } from '../helpers/signals.js';

const RULES = {
  name: 'test rules',
  description: 'small rule set with known outcomes',
  rules: [
    { name: 'crisis', conditions: { all: [{ fact: 'crisis', operator: 'equal', value: true }] }, event: { type: 'score', params: { points: 100, reason: 'crisis' } } },
    { name: 'crisis due', conditions: { all: [{ fact: 'crisis', operator: 'equal', value: true }] }, event: { type: 'due', params: { workingDays: 3 } } },
    { name: 'crisis visit', conditions: { all: [{ fact: 'crisis', operator: 'equal', value: true }] }, event: { type: 'approach', params: { channel: 'home_visit' } } },
    { name: 'high amount', conditions: { all: [{ fact: 'totalAmountCents', operator: 'greaterThanInclusive', value: 100000 }] }, event: { type: 'score', params: { points: 20, reason: 'high amount' } } },
    { name: 'several partners', conditions: { all: [{ fact: 'partnerTypeCount', operator: 'greaterThanInclusive', value: 2 }] }, event: { type: 'score', params: { points: 30, reason: 'several partner types' } } },
    { name: 'known', conditions: { all: [{ fact: 'knownToDebtHelp', operator: 'equal', value: true }] }, event: { type: 'suppress', params: { status: 'already_known_debt_help', reason: 'known to debt help' } } },
    { name: 'pilot', conditions: { all: [{ fact: 'postcodeArea', operator: 'equal', value: '2263' }] }, event: { type: 'route', params: { team: 'pilot' } } },
  ],
};

let t: TestContext;
const today = dutchToday();
const recent = new Date(Date.now() - 3 * 86_400_000).toISOString().slice(0, 10);

async function tasksOf(householdId: number) {
  const { rows } = await t.ctx.pool.query(`select * from tasks where household_id = $1 order by id`, [householdId]);
  return rows;
}

beforeAll(async () => {
  t = await createTestContext('evaluation', { env: { SWEEP_AFTER_SECONDS: '1' } });
  await seedMunicipality(t.ctx, '1916', ['2261', '2262', '2263'], [
    { id: 'noord', areas: ['2261'] },
    { id: 'zuid', areas: ['2262'] },
  ]);
  await t.ctx.pool.query(`insert into rule_sets (municipality_code, version, name, definition) values ('1916', 1, 'test', $1)`, [JSON.stringify(RULES)]);
  await t.ctx.pool.query(`update municipalities set active_rule_set_version = 1 where code = '1916'`);
});
afterAll(async () => {
  await t.close();
});

describe('evaluation of households', () => {
  it('opens one explained task per household, routed by postcode area, due in working days', async () => {
    const [crisisHousehold] = await seedSignals(t.ctx, [{ postcode: '2261AB', houseNumber: 1, partnerType: 'rent', amountCents: 90000, signalDate: recent, crisis: true }]);
    const [plainHousehold] = await seedSignals(t.ctx, [
      { postcode: '2262CD', houseNumber: 5, partnerType: 'energy', amountCents: 60000, signalDate: recent },
      { postcode: '2262CD', houseNumber: 5, partnerType: 'water', amountCents: 50000, signalDate: recent },
    ]);
    const summary = await evaluateHouseholds(t.ctx, [crisisHousehold!, plainHousehold!]);
    expect(summary).toMatchObject({ evaluated: 2, tasksOpened: 2, skipped: 0 });

    const [crisisTask] = await tasksOf(crisisHousehold!);
    expect(crisisTask).toMatchObject({ status: 'open', priority: 100, team: 'noord', channel: 'home_visit', rule_set_version: 1 });
    expect(crisisTask.due_date).toBe(addWorkingDays(today, 3));
    expect(crisisTask.explanation.rules.map((r: { name: string }) => r.name).sort()).toEqual(['crisis', 'crisis due', 'crisis visit']);
    expect(crisisTask.explanation.rules.find((r: { name: string }) => r.name === 'crisis').facts).toEqual({ crisis: true });

    const [plainTask] = await tasksOf(plainHousehold!);
    expect(plainTask).toMatchObject({ priority: 50, team: 'zuid', channel: null });
    expect(plainTask.due_date).toBe(addWorkingDays(today, 10));
    const { rows: signals } = await t.ctx.pool.query(
      `select ts.task_id from signals s left join task_signals ts on ts.signal_id = s.id where s.household_id = $1`,
      [plainHousehold],
    );
    expect(signals.length).toBeGreaterThan(0);
    expect(signals.every((s: { task_id: number }) => s.task_id === plainTask.id)).toBe(true);
    const { rows: queued } = await t.ctx.pool.query(`select 1 from evaluation_queue where household_id = $1`, [plainHousehold]);
    expect(queued).toHaveLength(0);
  });

  it('keeps every task and signal a link refers to: deleting either is refused, the references all resolve', async () => {
    const [household] = await seedSignals(t.ctx, [{ postcode: '2261AB', houseNumber: 77, partnerType: 'energy', amountCents: 70000, signalDate: recent }]);
    await evaluateHouseholds(t.ctx, [household!]);
    const [task] = await tasksOf(household!);
    await expect(t.ctx.pool.query(`delete from tasks where id = $1`, [task.id])).rejects.toMatchObject({ code: '23001' });
    await expect(t.ctx.pool.query(`delete from signals where household_id = $1`, [household])).rejects.toMatchObject({ code: '23001' });
    // Every task's household and municipality, and both ends of every signal's link, exist.
    const { rows } = await t.ctx.pool.query<{ dangling: number; linked: number }>(
      `select (select count(*) from tasks t where not exists (select 1 from households h where h.id = t.household_id)
                                               or not exists (select 1 from municipalities m where m.code = t.municipality_code))
            + (select count(*) from task_signals ts where not exists (select 1 from tasks t where t.id = ts.task_id)
                                                       or not exists (select 1 from signals s where s.id = ts.signal_id)) as dangling,
              (select count(*) from task_signals ts join signals s on s.id = ts.signal_id where s.household_id = $1) as linked`,
      [household],
    );
    expect(Number(rows[0]!.dangling)).toBe(0);
    expect(Number(rows[0]!.linked)).toBe(1);
  });

  it('is idempotent: a second delivery changes nothing, parallel evaluations give one open task', async () => {
    const ids = await seedSignals(
      t.ctx,
      Array.from({ length: 40 }, (_, i) => ({ postcode: '2261EF', houseNumber: 100 + (i % 20), partnerType: i % 2 ? 'energy' : 'rent', amountCents: 1000 * i, signalDate: recent }) as const),
    );
    await Promise.all([evaluateHouseholds(t.ctx, ids), evaluateHouseholds(t.ctx, ids), evaluateHouseholds(t.ctx, [...ids].reverse()), evaluateHouseholds(t.ctx, ids)]);
    const again = await evaluateHouseholds(t.ctx, ids);
    expect(again.evaluated).toBe(0);
    expect(again.skipped).toBe(ids.length);
    const { rows } = await t.ctx.pool.query(`select household_id, count(*)::int as n from tasks where household_id = any($1) group by 1`, [ids]);
    expect(rows).toHaveLength(20);
    expect(rows.every((r: { n: number }) => r.n === 1)).toBe(true);
    const { rows: pending } = await t.ctx.pool.query(`select count(*)::int as n from evaluation_queue where household_id = any($1)`, [ids]);
    expect(pending[0].n).toBe(0);
  });

  it('attaches a new signal to the open task and re-scores it; the due date only moves earlier', async () => {
    const [household] = await seedSignals(t.ctx, [{ postcode: '2261GH', houseNumber: 9, partnerType: 'energy', amountCents: 20000, signalDate: recent }]);
    await evaluateHouseholds(t.ctx, [household!]);
    const [before] = await tasksOf(household!);
    expect(before.priority).toBe(0);
    await seedSignals(t.ctx, [{ postcode: '2261GH', houseNumber: 9, partnerType: 'health_insurance', amountCents: 90000, signalDate: today, crisis: true }]);
    await evaluateHouseholds(t.ctx, [household!]);
    const tasks = await tasksOf(household!);
    expect(tasks).toHaveLength(1);
    expect(tasks[0].priority).toBe(100 + 20 + 30);
    expect(tasks[0].due_date <= before.due_date).toBe(true);
    const { rows } = await t.ctx.pool.query(`select count(*)::int as n from signals s join task_signals ts on ts.signal_id = s.id where s.household_id = $1 and ts.task_id = $2`, [household, before.id]);
    expect(rows[0].n).toBe(2);
  });

  it('suppresses a household known to debt help with a closed task and the national status', async () => {
    const [household] = await seedSignals(t.ctx, [{ postcode: '2261JK', houseNumber: 3, partnerType: 'rent', amountCents: 30000, signalDate: recent }]);
    await evaluateHouseholds(t.ctx, [household!]);
    await t.ctx.pool.query(`update tasks set status = 'closed', result = 'follow_up_or_referral_financial', closed_at = now() where household_id = $1`, [household]);
    await seedSignals(t.ctx, [{ postcode: '2261JK', houseNumber: 3, partnerType: 'water', amountCents: 30000, signalDate: today }]);
    await evaluateHouseholds(t.ctx, [household!]);
    const tasks = await tasksOf(household!);
    expect(tasks).toHaveLength(2);
    expect(tasks[1]).toMatchObject({ status: 'closed', suppressed: true, result: 'already_known_debt_help' });
    expect(tasks[1].explanation.suppressedBy).toBe('known');
    const { rows } = await t.ctx.pool.query(`select s.status from task_signals ts join signals s on s.id = ts.signal_id where ts.task_id = $1`, [tasks[1].id]);
    expect(rows.map((r: { status: string }) => r.status)).toEqual(['already_known_debt_help']);
  });

  it('routes by a route rule and gives the new task to the previous consultant while their key is active', async () => {
    const consultant = await createKey(t.ctx, { role: 'consultant', municipality: '1916', teams: ['pilot'], label: 'consultant' });
    const { rows: keyRows } = await t.ctx.pool.query(`select id from api_keys where label = 'consultant'`);
    expect(consultant).toMatch(/^vs_/);
    const [household] = await seedSignals(t.ctx, [{ postcode: '2263AA', houseNumber: 4, partnerType: 'rent', amountCents: 30000, signalDate: recent }]);
    await evaluateHouseholds(t.ctx, [household!]);
    const [first] = await tasksOf(household!);
    expect(first.team).toBe('pilot');
    await t.ctx.pool.query(`update tasks set status = 'closed', result = 'advice_or_quick_fix', closed_at = now(), assignee_key_id = $2 where id = $1`, [first.id, keyRows[0].id]);
    await seedSignals(t.ctx, [{ postcode: '2263AA', houseNumber: 4, partnerType: 'energy', amountCents: 30000, signalDate: today }]);
    await evaluateHouseholds(t.ctx, [household!]);
    const tasks = await tasksOf(household!);
    expect(tasks[1]).toMatchObject({ status: 'open', assignee_key_id: keyRows[0].id });

    await t.ctx.pool.query(`update api_keys set revoked_at = now() where id = $1`, [keyRows[0].id]);
    await t.ctx.pool.query(`update tasks set status = 'closed', result = 'advice_or_quick_fix', closed_at = now() where id = $1`, [tasks[1].id]);
    await seedSignals(t.ctx, [{ postcode: '2263AA', houseNumber: 4, partnerType: 'water', amountCents: 30000, signalDate: today }]);
    await evaluateHouseholds(t.ctx, [household!]);
    expect((await tasksOf(household!))[2].assignee_key_id).toBeNull();
  });

  it('leaves households outside every municipality alone', async () => {
    const [household] = await seedSignals(t.ctx, [{ postcode: '9999ZZ', houseNumber: 1, partnerType: 'rent', amountCents: 30000, signalDate: recent }]);
    await evaluateHouseholds(t.ctx, [household!]);
    expect(await tasksOf(household!)).toHaveLength(0);
  });

  it('evaluates through the queue, and the sweeper re-enqueues what no job carried', async () => {
    const worker = startEvaluateWorker(t.ctx);
    try {
      // Signals committed while no job was ever enqueued (as after a Redis outage).
      const ids = await seedSignals(t.ctx, [
        { postcode: '2262LM', houseNumber: 12, partnerType: 'rent', amountCents: 30000, signalDate: recent },
        { postcode: '2262LM', houseNumber: 14, partnerType: 'rent', amountCents: 30000, signalDate: recent },
      ]);
      await t.ctx.pool.query(`update evaluation_queue set since = now() - interval '5 minutes' where household_id = any($1)`, [ids]);
      expect(await sweepPendingHouseholds(t.ctx)).toBeGreaterThanOrEqual(2);
      const deadline = Date.now() + 20_000;
      let open = 0;
      while (Date.now() < deadline) {
        const { rows } = await t.ctx.pool.query(`select count(*)::int as n from tasks where household_id = any($1)`, [ids]);
        open = rows[0].n;
        if (open === 2) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(open).toBe(2);
    } finally {
      await worker.close();
    }
  });

  it('takes households off the queue by its index however much the queue grew since the last chunks', async () => {
    const client = await t.ctx.pool.connect();
    const absent = (from: number) => Array.from({ length: 500 }, (_, i) => from + i);
    const queueScans = async () =>
      (await client.query(`select seq_scan::int as n from pg_stat_xact_user_tables where relid = 'evaluation_queue'::regclass`)).rows[0].n as number;
    try {
      // Chunks while the queue is (nearly) empty, as between bursts ...
      for (let i = 0; i < 8; i++) {
        await client.query('begin');
        await takePendingHouseholds(client, absent(2_000_000_000 + i * 500));
        await client.query('rollback');
      }
      // ... then a burst queues 100,000 households.
      await t.ctx.pool.query(`insert into evaluation_queue (household_id, since) select 1000000000 + g, now() from generate_series(1, 100000) g`);
      await client.query('begin');
      const before = await queueScans();
      await takePendingHouseholds(client, absent(1_000_050_000));
      expect(await queueScans()).toBe(before);
      await client.query('rollback');
    } finally {
      client.release();
      await t.ctx.pool.query(`delete from evaluation_queue where household_id > 1000000000`);
    }
  });

  it('takes households off the queue by its index when the statistics were taken while the queue stood empty', async () => {
    // Autovacuum may analyze the queue right after a burst drained it: pages, but no rows. The
    // planner then believes the queue empty during the next burst.
    await t.ctx.pool.query(`insert into evaluation_queue (household_id, since) select 1000000000 + g, now() from generate_series(1, 100000) g`);
    await t.ctx.pool.query(`delete from evaluation_queue where household_id > 1000000000`);
    await t.ctx.pool.query(`analyze evaluation_queue`);
    const { rows: stats } = await t.ctx.pool.query(`select relpages, reltuples from pg_class where oid = 'evaluation_queue'::regclass`);
    expect(stats[0].relpages).toBeGreaterThan(0);
    expect(stats[0].reltuples).toBe(0);
    await t.ctx.pool.query(`insert into evaluation_queue (household_id, since) select 1000000000 + g, now() from generate_series(1, 100000) g`);
    const client = await t.ctx.pool.connect();
    const rowsRead = async () =>
      (await client.query(`select (seq_tup_read + coalesce(idx_tup_fetch, 0))::int as n from pg_stat_xact_user_tables where relid = 'evaluation_queue'::regclass`)).rows[0]
        .n as number;
    try {
      // More chunks than it takes PostgreSQL to settle on the prepared statement's generic plan.
      for (let chunk = 0; chunk < 8; chunk++) {
        const ids = Array.from({ length: 500 }, (_, i) => 1_000_000_001 + chunk * 500 + i);
        await client.query('begin');
        // A scan of the queue per id would run for minutes: end it early.
        await client.query(`set local statement_timeout = '10s'`);
        const before = await rowsRead();
        await takePendingHouseholds(client, ids);
        expect((await client.query(`select count(*)::int as n from evaluation_queue where household_id = any($1)`, [ids])).rows[0].n).toBe(0);
        // One index entry per id for the lookups (the delete goes by ctid), not the queue's 100,000.
        expect((await rowsRead()) - before).toBeLessThanOrEqual(2 * ids.length);
        await client.query('rollback');
      }
    } finally {
      await client.query('rollback');
      client.release();
      await t.ctx.pool.query(`delete from evaluation_queue where household_id > 1000000000`);
    }
  });

  describe('against an intake running at the same time', () => {
    /** Stores one new signal for the address through the intake's own statement, in `tx`. */
    async function intakeSignal(tx: Client, postcode: string, houseNumber: number): Promise<void> {
      const batchId = randomUUID();
      await t.ctx.pool.query(`insert into signal_batches (id, source, status) values ($1, 'cli', 'completed')`, [batchId]);
      const copy = new CopyData();
      copy.add({
        addressKey: addressKey({ postcode, houseNumber }), municipality: '1916', postcode, houseNumber, houseLetter: null,
        houseNumberAddition: null, street: null, city: null, partnerType: 'water', partnerName: 'Dunea', externalId: randomUUID(),
        signalDate: recent, originDate: null, amountCents: 12_000, crisis: false, warmHandover: false, endOfSupply: false, childrenInHousehold: null, bsn: null,
        initials: null, prefix: null, surname: null, birthDate: null, gender: null, phone: null, email: null,
      }, 0);
      await writeSignalChunk(tx, { batchId, copy, rejections: [], duplicates: [], received: 1, valid: 1 });
    }
    const queued = async (id: number) => (await t.ctx.pool.query(`select 1 from evaluation_queue where household_id = $1`, [id])).rowCount;
    const linkedSignals = async (id: number) =>
      (await t.ctx.pool.query(`select count(*)::int as n from signals s join task_signals ts on ts.signal_id = s.id where s.household_id = $1`, [id]))
        .rows[0].n as number;

    it('marks a household the intake created as never evaluated, and looks up the tasks of one evaluated before', async () => {
      const inTx = (work: (tx: Client) => Promise<void>) => withTransaction(t.ctx.pool, work);
      await inTx((tx) => intakeSignal(tx, '2263NE', 7));
      const { rows: created } = await t.ctx.pool.query<{ household_id: number; never_evaluated: boolean }>(
        `select q.household_id, q.never_evaluated from evaluation_queue q join households h on h.id = q.household_id where h.postcode = '2263NE'`,
      );
      expect(created).toEqual([{ household_id: expect.any(Number), never_evaluated: true }]);
      const household = created[0]!.household_id;
      expect(await evaluateHouseholds(t.ctx, [household])).toMatchObject({ evaluated: 1, tasksOpened: 1 });

      // A second signal for the known household: queued as one to look up.
      await inTx((tx) => intakeSignal(tx, '2263NE', 7));
      const { rows: again } = await t.ctx.pool.query(`select never_evaluated from evaluation_queue where household_id = $1`, [household]);
      expect(again).toEqual([{ never_evaluated: false }]);
      // Its open task is found and re-scored (a second open task would be refused), both signals linked to it.
      expect(await evaluateHouseholds(t.ctx, [household])).toMatchObject({ evaluated: 1, tasksOpened: 0, tasksUpdated: 1 });
      expect((await tasksOf(household)).length).toBe(1);
      expect(await linkedSignals(household)).toBe(2);

      // What the evaluation asks PostgreSQL for each kind of household.
      const statements: string[] = [];
      const recording = {
        query: (query: { name?: string; text: string; values: unknown[] }) => {
          statements.push(query.name ?? query.text);
          return t.ctx.pool.query(query.text, query.values);
        },
      } as unknown as Queryable;
      const snapshotOf = async (neverEvaluated: boolean) =>
        (await loadSnapshots(recording, [{ id: household, municipalityCode: '1916', postcode: '2263NE', neverEvaluated }], new Date())).snapshots[0]!;
      const looked = await snapshotOf(false);
      expect(statements.splice(0)).toEqual(['evaluation-signals', 'evaluation-tasks']);
      expect(looked.tasks).toHaveLength(1);
      expect(looked.signals.map((signal) => signal.taskId)).toEqual([looked.tasks[0]!.id, looked.tasks[0]!.id]);
      // Marked as never evaluated (which this one is not): neither tasks nor links are looked up.
      const trusted = await snapshotOf(true);
      expect(statements).toEqual(['evaluation-signals']);
      expect(trusted.tasks).toEqual([]);
      expect(trusted.signals.map((signal) => signal.taskId)).toEqual([null, null]);
    });

    it('queues the household again when a signal arrives while it is being evaluated', async () => {
      const [household] = await seedSignals(t.ctx, [{ postcode: '2261XY', houseNumber: 1, partnerType: 'rent', amountCents: 40000, signalDate: recent }]);
      const evaluation = await t.ctx.pool.connect();
      const intake = await t.ctx.pool.connect();
      try {
        await evaluation.query('begin');
        expect((await takePendingHouseholds(evaluation, [household!])).map((h) => h.id)).toEqual([household]);
        await intake.query('begin');
        let stored = false;
        const storing = intakeSignal(intake, '2261XY', 1).then(() => (stored = true));
        // The intake waits for the evaluation that took the household off the queue ...
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(stored).toBe(false);
        await evaluation.query('commit');
        // ... and queues it again once that has committed.
        await storing;
        await intake.query('commit');
      } finally {
        evaluation.release();
        intake.release();
      }
      expect(await queued(household!)).toBe(1);
      expect((await evaluateHouseholds(t.ctx, [household!])).evaluated).toBe(1);
      expect(await linkedSignals(household!)).toBe(2);
      expect(await queued(household!)).toBe(0);
    });

    it('leaves a queued household to an intake that is storing a signal for it', async () => {
      const [household] = await seedSignals(t.ctx, [{ postcode: '2261XY', houseNumber: 2, partnerType: 'rent', amountCents: 40000, signalDate: recent }]);
      const intake = await t.ctx.pool.connect();
      try {
        await intake.query('begin');
        await intakeSignal(intake, '2261XY', 2);
        // The intake holds the queue row: an evaluation now would miss the signal being stored.
        const during = await evaluateHouseholds(t.ctx, [household!]);
        expect(during).toMatchObject({ evaluated: 0, skipped: 1 });
        await intake.query('commit');
      } finally {
        intake.release();
      }
      expect((await evaluateHouseholds(t.ctx, [household!])).evaluated).toBe(1);
      expect(await linkedSignals(household!)).toBe(2);
    });
  });
});
