import { createHash, type Hash } from 'node:crypto';
import { problem } from '../api/problem.js';
import type { AppContext } from '../context.js';
import {
  findBatch,
  findBatchByIdempotencyKey,
  insertBatch,
  listDuplicates,
  listRejections,
  markBatchFailed,
  type Batch,
  type BatchFormat,
  type BatchOutcome,
  type BatchSource,
} from '../db/batches.js';
import { withTransaction } from '../db/pool.js';
import { loadMunicipalityAreas } from '../db/signals.js';
import type { Actor } from '../domain/apiKey.js';
import { checkCsvHeader } from '../domain/signal.js';
import { buildAnswer, presentDuplicate, presentRejection, type Duplicate, type IntakeAnswer, type Rejection } from './intakeAnswer.js';
import {
  BatchWriter,
  Chunk,
  completedOutcome,
  firstDuplicates,
  keyInUse,
  logBatch,
  settleExisting,
  storeOutcome,
  WritePipeline,
  writeChunkTransaction,
} from './intakeBatch.js';
import { BodyReadError, BodyTooLargeError, CsvHeaderError, csvEvents, drain, meter, readAll } from './intakeCsv.js';
import { checkItem, csvRowChecker, jsonErrors, UNLIMITED_SCOPE, type IntakeScope } from './intakeRows.js';

export type { Duplicate, IntakeAnswer, Rejection } from './intakeAnswer.js';
export { DUPLICATES_IN_ANSWER, REJECTIONS_IN_ANSWER } from './intakeAnswer.js';
export { ABANDONED_AFTER_SECONDS, ENQUEUE_TIMEOUT_MS } from './intakeBatch.js';

/**
 * Signal intake: the one path by which signals enter vroegsein, used by POST /v1/signals (JSON
 * and CSV), the feed folder worker and `vroegsein import`. Valid items are stored with their
 * household (marked as waiting for evaluation) and committed before the answer; duplicates
 * (same partner + external id) are stored once; every rejection is stored with its errors.
 * After the commit the waiting households are enqueued for evaluation.
 */

export interface IntakeOptions {
  source: BatchSource;
  /** The API key that sends. The feed and the CLI have none: no partner-type or municipality limits. */
  actor?: Actor | null;
  fileName?: string | null;
  /** Binds the batch to the key: a retry with the same key gets the stored answer. Needs an actor. */
  idempotencyKey?: string | null;
  /** The declared body size, when known: refused before reading when over the limit. */
  contentLength?: number | null;
  /** For the audit record. */
  origin?: string | null;
  requestId?: string | null;
  /** CSV: called after each committed chunk with the number of rows done so far. */
  onProgress?: (rowsDone: number) => void;
  /** Override the configured limits (MAX_BODY_BYTES / MAX_CSV_BYTES, MAX_BATCH_ITEMS, MAX_CSV_ROWS). */
  maxBytes?: number;
  maxItems?: number;
  maxRows?: number;
  /** CSV rows per transaction. */
  chunkSize?: number;
  /** CSV chunk transactions at once (1: strictly in file order). */
  writers?: number;
}

/** CSV rows per transaction: large enough to amortise the round trips, small enough to keep locks short. */
export const CSV_CHUNK_ROWS = 5_000;
/** CSV chunk transactions at once. */
export const CSV_WRITERS = 2;

const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/** 400 unless the header value is a usable key: 1–255 visible ASCII characters. */
export function parseIdempotencyKey(value: string | undefined): string | null {
  if (value === undefined) return null;
  if (!/^[\x21-\x7e]{1,255}$/.test(value)) {
    throw problem.badRequest('The Idempotency-Key header is not valid', [
      { pointer: '/header/idempotency-key', detail: `1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} visible ASCII characters` },
    ]);
  }
  return value;
}

function scopeOf(actor: Actor | null): IntakeScope {
  if (!actor || actor.role === 'admin') return UNLIMITED_SCOPE;
  return { partnerTypes: actor.partnerTypes, municipality: actor.municipality };
}

function requestHash(mediaType: string): Hash {
  // The media type is part of the request: the same bytes as JSON and as CSV are two requests.
  return createHash('sha256').update(`${mediaType}\n`);
}

class IdempotencyKeyTaken extends Error {}


/** `{ "signals": [ ... ] }` or a 400 / 413. */
function batchItems(parsed: unknown, maxItems: number): unknown[] {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw problem.badRequest('The body must be an object: { "signals": [ ... ] }', [{ pointer: '', detail: 'expected an object' }]);
  }
  const unknownKeys = Object.keys(parsed).filter((k) => k !== 'signals');
  const signals = (parsed as { signals?: unknown }).signals;
  const errors = unknownKeys.map((k) => ({ pointer: `/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`, detail: 'unknown property' }));
  if (!Array.isArray(signals)) errors.push({ pointer: '/signals', detail: 'expected an array of signals' });
  else if (signals.length === 0) errors.push({ pointer: '/signals', detail: 'the batch holds no signals' });
  if (errors.length > 0) throw problem.badRequest('The request body is not valid', errors);
  if ((signals as unknown[]).length > maxItems) {
    throw problem.tooLarge(`A batch holds at most ${maxItems} signals; this one holds ${(signals as unknown[]).length}: split it`);
  }
  return signals as unknown[];
}

