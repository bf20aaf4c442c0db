import { to as copyTo } from 'pg-copy-streams';
import type { HouseholdSnapshot, SignalSnapshot, TaskSnapshot } from '../domain/facts.js';
import { CopyTextRows, type CopyFields } from './copyText.js';
import type { Client, Pool } from './pool.js';

/**
 * Households as they were in a period, for simulations: every household of the municipality
 * with a signal received in [from, to], with
 * - its signals received up to `to` (later ones did not exist yet), and
 * - its tasks closed before `from` as the earlier tasks (repeat, previous result, known to
 *   debt help), each with its signals attached; tasks opened in or after the period are left
 *   out, so their signals are attached to no task and count as the open window again, as when
 *   they arrived.
 * The facts are computed as of `to`. Yields chunks, so a year of households never sits in memory.
 *
 * A simulation reads every household of a period, often all of them, so the rows come as two
 * streams in household order, each one `COPY (query) TO STDOUT` that PostgreSQL answers with a
 * single ordered scan: the signals (with the household's postcode) and the closed tasks. They
 * are merged here by household id. That is several times cheaper on both sides than looking the
 * households up chunk by chunk, and the streams wait while the caller works on a chunk. The
 * links between signals and tasks come with the tasks (the few closed before the period), not
 * with the signals: joining task_signals to every signal of a year turned the ordered scan into
 * hash joins and a sort on disk, three times as slow.
 * Chunks are small on purpose: a few hundred households are done with before the garbage
 * collector's next young-generation pass, so it never copies them; chunks of ten thousand
 * made that copying a third of a simulation's time.
 */
export async function* snapshotsForPeriod(
  pool: Pool,
  municipality: string,
  from: string,
  to: string,
  chunkSize = 250,
): AsyncGenerator<HouseholdSnapshot[]> {
  const signalClient = await pool.connect();
  let taskClient: Client | undefined;
  let finished = false;
  try {
    taskClient = await pool.connect();
    // COPY takes no parameters: the values go in as escaped literals.
    const period = periodFilter(signalClient, municipality, from, to);
    const signals = await openCopy(
      signalClient,
      `select s.household_id, h.postcode, s.id, s.partner_type, s.amount_cents, s.signal_date, s.origin_date, s.received_at, s.crisis,
              s.warm_handover, s.end_of_supply, s.birth_date, s.children_in_household
         from signals s join households h on h.id = s.household_id
        where s.received_at < ${period.end} and s.household_id in (${period.households})
        order by s.household_id`,
    );
    const tasks = await openCopy(
      taskClient,
      `select t.household_id, t.id, t.result, t.assignee_key_id, t.created_at, t.closed_at,
              array(select ts.signal_id from task_signals ts where ts.task_id = t.id)
         from tasks t
        where t.status = 'closed' and t.closed_at < ${period.start} and t.household_id in (${period.households})
        order by t.household_id, t.closed_at`,
    );

    let chunk: HouseholdSnapshot[] = [];
    let household: HouseholdSnapshot | undefined;
    for (let row = await signals.peek(); row; row = signals.current() ?? (await signals.peek())) {
      signals.advance();
      const householdId = Number(row[0]);
      if (household?.householdId !== householdId) {
        if (household) {
          if (!tasks.exhausted) await addClosedTasks(tasks, household);
          chunk.push(household);
          if (chunk.length >= chunkSize) {
            yield chunk;
            chunk = [];
          }
        }
        household = { householdId, municipalityCode: municipality, postcode: row[1]!, signals: [], tasks: [], today: to };
      }
      household.signals.push(signalOf(row));
    }
    if (household) {
      if (!tasks.exhausted) await addClosedTasks(tasks, household);
      chunk.push(household);
    }
    if (chunk.length > 0) yield chunk;
    // Tasks of no household of the period cannot exist, but the stream must be read to its
    // end before its connection takes another statement.
    while (await tasks.peek()) tasks.advance();
    await signalClient.query('commit');
    await taskClient.query('commit');
    finished = true;
  } finally {
    // A caller that stops early leaves the COPY streams half read: those connections are
    // closed instead of going back to the pool.
    signalClient.release(!finished);
    taskClient?.release(!finished);
  }
}

