import type { Client, Queryable } from './pool.js';

/** The installation's retention terms; a municipality may set its own (migration 190). */
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
 * The moments before which data is past its term, as of $3 (`now`), per municipality — its
 * own terms or the installation's ($1 untasked, $2 closed-task months) — and, with a null
 * code, for signals outside every municipality. Months are counted in UTC.
 */
const CUTOFFS = `cutoffs as (
    select m.code,
           ($3::timestamptz at time zone 'UTC' - make_interval(months => coalesce(m.retention_untasked_months, $1::int))) at time zone 'UTC' as untasked_before,
           ($3::timestamptz at time zone 'UTC' - make_interval(months => coalesce(m.retention_closed_task_months, $2::int))) at time zone 'UTC' as closed_before
      from municipalities m
    union all
    select null, ($3::timestamptz at time zone 'UTC' - make_interval(months => $1::int)) at time zone 'UTC',
           ($3::timestamptz at time zone 'UTC' - make_interval(months => $2::int)) at time zone 'UTC'
  )`;

/**
 * Removes the personal data that is past its retention, as of `now`. Open tasks are never
 * touched. Signals keep date, amount, partner type and status; households keep their PC4 area.
 * A signal's term is that of its municipality (the task's, for signals grouped in one).
 */
export async function purgeExpired(tx: Client, policy: RetentionPolicy, now: Date): Promise<PurgeCounts> {
  const terms = [policy.untaskedMonths, policy.closedTaskMonths, now];

  const signals = await tx.query(
    `with ${CUTOFFS}
     update signals s set bsn = null, initials = null, prefix = null, surname = null, birth_date = null, gender = null,
            phone = null, email = null, children_in_household = null, purged_at = $3
      where s.purged_at is null
        and (
          (s.status = 'not_resident' and not exists (select 1 from task_signals ts where ts.signal_id = s.id)
             and s.received_at < (select c.untasked_before from cutoffs c where c.code is not distinct from s.municipality_code))
          or exists (select 1 from task_signals ts join tasks t on t.id = ts.task_id join cutoffs c on c.code = t.municipality_code
                      where ts.signal_id = s.id and t.status = 'closed'
                        and ((t.suppressed and s.received_at < c.untasked_before) or (not t.suppressed and t.closed_at < c.closed_before)))
        )`,
    terms,
  );

  const notes = await tx.query(
    `with ${CUTOFFS}
     delete from task_notes n using tasks t, cutoffs c
      where n.task_id = t.id and t.status = 'closed' and c.code = t.municipality_code
        and ((t.suppressed and t.closed_at < c.untasked_before) or (not t.suppressed and t.closed_at < c.closed_before))`,
    terms,
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

export interface MunicipalityRetention {
  municipality: string;
  /** The municipality's own terms; null: the installation's. */
  untaskedMonths: number | null;
  closedTaskMonths: number | null;
}

export async function findRetention(db: Queryable, municipality: string): Promise<MunicipalityRetention | null> {
  const { rows } = await db.query<MunicipalityRetention>(
    `select code as municipality, retention_untasked_months as "untaskedMonths", retention_closed_task_months as "closedTaskMonths"
       from municipalities where code = $1`,
    [municipality],
  );
  return rows[0] ?? null;
}

/** Sets the municipality's own terms (null: back to the installation's). False when there is no such municipality. */
export async function setRetention(db: Queryable, retention: MunicipalityRetention): Promise<boolean> {
  const { rowCount } = await db.query(
    `update municipalities set retention_untasked_months = $2, retention_closed_task_months = $3, updated_at = now() where code = $1`,
    [retention.municipality, retention.untaskedMonths, retention.closedTaskMonths],
  );
  return (rowCount ?? 0) > 0;
}
