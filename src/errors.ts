/**
 * A failure whose message tells the operator what to do (a port in use, a directory the
 * database user cannot enter, …). The CLI prints its message alone, without a stack trace.
 */
export class OperatorError extends Error {
  override name = 'OperatorError';
}
