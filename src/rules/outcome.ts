/**
 * From "these rules fired" to one outcome for the household. Both evaluators (the compiled one
 * and json-rules-engine) decide which rules fire; this module alone decides what that means,
 * so the two cannot disagree about it.
 *
 * Combination semantics, in *precedence order*: rule priority high to low, ties in file order.
 * - priority: the sum of the points of all fired `score` rules (may be negative);
 * - suppressed: the first fired `suppress` rule in precedence order sets status and reason;
 *   everything else is still computed and reported, the caller decides not to reach out;
 * - team / channel: the first fired `route` / `approach` rule in precedence order;
 * - dueWorkingDays: the smallest `workingDays` of the fired `due` rules (the most urgent wins),
 *   or the caller's default when none fired.
 */
import type { ContactChannel } from '../domain/codes.js';
import { isFactReference, rulePriority, type Condition, type RuleDefinition, type SuppressStatus } from './schema.js';

/** Default deadline (working days) for the first contact when no `due` rule fires. */
export const DEFAULT_DUE_WORKING_DAYS = 10;

export interface EvaluateOptions {
  /** Deadline when no `due` rule fires; a setting of the municipality (default 10). */
  defaultDueWorkingDays?: number;
}

/** A fired rule, as stored on a task to explain its priority. */
export interface FiredRule {
  name: string;
  type: RuleDefinition['event']['type'];
  /** Score points (0 for other event types). */
  points: number;
  reason: string | null;
  /** The event's params as written in the rule (team, channel, workingDays, status, …). */
  params: Record<string, unknown>;
  /** The value of every fact the rule's conditions refer to. */
  facts: Record<string, unknown>;
}

export interface Outcome {
  suppressed: null | { status: SuppressStatus; reason: string | null; rule: string };
  priority: number;
  team: string | null;
  channel: ContactChannel | null;
  dueWorkingDays: number;
  /** Fired rules in precedence order. */
  fired: FiredRule[];
}

/** The facts a rule's conditions refer to, in order of first appearance. */
export function factsReferenced(conditions: Condition): string[] {
  const names = new Set<string>();
  const visit = (condition: Condition): void => {
    // json-rules-engine's precedence when a node has several: any, all, not.
    if ('any' in condition) condition.any.forEach(visit);
    else if ('all' in condition) condition.all.forEach(visit);
    else if ('not' in condition) visit(condition.not);
    else {
      names.add(condition.fact);
      if (isFactReference(condition.value)) names.add(condition.value.fact);
    }
  };
  visit(conditions);
  return [...names];
}

/** Indexes of `rules` in precedence order: priority high to low, then file order. */
export function precedenceOrder(rules: readonly RuleDefinition[]): number[] {
  return rules
    .map((rule, index) => ({ index, priority: rulePriority(rule) }))
    .sort((a, b) => b.priority - a.priority || a.index - b.index)
    .map(({ index }) => index);
}

/**
 * Combine fired rules into an outcome.
 * @param fired the fired rules, already in precedence order, each with the facts it referred to
 */
export function combineOutcome(
  fired: readonly { rule: RuleDefinition; facts: Record<string, unknown> }[],
  options: EvaluateOptions = {},
): Outcome {
  const outcome: Outcome = {
    suppressed: null,
    priority: 0,
    team: null,
    channel: null,
    dueWorkingDays: options.defaultDueWorkingDays ?? DEFAULT_DUE_WORKING_DAYS,
    fired: [],
  };
  let due: number | null = null;
  for (const { rule, facts } of fired) {
    const event = rule.event;
    const reason = event.params.reason ?? null;
    switch (event.type) {
      case 'score':
        outcome.priority += event.params.points;
        break;
      case 'suppress':
        outcome.suppressed ??= { status: event.params.status, reason, rule: rule.name };
        break;
      case 'route':
        outcome.team ??= event.params.team;
        break;
      case 'approach':
        outcome.channel ??= event.params.channel;
        break;
      case 'due':
        due = due === null ? event.params.workingDays : Math.min(due, event.params.workingDays);
        break;
    }
    outcome.fired.push(firedRule(rule, facts));
  }
  if (due !== null) outcome.dueWorkingDays = due;
  return outcome;
}

/** A rule that fired, with the fact values it tested: its event as the rule states it. */
export function firedRule(rule: RuleDefinition, facts: Record<string, unknown>): FiredRule {
  const event = rule.event;
  return {
    name: rule.name,
    type: event.type,
    points: event.type === 'score' ? event.params.points : 0,
    reason: event.params.reason ?? null,
    params: { ...event.params },
    facts,
  };
}

/** Pick the referenced facts of a rule out of the fact record. */
export function pickFacts(names: readonly string[], facts: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const picked: Record<string, unknown> = {};
  for (const name of names) picked[name] = facts[name];
  return picked;
}

// ---------------------------------------------------------------------------------------------
// Traces: every condition with its result, in the shape of json-rules-engine's RuleResult.

/**
 * A condition after evaluation. `result` is absent on conditions that were not evaluated
 * (json-rules-engine skips the remaining conditions once an `all` / `any` is decided).
 * On a leaf, `factResult` is the fact value (after `path`), `valueResult` the compared value.
 */
export type ConditionTrace =
  | { all: ConditionTrace[]; result?: boolean }
  | { any: ConditionTrace[]; result?: boolean }
  | { not: ConditionTrace; result?: boolean }
  | { fact: string; operator: string; value: unknown; path?: string; factResult?: unknown; valueResult?: unknown; result?: boolean };

export interface RuleTrace {
  name: string;
  /** Whether the rule fired. */
  result: boolean;
  conditions: ConditionTrace;
}

/**
 * Explain an outcome in plain lines, one per fired rule, for logs and the command line:
 * `+20  Meerdere schuldeisers — partnerTypeCount = 2`.
 */
export function formatExplanation(outcome: Outcome): string {
  const lines: string[] = [];
  if (outcome.suppressed) {
    lines.push(`suppressed (${outcome.suppressed.status}) by "${outcome.suppressed.rule}"`);
  }
  lines.push(
    `priority ${outcome.priority}, due in ${outcome.dueWorkingDays} working days` +
      (outcome.channel ? `, first contact by ${outcome.channel}` : '') +
      (outcome.team ? `, team ${outcome.team}` : ''),
  );
  for (const fired of outcome.fired) {
    const label =
      fired.type === 'score' ? (fired.points >= 0 ? `+${fired.points}` : String(fired.points)) : fired.type;
    const values = Object.entries(fired.facts)
      .map(([name, value]) => `${name} = ${JSON.stringify(value)}`)
      .join(', ');
    lines.push(`${label.padEnd(9)} ${fired.name}${fired.reason ? ` (${fired.reason})` : ''} — ${values}`);
  }
  return lines.join('\n');
}
