import { z } from '@hono/zod-openapi';

/**
 * The one error path of the API: every failure becomes an RFC 9457 problem+json document.
 * Handlers throw a ProblemError; the app's error handler renders it.
 */

export interface ProblemFieldError {
  /** JSON pointer into the request body or query, e.g. '/signals/17/address/postcode'. */
  pointer: string;
  detail: string;
}

const TITLES: Record<number, string> = {
  400: 'Invalid input',
  401: 'Not authenticated',
  403: 'Not allowed',
  404: 'Not found',
  409: 'Conflict',
  413: 'Too large',
  415: 'Unsupported media type',
  422: 'Unprocessable request',
  429: 'Too many requests',
  500: 'Internal error',
  503: 'Service unavailable',
};

export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly options: { title?: string; type?: string; errors?: ProblemFieldError[]; headers?: Record<string, string>; extra?: Record<string, unknown> } = {},
  ) {
    super(detail);
  }
}

export const problem = {
  badRequest: (detail: string, errors?: ProblemFieldError[]) => new ProblemError(400, detail, { type: 'validation', errors }),
  unauthorized: (detail = 'A valid API key is required: Authorization: Bearer <key>') =>
    new ProblemError(401, detail, { type: 'unauthorized', headers: { 'WWW-Authenticate': 'Bearer' } }),
  forbidden: (detail = 'This API key may not do this') => new ProblemError(403, detail, { type: 'forbidden' }),
  notFound: (detail = 'No such resource') => new ProblemError(404, detail, { type: 'not-found' }),
  conflict: (detail: string, extra?: Record<string, unknown>) => new ProblemError(409, detail, { type: 'conflict', extra }),
  tooLarge: (detail: string) => new ProblemError(413, detail, { type: 'too-large' }),
  unsupportedMediaType: (detail: string) => new ProblemError(415, detail, { type: 'unsupported-media-type' }),
  tooManyRequests: (retryAfterSeconds: number) =>
    new ProblemError(429, `Rate limit reached; retry after ${retryAfterSeconds} s`, { type: 'rate-limited', headers: { 'Retry-After': String(retryAfterSeconds) } }),
  unavailable: (detail = 'A backing service (database or queue) cannot be reached; retry later') =>
    new ProblemError(503, detail, { type: 'unavailable', headers: { 'Retry-After': '5' } }),
};

export function problemBody(error: ProblemError, instance?: string) {
  return {
    type: `urn:vroegsein:problem:${error.options.type ?? 'about'}`,
    title: error.options.title ?? TITLES[error.status] ?? 'Error',
    status: error.status,
    detail: error.detail,
    ...(instance ? { instance } : {}),
    ...(error.options.errors ? { errors: error.options.errors } : {}),
    ...(error.options.extra ?? {}),
  };
}

export const problemSchema = z
  .object({
    type: z.string().openapi({ example: 'urn:vroegsein:problem:validation' }),
    title: z.string().openapi({ example: 'Invalid input' }),
    status: z.number().int().openapi({ example: 400 }),
    detail: z.string(),
    instance: z.string().optional(),
    code: z.string().optional().openapi({ description: 'For state conflicts (409): the rule that refused, e.g. too_few_attempts' }),
    errors: z
      .array(z.object({ pointer: z.string().openapi({ example: '/signals/17/address/postcode' }), detail: z.string() }))
      .optional(),
  })
  .openapi('Problem');
