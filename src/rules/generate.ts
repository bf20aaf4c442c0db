/**
 * The hot path of the compiled evaluator as generated JavaScript: a rule's conditions become a
 * few small functions whose fact reads are plain property reads (`f["crisis"]`), once per
 * rule-set version. The closures of compile.ts read every fact through one shared read with a
 * different name each time, which V8 answers with a generic dictionary lookup; a property read
 * with a fixed name on the facts object (always built with the same shape) is answered by an
 * inline cache. That made rule tests several times faster, and a simulation of a year runs two
 * rule sets over every household of it.
 *
 * Semantics are those of compile.ts's `evaluate` closures, step for step (the differential
 * tests hold both to json-rules-engine): the value of a fact comparison is read before the fact,
 * a missing fact throws UndefinedFactError, conditions run in sets of equal priority (every
 * condition of a set runs; later sets only while undecided), a single condition is its parent's
 * result as is.
 *
 * Nothing of a rule set becomes code except through JSON.stringify: fact names are emitted as
 * string literals; operators, values and paths are handed to the generated code in an array and
 * referred to by index. A rule set can therefore not inject code, whatever its names contain.
 */
import { compilePath, type OperatorFn } from './operators.js';
import { booleanOperatorOf, isFactReference, type Condition, type FactCondition } from './schema.js';

export type FactRecord = Readonly<Record<string, unknown>>;

/** json-rules-engine's condition priority: `parseInt`, and 1 when that gives nothing. */
export function conditionPriority(condition: { priority?: number }): number {
  return Number.parseInt(String(condition.priority), 10) || 1;
}

/**
 * Children grouped in sets of equal priority, highest first, in their order within a set.
 * Shared with the closures so that both run conditions in the same order.
 */
export function prioritySets<T extends { priority: number }>(children: readonly T[]): T[][] {
  const byPriority = new Map<number, T[]>();
  for (const child of children) {
    const set = byPriority.get(child.priority) ?? [];
    set.push(child);
    byPriority.set(child.priority, set);
  }
  return [...byPriority.entries()].sort(([a], [b]) => b - a).map(([, set]) => set);
}

/**
 * The test of one rule's conditions (a compilable rule: built-in or given operators, simple
 * paths only; compile.ts has checked that). `undefinedFact` builds the error for a missing fact.
 */
export function generateRuleTest(
  conditions: Condition,
  operators: Readonly<Record<string, OperatorFn>>,
  undefinedFact: (fact: string) => Error,
): (facts: FactRecord) => boolean {
  const constants: unknown[] = [];
  const functions: string[] = [];
  const constant = (value: unknown): string => `k[${constants.push(value) - 1}]`;

  /** Statements reading fact `fact` (through `path`) of `f` into `target`. */
  const read = (fact: string, path: string | undefined, target: string): string => {
    const name = JSON.stringify(fact);
    // A defined value under a name that no object inherits is an own property: the ownership
    // check is then only needed for undefined values, and for names like `toString`.
    const inherited = fact in Object.prototype;
    let source = `${target} = f[${name}];\n  if (${inherited ? '' : `${target} === undefined && `}!hasOwn(f, ${name})) throw undefinedFact(${name});\n`;
    if (path !== undefined) {
      const resolve = compilePath(path);
      if (!resolve) throw new Error(`path ${JSON.stringify(path)} is not compilable`);
      source += `  ${target} = ${constant(resolve)}(${target});\n`;
    }
    return source;
  };

  /** Emits the function of `condition`; returns its name. */
  const emit = (condition: Condition): string => {
    const name = `c${functions.length}`;
    functions.push(''); // reserve the slot: children are emitted after their parent's name is taken
    const at = functions.length - 1;
    const kind = booleanOperatorOf(condition);
    if (kind === undefined) {
      const fact = condition as FactCondition;
      if (!Object.hasOwn(operators, fact.operator)) throw new Error(`operator ${JSON.stringify(fact.operator)} is not compilable`);
      // json-rules-engine compares with a deep copy of the condition's value, so a list or
      // object in a rule is never identical to a fact value.
      const literal: unknown = typeof fact.value === 'object' && fact.value !== null ? structuredClone(fact.value) : fact.value;
      const value = isFactReference(fact.value) ? read(fact.value.fact, fact.value.path, 'v') : `v = ${constant(literal)};\n`;
      functions[at] = `function ${name}(f) {\n  let v, a;\n  ${value}  ${read(fact.fact, fact.path, 'a')}  return ${constant(operators[fact.operator])}(a, v);\n}`;
      return name;
    }
    if (kind === 'not') {
      const child = emit((condition as { not: Condition }).not);
      functions[at] = `function ${name}(f) {\n  return !${child}(f);\n}`;
      return name;
    }
    const children = (condition as Record<typeof kind, Condition[]>)[kind].map((child) => ({ name: emit(child), priority: conditionPriority(child) }));
    if (children.length === 0) {
      functions[at] = `function ${name}(f) {\n  return true;\n}`;
    } else if (children.length === 1) {
      functions[at] = `function ${name}(f) {\n  return ${children[0]!.name}(f);\n}`;
    } else {
      const isAll = kind === 'all';
      const sets = prioritySets(children).map((set) => {
        const tests = set.map((child) => (isAll ? `  if (${child.name}(f) !== true) s = false;\n` : `  if (${child.name}(f) === true) s = true;\n`));
        return `  s = ${isAll};\n${tests.join('')}  r = s;\n`;
      });
      // After each set: decided (false for all, true for any) ends the group.
      functions[at] = `function ${name}(f) {\n  let r, s;\n${sets.join(`  if (r !== ${isAll}) return r;\n`)}  return r;\n}`;
    }
    return name;
  };

  const root = emit(conditions);
  const source = `"use strict";\n${functions.join('\n')}\nreturn ${root};`;
  // The source holds no text of the rule set but JSON string literals (see above).
  const build = new Function('k', 'hasOwn', 'undefinedFact', source) as (
    k: unknown[],
    hasOwn: (object: object, key: PropertyKey) => boolean,
    undefinedFact: (fact: string) => Error,
  ) => (facts: FactRecord) => boolean;
  return build(constants, Object.hasOwn, undefinedFact);
}
