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
// Each literal is joined from an array: appending element by element builds a chain of
// intermediate strings, several per element, that is flattened again when the parameter is sent.
export function textArray(values: readonly (string | null)[]): string {
  const elements = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    elements[i] = value === null || value === undefined ? 'NULL' : quoted(value);
  }
  return `{${elements.join(',')}}`;
}

/** `{1,2,NULL}` for integers (bigint, int), which need no quoting. */
export function integerArray(values: readonly (number | null)[]): string {
  let hasNull = false;
  for (const value of values) {
    if (value === null || value === undefined) hasNull = true;
    else if (!Number.isSafeInteger(value)) throw new TypeError(`not an integer: ${value}`);
  }
  // join writes null as an empty element, which PostgreSQL refuses: those are spelled out.
  const elements = hasNull ? values.map((value) => (value === null || value === undefined ? 'NULL' : value)) : values;
  return `{${elements.join(',')}}`;
}

/** `{t,f}` for booleans. */
export function booleanArray(values: readonly boolean[]): string {
  return `{${values.map((value) => (value ? 't' : 'f')).join(',')}}`;
}
