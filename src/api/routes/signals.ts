import { createRoute, z } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import type { AppContext } from '../../context.js';
import { CSV_COLUMNS, signalItemSchema } from '../../domain/signal.js';
import { importCsvStream, importJsonStream, parseIdempotencyKey, readBatch, readBatchDuplicates, type IntakeAnswer } from '../../services/intake.js';
import type { ApiApp, ApiEnv } from '../env.js';
import { assertRole, audit, origin } from '../middleware/auth.js';
import { rateLimit } from '../middleware/rateLimit.js';
import { apiVersionHeader, errorResponses, jsonResponse, security, timestampSchema, integerParameter } from '../openapi.js';
import { problem, ProblemError, problemSchema } from '../problem.js';

/**
 * Signal intake (POST /v1/signals, JSON or CSV) and the batch read. The POST is a plain handler
 * because a CSV body is streamed, never parsed whole by a validator; its documentation is
 * registered separately. Everything else happens in services/intake.ts, shared with the feed
 * folder worker and `vroegsein import`.
 */

const jsonRejection = z
  .object({
    index: z.number().int().openapi({ description: 'Position of the item in `signals` (from 0)' }),
    errors: z.array(z.object({ pointer: z.string().openapi({ example: '/signals/17/address/postcode' }), detail: z.string() })),
  })
  .openapi('SignalItemRejection');
const csvRejection = z
  .object({
    row: z.number().int().openapi({ description: 'Line number in the file where the row starts (the header is line 1)' }),
    errors: z.array(
      z.object({ column: z.string().nullable().openapi({ description: 'null when the error concerns the whole row', example: 'postcode' }), detail: z.string() }),
    ),
  })
  .openapi('SignalRowRejection');
const rejection = z.union([jsonRejection, csvRejection]);

const externalId = z.string().openapi({ description: 'The externalId of the item or row' });
const jsonDuplicate = z
  .object({ index: z.number().int().openapi({ description: 'Position of the item in `signals` (from 0)' }), externalId })
  .openapi('SignalItemDuplicate');
const csvDuplicate = z
  .object({ row: z.number().int().openapi({ description: 'Line number in the file where the row starts (the header is line 1)' }), externalId })
  .openapi('SignalRowDuplicate');
const duplicate = z.union([jsonDuplicate, csvDuplicate]);

const counts = {
  batchId: z.string().uuid(),
  received: z.number().int().openapi({ description: 'Items (JSON) or rows (CSV) received' }),
  accepted: z.number().int().openapi({ description: 'Stored now' }),
  duplicates: z.number().int().openapi({ description: 'Valid, but stored before or earlier in this batch (same partner and externalId)' }),
  rejectedCount: z.number().int(),
};

const batchAnswer = z
  .object({
    ...counts,
    rejected: z.array(rejection).openapi({ description: 'The first 1,000 rejected items or rows; GET /signal-batches/{batchId} pages through all' }),
    duplicated: z.array(duplicate).openapi({
      description:
        'The first 1,000 valid items or rows not stored because their signal (same partner and externalId) was stored before or earlier in this batch; GET /signal-batches/{batchId}/duplicates pages through all. Every item listed neither here nor in `rejected` was accepted.',
    }),
  })
  .openapi('SignalBatchAnswer');

const intakeProblem = problemSchema
  .extend({
    errors: z
      .array(
        z.object({
          pointer: z.string().openapi({ example: '/rows/5/postcode' }),
          detail: z.string(),
          row: z.number().int().optional().openapi({ description: 'CSV: the line number' }),
          column: z.string().nullable().optional().openapi({ description: 'CSV: the column; null for the whole row' }),
        }),
      )
      .optional(),
    batchId: z.string().uuid().optional().openapi({ description: 'Present when a batch was created (its rejections can be read)' }),
    received: z.number().int().optional(),
    accepted: z.number().int().optional(),
    duplicates: z.number().int().optional(),
    rejectedCount: z.number().int().optional(),
    rejected: z.array(rejection).optional().openapi({ description: 'When the input broke off part-way: the first 1,000 rejected items or rows before that point' }),
    duplicated: z.array(duplicate).optional().openapi({ description: 'When the input broke off part-way: the first 1,000 duplicate items or rows before that point' }),
  })
  .openapi('SignalIntakeProblem');

const batchView = z
  .object({
    ...counts,
    source: z.enum(['api-json', 'api-csv', 'feed', 'cli']),
    format: z.enum(['json', 'csv']),
    fileName: z.string().nullable(),
    status: z.enum(['processing', 'completed', 'failed']),
    responseStatus: z.number().int().nullable().openapi({ description: 'The HTTP status the intake answered with' }),
    failure: z.string().nullable(),
    failedRow: z.number().int().nullable(),
    createdAt: timestampSchema(),
    completedAt: timestampSchema().nullable(),
    rejected: z.array(rejection),
    nextCursor: z.string().nullable(),
  })
  .openapi('SignalBatch');

