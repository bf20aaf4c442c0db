/**
 * json-rules-engine's built-in operators, with its exact semantics (json-rules-engine 7,
 * dist/engine-default-operators.js), so that the compiled evaluator answers what the engine
 * answers for every input, odd ones included:
 *
 * - an operator is `validator(factValue) && test(factValue, value)`;
 * - the numeric operators accept any fact value that `Number.parseFloat` reads as a number
 *   ("12abc", [3], "2025-01-31" all pass) and then compare with JavaScript's `<` / `>`, so
 *   strings compare as strings: ISO dates compare correctly, "10" < "9" is true;
 * - `in` / `notIn` call `value.indexOf(factValue)`: an array tests membership, a string tests
 *   for a substring, anything else throws a TypeError (which makes the engine's run fail);
 * - `contains` / `doesNotContain` are false for every fact value that is not an array.
 *
 * The casts below are deliberate: they keep JavaScript's own coercions, which is the point.
 */
import type { OperatorName } from './schema.js';

export type OperatorFn = (factValue: unknown, value: unknown) => boolean;

interface IndexOf {
  indexOf(search: unknown): number;
}

/**
 * json-rules-engine's `numberValidator`. `parseFloat` converts its argument with ToString itself.
 * A number reads back as itself (Infinity included), so only NaN fails: answered without the
 * string round trip, which is most of the cost of a numeric condition.
 */
function isNumberLike(factValue: unknown): boolean {
  if (typeof factValue === 'number') return !Number.isNaN(factValue);
  return Number.parseFloat(factValue as string).toString() !== 'NaN';
}

export const OPERATORS: Readonly<Record<OperatorName, OperatorFn>> = {
  equal: (a, b) => a === b,
  notEqual: (a, b) => a !== b,
  in: (a, b) => (b as IndexOf).indexOf(a) > -1,
  notIn: (a, b) => (b as IndexOf).indexOf(a) === -1,
  contains: (a, b) => Array.isArray(a) && a.indexOf(b) > -1,
  doesNotContain: (a, b) => Array.isArray(a) && a.indexOf(b) === -1,
  lessThan: (a, b) => isNumberLike(a) && (a as number) < (b as number),
  lessThanInclusive: (a, b) => isNumberLike(a) && (a as number) <= (b as number),
  greaterThan: (a, b) => isNumberLike(a) && (a as number) > (b as number),
  greaterThanInclusive: (a, b) => isNumberLike(a) && (a as number) >= (b as number),
};

export function isOperatorName(name: string): name is OperatorName {
  return Object.hasOwn(OPERATORS, name);
}

// ---------------------------------------------------------------------------------------------
// Paths

/**
 * A compiled fact path, or null when the path is outside the simple subset the compiled
 * evaluator handles: `$` followed by `.name` and `[index]` steps (`$.a.b`, `$[0]`, `$.list[2].x`).
 * Anything else (wildcards, filters, recursive descent, quoted names) is left to
 * json-rules-engine, which uses jsonpath-plus.
 */
export function compilePath(path: string): ((value: unknown) => unknown) | null {
  if (!/^\$((\.[A-Za-z_][A-Za-z0-9_]*)|(\[(0|[1-9]\d*)\]))*$/.test(path)) return null;
  const steps = [...path.matchAll(/\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]/g)].map((match) => match[1] ?? String(Number(match[2])));
  return (value) => {
    // The engine only resolves a path on an object (arrays included); other values pass as is.
    if (value === null || typeof value !== 'object') return value;
    // jsonpath-plus follows own properties only (so `$.length` of an array or a string is its
    // length, and `$.constructor` of a plain object is undefined).
    let current: unknown = value;
    for (const step of steps) {
      if (current === null || current === undefined || !Object.hasOwn(Object(current), step)) return undefined;
      current = (current as Record<string, unknown>)[step];
    }
    return current;
  };
}
