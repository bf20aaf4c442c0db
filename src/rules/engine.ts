/**
 * The reference path: evaluate a rule set with json-rules-engine itself.
 *
 * json-rules-engine is the reference semantics of vroegsein's rules; the compiled evaluator is
 * checked against this path. It is also the fallback for rule sets that cannot be compiled.
 *
 * Pitfall: an Engine keeps its run state on the instance. Two `run()`s on one Engine at the
 * same time interfere: when the first run finishes it marks the engine finished, and the other
 * run silently skips its remaining rules. So every evaluation here builds its own Engine
 * (cheap next to the run itself), and concurrent evaluations are safe.
 */
import { Engine, type RuleProperties, type RuleResult } from 'json-rules-engine';
import {
  combineOutcome,
  factsReferenced,
  pickFacts,
  precedenceOrder,
  type ConditionTrace,
  type EvaluateOptions,
  type Outcome,
  type RuleTrace,
} from './outcome.js';
import type { RuleDefinition, RuleSet } from './schema.js';

type FactRecord = Readonly<Record<string, unknown>>;

/** A fresh Engine with the rule set's rules (one per evaluation: see the pitfall above). */
export function createEngine(ruleSet: RuleSet): Engine {
  return new Engine(
    ruleSet.rules.map((rule) => ({
      name: rule.name,
      priority: rule.priority,
      conditions: rule.conditions,
      event: rule.event,
    })) as RuleProperties[],
  );
}

/** Run the rules on a fresh Engine; the rule results of all rules, fired or not. */
async function run(ruleSet: RuleSet, facts: FactRecord): Promise<Map<string, RuleResult>> {
  // The engine treats a function as a dynamic fact; the facts here are plain values, copied so
  // that nothing the engine does can touch the caller's object.
  const { results, failureResults } = await createEngine(ruleSet).run({ ...facts });
  return new Map([...results, ...failureResults].map((result) => [result.name, result]));
}

/** Evaluate with json-rules-engine; the same Outcome as the compiled `evaluate`. */
export async function evaluateWithEngine(ruleSet: RuleSet, facts: FactRecord, options: EvaluateOptions = {}): Promise<Outcome> {
  const results = await run(ruleSet, facts);
  const fired: { rule: RuleDefinition; facts: Record<string, unknown> }[] = [];
  for (const index of precedenceOrder(ruleSet.rules)) {
    const rule = ruleSet.rules[index] as RuleDefinition;
    // Rule names are unique in a valid rule set, so the name identifies the result.
    if (results.get(rule.name)?.result === true) {
      fired.push({ rule, facts: pickFacts(factsReferenced(rule.conditions), facts) });
    }
  }
  return combineOutcome(fired, options);
}

/** Every rule with every condition's result, as json-rules-engine evaluated them. */
export async function traceWithEngine(ruleSet: RuleSet, facts: FactRecord): Promise<RuleTrace[]> {
  const results = await run(ruleSet, facts);
  return precedenceOrder(ruleSet.rules).map((index) => {
    const rule = ruleSet.rules[index] as RuleDefinition;
    const result = results.get(rule.name);
    const fired = result?.result === true;
    const conditions = toTrace(result?.conditions ?? rule.conditions);
    // The engine leaves the root condition without a result; the rule's result is that result.
    conditions.result = fired;
    return { name: rule.name, result: fired, conditions };
  });
}

/** Convert json-rules-engine's evaluated condition tree (Condition instances) to a trace. */
function toTrace(node: object): ConditionTrace {
  const condition = node as Record<string, unknown>;
  const result = typeof condition.result === 'boolean' ? condition.result : undefined;
  let trace: ConditionTrace;
  if (Object.hasOwn(condition, 'any')) trace = { any: (condition.any as object[]).map(toTrace) };
  else if (Object.hasOwn(condition, 'all')) trace = { all: (condition.all as object[]).map(toTrace) };
  else if (Object.hasOwn(condition, 'not')) trace = { not: toTrace(condition.not as object) };
  else {
    trace = { fact: String(condition.fact), operator: String(condition.operator), value: condition.value };
    if (condition.path) trace.path = String(condition.path);
    if (result !== undefined) {
      trace.factResult = condition.factResult;
      trace.valueResult = condition.valueResult;
    }
  }
  if (result !== undefined) trace.result = result;
  return trace;
}
