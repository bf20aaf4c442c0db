import type { AppContext } from '../context.js';
import {
  firstAttemptRows,
  signalFigures,
  taskEventFigures,
  teamKeys,
  withReportingSnapshot,
  type FirstAttemptRow,
  type GroupBy,
  type Grouping,
  type HouseholdCount,
  type MonitoringScope,
  type SignalStatusCount,
  type TaskEventCount,
} from '../db/monitoring.js';
import { municipalitiesInScope } from '../db/ddas.js';
import type { Actor } from '../domain/apiKey.js';
import { CONTACT_CHANNEL_CODES, PARTNER_TYPE_CODES, SIGNAL_STATUS_CODES, TASK_RESULT_CODES, type SignalStatus, type TaskResult } from '../domain/codes.js';
import { workingDaysBetween } from '../domain/workingDays.js';

/**
 * Monitoring of reach and results: what came in, what was done with it, and what it achieved,
 * per partner type, team, rule, month or first-contact channel. The counting happens in
 * PostgreSQL (db/monitoring.ts, where every figure's population is defined); this module puts
 * the small tables together, computes the rates and the working-day percentiles, and renders
 * the same table as CSV.
 */

export const GROUP_BYS = ['partnerType', 'team', 'rule', 'month', 'channel'] as const satisfies readonly GroupBy[];

/** Signal statuses that mean "not approached": everything but not yet picked up and picked up. */
export const SUPPRESSED_STATUSES: readonly SignalStatus[] = SIGNAL_STATUS_CODES.filter((s) => s !== 'not_yet_picked_up' && s !== 'picked_up');

/**
 * Results that mean the resident accepted help from vroegsignalering: advice or a quick fix, or
 * follow-up help or a referral with the resident. "Referral without the resident" is not
 * acceptance; neither is "arranges it themselves".
 */
export const ACCEPTED_HELP_RESULTS: readonly TaskResult[] = [
  'advice_or_quick_fix',
  'follow_up_or_referral',
  'follow_up_or_referral_financial',
  'follow_up_or_referral_non_financial',
];

export interface MonitoringQuery {
  from: string;
  to: string;
  groupBy: GroupBy;
  /** Narrows a key that sees every municipality to one. */
  municipality?: string | undefined;
}

export interface MonitoringRow {
  group: string | null;
  signals: number;
  households: number;
  householdsSingle: number;
  householdsMultiple: number;
  householdsRepeat: number;
  signalsSuppressed: number;
  suppressedByStatus: { status: SignalStatus; signals: number }[];
  tasksOpened: number;
  tasksClosed: number;
  tasksOpen: number;
  tasksClosedReached: number;
  reachRate: number | null;
  results: { result: TaskResult; tasks: number }[];
  tasksAcceptedHelp: number;
  acceptedHelpRate: number | null;
  firstAttempts: number;
  medianWorkingDaysToFirstAttempt: number | null;
  p90WorkingDaysToFirstAttempt: number | null;
  firstAttemptsWithDue: number;
  firstAttemptsOnTime: number;
  onTimeRate: number | null;
  /** groupBy=rule only: tasks created in the period whose explanation lists the rule. */
  timesFired?: number;
}

export interface MonitoringSummary {
  from: string;
  to: string;
  groupBy: GroupBy;
  municipalities: string[];
  rows: MonitoringRow[];
  total: MonitoringRow;
}

export class MonitoringScopeError extends Error {}

// ---------------------------------------------------------------------------------------------
// Pure parts

/**
 * The p-th percentile (0 ≤ p ≤ 1) with linear interpolation between closest ranks — the
 * definition of PostgreSQL's percentile_cont and Excel's PERCENTILE.INC. Null for no values.
 */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return round(sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!), 2);
}

function round(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}

function rate(part: number, whole: number): number | null {
  return whole === 0 ? null : round(part / whole, 4);
}

/** Every YYYY-MM from the month of `from` to the month of `to`. */
export function monthsOf(from: string, to: string): string[] {
  const months: string[] = [];
  let year = Number(from.slice(0, 4));
  let month = Number(from.slice(5, 7));
  const last = to.slice(0, 7);
  for (;;) {
    const key = `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}`;
    months.push(key);
    if (key >= last) return months;
    month += 1;
    if (month === 13) {
      month = 1;
      year += 1;
    }
  }
}

interface Accumulator {
  statuses: Map<SignalStatus, number>;
  households?: HouseholdCount;
  opened: number;
  closed: number;
  open: number;
  closedReached: number;
  fired: number;
  results: Map<TaskResult, number>;
  workingDays: number[];
  withDue: number;
  onTime: number;
}

function emptyAccumulator(): Accumulator {
  return { statuses: new Map(), opened: 0, closed: 0, open: 0, closedReached: 0, fired: 0, results: new Map(), workingDays: [], withDue: 0, onTime: 0 };
}