/** The SQL of the period: its bounds (Dutch calendar days) and a subquery of its households. */
function periodFilter(client: Client, municipality: string, from: string, to: string): { start: string; end: string; households: string } {
  const start = `(${client.escapeLiteral(from)}::date::timestamp at time zone 'Europe/Amsterdam')`;
  const end = `((${client.escapeLiteral(to)}::date + 1)::timestamp at time zone 'Europe/Amsterdam')`;
  return {
    start,
    end,
    households: `select household_id from signals
                  where municipality_code = ${client.escapeLiteral(municipality)} and received_at >= ${start} and received_at < ${end}`,
  };
}

/**
 * Starts `COPY (query) TO STDOUT` in a read-only transaction whose time zone and date style fix
 * the text of timestamps ("2025-06-02 07:00:00.123+00") and dates ("2025-06-02").
 */
async function openCopy(client: Client, query: string): Promise<CopyTextRows> {
  await client.query(`begin read only; set local timezone = 'UTC'; set local datestyle = 'ISO, YMD'`);
  return new CopyTextRows(client.query(copyTo(`copy (${query}) to stdout`)));
}

/**
 * Takes the closed tasks of `household` from the task stream (both streams are in household
 * order). Callers skip it once the stream is exhausted: most periods have few earlier tasks,
 * and an await per household would cost more than the rest of its loading.
 */
async function addClosedTasks(tasks: CopyTextRows, household: HouseholdSnapshot): Promise<void> {
  for (let row = tasks.current() ?? (await tasks.peek()); row; row = tasks.current() ?? (await tasks.peek())) {
    const householdId = Number(row[0]);
    if (householdId > household.householdId) return;
    tasks.advance();
    if (householdId === household.householdId) {
      const task = taskOf(row);
      household.tasks.push(task);
      attachSignals(household, task.id, row[6]!);
    }
  }
}

/** Attaches the household's signals listed in `signalIds` (a COPY text array: "{12,13}") to the task. */
function attachSignals(household: HouseholdSnapshot, taskId: number, signalIds: string): void {
  if (signalIds === '{}') return;
  const ids = new Set(signalIds.slice(1, -1).split(',').map(Number));
  for (const signal of household.signals) if (ids.has(signal.id)) signal.taskId = taskId;
}

function signalOf(row: CopyFields): SignalSnapshot {
  return {
    id: Number(row[2]),
    partnerType: row[3] as SignalSnapshot['partnerType'],
    amountCents: Number(row[4]),
    signalDate: row[5]!,
    originDate: row[6]!,
    receivedAt: isoTimestamp(row[7]!),
    crisis: row[8] === 't',
    warmHandover: row[9] === 't',
    endOfSupply: row[10] === 't',
    birthDate: row[11]!,
    childrenInHousehold: row[12] === null ? null : Number(row[12]),
    status: 'not_yet_picked_up',
    taskId: null, // set when a closed task of the stream lists it
  };
}

function taskOf(row: CopyFields): TaskSnapshot {
  return {
    id: Number(row[1]),
    status: 'closed',
    result: row[2] as TaskSnapshot['result'],
    assigneeKeyId: row[3]!,
    createdAt: isoTimestamp(row[4]!),
    closedAt: isoTimestamp(row[5]!),
  };
}

/**
 * A timestamp as PostgreSQL writes it in UTC with ISO date style ("2025-06-02 07:00:00.123456+00",
 * the fraction only when there is one) as an ISO timestamp to the millisecond, as JavaScript
 * writes it ("2025-06-02T07:00:00.123Z").
 */
export function isoTimestamp(text: string): string {
  const dot = text.indexOf('.', 19);
  const fraction = dot === -1 ? '000' : (text.slice(dot + 1, text.length - 3) + '00').slice(0, 3);
  return `${text.slice(0, 10)}T${text.slice(11, 19)}.${fraction}Z`;
}
