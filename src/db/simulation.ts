import type { HouseholdSnapshot } from '../domain/facts.js';
import type { Queryable } from './pool.js';

/**
 * Households as they were in a period, for simulations: every household of the municipality
 * with a signal received in [from, to], with
 * - its signals received up to `to` (later ones did not exist yet), and
 * - its tasks closed before `from` as the earlier tasks (repeat, previous result, known to
 *   debt help); tasks opened in or after the period are left out and their signals count as
 *   the open window again, as when they arrived.
 * The facts are computed as of `to`. Yields chunks, so a year of households never sits in memory.
 */
export async function* snapshotsForPeriod(
  db: Queryable,
  municipality: string,
  from: string,
  to: string,
  chunkSize = 10_000,
): AsyncGenerator<HouseholdSnapshot[]> {
  // The households of the period, found once with the received-at index; then loaded in chunks.
  const { rows: found } = await db.query<{ household_id: number }>(
    `select distinct household_id from signals
      where municipality_code = $1
        and received_at >= ($2::date::timestamp at time zone 'Europe/Amsterdam')
        and received_at < (($3::date + 1)::timestamp at time zone 'Europe/Amsterdam')
      order by household_id`,
    [municipality, from, to],
  );
  const chunks: number[][] = [];
  for (let start = 0; start < found.length; start += chunkSize) chunks.push(found.slice(start, start + chunkSize).map((r) => r.household_id));
  // The next chunk is loaded while the caller works on this one: the database and the
  // evaluation then run side by side instead of taking turns.
  let next = chunks.length > 0 ? loadChunk(db, municipality, chunks[0]!, from, to) : null;
  for (let i = 0; next; i++) {
    const current = await next;
    next = i + 1 < chunks.length ? loadChunk(db, municipality, chunks[i + 1]!, from, to) : null;
    next?.catch(() => {}); // a caller that stops early leaves it unread; its error then matters to no one
    yield current;
  }
}

async function loadChunk(db: Queryable, municipality: string, chunkIds: number[], from: string, to: string): Promise<HouseholdSnapshot[]> {
  // Signals and tasks are found by joining the array of ids, not by `= any($1)`: for thousands
  // of ids the planner takes the latter for a large part of the table and scans all of it, per
  // chunk. (Primary-key lookups are planned well either way.)
  const { rows: households } = await db.query<{ id: number; postcode: string }>(
    `select id, postcode from households where id = any($1) order by id`,
    [chunkIds],
  );
  const ids = households.map((h) => h.id);
  const [signals, tasks] = await Promise.all([
    db.query<{
      id: number; household_id: number; partner_type: HouseholdSnapshot['signals'][number]['partnerType']; amount_cents: number;
      signal_date: string; origin_date: string | null; received_at: Date; crisis: boolean; warm_handover: boolean; end_of_supply: boolean;
      birth_date: string | null; task_id: number | null;
    }>(
      `select s.id, s.household_id, s.partner_type, s.amount_cents, s.signal_date, s.origin_date, s.received_at, s.crisis,
              s.warm_handover, s.end_of_supply, s.birth_date,
              case when t.closed_at < ($3::date::timestamp at time zone 'Europe/Amsterdam') then s.task_id end as task_id
         from unnest($1::bigint[]) as h(id)
         join signals s on s.household_id = h.id
         left join tasks t on t.id = s.task_id
        where s.received_at < (($2::date + 1)::timestamp at time zone 'Europe/Amsterdam')
        order by s.household_id, s.signal_date, s.id`,
      [ids, to, from],
    ),
    db.query<{ id: number; household_id: number; result: HouseholdSnapshot['tasks'][number]['result']; assignee_key_id: string | null; created_at: Date; closed_at: Date }>(
      `select t.id, t.household_id, t.result, t.assignee_key_id, t.created_at, t.closed_at
         from unnest($1::bigint[]) as h(id) join tasks t on t.household_id = h.id
        where t.status = 'closed' and t.closed_at < ($2::date::timestamp at time zone 'Europe/Amsterdam')
        order by t.household_id, t.closed_at`,
      [ids, from],
    ),
  ]);
  const byHousehold = new Map<number, HouseholdSnapshot>();
  for (const h of households) {
    byHousehold.set(h.id, { householdId: h.id, municipalityCode: municipality, postcode: h.postcode, signals: [], tasks: [], today: to });
  }
  for (const s of signals.rows) {
    byHousehold.get(s.household_id)!.signals.push({
      id: s.id,
      partnerType: s.partner_type,
      amountCents: s.amount_cents,
      signalDate: s.signal_date,
      originDate: s.origin_date,
      receivedAt: s.received_at.toISOString(),
      crisis: s.crisis,
      warmHandover: s.warm_handover,
      endOfSupply: s.end_of_supply,
      birthDate: s.birth_date,
      status: 'not_yet_picked_up',
      taskId: s.task_id,
    });
  }
  for (const t of tasks.rows) {
    byHousehold.get(t.household_id)!.tasks.push({
      id: t.id,
      status: 'closed',
      result: t.result,
      assigneeKeyId: t.assignee_key_id,
      createdAt: t.created_at.toISOString(),
      closedAt: t.closed_at.toISOString(),
    });
  }
  return [...byHousehold.values()];
}