const batchParams = z.object({ batchId: z.string().uuid().openapi({ param: { name: 'batchId', in: 'path' } }) });
/** A page of one of a batch's lists, by position. */
const pageQuery = (limitDescription: string) =>
  z
    .object({
      limit: integerParameter(1, 1_000).default(100).openapi({ description: limitDescription }),
      cursor: z.string().regex(/^[0-9]{1,10}$/, 'not a cursor of this list').optional().openapi({ description: 'The `nextCursor` of the previous page' }),
    })
    .strict();

const CSV_DESCRIPTION = [
  'A header row, then one signal per row. Columns (any order; required ones marked *):',
  CSV_COLUMNS.map((c) => (['externalId', 'partnerType', 'signalDate', 'amountCents', 'postcode', 'houseNumber'].includes(c) ? `${c}*` : c)).join(', ') + '.',
  'Separator `,` or `;` (detected from the header line); UTF-8 with or without BOM; quoting as RFC 4180.',
  'Booleans: true/false, 1/0, yes/no, ja/nee. An empty cell is an absent value.',
].join(' ');

const idempotencyHeader = z.object({
  'idempotency-key': z.string().min(1).max(255).optional().openapi({
    description:
      'Makes a retry safe: the same key (per API key) with the same body returns the first answer; with another body 422; while the first is still running 409.',
  }),
});

/** The intake limit per key and minute, on top of the general one. Built per context (tests run several). */
const intakeLimiters = new WeakMap<AppContext, MiddlewareHandler<ApiEnv>>();
const intakeRateLimit: MiddlewareHandler<ApiEnv> = (c, next) => {
  const ctx = c.get('ctx');
  let limiter = intakeLimiters.get(ctx);
  if (!limiter) {
    limiter = rateLimit(ctx.config.INTAKE_RATE_LIMIT_PER_MINUTE, ctx.now);
    intakeLimiters.set(ctx, limiter);
  }
  return limiter(c, next);
};

