import type { ContactChannel, SignalStatus, TaskResult } from '../domain/codes.js';
import { REPEAT_MONTHS } from '../domain/facts.js';
import type { Client, Pool, Queryable } from './pool.js';

/**
 * The aggregations behind GET /v1/monitoring/summary. PostgreSQL does the counting and hands
 * back small tables (group × status, group × event × result); only the working-day timing is
 * computed in JS (Dutch holidays live in date-holidays), over one row per task whose first
 * contact attempt falls in the period. Every query starts from an index range of the period
 * (030_monitoring_ddas.sql), so its cost follows the period's size, not the history's.
 *
 * The period is `from`..`to`, calendar days in Europe/Amsterdam, both inclusive. Every figure
 * is counted by the date of its own event (signal received, task created, task closed, first
 * attempt); "open" is measured at the end of the period, or for `month` at the end of each month.
 *
 * A group key is computed per groupBy:
 * - partnerType: the signal's partner type; a task counts for every partner type among its signals;
 * - team: the task's team (a signal through its task); null = no team, or no task yet; over
 *   several municipalities `<municipality>/<team>`;
 * - rule: every rule in the task's explanation (the fired rules of its latest evaluation);
 * - month: the YYYY-MM of the event's date;
 * - channel: the channel of the task's first contact attempt; null = no attempt yet;
 * - total: one group for everything (key null).
 */

/**
 * Runs reporting queries on one connection in a read-only REPEATABLE READ transaction, so that
 * the figures of one summary come from one snapshot and add up. JIT is off: compiling these
 * one-off aggregates cost more than it saved (measured: +1.5 s on a municipality-year), and a
 * little more work_mem keeps their sorts in memory.
 */