/** A JSON batch from a stream (the HTTP body): read whole, but never more than the limit. */
export async function importJsonStream(ctx: AppContext, source: AsyncIterable<Uint8Array | string>, options: IntakeOptions): Promise<IntakeAnswer> {
  const maxBytes = options.maxBytes ?? ctx.config.MAX_BODY_BYTES;
  if (options.contentLength != null && options.contentLength > maxBytes) throw problem.tooLarge(`The body is larger than ${maxBytes} bytes`);
  let body: Buffer;
  try {
    body = await readAll(source, maxBytes);
  } catch (error) {
    if (error instanceof BodyTooLargeError) throw problem.tooLarge(`The body is larger than ${maxBytes} bytes`);
    if (error instanceof BodyReadError) throw problem.badRequest('The request body could not be read to its end');
    throw error;
  }
  return importJsonBatch(ctx, body, { ...options, maxBytes });
}

/**
 * A JSON batch `{ "signals": [...] }` (up to MAX_BATCH_ITEMS items). It is written in one
 * transaction together with its batch row and audit record: it is stored whole or not at all.
 */
export async function importJsonBatch(ctx: AppContext, body: string | Uint8Array, options: IntakeOptions): Promise<IntakeAnswer> {
  const started = performance.now();
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const maxBytes = options.maxBytes ?? ctx.config.MAX_BODY_BYTES;
  if (bytes.length > maxBytes) throw problem.tooLarge(`The body is larger than ${maxBytes} bytes`);
  const hash = requestHash('application/json').update(bytes).digest('hex');
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw problem.badRequest('The request body is not valid JSON');
  }
  const items = batchItems(parsed, options.maxItems ?? ctx.config.MAX_BATCH_ITEMS);
  const actor = options.actor ?? null;
  const idempotencyKey = actor ? (options.idempotencyKey ?? null) : null;

  if (idempotencyKey) {
    const existing = await findBatchByIdempotencyKey(ctx.pool, actor!.keyId, idempotencyKey);
    const settled = existing ? await settleExisting(ctx, existing, async () => hash) : null;
    if (settled) return settled;
  }

  const areas = await loadMunicipalityAreas(ctx.pool);
  const scope = scopeOf(actor);
  const chunk = new Chunk();
  items.forEach((input, index) => {
    const checked = checkItem(input, scope, areas);
    if (checked.ok) chunk.addValid(checked.row, checked.key, index);
    else chunk.addRejected(index, jsonErrors(index, checked.errors), checked.partnerType);
  });

  for (let attempt = 1; ; attempt++) {
    try {
      // A JSON batch is small: its rows are looked up before they are written (`probe`), so a
      // resent batch is not written twice.
      const { writer, result, outcome } = await writeChunkTransaction(ctx, 'probe', async (tx, mode) => {
        // With a key, a concurrent request with the same key waits here until the other commits.
        const batch = await insertBatch(tx, {
          apiKeyId: actor?.keyId ?? null,
          source: options.source,
          format: 'json',
          fileName: options.fileName ?? null,
          idempotencyKey,
          requestHash: idempotencyKey ? hash : null,
        });
        if (!batch) throw new IdempotencyKeyTaken();
        const writer = new BatchWriter(ctx, batch);
        const result = await writer.write(tx, chunk, mode);
        const outcome = completedOutcome({ accepted: result.accepted, duplicates: chunk.valid - result.accepted }, null);
        await storeOutcome(tx, batch, outcome, options);
        return { writer, result, outcome };
      });
      await writer.committed(chunk, result);
      const summary = writer.summary(outcome);
      const answer = buildAnswer(summary, writer.firstRejections, await firstDuplicates(ctx, summary));
      logBatch(ctx, answer, summary, options.source, started);
      return { ...answer, replayed: false };
    } catch (error) {
      if (!(error instanceof IdempotencyKeyTaken)) throw error;
      if (attempt >= 2) throw keyInUse();
      const existing = await findBatchByIdempotencyKey(ctx.pool, actor!.keyId, idempotencyKey!);
      const settled = existing ? await settleExisting(ctx, existing, async () => hash) : null;
      if (settled) return settled;
    }
  }
}

interface Stop {
  status: 400 | 413;
  failure: string;
  failedRow: number | null;
}