function mediaType(header: string | undefined): { type: string; charset: string | null } {
  const [type = '', ...parameters] = (header ?? '').split(';');
  const charset = parameters.map((p) => p.trim().toLowerCase()).find((p) => p.startsWith('charset='));
  return { type: type.trim().toLowerCase(), charset: charset ? charset.slice('charset='.length).replace(/"/g, '') : null };
}

async function* emptyBody(): AsyncGenerator<Uint8Array> {}

/**
 * False when the answer goes out before the whole body was read (413, a bad header, a key in
 * use): the connection is then closed after the answer, so that the client does not reuse a
 * connection it is still uploading on.
 */
function bodyReadToEnd(c: Context<ApiEnv>): boolean {
  const incoming = (c.env as { incoming?: { complete?: boolean } } | undefined)?.incoming;
  return incoming?.complete ?? true;
}

function send(c: Context<ApiEnv>, answer: IntakeAnswer): Response {
  const headers: Record<string, string> = { Location: `/v1/signal-batches/${answer.batchId}` };
  if (answer.replayed) headers['Idempotent-Replayed'] = 'true';
  if (!bodyReadToEnd(c)) headers.Connection = 'close';
  if (answer.status === 202) return c.json(answer.body, 202, headers);
  return c.body(JSON.stringify(answer.body), answer.status as 400 | 413, { ...headers, 'Content-Type': 'application/problem+json' });
}

export function registerSignalRoutes(v1: ApiApp): void {
  v1.openAPIRegistry.registerPath({
    method: 'post',
    path: '/signals',
    tags: ['Signals'],
    summary: 'Send a batch of early signals (integrator, admin): JSON up to 10,000 items, or a CSV file up to 1,000,000 rows',
    description: [
      'Every item is validated on its own: the valid ones are stored (with their household, marked for evaluation) and committed',
      'before the 202; the answer counts accepted items and duplicates (same partner type, partner name and externalId as a signal',
      'stored before, or earlier in the batch) and lists rejected items with their errors. When not a single item is valid the',
      'answer is 400 with every error as a pointer (`/signals/17/address/postcode`; for CSV `/rows/{line}/{column}`). A CSV',
      'file is streamed and written in chunks: when it breaks off part-way (broken quoting: 400; too many rows or bytes: 413)',
      'the rows before that point stay stored and the problem says so with the counts. Limits: MAX_BODY_BYTES (JSON, 5 MiB),',
      'MAX_BATCH_ITEMS (10,000), MAX_CSV_BYTES (512 MiB), MAX_CSV_ROWS (1,000,000), INTAKE_RATE_LIMIT_PER_MINUTE.',
    ].join(' '),
    security,
    request: {
      headers: idempotencyHeader,
      body: {
        required: true,
        content: {
          'application/json': { schema: z.object({ signals: z.array(signalItemSchema).min(1) }).openapi('SignalBatchInput') },
          'text/csv': { schema: z.string().openapi({ description: CSV_DESCRIPTION, example: 'externalId;partnerType;signalDate;amountCents;postcode;houseNumber\nE-1;energy;2026-03-01;12550;2261AB;12\n' }) },
        },
      },
    },
    responses: {
      202: {
        ...jsonResponse('Committed: counts and the rejected items', batchAnswer),
        headers: { ...apiVersionHeader, Location: { description: 'The batch: GET /v1/signal-batches/{batchId}', schema: { type: 'string' } } },
      },
      ...errorResponses(403, 409, 413, 415, 503),
      400: { description: 'Not a single valid item, or the input is not readable (problem+json)', headers: apiVersionHeader, content: { 'application/problem+json': { schema: intakeProblem } } },
      413: { description: 'Body, batch or file too large', headers: apiVersionHeader, content: { 'application/problem+json': { schema: intakeProblem } } },
      422: { description: 'The Idempotency-Key was used before with another body', headers: apiVersionHeader, content: { 'application/problem+json': { schema: problemSchema } } },
    },
  });

  v1.post('/signals', intakeRateLimit, async (c) => {
    const actor = c.get('actor');
    assertRole(actor, 'integrator', 'admin');
    const ctx = c.get('ctx');
    const { type, charset } = mediaType(c.req.header('content-type'));
    const isJson = type === 'application/json';
    if (!isJson && type !== 'text/csv') throw problem.unsupportedMediaType('Send application/json ({ "signals": [...] }) or text/csv');
    if (charset && charset !== 'utf-8' && charset !== 'utf8') throw problem.unsupportedMediaType('Only UTF-8 is accepted');
    const declared = c.req.header('content-length');
    const options = {
      source: isJson ? ('api-json' as const) : ('api-csv' as const),
      actor,
      idempotencyKey: parseIdempotencyKey(c.req.header('idempotency-key')),
      contentLength: declared && /^[0-9]+$/.test(declared) ? Number(declared) : null,
      origin: origin(c),
      requestId: c.get('requestId'),
    };
    const body = c.req.raw.body ?? emptyBody();
    try {
      const answer = isJson ? await importJsonStream(ctx, body, options) : await importCsvStream(ctx, body, options);
      return send(c, answer);
    } catch (error) {
      if (error instanceof ProblemError && !bodyReadToEnd(c)) {
        throw new ProblemError(error.status, error.detail, { ...error.options, headers: { ...error.options.headers, Connection: 'close' } });
      }
      throw error;
    }
  });

  v1.openapi(
    createRoute({
      method: 'get',
      path: '/signal-batches/{batchId}',
      tags: ['Signals'],
      summary: 'A batch: its status, counts and rejected items (paged); for the key that sent it and admins',
      security,
      request: { params: batchParams, query: pageQuery('Rejections per page (at most 1,000)') },
      responses: { 200: jsonResponse('The batch', batchView), ...errorResponses(404) },
    }),
    async (c) => {
      const { batchId } = c.req.valid('param');
      const { limit, cursor } = c.req.valid('query');
      const view = await readBatch(c.get('ctx'), c.get('actor'), batchId, { limit, after: cursor === undefined ? null : Number(cursor) });
      if (!view) throw problem.notFound('No such batch');
      await audit(c, { action: 'signal-batch.read', objectType: 'signal-batch', objectId: batchId });
      return c.json({ ...view, nextCursor: view.nextCursor === null ? null : String(view.nextCursor) }, 200);
    },
  );

  v1.openapi(
    createRoute({
      method: 'get',
      path: '/signal-batches/{batchId}/duplicates',
      tags: ['Signals'],
      summary: "A batch's duplicate items or rows (paged): valid, but their signal was stored before or earlier in the batch",
      security,
      request: { params: batchParams, query: pageQuery('Duplicates per page (at most 1,000)') },
      responses: {
        200: jsonResponse('One page of duplicates, in position order', z.object({ duplicates: z.array(duplicate), nextCursor: z.string().nullable() }).openapi('SignalBatchDuplicatePage')),
        ...errorResponses(404),
      },
    }),
    async (c) => {
      const { batchId } = c.req.valid('param');
      const { limit, cursor } = c.req.valid('query');
      const page = await readBatchDuplicates(c.get('ctx'), c.get('actor'), batchId, { limit, after: cursor === undefined ? null : Number(cursor) });
      if (!page) throw problem.notFound('No such batch');
      await audit(c, { action: 'signal-batch.read', objectType: 'signal-batch', objectId: batchId });
      return c.json({ duplicates: page.duplicates, nextCursor: page.nextCursor === null ? null : String(page.nextCursor) }, 200);
    },
  );
}
