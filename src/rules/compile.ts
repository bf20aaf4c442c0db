/**
 * The compiled evaluator: a rule set turned into plain functions once, then evaluated
 * synchronously, many thousands of times faster per household than a json-rules-engine run
 * (see bench/evaluator.ts). Simulating a rule change over a year of signals needs that. The
 * closures trace; the test that decides whether a rule fires is generated JavaScript with the
 * same semantics (generate.ts).
 *
 * It reproduces json-rules-engine's semantics exactly, including the parts that only show on
 * odd input, and the differential tests (test/unit/rules-differential.test.ts) hold it to that:
 * - operators: see operators.ts;
 * - `all` / `any` with no conditions are true (both of them);
 * - conditions of an `all` / `any` run in sets of equal condition `priority` (high first, default
 *   1); every condition of a set runs, and the remaining sets are skipped once the result is
 *   decided. This decides which conditions appear evaluated in a trace, and whether an error in
 *   a later condition (a fact that does not exist, `in` on a number) surfaces;
 * - a fact that is not in the record is an error, as in the engine without
 *   `allowUndefinedFacts`;
 * - `path` on a fact only applies to objects; `value: { "fact": … }` reads another fact.
 *
 * Whatever it cannot compile (a path beyond `$.a.b[0]`, an operator that is not a built-in) makes
 * the whole set fall back to json-rules-engine: `compiled: false`, and `evaluateAsync` routes
 * to the engine.
 */
import { evaluateWithEngine, traceWithEngine } from './engine.js';
import { conditionPriority, generateRuleTest, prioritySets, type FactRecord } from './generate.js';
import { OPERATORS, compilePath, type OperatorFn } from './operators.js';
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
import { booleanOperatorOf, isFactReference, pointer, rulePriority, type Condition, type FactCondition, type RuleDefinition, type RuleSet } from './schema.js';

/** A fact record as the evaluators take it (HouseholdFacts, or partial facts in tests). */
export type { FactRecord };

/** The same failure as json-rules-engine's UndefinedFactError. */
export class UndefinedFactError extends Error {
  constructor(readonly fact: string) {
    super(`Undefined fact: ${fact}`);
    this.name = 'UndefinedFactError';
  }
}

export class NotCompiledError extends Error {
  constructor(readonly reasons: readonly { pointer: string; detail: string }[]) {
    super(`rule set is not compiled (${reasons.map((reason) => `${reason.pointer}: ${reason.detail}`).join('; ')}); use evaluateAsync`);
    this.name = 'NotCompiledError';
  }
}

export interface CompileOptions {
  /**
   * Replace operator implementations. Only for tests: the differential test swaps in a wrong
   * operator to show that it would notice.
   */
  operators?: Readonly<Record<string, OperatorFn>>;
}

interface CompiledCondition {
  /** The priority this condition has inside its parent's `all` / `any`. */
  readonly priority: number;
  trace(facts: FactRecord): ConditionTrace;
  /** The trace of a condition that was not evaluated. */
  skeleton(): ConditionTrace;
}

export interface CompiledRule {
  readonly name: string;
  /** Position in the file. */
  readonly index: number;
  readonly priority: number;
  readonly definition: RuleDefinition;
  /** Facts the conditions refer to (the explanation shows their values). */
  readonly facts: readonly string[];
  test(facts: FactRecord): boolean;
  trace(facts: FactRecord): ConditionTrace;
}

export interface CompiledRuleSet {
  readonly ruleSet: RuleSet;
  /** False when some part needs json-rules-engine; then only the async paths work. */
  readonly compiled: boolean;
  /** Why not (JSON pointers into the rule set). */
  readonly notCompiled: readonly { pointer: string; detail: string }[];
  /** Compiled rules in precedence order (empty when `compiled` is false). */
  readonly rules: readonly CompiledRule[];
}

class NotCompilable extends Error {
  constructor(
    readonly pointer: string,
    readonly detail: string,
  ) {
    super(detail);
  }
}