/**
 * A CSV file or body, streamed: parsed row by row and written in chunks of CSV_CHUNK_ROWS rows,
 * each chunk in its own transaction, so a file of a million rows never sits in memory. When
 * the input breaks off part-way (broken quoting, too many rows, too many bytes) the rows before
 * that point stay stored and the answer (400 / 413) says so with the counts.
 */
export async function importCsvStream(ctx: AppContext, source: AsyncIterable<Uint8Array | string>, options: IntakeOptions): Promise<IntakeAnswer> {
  const started = performance.now();
  const maxBytes = options.maxBytes ?? ctx.config.MAX_CSV_BYTES;
  const maxRows = options.maxRows ?? ctx.config.MAX_CSV_ROWS;
  const chunkRows = options.chunkSize ?? CSV_CHUNK_ROWS;
  if (options.contentLength != null && options.contentLength > maxBytes) throw problem.tooLarge(`The file is larger than ${maxBytes} bytes`);
  const actor = options.actor ?? null;
  const idempotencyKey = actor ? (options.idempotencyKey ?? null) : null;
  const hash = requestHash('text/csv');

  if (idempotencyKey) {
    const existing = await findBatchByIdempotencyKey(ctx.pool, actor!.keyId, idempotencyKey);
    // An answered key: the body is only read to compare its hash (it cannot be known earlier).
    const settled = existing
      ? await settleExisting(ctx, existing, async () => {
          await drain(source, maxBytes, hash);
          return hash.digest('hex');
        })
      : null;
    if (settled) return settled;
  }

  // The hash is only kept with an Idempotency-Key: without one, hashing the body is wasted work.
  const events = csvEvents(meter(source, maxBytes, idempotencyKey ? hash : undefined));
  let columns: string[];
  try {
    const first = await events.next();
    columns = first.done || first.value.kind !== 'header' ? [] : first.value.columns;
  } catch (error) {
    if (error instanceof CsvHeaderError) throw problem.badRequest(`The CSV header is not valid: ${error.message}`, [{ pointer: '/rows/1', detail: error.message }]);
    if (error instanceof BodyTooLargeError) throw problem.tooLarge(`The file is larger than ${maxBytes} bytes`);
    if (error instanceof BodyReadError) throw problem.badRequest('The request body could not be read to its end');
    throw error;
  }
  const headerProblems = checkCsvHeader(columns);
  if (headerProblems.length > 0) {
    await events.return(undefined);
    throw problem.badRequest(
      `The CSV header is not valid: ${headerProblems.join('; ')}`,
      headerProblems.map((detail) => ({ pointer: '/rows/1', detail })),
    );
  }

  const areas = await loadMunicipalityAreas(ctx.pool);
  const batch = await insertBatch(ctx.pool, {
    apiKeyId: actor?.keyId ?? null,
    source: options.source,
    format: 'csv',
    fileName: options.fileName ?? null,
    idempotencyKey,
    requestHash: null, // known when the whole body has been read
  });
  if (!batch) {
    await events.return(undefined);
    throw keyInUse();
  }

  // A CSV file is usually a partner's new signals of a month or a backfill: written without lookups (see BatchWriter).
  const writer = new BatchWriter(ctx, batch, { expectNew: true });
  const checkRow = csvRowChecker(columns, scopeOf(actor), areas);
  let chunk = new Chunk();
  let rowsDone = 0;
  let rows = 0;
  let lastLine = 1;
  let stop: Stop | null = null;

  // Chunks are written while the next ones are parsed and validated, by up to `writers`
  // transactions at once (PostgreSQL does the heavy part: households, signals and their indexes).
  const pipeline = new WritePipeline(options.writers ?? CSV_WRITERS);
  const commit = (ready: Chunk) =>
    pipeline.add(async () => {
      await writer.writeCommitted(ready, { durable: false });
      rowsDone += ready.received;
      options.onProgress?.(rowsDone);
    });

  try {
    try {
      for await (const event of events) {
        // After a stop the rest is read only so that the Idempotency-Key hash covers the whole body.
        if (stop) continue;
        if (event.kind === 'broken') {
          stop = {
            status: 400,
            failure: `The CSV cannot be read from line ${event.line} on: ${event.detail}. The rows before line ${event.line} were processed as counted, nothing from there on; sending the corrected file again is safe (rows already accepted count as duplicates).`,
            failedRow: event.line,
          };
        } else if (event.kind === 'rows') {
          for (const row of event.rows) {
            if (++rows > maxRows) {
              stop = {
                status: 413,
                failure: `A file holds at most ${maxRows} rows; reading stopped at line ${row.line}. The rows before it were processed as counted; send the rest in another file.`,
                failedRow: row.line,
              };
              break;
            }
            lastLine = row.line;
            const checked = checkRow(row.fields);
            if (checked.ok) chunk.addValid(checked.row, checked.key, row.line);
            else chunk.addRejected(row.line, checked.errors, checked.partnerType);
            if (chunk.received >= chunkRows) {
              await commit(chunk);
              chunk = new Chunk();
            }
          }
        }
        if (stop && !idempotencyKey) break;
      }
    } catch (error) {
      if (!(error instanceof BodyTooLargeError)) throw error;
      stop = {
        status: 413,
        failure: `The file is larger than ${maxBytes} bytes; reading stopped after line ${lastLine}. The rows up to it were processed as counted; send the rest in another file.`,
        failedRow: null,
      };
    }
    if (chunk.received > 0) await commit(chunk);
    await pipeline.drain();
  } catch (error) {
    await pipeline.settle();
    await markBatchFailed(ctx.pool, batch.id, error instanceof BodyReadError ? 'the upload broke off' : 'failed while writing').catch(() => {});
    ctx.logger.warn({ batchId: batch.id, rowsDone, err: (error as Error).message }, 'signal batch broke off');
    if (error instanceof BodyReadError) throw problem.badRequest('The request body could not be read to its end');
    throw error;
  }

  // Without a key the body may not have been read to its end; its hash is then not stored.
  const hashHex = idempotencyKey ? hash.digest('hex') : null;
  const outcome: BatchOutcome = stop
    ? { status: 'failed', responseStatus: stop.status, failure: stop.failure, failedRow: stop.failedRow, requestHash: hashHex }
    : completedOutcome(writer, hashHex);
  await withTransaction(ctx.pool, (tx) => storeOutcome(tx, batch, outcome, options));
  const summary = writer.summary(outcome);
  const answer = buildAnswer(summary, writer.firstRejections, await firstDuplicates(ctx, summary));
  logBatch(ctx, answer, summary, options.source, started, writer.chunksWrittenTwice);
  return { ...answer, replayed: false };
}

