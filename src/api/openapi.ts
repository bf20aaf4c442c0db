import { z } from '@hono/zod-openapi';
import { problemSchema } from './problem.js';

/**
 * Helpers that give every operation the same documented envelope: the `API-Version` header on
 * success, and problem+json responses for the errors it can answer (400 always).
 */

export const apiVersionHeader = {
  'API-Version': { description: 'The version of the API that answered', schema: { type: 'string' as const, example: '1.0.0' } },
};

const problemContent = { 'application/problem+json': { schema: problemSchema } };

const ERROR_TEXT: Record<number, string> = {
  400: 'Invalid input (problem+json with a pointer per error)',
  401: 'No, unknown or revoked API key',
  403: 'The key has the wrong role',
  404: 'Not found, or it belongs to another municipality or integrator',
  409: 'Conflicts with the current state',
  413: 'Body or batch too large',
  415: 'Unsupported content type',
  429: 'Rate limit reached (see Retry-After)',
  503: 'Database or queue unreachable',
};

export function errorResponses(...statuses: number[]) {
  const all = new Set([400, 401, 429, ...statuses]);
  const out: Record<number, { description: string; content: typeof problemContent; headers: typeof apiVersionHeader }> = {};
  for (const status of [...all].sort()) out[status] = { description: ERROR_TEXT[status] ?? 'Error', content: problemContent, headers: apiVersionHeader };
  return out;
}

export function jsonResponse<T extends z.ZodType>(description: string, schema: T) {
  return { description, headers: apiVersionHeader, content: { 'application/json': { schema } } };
}

export function emptyResponse(description: string) {
  return { description, headers: apiVersionHeader };
}

export const security = [{ apiKey: [] }];

const DIGITS = /^[0-9]{1,20}$/;

/**
 * A whole-number path or query parameter, written in digits only. `z.coerce.number()` would also
 * read ' 1', '1e3', '0x10' and '1.0' as numbers, so one task would have many addresses and a page
 * size many spellings; anything but digits is a 400 here. Documented as an integer.
 */
export function integerParameter(min: number, max: number) {
  return z.preprocess(
    (value) => (typeof value === 'string' && DIGITS.test(value) ? Number(value) : value),
    z.number({ error: 'must be a whole number written in digits' }).int().min(min).max(max),
  );
}

/** Cursor paging query parameters shared by list endpoints. */
export const pagingQuery = {
  limit: integerParameter(1, 500).default(50).openapi({ description: 'Page size (at most 500)' }),
  cursor: z.string().max(200).optional().openapi({ description: 'The `nextCursor` of the previous page' }),
};

/** Opaque cursors: base64url of a JSON tuple, so clients cannot come to depend on their shape. */
export function encodeCursor(values: unknown[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

export function decodeCursor(cursor: string | undefined): unknown[] | null {
  if (!cursor) return null;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    return Array.isArray(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

/**
 * A calendar date 'YYYY-MM-DD', documented as `format: date`. Name such properties `…Date`
 * (the NL API Design Rules linter requires `format: date` on every property named like a date).
 */
export const isoDateSchema = () =>
  z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date is YYYY-MM-DD').openapi({ format: 'date', example: '2026-03-01' });

/** A moment in time with its offset, documented as `format: date-time`. Name such properties `…At`, never `…Date`. */
export const timestampSchema = () => z.string().openapi({ format: 'date-time', example: '2026-03-01T09:30:00.000Z' });
