import type { ContactChannel, DayPart, PartnerType, SignalStatus, TaskResult } from '../domain/codes.js';
import type { AttemptExportRow, RecordCounts, SignalExportRow, TaskExportRow } from '../domain/ddas.js';
import type { Queryable } from './pool.js';

/**
 * The reads behind the DDAS delivery. The records of one municipality and period:
 * - signals: received in the period (calendar days in Europe/Amsterdam), in intake order;
 * - cases: tasks whose matching date (`matched_on`) lies in the period, in matching order.
 * Each task belongs to exactly one period that way, so consecutive deliveries never report a
 * case twice (the national model gives a case no identifier of its own to deduplicate on).
 * Pages are read with OFFSET/LIMIT on index order (030_monitoring_ddas.sql).
 */

export interface ExportPeriod {
  from: string;
  to: string;
}

/** The Europe/Amsterdam day boundaries of the period as SQL expressions on `$2`/`$3`. */
const PERIOD_START = `($2::date)::timestamp at time zone 'Europe/Amsterdam'`;
const PERIOD_END = `($3::date + 1)::timestamp at time zone 'Europe/Amsterdam'`;

export interface MunicipalityName {
  code: string;
  name: string;
}

/** The municipalities of a delivery, by code; `only` null means every registered municipality. */
export async function municipalitiesInScope(db: Queryable, only: string | null): Promise<MunicipalityName[]> {
  const { rows } = await db.query<MunicipalityName>(`select code, name from municipalities where $1::text is null or code = $1 order by code`, [only]);
  return rows;
}

export async function countRecords(db: Queryable, municipalities: readonly string[], period: ExportPeriod): Promise<RecordCounts[]> {
  if (municipalities.length === 0) return [];
  const { rows } = await db.query<{ code: string; signals: number; cases: number }>(
    `select m.code,
            (select count(*) from signals s
              where s.municipality_code = m.code and s.received_at >= ${PERIOD_START} and s.received_at < ${PERIOD_END})::int as signals,
            (select count(*) from tasks t
              where t.municipality_code = m.code and t.matched_on between $2::date and $3::date)::int as cases
       from unnest($1::text[]) as m(code)`,
    [municipalities, period.from, period.to],
  );
  const byCode = new Map(rows.map((r) => [r.code, r]));
  return municipalities.map((code) => ({ municipality: code, signals: byCode.get(code)?.signals ?? 0, cases: byCode.get(code)?.cases ?? 0 }));
}

interface SignalRow {
  id: number;
  crisis: boolean;
  warm_handover: boolean;
  amount_cents: number;
  origin_date: string | null;
  signal_date: string;
  status: SignalStatus;
  partner_type: PartnerType;
  bsn: string | null;
  postcode: string;
  house_number: number;
  house_letter: string | null;
  house_number_addition: string | null;
}

export async function signalPage(db: Queryable, municipality: string, period: ExportPeriod, offset: number, limit: number): Promise<SignalExportRow[]> {
  if (limit <= 0) return [];
  const { rows } = await db.query<SignalRow>(
    `select s.id, s.crisis, s.warm_handover, s.amount_cents, s.origin_date, s.signal_date, s.status, s.partner_type, s.bsn,
            h.postcode, h.house_number, h.house_letter, h.house_number_addition
       from signals s join households h on h.id = s.household_id
      where s.municipality_code = $1 and s.received_at >= ${PERIOD_START} and s.received_at < ${PERIOD_END}
      order by s.received_at, s.id
      offset $4 limit $5`,
    [municipality, period.from, period.to, offset, limit],
  );
  return rows.map((r) => ({
    id: r.id,
    crisis: r.crisis,
    warmHandover: r.warm_handover,
    amountCents: r.amount_cents,
    originDate: r.origin_date,
    signalDate: r.signal_date,
    status: r.status,
    partnerType: r.partner_type,
    bsn: r.bsn,
    postcode: r.postcode,
    houseNumber: r.house_number,
    houseLetter: r.house_letter,
    houseNumberAddition: r.house_number_addition,
  }));
}

interface TaskRow {
  id: number;
  result: TaskResult | null;
  status: string;
  matched_on: string;
  picked_up_date: string | null;
  first_received: string | null;
  last_received: string | null;
}

/** One page of a municipality's cases, with their signal ids and contact attempts (three queries in all). */
export async function casePage(db: Queryable, municipality: string, period: ExportPeriod, offset: number, limit: number): Promise<TaskExportRow[]> {
  if (limit <= 0) return [];
  const { rows } = await db.query<TaskRow>(
    `select t.id, t.result, t.status, t.matched_on, t.picked_up_date,
            (min(s.received_at) at time zone 'Europe/Amsterdam')::date::text as first_received,
            (max(s.received_at) at time zone 'Europe/Amsterdam')::date::text as last_received
       from (select id, result, status, matched_on, picked_up_date from tasks
              where municipality_code = $1 and matched_on between $2::date and $3::date
              order by matched_on, id offset $4 limit $5) t
       left join task_signals ts on ts.task_id = t.id
       left join signals s on s.id = ts.signal_id
      group by t.id, t.result, t.status, t.matched_on, t.picked_up_date
      order by t.matched_on, t.id`,
    [municipality, period.from, period.to, offset, limit],
  );
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const [signals, attempts] = await Promise.all([
    db.query<{ task_id: number; id: number }>(`select task_id, signal_id as id from task_signals where task_id = any($1) order by task_id, signal_id`, [ids]),
    db.query<{ task_id: number; channel: ContactChannel; reached: boolean; attempt_date: string; day_part: DayPart | null }>(
      `select task_id, channel, reached, attempt_date, day_part from contact_attempts where task_id = any($1) order by task_id, attempt_date, id`,
      [ids],
    ),
  ]);
  const signalIds = new Map<number, number[]>();
  for (const s of signals.rows) {
    const list = signalIds.get(s.task_id) ?? [];
    list.push(s.id);
    signalIds.set(s.task_id, list);
  }
  const attemptRows = new Map<number, AttemptExportRow[]>();
  for (const a of attempts.rows) {
    const list = attemptRows.get(a.task_id) ?? [];
    list.push({ channel: a.channel, reached: a.reached, date: a.attempt_date, dayPart: a.day_part });
    attemptRows.set(a.task_id, list);
  }
  return rows.map((r) => ({
    // Only a closed task has a final result (a stored result on an open task would be premature).
    result: r.status === 'closed' ? r.result : null,
    matchedOn: r.matched_on,
    firstSignalReceived: r.first_received,
    lastSignalReceived: r.last_received,
    pickedUpDate: r.picked_up_date,
    signalIds: signalIds.get(r.id) ?? [],
    attempts: attemptRows.get(r.id) ?? [],
  }));
}
