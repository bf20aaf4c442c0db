/**
 * PostgreSQL array literals for the array parameters of the bulk statements (`unnest($1::bigint[],
 * $2::text[], …)`), written in one pass. node-postgres turns a JavaScript array into the same
 * text, but through a generic path that inspects and escapes every element separately: for the
 * dozen arrays of a chunk of tasks that cost more of this process's time than computing the
 * tasks' facts. The statement casts the parameter, so the literal is read with the column's type.
 */

/** Elements that must be escaped inside a quoted element: the quote and the backslash. */
const NEEDS_ESCAPE = /["\\]/;

function quoted(value: string): string {
  return NEEDS_ESCAPE.test(value) ? `"${value.replace(/["\\]/g, '\\$&')}"` : `"${value}"`;
}

/**
 * `{"a","b",NULL}`: every element quoted, so that empty strings, `NULL`, blanks, commas and
 * braces stay text; only quotes and backslashes need escaping then.
 */
export function textArray(values: readonly (string | null)[]): string {
  let literal = '{';
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (i > 0) literal += ',';
    literal += value === null || value === undefined ? 'NULL' : quoted(value);
  }
  return literal + '}';
}

/** `{1,2,NULL}` for integers (bigint, int), which need no quoting. */
export function integerArray(values: readonly (number | null)[]): string {
  let literal = '{';
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (i > 0) literal += ',';
    if (value === null || value === undefined) literal += 'NULL';
    else if (Number.isSafeInteger(value)) literal += value;
    else throw new TypeError(`not an integer: ${value}`);
  }
  return literal + '}';
}

/** `{t,f}` for booleans. */
export function booleanArray(values: readonly boolean[]): string {
  let literal = '{';
  for (let i = 0; i < values.length; i++) literal += (i > 0 ? ',' : '') + (values[i] ? 't' : 'f');
  return literal + '}';
}
