/**
 * Validation of a rule set, with a JSON pointer into the file for every problem.
 *
 * Errors make the rule set unusable:
 * - the shape (unknown properties too, so that a typo such as "priorty" does not pass silently);
 * - event params per event type (score points, suppress status, team, channel, working days);
 * - facts that are not in the catalogue and operators that are not json-rules-engine built-ins;
 * - `in` / `notIn` without a list (json-rules-engine would fail, or match substrings);
 * - duplicate rule names: the explanation on a task names the rules that fired, and a name
 *   that means two rules explains nothing;
 * - anything json-rules-engine itself refuses when the rules are loaded into an Engine.
 *
 * Warnings leave it usable but point at a likely mistake:
 * - a fact compared with a value of another type (a number fact with "5", a list fact with
 *   `equal`), or with a code that is not in the code list;
 * - conditions inside one `all` that no value can satisfy together (x > 5 and x < 3,
 *   equal 1 and equal 2): the `all`, and so perhaps the rule, can never be true;
 * - an empty `any` (json-rules-engine treats it as true);
 * - a score or suppress rule without a reason;
 * - a path the compiled evaluator cannot handle (the set then runs on json-rules-engine).
 */
import { z } from 'zod';
import { FACT_BY_NAME, FACT_CATALOGUE, type FactDefinition } from '../domain/facts.js';
import { compileRuleSet } from './compile.js';
import { createEngine } from './engine.js';
import { OPERATORS, compilePath, isOperatorName } from './operators.js';
import {
  OPERATOR_NAMES,
  allShape,
  anyShape,
  eventParamsShapes,
  eventShape,
  factConditionShape,
  factReferenceShape,
  isFactReference,
  notShape,
  pointer,
  ruleSetShape,
  ruleShape,
  type FactCondition,
  type RuleSet,
} from './schema.js';

export interface Problem {
  pointer: string;
  detail: string;
}

export interface ValidationResult {
  valid: boolean;
  errors: Problem[];
  warnings: Problem[];
  /** The rule set, typed, when valid. */
  ruleSet: RuleSet | null;
}

export class RuleSetError extends Error {
  constructor(
    readonly errors: Problem[],
    readonly warnings: Problem[] = [],
  ) {
    super(`invalid rule set: ${errors.map((error) => `${error.pointer || '/'} ${error.detail}`).join('; ')}`);
    this.name = 'RuleSetError';
  }
}

type Path = (string | number)[];

class Problems {
  readonly errors: Problem[] = [];
  readonly warnings: Problem[] = [];
  error(path: Path, detail: string): void {
    this.errors.push({ pointer: pointer(...path), detail });
  }
  warn(path: Path, detail: string): void {
    this.warnings.push({ pointer: pointer(...path), detail });
  }
  /** Check `value` with a zod schema; report its issues at `path`. */
  check<T>(schema: z.ZodType<T>, value: unknown, path: Path): value is T {
    const result = schema.safeParse(value);
    if (result.success) return true;
    for (const issue of result.error.issues) {
      const at = [...path, ...issue.path.map((segment) => (typeof segment === 'symbol' ? String(segment) : segment))];
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) this.error([...at, key], `unknown property "${key}"`);
      } else if (issue.code === 'invalid_type' && issue.message.endsWith('received undefined')) {
        this.error(at, 'is required');
      } else {
        this.error(at, issue.message);
      }
    }
    return false;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------
// Entry points