function compileRead(fact: string, path: string | undefined, at: string): (facts: FactRecord) => unknown {
  const resolve = path ? compilePath(path) : null;
  if (path && !resolve) throw new NotCompilable(at, `path ${JSON.stringify(path)} is beyond $.name / [index] steps`);
  // A defined value under a name that no object inherits is an own property: the ownership
  // check is then only needed for undefined values, and for names like `toString`.
  const inherited = fact in Object.prototype;
  return (facts) => {
    const value = facts[fact];
    if ((value === undefined || inherited) && !Object.hasOwn(facts, fact)) throw new UndefinedFactError(fact);
    return resolve ? resolve(value) : value;
  };
}

function compileFactCondition(condition: FactCondition, at: string, operators: Readonly<Record<string, OperatorFn>>): CompiledCondition {
  const operator = Object.hasOwn(operators, condition.operator) ? operators[condition.operator] : undefined;
  if (!operator) throw new NotCompilable(`${at}/operator`, `operator ${JSON.stringify(condition.operator)} is not a built-in`);
  const readFact = compileRead(condition.fact, condition.path, `${at}/path`);
  // json-rules-engine compares with a deep copy of the condition's value (it clones the
  // conditions per run), so a list or object in a rule is never identical to a fact value.
  const literal: unknown = typeof condition.value === 'object' && condition.value !== null ? structuredClone(condition.value) : condition.value;
  const readValue = isFactReference(condition.value) ? compileRead(condition.value.fact, condition.value.path, `${at}/value/path`) : () => literal;
  const base = { fact: condition.fact, operator: condition.operator, value: condition.value, ...(condition.path ? { path: condition.path } : {}) };
  return {
    priority: conditionPriority(condition),
    // The engine reads the value before the fact; keep the order so the same error surfaces first.
    trace: (facts) => {
      const valueResult = readValue(facts);
      const factResult = readFact(facts);
      return { ...base, factResult, valueResult, result: operator(factResult, valueResult) };
    },
    skeleton: () => ({ ...base }),
  };
}

function compileGroup(kind: 'all' | 'any', children: CompiledCondition[], priority: number): CompiledCondition {
  const isAll = kind === 'all';
  const wrap = (traces: ConditionTrace[], result?: boolean): ConditionTrace => {
    const node: ConditionTrace = isAll ? { all: traces } : { any: traces };
    if (result !== undefined) node.result = result;
    return node;
  };
  const skeleton = (): ConditionTrace => wrap(children.map((child) => child.skeleton()));

  if (children.length === 0) {
    return { priority, trace: () => wrap([], true), skeleton };
  }
  const only = children[0];
  if (children.length === 1 && only) {
    // A single condition is evaluated directly, without sets.
    return {
      priority,
      trace: (facts) => {
        const trace = only.trace(facts);
        return wrap([trace], trace.result === true);
      },
      skeleton,
    };
  }

  // Sets of equal priority, highest first; each child remembers its position for the trace.
  const sets = prioritySets(children.map((child, position) => ({ child, position, priority: child.priority })));

  return {
    priority,
    trace: (facts) => {
      const traces = children.map((child) => child.skeleton());
      let result = isAll;
      for (const set of sets) {
        if (result !== isAll) break;
        let setResult = isAll;
        for (const { child, position } of set) {
          const trace = child.trace(facts);
          traces[position] = trace;
          const passes = trace.result === true;
          if (isAll ? !passes : passes) setResult = !isAll;
        }
        result = setResult;
      }
      return wrap(traces, result);
    },
    skeleton,
  };
}

function compileCondition(condition: Condition, at: string, operators: Readonly<Record<string, OperatorFn>>): CompiledCondition {
  const kind = booleanOperatorOf(condition);
  if (kind === undefined) return compileFactCondition(condition as FactCondition, at, operators);
  const priority = conditionPriority(condition);
  if (kind === 'not') {
    const child = compileCondition((condition as { not: Condition }).not, `${at}/not`, operators);
    return {
      priority,
      trace: (facts) => {
        const trace = child.trace(facts);
        return { not: trace, result: trace.result !== true };
      },
      skeleton: () => ({ not: child.skeleton() }),
    };
  }
  const list = (condition as Record<typeof kind, Condition[]>)[kind];
  return compileGroup(
    kind,
    list.map((child, index) => compileCondition(child, `${at}/${kind}/${index}`, operators)),
    priority,
  );
}

