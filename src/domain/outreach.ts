import { firedRule, type FiredRule, type Outcome } from '../rules/outcome.js';
import type { RuleSet } from '../rules/schema.js';
import { RESULT_FOR_SUPPRESSED_STATUS, type ContactChannel, type SignalStatus, type TaskResult } from './codes.js';
import type { SignalSnapshot, TaskSnapshot } from './facts.js';
import { addWorkingDays, daysBetween } from './workingDays.js';

/**
 * What evaluation does with a household, decided from its signals, its tasks and the rule
 * outcome — pure, so every branch is unit-tested without a database.
 *
 * - One open task per household: new signals attach to the open task and re-score it.
 * - A household without an open task gets a new one, or — when a `suppress` rule fired — a
 *   closed task carrying the matching national result, and its signals get that status.
 *   A suppress never closes a task that is already open: a consultant may be working it.
 * - One household, one contact person: a new task goes straight to the consultant of the
 *   previous task (closed within 12 months) while that consultant's key is active.
 */

export const SAME_CONSULTANT_DAYS = 365;

export interface OutreachInput {
  signals: readonly (SignalSnapshot & { receivedDate: string })[];
  tasks: readonly (TaskSnapshot & { assigneeActive: boolean })[];
  outcome: Outcome;
  ruleSetVersion: number;
  /** The team whose postcode areas hold the household, if any. */
  postcodeTeam: string | null;
  today: string;
}

/**
 * Why a task has its priority, as stored on the task: the rule-set version, and per fired rule
 * its name and the fact values it tested. What a rule does (event type, points, reason, params)
 * is in that version, which never changes; the task view adds it from there (db/tasks.ts), so
 * each evaluation stores a third of the bytes it would with every rule's texts repeated.
 */
export interface Explanation {
  ruleSetVersion: number;
  rules: { name: string; facts: Record<string, unknown> }[];
  dueWorkingDays: number;
  suppressedBy: string | null;
}

export type OutreachDecision =
  | { kind: 'nothing' }
  | { kind: 'suppress'; status: SignalStatus; result: TaskResult; signalIds: number[]; explanation: Explanation }
  | {
      kind: 'task';
      /** The open task to update, or null for a new one. */
      taskId: number | null;
      signalIds: number[];
      priority: number;
      dueDate: string;
      team: string | null;
      channel: ContactChannel | null;
      assigneeKeyId: string | null;
      explanation: Explanation;
    };

/**
 * The fired rules of a stored explanation as the task view shows them: each completed from its
 * rule in `ruleSet` (the version the explanation names). A rule stored whole, as explanations
 * were before they held only names and facts, is shown as stored; a name the version does not
 * have (which a stored version cannot lose) keeps its facts and no event.
 */
export function explainedRules(stored: readonly unknown[], ruleSet: RuleSet | undefined): FiredRule[] {
  // Only rule objects explain anything; any other entry (which vroegsein never writes) is left out.
  const rules = stored.filter((rule): rule is Record<string, unknown> => typeof rule === 'object' && rule !== null && typeof (rule as { name?: unknown }).name === 'string');
  return rules.map((rule) => {
    if (typeof rule.type === 'string') return rule as unknown as FiredRule;
    const facts = (rule.facts ?? {}) as Record<string, unknown>;
    const definition = ruleSet?.rules.find((candidate) => candidate.name === rule.name);
    if (definition) return firedRule(definition, facts);
    return { name: rule.name, type: 'unknown', points: 0, reason: null, params: {}, facts } as unknown as FiredRule;
  });
}

export function explain(outcome: Outcome, ruleSetVersion: number): Explanation {
  return {
    ruleSetVersion,
    rules: outcome.fired.map((f) => ({ name: f.name, facts: f.facts })),
    dueWorkingDays: outcome.dueWorkingDays,
    suppressedBy: outcome.suppressed?.rule ?? null,
  };
}