/** Folds the three tables into one row per group key. */
export function assembleRows(
  statuses: readonly SignalStatusCount[],
  households: readonly HouseholdCount[],
  events: readonly TaskEventCount[],
  attempts: readonly FirstAttemptRow[],
  groupBy: Grouping,
): Map<string | null, MonitoringRow> {
  const groups = new Map<string | null, Accumulator>();
  const get = (key: string | null) => {
    let acc = groups.get(key);
    if (!acc) groups.set(key, (acc = emptyAccumulator()));
    return acc;
  };
  for (const s of statuses) {
    const acc = get(s.key);
    acc.statuses.set(s.status, (acc.statuses.get(s.status) ?? 0) + s.signals);
  }
  for (const h of households) get(h.key).households = h;
  for (const e of events) {
    const acc = get(e.key);
    if (e.event === 'fired') acc.fired += e.tasks;
    else if (e.event === 'opened') acc.opened += e.tasks;
    else if (e.event === 'open') acc.open += e.tasks;
    else {
      acc.closed += e.tasks;
      if (e.reached) acc.closedReached += e.tasks;
      if (e.result !== null) acc.results.set(e.result, (acc.results.get(e.result) ?? 0) + e.tasks);
    }
  }
  // Working days depend on the two dates only; a period repeats the same pairs often.
  const cache = new Map<string, number>();
  for (const a of attempts) {
    const acc = get(a.key);
    if (a.firstReceived !== null) {
      const pair = `${a.firstReceived}|${a.attemptDate}`;
      let days = cache.get(pair);
      if (days === undefined) cache.set(pair, (days = workingDaysBetween(a.firstReceived, a.attemptDate)));
      acc.workingDays.push(days);
    }
    if (a.dueDate !== null) {
      acc.withDue += 1;
      if (a.attemptDate <= a.dueDate) acc.onTime += 1;
    }
  }

  const rows = new Map<string | null, MonitoringRow>();
  for (const [key, acc] of groups) rows.set(key, toRow(key, acc, groupBy));
  return rows;
}

function toRow(key: string | null, acc: Accumulator, groupBy: Grouping): MonitoringRow {
  const signals = [...acc.statuses.values()].reduce((sum, n) => sum + n, 0);
  const suppressedByStatus = SUPPRESSED_STATUSES.map((status) => ({ status, signals: acc.statuses.get(status) ?? 0 }));
  const results = TASK_RESULT_CODES.map((result) => ({ result, tasks: acc.results.get(result) ?? 0 }));
  const acceptedHelp = ACCEPTED_HELP_RESULTS.reduce((sum, result) => sum + (acc.results.get(result) ?? 0), 0);
  return {
    group: key,
    signals,
    households: acc.households?.households ?? 0,
    householdsSingle: acc.households?.single ?? 0,
    householdsMultiple: acc.households?.multiple ?? 0,
    householdsRepeat: acc.households?.repeat ?? 0,
    signalsSuppressed: suppressedByStatus.reduce((sum, s) => sum + s.signals, 0),
    suppressedByStatus,
    tasksOpened: acc.opened,
    tasksClosed: acc.closed,
    tasksOpen: acc.open,
    tasksClosedReached: acc.closedReached,
    reachRate: rate(acc.closedReached, acc.closed),
    results,
    tasksAcceptedHelp: acceptedHelp,
    acceptedHelpRate: rate(acceptedHelp, acc.closed),
    firstAttempts: acc.workingDays.length,
    medianWorkingDaysToFirstAttempt: percentile(acc.workingDays, 0.5),
    p90WorkingDaysToFirstAttempt: percentile(acc.workingDays, 0.9),
    firstAttemptsWithDue: acc.withDue,
    firstAttemptsOnTime: acc.onTime,
    onTimeRate: rate(acc.onTime, acc.withDue),
    ...(groupBy === 'rule' ? { timesFired: acc.fired } : {}),
  };
}

/** The groups every summary shows, with or without activity, in their natural order. */
function fixedGroups(groupBy: GroupBy, from: string, to: string, teams: readonly string[]): string[] {
  switch (groupBy) {
    case 'partnerType':
      return [...PARTNER_TYPE_CODES];
    case 'channel':
      return [...CONTACT_CHANNEL_CODES];
    case 'month':
      return monthsOf(from, to);
    case 'team':
      return [...teams];
    case 'rule':
      return [];
  }
}

/** Fixed groups first, in their order; then other keys alphabetically; the null group last. */
export function orderRows(rows: Map<string | null, MonitoringRow>, fixed: readonly string[], empty: (key: string | null) => MonitoringRow): MonitoringRow[] {
  const out = fixed.map((key) => rows.get(key) ?? empty(key));
  const fixedSet = new Set(fixed);
  const others = [...rows.keys()].filter((key): key is string => key !== null && !fixedSet.has(key)).sort();
  for (const key of others) out.push(rows.get(key)!);
  const none = rows.get(null);
  if (none) out.push(none);
  return out;
}

// ---------------------------------------------------------------------------------------------
// The summary