function compileRule(rule: RuleDefinition, index: number, operators: Readonly<Record<string, OperatorFn>>): CompiledRule {
  if (booleanOperatorOf(rule.conditions) === undefined) {
    throw new NotCompilable(pointer('rules', index, 'conditions'), 'the root of conditions must be all, any or not');
  }
  const root = compileCondition(rule.conditions, `/rules/${index}/conditions`, operators);
  return {
    name: rule.name,
    index,
    priority: rulePriority(rule),
    definition: rule,
    facts: factsReferenced(rule.conditions),
    test: generateRuleTest(rule.conditions, operators, (fact) => new UndefinedFactError(fact)),
    trace: root.trace,
  };
}

/** Compile a (validated) rule set once; evaluate it many times. */
export function compileRuleSet(ruleSet: RuleSet, options: CompileOptions = {}): CompiledRuleSet {
  const operators = options.operators ?? OPERATORS;
  const notCompiled: { pointer: string; detail: string }[] = [];
  const compiledRules: CompiledRule[] = [];
  for (const index of precedenceOrder(ruleSet.rules)) {
    const rule = ruleSet.rules[index] as RuleDefinition;
    try {
      compiledRules.push(compileRule(rule, index, operators));
    } catch (error) {
      if (!(error instanceof NotCompilable)) throw error;
      notCompiled.push({ pointer: error.pointer, detail: error.detail });
    }
  }
  const compiled = notCompiled.length === 0;
  return { ruleSet, compiled, notCompiled, rules: compiled ? compiledRules : [] };
}

/**
 * Evaluate a compiled rule set on one household's facts. Synchronous; throws NotCompiledError
 * when the set fell back to json-rules-engine (use evaluateAsync for those), and
 * UndefinedFactError when a rule refers to a fact the record lacks.
 */
export function evaluate(compiled: CompiledRuleSet, facts: FactRecord, options: EvaluateOptions = {}): Outcome {
  if (!compiled.compiled) throw new NotCompiledError(compiled.notCompiled);
  const fired: { rule: RuleDefinition; facts: Record<string, unknown> }[] = [];
  // Every rule is tested, as in the engine (so an error in any rule surfaces), in precedence order.
  for (const rule of compiled.rules) {
    if (rule.test(facts)) fired.push({ rule: rule.definition, facts: pickFacts(rule.facts, facts) });
  }
  return combineOutcome(fired, options);
}

/** Evaluate with the compiled evaluator when possible, otherwise with json-rules-engine. */
export async function evaluateAsync(compiled: CompiledRuleSet, facts: FactRecord, options: EvaluateOptions = {}): Promise<Outcome> {
  return compiled.compiled ? evaluate(compiled, facts, options) : evaluateWithEngine(compiled.ruleSet, facts, options);
}

/**
 * Every rule with every condition's result, in precedence order: "why did this rule (not)
 * fire?". Same shape as {@link traceWithEngine}.
 */
export function traceRules(compiled: CompiledRuleSet, facts: FactRecord): RuleTrace[] {
  if (!compiled.compiled) throw new NotCompiledError(compiled.notCompiled);
  return compiled.rules.map((rule) => {
    const conditions = rule.trace(facts);
    return { name: rule.name, result: conditions.result === true, conditions };
  });
}

/** {@link traceRules}, falling back to json-rules-engine for a set that is not compiled. */
export async function traceRulesAsync(compiled: CompiledRuleSet, facts: FactRecord): Promise<RuleTrace[]> {
  return compiled.compiled ? traceRules(compiled, facts) : traceWithEngine(compiled.ruleSet, facts);
}