export interface BatchView {
  batchId: string;
  source: BatchSource;
  format: BatchFormat;
  fileName: string | null;
  status: Batch['status'];
  received: number;
  accepted: number;
  duplicates: number;
  rejectedCount: number;
  responseStatus: number | null;
  failure: string | null;
  failedRow: number | null;
  createdAt: string;
  completedAt: string | null;
  rejected: Rejection[];
  /** Pass as `cursor` for the next page of rejections; null on the last page. */
  nextCursor: number | null;
}

/** Who may read a batch: the key that sent it, and admins (of its municipality, or of all). */
function maySeeBatch(actor: Actor, batch: Batch & { apiKeyMunicipality: string | null }): boolean {
  if (batch.apiKeyId !== null && batch.apiKeyId === actor.keyId) return true;
  return actor.role === 'admin' && (actor.municipality === null || actor.municipality === batch.apiKeyMunicipality);
}

/** One page of a batch's duplicate items, or null when it does not exist or is not the actor's to see. */
export async function readBatchDuplicates(
  ctx: AppContext,
  actor: Actor,
  batchId: string,
  page: { limit: number; after: number | null },
): Promise<{ duplicates: Duplicate[]; nextCursor: number | null } | null> {
  const batch = await findBatch(ctx.pool, batchId);
  if (!batch || !maySeeBatch(actor, batch)) return null;
  const duplicates = await listDuplicates(ctx.pool, batch.id, page.after, page.limit + 1);
  const shown = duplicates.slice(0, page.limit);
  return {
    duplicates: shown.map((d) => presentDuplicate(batch.format, d)),
    nextCursor: duplicates.length > page.limit ? shown[shown.length - 1]!.position : null,
  };
}

/** A batch with one page of its rejections, or null when it does not exist or is not the actor's to see. */
export async function readBatch(ctx: AppContext, actor: Actor, batchId: string, page: { limit: number; after: number | null }): Promise<BatchView | null> {
  const batch = await findBatch(ctx.pool, batchId);
  if (!batch || !maySeeBatch(actor, batch)) return null;
  const rejections = await listRejections(ctx.pool, batch.id, page.after, page.limit + 1);
  const more = rejections.length > page.limit;
  const shown = rejections.slice(0, page.limit);
  return {
    batchId: batch.id,
    source: batch.source,
    format: batch.format,
    fileName: batch.fileName,
    status: batch.status,
    received: batch.received,
    accepted: batch.accepted,
    duplicates: batch.duplicates,
    rejectedCount: batch.rejected,
    responseStatus: batch.responseStatus,
    failure: batch.failure,
    failedRow: batch.failedRow,
    createdAt: batch.createdAt.toISOString(),
    completedAt: batch.completedAt?.toISOString() ?? null,
    rejected: shown.map((r) => presentRejection(batch.format, r)),
    nextCursor: more ? shown[shown.length - 1]!.position : null,
  };
}
