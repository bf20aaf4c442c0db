import type { Client } from './pool.js';

export interface RetentionPolicy {
  /** Signals of households that never got an outreach task (suppressed, not resident): months after the signal. */
  untaskedMonths: number;
  /** Closed tasks and their signals: months after closing. */
  closedTaskMonths: number;
}

export interface PurgeCounts {
  signals: number;
  notes: number;
  households: number;
}

/**
 * Removes the personal data that is past its retention, as of `now`. Open tasks are never
 * touched. Signals keep date, amount, partner type and status; households keep their PC4 area.
 */
export async function purgeExpired(tx: Client, policy: RetentionPolicy, now: Date): Promise<PurgeCounts> {
  const untaskedBefore = monthsBefore(now, policy.untaskedMonths);
  const closedBefore = monthsBefore(now, policy.closedTaskMonths);

  const signals = await tx.query(
    `update signals s set bsn = null, initials = null, prefix = null, surname = null, birth_date = null, gender = null,
            phone = null, email = null, children_in_household = null, purged_at = $3
      where s.purged_at is null
        and (
          (s.status = 'not_resident' and s.received_at < $1 and not exists (select 1 from task_signals ts where ts.signal_id = s.id))
          or exists (select 1 from task_signals ts join tasks t on t.id = ts.task_id where ts.signal_id = s.id and t.status = 'closed'
                       and ((t.suppressed and s.received_at < $1) or (not t.suppressed and t.closed_at < $2)))
        )`,
    [untaskedBefore, closedBefore, now],
  );

  const notes = await tx.query(
    `delete from task_notes n using tasks t
      where n.task_id = t.id and t.status = 'closed'
        and ((t.suppressed and t.closed_at < $1) or (not t.suppressed and t.closed_at < $2))`,
    [untaskedBefore, closedBefore],
  );

  // A household loses its address once nothing of it is left to work or to match: every
  // signal purged and no task open. A later signal at the same address starts a new household.
  // It leaves the evaluation queue too: there is nothing left to evaluate.
  const households = await tx.query(
    `with purged as (
       update households h set address_key = 'purged:' || h.id, postcode = left(h.postcode, 4), house_number = 0,
              house_letter = null, house_number_addition = null, street = null, city = null, purged_at = $1
        where h.purged_at is null
          and exists (select 1 from signals s where s.household_id = h.id)
          and not exists (select 1 from signals s where s.household_id = h.id and s.purged_at is null)
          and not exists (select 1 from tasks t where t.household_id = h.id and t.status <> 'closed')
       returning h.id),
     dequeued as (delete from evaluation_queue q using purged p where q.household_id = p.id)
     select count(*)::int as n from purged`,
    [now],
  );
  return { signals: signals.rowCount ?? 0, notes: notes.rowCount ?? 0, households: (households.rows[0] as { n: number }).n };
}

function monthsBefore(now: Date, months: number): Date {
  const date = new Date(now.getTime());
  date.setUTCMonth(date.getUTCMonth() - months);
  return date;
}