/** Validate a parsed JSON rule set. Never throws. */
export function validateRuleSet(json: unknown): ValidationResult {
  const problems = new Problems();
  if (!isPlainObject(json)) {
    problems.error([], 'a rule set is a JSON object with name, description and rules');
    return finish(problems, null);
  }
  // Every walk below recurses (ours, zod's, json-rules-engine's, JSON.stringify): a rule set
  // nested thousands of levels deep would overflow the stack instead of being refused.
  const unfit = unstorable(json);
  if (unfit) {
    problems.error(unfit.path, unfit.detail);
    return finish(problems, null);
  }
  problems.check(ruleSetShape, json, []);
  const rules = json.rules;
  if (!Array.isArray(rules)) return finish(problems, null);

  const firstIndexOfName = new Map<string, number>();
  rules.forEach((rule: unknown, index) => {
    const at: Path = ['rules', index];
    if (!isPlainObject(rule)) {
      problems.error(at, 'a rule is an object with name, conditions and event');
      return;
    }
    problems.check(ruleShape, rule, at);
    if (typeof rule.name === 'string') {
      const first = firstIndexOfName.get(rule.name);
      if (first === undefined) firstIndexOfName.set(rule.name, index);
      else problems.error([...at, 'name'], `duplicate rule name "${rule.name}" (also ${pointer('rules', first, 'name')}): rule names identify rules in explanations`);
    }
    if (Object.hasOwn(rule, 'conditions')) checkCondition(rule.conditions, [...at, 'conditions'], problems, true);
    if (Object.hasOwn(rule, 'event')) checkEvent(rule.event, [...at, 'event'], problems);
  });

  if (problems.errors.length > 0) return finish(problems, null);
  const ruleSet = json as unknown as RuleSet;

  // Belt and braces: whatever json-rules-engine refuses is an error too.
  try {
    createEngine(ruleSet);
  } catch (error) {
    problems.error(['rules'], `json-rules-engine refuses the rules: ${(error as Error).message}`);
    return finish(problems, null);
  }
  for (const reason of compileRuleSet(ruleSet).notCompiled) {
    problems.warnings.push({
      pointer: reason.pointer,
      detail: `${reason.detail}: the rule set runs on json-rules-engine instead of the compiled evaluator (much slower)`,
    });
  }
  return finish(problems, ruleSet);
}

/** Far deeper than any real rule set (the default one nests 6 levels), shallow enough for every recursive walk. */
export const MAX_RULE_SET_DEPTH = 64;

// NUL and lone surrogates: PostgreSQL's jsonb, where versions are stored, refuses them.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const unstorableText = (text: string) => text.includes('\u0000') || LONE_SURROGATE.test(text);

/**
 * The first reason a JSON value cannot be checked or stored: nested deeper than
 * MAX_RULE_SET_DEPTH, or a string or property name that jsonb refuses. Iterative, so it never
 * overflows the stack itself; only objects and arrays wait on its list.
 */