/** What decideOutreach reads from a household's tasks and signals. */
export interface HouseholdWindow {
  /** The task that is not closed, if any (the first, should there be more). */
  openTask: OutreachInput['tasks'][number] | null;
  /** The new signals of the window (not linked to a task yet, not yet picked up), in input order. */
  signalIds: number[];
  /** The earliest day a signal of the window (not linked to a closed task) was received. */
  firstReceived: string | null;
}

/**
 * The open task and the signal window of a household, in one pass over its tasks and one over
 * its signals: this runs for every household evaluated.
 */
export function householdWindow(tasks: OutreachInput['tasks'], signals: OutreachInput['signals']): HouseholdWindow {
  let openTask: OutreachInput['tasks'][number] | null = null;
  let closedTaskIds: Set<number> | null = null;
  for (const task of tasks) {
    if (task.status === 'closed') (closedTaskIds ??= new Set()).add(task.id);
    else openTask ??= task;
  }
  const signalIds: number[] = [];
  let firstReceived: string | null = null;
  for (const signal of signals) {
    if (signal.taskId !== null && closedTaskIds?.has(signal.taskId)) continue;
    if (firstReceived === null || signal.receivedDate < firstReceived) firstReceived = signal.receivedDate;
    if (signal.taskId === null && signal.status === 'not_yet_picked_up') signalIds.push(signal.id);
  }
  return { openTask, signalIds, firstReceived };
}

export function decideOutreach(input: OutreachInput): OutreachDecision {
  const { openTask, signalIds, firstReceived } = householdWindow(input.tasks, input.signals);
  if (!openTask && signalIds.length === 0) return { kind: 'nothing' };

  const explanation = explain(input.outcome, input.ruleSetVersion);

  if (!openTask && input.outcome.suppressed) {
    const status = input.outcome.suppressed.status;
    return { kind: 'suppress', status, result: RESULT_FOR_SUPPRESSED_STATUS[status] ?? 'not_picked_up_other_reason', signalIds, explanation };
  }

  // Working days count from the day the earliest signal of the window was received.
  const dueDate = addWorkingDays(firstReceived ?? input.today, input.outcome.dueWorkingDays);
  const team = input.outcome.team ?? input.postcodeTeam;

  let assigneeKeyId: string | null = null;
  if (!openTask) {
    const previous = input.tasks
      .filter((t) => t.status === 'closed' && t.closedAt !== null && t.assigneeKeyId !== null && !t.result?.startsWith('not_picked_up'))
      .sort((a, b) => (a.closedAt! < b.closedAt! ? 1 : -1))[0];
    if (previous && previous.assigneeActive && daysBetween(previous.closedAt!.slice(0, 10), input.today) <= SAME_CONSULTANT_DAYS) {
      assigneeKeyId = previous.assigneeKeyId;
    }
  }

  return {
    kind: 'task',
    taskId: openTask?.id ?? null,
    signalIds,
    priority: input.outcome.priority,
    dueDate,
    team,
    channel: input.outcome.channel,
    assigneeKeyId,
    explanation,
  };
}

/** The team whose postcode areas contain the PC4 (the first in the given order when areas overlap). */
export function teamForPostcodeArea(teams: readonly { id: string; postcodeAreas: readonly string[] }[], postcodeArea: string): string | null {
  return teams.find((t) => t.postcodeAreas.includes(postcodeArea))?.id ?? null;
}

/**
 * teamForPostcodeArea for every PC4 at once, for evaluating many households against the same
 * teams: a municipality with district teams has hundreds of areas, and looking each household's
 * area up in every team's list cost more than the rest of routing it.
 */
export function teamsByPostcodeArea(teams: readonly { id: string; postcodeAreas: readonly string[] }[]): ReadonlyMap<string, string> {
  const byArea = new Map<string, string>();
  for (const team of teams) for (const area of team.postcodeAreas) if (!byArea.has(area)) byArea.set(area, team.id);
  return byArea;
}