export async function withReportingSnapshot<T>(pool: Pool, work: (client: Client) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('begin isolation level repeatable read read only');
    await client.query(`set local jit = off`);
    await client.query(`set local work_mem = '32MB'`);
    const result = await work(client);
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

export type GroupBy = 'partnerType' | 'team' | 'rule' | 'month' | 'channel';
export type Grouping = GroupBy | 'total';

export interface MonitoringScope {
  municipalities: readonly string[];
  from: string;
  to: string;
}

const qualifies = (scope: MonitoringScope) => scope.municipalities.length > 1;

/** The period's first and last instant (exclusive), from `$2` and `$3`. */
const T0 = `(($2::date)::timestamp at time zone 'Europe/Amsterdam')`;
const T1 = `(($3::date + 1)::timestamp at time zone 'Europe/Amsterdam')`;
const BOUNDS = `bounds as (select ${T0} as t0, ${T1} as t1)`;

/** Rule names of a task's explanation; a malformed explanation has none. */
const RULE_NAMES = (explanation: string) =>
  `(select distinct r->>'name' as key
      from json_array_elements(case when json_typeof(${explanation}->'rules') = 'array' then ${explanation}->'rules' else '[]'::json end) r
     where r->>'name' is not null)`;

/** Channel of a task's first contact attempt. */
const FIRST_CHANNEL = (taskId: string) =>
  `(select a.channel as key from contact_attempts a where a.task_id = ${taskId} order by a.attempt_date, a.id limit 1)`;

// ---------------------------------------------------------------------------------------------
// Signals and households

/**
 * A team id is unique within its municipality only: a summary over several municipalities
 * names a team `<municipality>/<team>`.
 */
const TEAM_KEY = (task: string, qualified: boolean) =>
  qualified ? `case when ${task}.team is not null then ${task}.municipality_code || '/' || ${task}.team end` : `${task}.team`;

/**
 * The key join for signals (alias `f`, with `id`, `partner_type`, `received_date`). Only the
 * groupings by the task's team, rules or channel look up the signal's task: for a year of a
 * large municipality that lookup is a fifth of the query.
 */
function signalKeyJoin(grouping: Grouping, qualifyTeams: boolean): string {
  switch (grouping) {
    case 'partnerType':
      return `cross join lateral (select f.partner_type::text as key) k`;
    case 'team':
      return `left join task_signals fts on fts.signal_id = f.id left join tasks st on st.id = fts.task_id
              cross join lateral (select ${TEAM_KEY('st', qualifyTeams)} as key) k`;
    case 'rule':
      return `left join task_signals fts on fts.signal_id = f.id left join tasks st on st.id = fts.task_id
              left join lateral ${RULE_NAMES('st.explanation')} k on true`;
    case 'channel':
      return `left join task_signals fts on fts.signal_id = f.id left join lateral ${FIRST_CHANNEL('fts.task_id')} k on true`;
    case 'month':
      return `cross join lateral (select to_char(f.received_date, 'YYYY-MM') as key) k`;
    case 'total':
      return `cross join lateral (select null::text as key) k`;
  }
}

export interface SignalStatusCount {
  key: string | null;
  status: SignalStatus;
  signals: number;
}

export interface HouseholdCount {
  key: string | null;
  households: number;
  single: number;
  multiple: number;
  repeat: number;
}

/**
 * Signals received in the period per group and status, and the households behind them per
 * group with their single / multiple / repeat classification.
 *
 * The classification is per household over its signals received in the period (for `month`:
 * in that month, each month read as a period of its own):
 * - single: exactly one signal;
 * - multiple: two or more of them with a signal date in the same calendar month (as the fact
 *   `multiple`);
 * - repeat: one of them has an earlier signal at the same address — a signal date in an
 *   earlier calendar month, at most REPEAT_MONTHS months before, received before the period
 *   ended (the fact `repeat`, with "earlier" read from the dates instead of from task state,
 *   so that a past period keeps its figures).
 * A household counts in every group one of its signals falls in, with its household-wide class.
 */
export async function signalFigures(db: Queryable, scope: MonitoringScope, grouping: Grouping): Promise<{ statuses: SignalStatusCount[]; households: HouseholdCount[] }> {
  const window = grouping === 'month' ? `to_char(sig.received_date, 'YYYY-MM')` : `''`;
  const { rows } = await db.query<{
    key: string | null;
    status: SignalStatus | null;
    signals: number | null;
    households: number | null;
    single: number | null;
    multiple: number | null;
    repeat: number | null;
  }>(
    `with ${BOUNDS},
     sig as (
       select s.id, s.household_id, s.partner_type, s.status, s.signal_date,
              (s.received_at at time zone 'Europe/Amsterdam')::date as received_date
         from signals s, bounds b
        where s.municipality_code = any($1) and s.received_at >= b.t0 and s.received_at < b.t1
     ),
     flagged as (
       select sig.*, ${window} as win,
              count(*) over (partition by sig.household_id, ${window}, date_trunc('month', sig.signal_date::timestamp)) > 1 as same_month,
              exists (select 1 from signals e, bounds b
                       where e.household_id = sig.household_id
                         and e.signal_date >= (sig.signal_date - make_interval(months => $4))::date
                         and e.signal_date < date_trunc('month', sig.signal_date::timestamp)::date
                         and e.received_at < b.t1) as has_earlier
         from sig
     ),
     hh as (
       select household_id, win, count(*) = 1 as single, bool_or(same_month) as multiple, bool_or(has_earlier) as repeat
         from flagged group by household_id, win
     ),
     keyed as (
       select f.id, f.household_id, f.win, f.status, k.key from flagged f ${signalKeyJoin(grouping, qualifies(scope))}
     )
     select key, status, count(*)::int as signals, null::int as households, null::int as single, null::int as multiple, null::int as repeat
       from keyed group by key, status
     union all
     select k.key, null, null, count(distinct k.household_id)::int,
            count(distinct k.household_id) filter (where hh.single)::int,
            count(distinct k.household_id) filter (where hh.multiple)::int,
            count(distinct k.household_id) filter (where hh.repeat)::int
       from keyed k join hh on hh.household_id = k.household_id and hh.win = k.win
      group by k.key`,
    [scope.municipalities, scope.from, scope.to, REPEAT_MONTHS],
  );
  const statuses: SignalStatusCount[] = [];
  const households: HouseholdCount[] = [];
  for (const r of rows) {
    if (r.status !== null) statuses.push({ key: r.key, status: r.status, signals: r.signals ?? 0 });
    else households.push({ key: r.key, households: r.households ?? 0, single: r.single ?? 0, multiple: r.multiple ?? 0, repeat: r.repeat ?? 0 });
  }
  return { statuses, households };
}

// ---------------------------------------------------------------------------------------------
// Tasks

/** The key join for tasks (alias `t`); `month` keys events, not tasks, and is done by the caller. */
function taskKeyJoin(grouping: Grouping, qualifyTeams: boolean): string {
  switch (grouping) {
    case 'partnerType':
      return `left join lateral (select distinct s.partner_type::text as key from task_signals ts join signals s on s.id = ts.signal_id where ts.task_id = t.id) k on true`;
    case 'team':
      return `cross join lateral (select ${TEAM_KEY('t', qualifyTeams)} as key) k`;
    case 'rule':
      return `left join lateral ${RULE_NAMES('t.explanation')} k on true`;
    case 'channel':
      return `left join lateral ${FIRST_CHANNEL('t.id')} k on true`;
    case 'month':
      throw new Error('a task has no month of its own: key its events by their dates');
    case 'total':
      return `cross join lateral (select null::text as key) k`;
  }
}

/**
 * Every task that can have an event in the period: created in it, closed in it, or still open
 * at its end. Each arm has an index (030_monitoring_ddas.sql), and the set stays proportional
 * to the period plus the tasks open today, however long the history. A closed task takes no
 * more contact attempts, so this also holds every task whose first attempt is in the period.
 */
const PERIOD_TASKS = `
  select t.id, t.municipality_code, t.team, t.result, t.suppressed, t.created_at, t.closed_at, t.due_date, t.explanation
    from tasks t
   where t.id in (
     -- A union, not an OR: PostgreSQL would pull the shared "created before the end" out of an OR
     -- and scan every task created before the period instead of three index ranges.
     select id from tasks where municipality_code = any($1) and created_at >= ${T0} and created_at < ${T1}
     union
     select id from tasks where municipality_code = any($1) and closed_at >= ${T0} and created_at < ${T1}
     union
     select id from tasks where municipality_code = any($1) and status <> 'closed' and created_at < ${T1})`;

export type TaskEvent = 'fired' | 'opened' | 'closed' | 'open';

export interface TaskEventCount {
  key: string | null;
  event: TaskEvent;
  /** Closed events only. */
  result: TaskResult | null;
  /** Closed events only: the task has a contact attempt that reached the resident. */
  reached: boolean | null;
  tasks: number;
}

/**
 * Task events per group. Outreach tasks only (a suppressed task is created closed and never
 * worked; its signals are counted by status instead), except `fired`:
 * - fired: every task created in the period, suppressed ones included (a suppress rule fires
 *   on those), for "how often did this rule fire";
 * - opened: created in the period;
 * - closed: closed in the period, with result and whether any attempt reached the resident;
 * - open: not closed at the end of the period (for `month`: at the end of each month, with the
 *   month as key).
 */
export async function taskEventFigures(db: Queryable, scope: MonitoringScope, grouping: Grouping): Promise<TaskEventCount[]> {
  const ends =
    grouping === 'month'
      ? `select (least((m + interval '1 month')::date, $3::date + 1))::timestamp at time zone 'Europe/Amsterdam' as t_end,
                least((m + interval '1 month')::date - 1, $3::date) as d_end
           from generate_series(date_trunc('month', $2::date::timestamp), $3::date::timestamp, interval '1 month') m`
      : `select b.t1 as t_end, $3::date as d_end from bounds b`;
  // Each task gets its group keys once (except for month, whose key is the event's date); the
  // events carry what the aggregate needs, so nothing is joined back by id.
  const byEvent = grouping === 'month';
  const qualify = qualifies(scope);
  const { rows } = await db.query<{ key: string | null; event: TaskEvent; result: TaskResult | null; reached: boolean | null; tasks: number }>(
    `with ${BOUNDS},
     ends as (${ends}),
     pt as (${PERIOD_TASKS}),
     kt as (select t.*, ${byEvent ? 'null::text' : 'k.key'} as key from pt t ${byEvent ? '' : taskKeyJoin(grouping, qualify)}),
     ev as (
       select kt.id, kt.key, kt.result, 'fired'::text as event, (kt.created_at at time zone 'Europe/Amsterdam')::date as d
         from kt, bounds b where kt.created_at >= b.t0
       union all
       select kt.id, kt.key, kt.result, 'opened', (kt.created_at at time zone 'Europe/Amsterdam')::date
         from kt, bounds b where kt.created_at >= b.t0 and not kt.suppressed
       union all
       select kt.id, kt.key, kt.result, 'closed', (kt.closed_at at time zone 'Europe/Amsterdam')::date
         from kt, bounds b where kt.closed_at >= b.t0 and kt.closed_at < b.t1 and not kt.suppressed
       union all
       select kt.id, kt.key, kt.result, 'open', en.d_end
         from kt join ends en on kt.created_at < en.t_end and (kt.closed_at is null or kt.closed_at >= en.t_end)
        where not kt.suppressed
     )
     select ${byEvent ? `to_char(t.d, 'YYYY-MM')` : 't.key'} as key, t.event,
            case when t.event = 'closed' then t.result end as result,
            case when t.event = 'closed' then r.reached is not null end as reached,
            count(*)::int as tasks
       from ev t
       -- One probe of the partial index contact_attempts_reached per closed task.
       left join lateral (
         select true as reached from contact_attempts a where t.event = 'closed' and a.task_id = t.id and a.reached limit 1
       ) r on true
      group by 1, 2, 3, 4`,
    [scope.municipalities, scope.from, scope.to],
  );
  return rows;
}

export interface FirstAttemptRow {
  key: string | null;
  /** Day (Europe/Amsterdam) the task's earliest signal was received; null for a task without signals. */
  firstReceived: string | null;
  attemptDate: string;
  dueDate: string | null;
  channel: ContactChannel;
}

/**
 * One row per (outreach task whose first contact attempt falls in the period) × group key: the
 * first attempt of each period task is one index probe (contact_attempts_task).
 */
export async function firstAttemptRows(db: Queryable, scope: MonitoringScope, grouping: Grouping): Promise<FirstAttemptRow[]> {
  const keyJoin = grouping === 'month' ? `cross join lateral (select to_char(t.attempt_date, 'YYYY-MM') as key) k` : taskKeyJoin(grouping, qualifies(scope));
  const { rows } = await db.query<{ key: string | null; first_received: string | null; attempt_date: string; due_date: string | null; channel: ContactChannel }>(
    `with ${BOUNDS},
     fa as (
       select pt.*, f.attempt_date, f.channel
         from (${PERIOD_TASKS}) pt
         cross join lateral (select a.attempt_date, a.channel from contact_attempts a where a.task_id = pt.id order by a.attempt_date, a.id limit 1) f
        where not pt.suppressed and f.attempt_date between $2::date and $3::date
     )
     select k.key, t.attempt_date, t.channel, t.due_date,
            ((select min(s.received_at) from task_signals ts join signals s on s.id = ts.signal_id where ts.task_id = t.id) at time zone 'Europe/Amsterdam')::date::text as first_received
       from fa t
       ${keyJoin}`,
    [scope.municipalities, scope.from, scope.to],
  );
  return rows.map((r) => ({ key: r.key, firstReceived: r.first_received, attemptDate: r.attempt_date, dueDate: r.due_date, channel: r.channel }));
}

/** Team keys of the municipalities in scope, so that a team without activity still gets its row. */
export async function teamKeys(db: Queryable, scope: MonitoringScope): Promise<string[]> {
  const { rows } = await db.query<{ key: string }>(
    `select distinct case when $2 then municipality_code || '/' || id else id end as key from teams where municipality_code = any($1) order by 1`,
    [scope.municipalities, qualifies(scope)],
  );
  return rows.map((r) => r.key);
}