function unstorable(json: unknown): { path: Path; detail: string } | null {
  const pending: [object, Path][] = [[json as object, []]];
  while (pending.length > 0) {
    const [value, at] = pending.pop()!;
    if (at.length >= MAX_RULE_SET_DEPTH) return { path: [], detail: `a rule set nests at most ${MAX_RULE_SET_DEPTH} levels deep` };
    const entries: [string | number, unknown][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
    for (const [key, child] of entries) {
      if (typeof key === 'string' && unstorableText(key)) return { path: at, detail: 'a property name may not contain NUL (U+0000) or a lone surrogate' };
      if (typeof child === 'string' && unstorableText(child)) return { path: [...at, key], detail: 'text may not contain NUL (U+0000) or a lone surrogate' };
      if (child !== null && typeof child === 'object') pending.push([child, [...at, key]]);
    }
  }
  return null;
}

function finish(problems: Problems, ruleSet: RuleSet | null): ValidationResult {
  const valid = problems.errors.length === 0;
  return { valid, errors: problems.errors, warnings: problems.warnings, ruleSet: valid ? ruleSet : null };
}

/** Validate and return the typed rule set; throws a RuleSetError listing the errors. */
export function parseRuleSet(json: unknown): RuleSet {
  const result = validateRuleSet(json);
  if (!result.valid || !result.ruleSet) throw new RuleSetError(result.errors, result.warnings);
  return result.ruleSet;
}

// ---------------------------------------------------------------------------------------------
// Events

function checkEvent(event: unknown, at: Path, problems: Problems): void {
  if (!problems.check(eventShape, event, at)) return;
  const schema: z.ZodType<{ reason?: string }> = eventParamsShapes[event.type];
  if (!problems.check(schema, event.params, [...at, 'params'])) return;
  if ((event.type === 'score' || event.type === 'suppress') && event.params.reason === undefined) {
    problems.warn([...at, 'params'], `a ${event.type} rule without a reason leaves consultants guessing why`);
  }
}

// ---------------------------------------------------------------------------------------------
// Conditions

function checkCondition(node: unknown, at: Path, problems: Problems, isRoot: boolean): void {
  if (!isPlainObject(node)) {
    problems.error(at, 'a condition is an object: { all | any | not } or { fact, operator, value }');
    return;
  }
  const booleans = (['any', 'all', 'not'] as const).filter((key) => Object.hasOwn(node, key));
  if (booleans.length > 1) {
    problems.error(at, `use one of ${booleans.join(', ')} per condition (json-rules-engine would only look at "${booleans[0]}")`);
    return;
  }
  const kind = booleans[0];
  if (kind === undefined) {
    if (Object.hasOwn(node, 'condition')) {
      problems.error([...at, 'condition'], 'condition references are not supported: write the conditions out');
    } else if (isRoot) {
      problems.error(at, 'the root of conditions must be all, any or not');
    } else if (problems.check(factConditionShape, node, at)) {
      checkFactCondition(node as FactCondition, at, problems);
    }
    return;
  }
  if (kind === 'not') {
    if (problems.check(notShape, node, at)) checkCondition(node.not, [...at, 'not'], problems, false);
    return;
  }
  const schema: z.ZodType = kind === 'all' ? allShape : anyShape;
  if (!problems.check(schema, node, at)) return;
  const children = node[kind] as unknown[];
  if (kind === 'any' && children.length === 0) {
    problems.warn([...at, 'any'], 'an empty any is always true in json-rules-engine');
  }
  children.forEach((child, index) => checkCondition(child, [...at, kind, index], problems, false));
  if (kind === 'all') checkSatisfiable(children, at, problems, isRoot);
}

type Kind = 'number' | 'boolean' | 'string' | 'list' | 'null' | 'object';

function factKind(fact: FactDefinition): Exclude<Kind, 'null' | 'object'> {
  switch (fact.type) {
    case 'integer':
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'string':
    case 'date':
      return 'string';
    case 'string[]':
      return 'list';
  }
}

function valueKind(value: unknown): Kind {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'list';
  switch (typeof value) {
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'string':
      return 'string';
    default:
      return 'object';
  }
}

function unknownFact(name: string): string {
  const suggestion = closestFact(name);
  return `unknown fact "${name}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}; the facts are listed in rules/README.md`;
}

function checkFactCondition(condition: FactCondition, at: Path, problems: Problems): void {
  const fact = FACT_BY_NAME.get(condition.fact);
  if (!fact) problems.error([...at, 'fact'], unknownFact(condition.fact));

  const operatorKnown = isOperatorName(condition.operator);
  if (!operatorKnown) {
    problems.error([...at, 'operator'], `unknown operator "${condition.operator}"; use one of ${OPERATOR_NAMES.join(', ')}`);
  }

  // The value: a constant, or { fact } for a comparison with another fact.
  let other: FactDefinition | undefined;
  const value = condition.value;
  if (isFactReference(value)) {
    if (problems.check(factReferenceShape, value, [...at, 'value'])) {
      other = FACT_BY_NAME.get(value.fact);
      if (!other) problems.error([...at, 'value', 'fact'], unknownFact(value.fact));
      if (value.path !== undefined) checkPath(value.path, other, [...at, 'value', 'path'], problems);
      if (value.params !== undefined) problems.warn([...at, 'value', 'params'], 'params have no effect: every fact is a plain value');
    }
  }
  if (condition.path !== undefined) checkPath(condition.path, fact, [...at, 'path'], problems);
  if (condition.params !== undefined) problems.warn([...at, 'params'], 'params have no effect: every fact is a plain value');

  const operator = condition.operator;
  if (operator === 'in' || operator === 'notIn') {
    const isList = isFactReference(value) ? other === undefined || other.type === 'string[]' : Array.isArray(value);
    if (!isList) problems.error([...at, 'value'], `${operator} takes a list of values, e.g. ["rent", "energy"]`);
  }

  // Type checks need a known fact, a known operator and no path (a path changes the type).
  if (!fact || !operatorKnown || condition.path !== undefined) return;
  if (isFactReference(value)) {
    if (other && value.path === undefined) checkFactComparison(fact, operator, other, at, problems);
  } else {
    checkLiteral(fact, operator, value, at, problems);
  }
}

function checkPath(path: string, fact: FactDefinition | undefined, at: Path, problems: Problems): void {
  if (fact && fact.type !== 'string[]') {
    problems.warn(at, `${fact.name} is a ${fact.type}, not an object or list: the path is ignored`);
  }
  if (path !== '' && compilePath(path) === null) {
    problems.warn(at, 'only $.name and [index] paths are compiled');
  }
}

function describe(value: unknown): string {
  return `${valueKind(value)} ${JSON.stringify(value)}`;
}

function checkLiteral(fact: FactDefinition, operator: string, value: unknown, at: Path, problems: Problems): void {
  const kind = factKind(fact);
  const valueAt: Path = [...at, 'value'];
  const checkScalar = (scalar: unknown, where: Path): void => {
    const scalarKind = valueKind(scalar);
    if (scalarKind === 'null') {
      if (!fact.nullable) problems.warn(where, `${fact.name} is never null`);
    } else if (kind === 'list' ? scalarKind !== 'string' : scalarKind !== kind) {
      problems.warn(where, `${fact.name} is a ${fact.type}, compared with ${describe(scalar)}: never equal`);
    } else if (fact.type === 'integer' && typeof scalar === 'number' && !Number.isInteger(scalar)) {
      problems.warn(where, `${fact.name} is a whole number, never equal to ${scalar}`);
    } else if (fact.codes && typeof scalar === 'string' && !fact.codes.includes(scalar)) {
      problems.warn(where, `"${scalar}" is not a code of ${fact.name} (${fact.codes.join(', ')})`);
    }
  };

  switch (operator) {
    case 'equal':
    case 'notEqual':
      if (kind === 'list') problems.warn(at, `${fact.name} is a list: ${operator} compares identity, use contains / doesNotContain`);
      else checkScalar(value, valueAt);
      break;
    case 'in':
    case 'notIn':
      if (kind === 'list') problems.warn(at, `${fact.name} is a list: use contains / doesNotContain`);
      else if (Array.isArray(value)) value.forEach((element, index) => checkScalar(element, [...valueAt, index]));
      break;
    case 'contains':
    case 'doesNotContain':
      if (kind !== 'list') problems.warn(at, `${operator} is never true on ${fact.name}, a ${fact.type} (json-rules-engine only lets lists pass)`);
      else checkScalar(value, valueAt);
      break;
    default: {
      // lessThan, lessThanInclusive, greaterThan, greaterThanInclusive
      if (kind === 'boolean' || kind === 'list') {
        problems.warn(at, `${operator} is never true on ${fact.name}, a ${fact.type}`);
      } else if (fact.type === 'date') {
        if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) {
          problems.warn(valueAt, `${fact.name} is a date: compare with a "YYYY-MM-DD" string, not ${describe(value)}`);
        }
      } else if (kind === 'number' && typeof value !== 'number') {
        problems.warn(valueAt, `${fact.name} is a number, compared with ${describe(value)}`);
      } else if (kind === 'string' && typeof value !== 'number' && typeof value !== 'string') {
        problems.warn(valueAt, `${fact.name} is text, compared with ${describe(value)}`);
      }
    }
  }
}