/** The municipalities a monitoring read covers: the key's own, or (admin) all or the one asked for. */
export async function scopeOf(ctx: AppContext, actor: Actor, query: Pick<MonitoringQuery, 'municipality'>): Promise<string[]> {
  if (query.municipality !== undefined && actor.municipality !== null && query.municipality !== actor.municipality) {
    throw new MonitoringScopeError('No such municipality');
  }
  const municipalities = await municipalitiesInScope(ctx.pool, query.municipality ?? actor.municipality);
  if (query.municipality !== undefined && municipalities.length === 0) throw new MonitoringScopeError('No such municipality');
  return municipalities.map((m) => m.code);
}

export async function monitoringSummary(ctx: AppContext, actor: Actor, query: MonitoringQuery): Promise<MonitoringSummary> {
  const municipalities = await scopeOf(ctx, actor, query);
  const scope: MonitoringScope = { municipalities, from: query.from, to: query.to };
  // The groups and the total each read one snapshot on one connection; the two run side by
  // side, so a summary holds at most two connections of the pool.
  const figures = (grouping: Grouping) =>
    withReportingSnapshot(ctx.pool, async (db) => {
      const signals = await signalFigures(db, scope, grouping);
      const events = await taskEventFigures(db, scope, grouping);
      const attempts = await firstAttemptRows(db, scope, grouping);
      return assembleRows(signals.statuses, signals.households, events, attempts, grouping);
    });
  const [grouped, totals, teams] = await Promise.all([
    figures(query.groupBy),
    figures('total'),
    query.groupBy === 'team' ? teamKeys(ctx.pool, scope) : Promise.resolve([]),
  ]);
  const empty = (key: string | null) => toRow(key, emptyAccumulator(), query.groupBy);
  return {
    from: query.from,
    to: query.to,
    groupBy: query.groupBy,
    municipalities,
    rows: orderRows(grouped, fixedGroups(query.groupBy, query.from, query.to, teams), empty),
    total: totals.get(null) ?? toRow(null, emptyAccumulator(), 'total'),
  };
}

// ---------------------------------------------------------------------------------------------
// CSV

/** The CSV columns, in order; code-valued columns are `<figure>:<code>`. */
export function csvColumns(groupBy: GroupBy): string[] {
  return [
    'group',
    'signals',
    'households',
    'householdsSingle',
    'householdsMultiple',
    'householdsRepeat',
    'signalsSuppressed',
    ...SUPPRESSED_STATUSES.map((s) => `suppressed:${s}`),
    'tasksOpened',
    'tasksClosed',
    'tasksOpen',
    'tasksClosedReached',
    'reachRate',
    ...TASK_RESULT_CODES.map((r) => `result:${r}`),
    'tasksAcceptedHelp',
    'acceptedHelpRate',
    'firstAttempts',
    'medianWorkingDaysToFirstAttempt',
    'p90WorkingDaysToFirstAttempt',
    'firstAttemptsWithDue',
    'firstAttemptsOnTime',
    'onTimeRate',
    ...(groupBy === 'rule' ? ['timesFired'] : []),
  ];
}

function csvCells(row: MonitoringRow, group: string, groupBy: GroupBy): (string | number | null)[] {
  return [
    group,
    row.signals,
    row.households,
    row.householdsSingle,
    row.householdsMultiple,
    row.householdsRepeat,
    row.signalsSuppressed,
    ...row.suppressedByStatus.map((s) => s.signals),
    row.tasksOpened,
    row.tasksClosed,
    row.tasksOpen,
    row.tasksClosedReached,
    row.reachRate,
    ...row.results.map((r) => r.tasks),
    row.tasksAcceptedHelp,
    row.acceptedHelpRate,
    row.firstAttempts,
    row.medianWorkingDaysToFirstAttempt,
    row.p90WorkingDaysToFirstAttempt,
    row.firstAttemptsWithDue,
    row.firstAttemptsOnTime,
    row.onTimeRate,
    ...(groupBy === 'rule' ? [row.timesFired ?? null] : []),
  ];
}

/**
 * RFC 4180 text: quoted when needed; a text cell that a spreadsheet would read as a formula
 * (rule names are free text) gets a leading apostrophe. Empty cell = no value (a rate of nothing).
 */
function csvCell(value: string | number | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return String(value);
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * The summary as CSV: a header, one line per group, and a last line `(total)`. The group
 * without a key (no team, no rule fired, no contact attempt yet) is written `(none)`; neither
 * label can be a team id, partner type, channel or month.
 */
export function summaryCsv(summary: MonitoringSummary): string {
  const lines = [csvColumns(summary.groupBy).join(',')];
  for (const row of summary.rows) lines.push(csvCells(row, row.group ?? '(none)', summary.groupBy).map(csvCell).join(','));
  lines.push(csvCells(summary.total, '(total)', summary.groupBy).map(csvCell).join(','));
  return lines.join('\r\n') + '\r\n';
}