function checkFactComparison(fact: FactDefinition, operator: string, other: FactDefinition, at: Path, problems: Problems): void {
  const [a, b] = [factKind(fact), factKind(other)];
  const numeric = ['lessThan', 'lessThanInclusive', 'greaterThan', 'greaterThanInclusive'].includes(operator);
  if ((operator === 'contains' || operator === 'doesNotContain') && a !== 'list') {
    problems.warn(at, `${operator} is never true on ${fact.name}, a ${fact.type}`);
  } else if ((operator === 'equal' || operator === 'notEqual' || numeric) && a !== b) {
    problems.warn([...at, 'value', 'fact'], `compares ${fact.name} (${fact.type}) with ${other.name} (${other.type})`);
  } else if (numeric && (a === 'boolean' || a === 'list')) {
    problems.warn(at, `${operator} is never true on ${fact.name}, a ${fact.type}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Contradictions inside one `all`

/**
 * Warn when the constant conditions on one fact inside an `all` cannot all hold. For each fact
 * it tries candidate values that cover every case the conditions can distinguish: each constant,
 * the midpoints between constants (for integer facts the next whole number) and values beyond
 * them, true/false, null when the fact can be null, and for a list the smallest list with every
 * value it must contain. No candidate passes ⇒ no value passes.
 */
function checkSatisfiable(children: unknown[], at: Path, problems: Problems, isRoot: boolean): void {
  const byFact = new Map<string, FactCondition[]>();
  for (const child of children) {
    if (!isPlainObject(child) || !factConditionShape.safeParse(child).success) continue;
    const condition = child as unknown as FactCondition;
    if (condition.path !== undefined || isFactReference(condition.value) || !isOperatorName(condition.operator)) continue;
    if (!FACT_BY_NAME.has(condition.fact)) continue;
    const list = byFact.get(condition.fact) ?? [];
    list.push(condition);
    byFact.set(condition.fact, list);
  }
  for (const [name, conditions] of byFact) {
    const fact = FACT_BY_NAME.get(name) as FactDefinition;
    const candidates = candidateValues(fact, conditions);
    if (candidates === null) continue;
    const satisfiable = candidates.some((candidate) =>
      conditions.every((condition) => {
        try {
          return OPERATORS[condition.operator as keyof typeof OPERATORS](candidate, condition.value);
        } catch {
          return false;
        }
      }),
    );
    if (!satisfiable) {
      const summary = conditions.map((condition) => `${condition.operator} ${JSON.stringify(condition.value)}`).join(' and ');
      problems.warn(at, `${isRoot ? 'the rule can never fire' : 'this all can never be true'}: no value of ${name} is ${summary}`);
    }
  }
}

/** Candidate values of a fact, or null when the check does not apply (then it is skipped). */
function candidateValues(fact: FactDefinition, conditions: FactCondition[]): unknown[] | null {
  const constants = conditions.flatMap((condition) => (Array.isArray(condition.value) ? condition.value : [condition.value]));
  // A constant of another type is a type mistake, reported as such; do not guess here.
  const kind = factKind(fact) === 'list' ? 'string' : factKind(fact);
  if (constants.some((constant) => (constant === null ? !fact.nullable : valueKind(constant) !== kind))) return null;
  // Likewise an operator that never fits the fact's type (contains on a number, …).
  const uses = (...operators: string[]) => conditions.some((condition) => operators.includes(condition.operator));
  if (fact.type !== 'string[]' && uses('contains', 'doesNotContain')) return null;
  if (fact.type === 'boolean' && uses('lessThan', 'lessThanInclusive', 'greaterThan', 'greaterThanInclusive')) return null;
  const extra: unknown[] = fact.nullable ? [null] : [];
  switch (fact.type) {
    case 'boolean':
      return [true, false, ...extra];
    case 'integer':
    case 'number': {
      const numbers = constants.filter((constant): constant is number => typeof constant === 'number' && Number.isFinite(constant));
      const sorted = [...new Set(numbers)].sort((a, b) => a - b);
      if (sorted.length === 0) return [0, ...extra];
      const points: number[] = [...sorted, (sorted[0] as number) - 1, (sorted[sorted.length - 1] as number) + 1];
      for (let i = 0; i + 1 < sorted.length; i += 1) points.push(((sorted[i] as number) + (sorted[i + 1] as number)) / 2);
      if (fact.type === 'integer') {
        // Whole numbers only: around each constant, and inside each gap between constants.
        const integers = sorted.flatMap((n) => [Math.floor(n) - 1, Math.floor(n), Math.floor(n) + 1, Math.ceil(n)]);
        return [...new Set([...integers, ...points.map(Math.floor)]), ...extra];
      }
      return [...points, ...extra];
    }
    case 'string':
    case 'date': {
      // Only decidable when some condition pins the value to constants (equal / in).
      const pinned = conditions.some((condition) => condition.operator === 'equal' || condition.operator === 'in');
      return pinned ? [...constants, ...extra] : null;
    }
    case 'string[]': {
      if (conditions.some((condition) => condition.operator !== 'contains' && condition.operator !== 'doesNotContain')) return null;
      const required = conditions.filter((condition) => condition.operator === 'contains').map((condition) => condition.value);
      return [[...new Set(required)]];
    }
  }
}

// ---------------------------------------------------------------------------------------------
// "Did you mean": the closest fact name by edit distance, when it is close enough.

const MAX_SUGGESTION_LENGTH = 100;

function closestFact(name: string): string | null {
  // No fact name is this long: skip the edit distance, which costs name length × fact length per fact.
  if (name.length > MAX_SUGGESTION_LENGTH) return null;
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const fact of FACT_CATALOGUE) {
    const distance = editDistance(name.toLowerCase(), fact.name.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [fact.name, distance];
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 4)) ? best : null;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length] as number;
}
