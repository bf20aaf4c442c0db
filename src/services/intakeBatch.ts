import { ProblemError } from '../api/problem.js';
import type { AppContext } from '../context.js';
import { recordAudit } from '../db/audit.js';
import { finishBatch, listDuplicates, listRejections, releaseIdempotencyKey, type Batch, type BatchOutcome, type BatchSource, type StoredRejection } from '../db/batches.js';
import { withTransaction, type Client } from '../db/pool.js';
import { CopyData, isSignalCollision, writeSignalChunk, type ChunkMode, type ChunkResult, type DuplicateRow, type SignalRow } from '../db/signals.js';
import { enqueueEvaluation } from '../queue/index.js';
import { buildAnswer, DUPLICATES_IN_ANSWER, REJECTIONS_IN_ANSWER, summaryOf, type BatchSummary, type IntakeAnswer } from './intakeAnswer.js';
import { keepStatistics } from './statistics.js';

/**
 * The writing side of intake, shared by the JSON and the CSV path: chunks and their
 * transactions, a batch's counts, metrics and evaluation enqueue, its stored outcome and audit
 * record, and the Idempotency-Key rules.
 */

/** How long an enqueue may take before the batch gives up on it (the sweeper enqueues later). */
export const ENQUEUE_TIMEOUT_MS = 2_000;
/** A batch still 'processing' without a heartbeat for this long was abandoned (its process died). */
export const ABANDONED_AFTER_SECONDS = 600;

/** What the outcome and the audit record need to know of the request. */
export interface IntakeContext {
  source: BatchSource;
  actor?: { keyId: string; label: string; municipality: string | null } | null;
  origin?: string | null;
  requestId?: string | null;
}

function isDeadlock(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === '40P01';
}

/** Runs a transaction again when PostgreSQL broke a deadlock by aborting it (it wrote nothing). */
export async function inTransaction<T>(ctx: AppContext, work: (tx: Client) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await withTransaction(ctx.pool, work);
    } catch (error) {
      if (!isDeadlock(error) || attempt >= 3) throw error;
    }
  }
}

/**
 * A chunk's transaction: first in the given mode (see ChunkMode); when one of its signals turns
 * out to be stored already (unique violation, nothing written), once more in `safe` mode, which
 * counts such signals as duplicates. `onCollision` hears of that, before the second attempt.
 */
export async function writeChunkTransaction<T>(
  ctx: AppContext,
  mode: ChunkMode,
  work: (tx: Client, mode: ChunkMode) => Promise<T>,
  onCollision?: () => void,
): Promise<T> {
  try {
    return await inTransaction(ctx, (tx) => work(tx, mode));
  } catch (error) {
    if (!isSignalCollision(error) || mode === 'safe') throw error;
    onCollision?.();
    return inTransaction(ctx, (tx) => work(tx, 'safe'));
  }
}

/** Runs write tasks with at most `concurrency` at a time; the first failure stops the rest. */
export class WritePipeline {
  private readonly running = new Set<Promise<void>>();
  private failure: { error: unknown } | null = null;

  constructor(private readonly concurrency: number) {}

  /** Waits for a free slot, then starts the task (does not wait for it). Throws a failure seen so far. */
  async add(task: () => Promise<void>): Promise<void> {
    while (this.running.size >= this.concurrency) await Promise.race(this.running);
    if (this.failure) throw this.failure.error;
    const run: Promise<void> = task()
      .catch((error: unknown) => {
        this.failure ??= { error };
      })
      .finally(() => this.running.delete(run));
    this.running.add(run);
  }

  /** Waits for every task; throws the first failure. */
  async drain(): Promise<void> {
    await this.settle();
    if (this.failure) throw this.failure.error;
  }

  /** Waits for every task, whatever the outcome. */
  async settle(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running);
  }
}

/** The valid and rejected items of one transaction's worth of input. */
export class Chunk {
  /** The valid rows, each identity once. */
  readonly copy = new CopyData();
  readonly rejections: StoredRejection[] = [];
  /** Valid items repeating a signal earlier in this chunk. */
  readonly duplicates: DuplicateRow[] = [];
  received = 0;
  valid = 0;
  readonly validByType = new Map<string, number>();
  readonly rejectedByType = new Map<string, number>();
  private readonly identities = new Set<string>();

  addValid(row: SignalRow, identity: string, position: number): void {
    this.received++;
    this.valid++;
    this.validByType.set(row.partnerType, (this.validByType.get(row.partnerType) ?? 0) + 1);
    // A second copy within the chunk is a duplicate; across chunks the unique constraint decides.
    if (this.identities.has(identity)) {
      this.duplicates.push({ position, externalId: row.externalId });
      return;
    }
    this.identities.add(identity);
    this.copy.add(row, position);
  }

  addRejected(position: number, errors: unknown[], partnerType: string): void {
    this.received++;
    this.rejections.push({ position, errors });
    this.rejectedByType.set(partnerType, (this.rejectedByType.get(partnerType) ?? 0) + 1);
  }
}

/** Writes the chunks of one batch and keeps its counts, its first rejections and its metrics. */
export class BatchWriter {
  received = 0;
  accepted = 0;
  duplicates = 0;
  rejected = 0;
  /** The first REJECTIONS_IN_ANSWER rejections by position, for the answer. */
  readonly firstRejections: StoredRejection[] = [];
  private enqueueFailed = false;
  /** How writeCommitted writes the next chunk. */
  private chunkMode: ChunkMode;
  /** Chunks written a second time after meeting stored signals (logged with the batch). */
  chunksWrittenTwice = 0;

  /**
   * `expectNew`: the batch is taken to hold new signals (a large file), and its chunks are
   * written without looking up each row first (ChunkMode `new`). The first chunk that meets a
   * stored signal is written again in `safe` mode, and the rest of the batch with lookups
   * (`probe`): a file sent twice costs one chunk written twice, not every chunk.
   */
  constructor(
    private readonly ctx: AppContext,
    readonly batch: Batch,
    options: { expectNew?: boolean } = {},
  ) {
    this.chunkMode = options.expectNew ? 'new' : 'probe';
  }

  /** Writes a chunk in the given transaction; counts change only through `committed`. */
  write(tx: Client, chunk: Chunk, mode: ChunkMode): Promise<ChunkResult> {
    return writeSignalChunk(
      tx,
      { batchId: this.batch.id, copy: chunk.copy, rejections: chunk.rejections, duplicates: chunk.duplicates, received: chunk.received, valid: chunk.valid },
      { mode },
    );
  }

  /** After the commit: counts, metrics, and the waiting households onto the evaluation queue. */
  async committed(chunk: Chunk, result: ChunkResult): Promise<void> {
    this.received += chunk.received;
    this.accepted += result.accepted;
    this.duplicates += chunk.valid - result.accepted;
    this.rejected += chunk.rejections.length;
    // The first ones by position, as the database lists them for a replay; chunks may commit
    // out of order when several are written at once.
    if (chunk.rejections.length > 0 && (this.firstRejections.length < REJECTIONS_IN_ANSWER || chunk.rejections[0]!.position < this.firstRejections.at(-1)!.position)) {
      this.firstRejections.push(...chunk.rejections.slice(0, REJECTIONS_IN_ANSWER));
      this.firstRejections.sort((a, b) => a.position - b.position);
      this.firstRejections.length = Math.min(this.firstRejections.length, REJECTIONS_IN_ANSWER);
    }
    const signals = this.ctx.metrics.signals;
    for (const [partnerType, valid] of chunk.validByType) {
      const accepted = result.acceptedByPartnerType[partnerType] ?? 0;
      if (accepted > 0) signals.inc({ outcome: 'accepted', partner_type: partnerType }, accepted);
      if (valid > accepted) signals.inc({ outcome: 'duplicate', partner_type: partnerType }, valid - accepted);
    }
    for (const [partnerType, count] of chunk.rejectedByType) signals.inc({ outcome: 'rejected', partner_type: partnerType }, count);
    void keepStatistics(this.ctx);
    await this.enqueue(result.pendingHouseholdIds);
  }

  private async enqueue(householdIds: number[]): Promise<void> {
    if (householdIds.length === 0 || this.enqueueFailed) return;
    try {
      // A queue store that is down can make the enqueue wait for a reconnect: bounded here, so
      // an outage never holds up the answer.
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer from the queue within ${ENQUEUE_TIMEOUT_MS} ms`)), ENQUEUE_TIMEOUT_MS);
      });
      const enqueue = enqueueEvaluation(this.ctx.queues, householdIds);
      enqueue.catch(() => {}); // it may still fail after the timeout: nothing more to do then
      await Promise.race([enqueue, timeout]).finally(() => clearTimeout(timer));
    } catch (error) {
      // The signals are committed and the households stay marked as waiting: the sweeper
      // enqueues them later. The request still succeeds.
      this.enqueueFailed = true;
      this.ctx.logger.warn({ batchId: this.batch.id, households: householdIds.length, err: (error as Error).message }, 'enqueueing evaluations failed; the sweeper will pick them up');
    }
  }

  /**
   * Writes a chunk in its own transaction. Not `durable`: committed without waiting for the WAL
   * flush (synchronous_commit off). That is safe because the batch's final transaction commits
   * durably before the answer, and flushing its commit record flushes everything before it; a
   * crash before that loses only chunks of a batch that was never answered.
   */
  async writeCommitted(chunk: Chunk, options: { durable: boolean }): Promise<void> {
    const result = await writeChunkTransaction(
      this.ctx,
      this.chunkMode,
      async (tx, mode) => {
        if (!options.durable) await tx.query('set local synchronous_commit = off');
        return this.write(tx, chunk, mode);
      },
      () => {
        this.chunkMode = 'probe';
        this.chunksWrittenTwice++;
      },
    );
    await this.committed(chunk, result);
  }

  summary(outcome: BatchOutcome): BatchSummary {
    return {
      batchId: this.batch.id,
      format: this.batch.format,
      received: this.received,
      accepted: this.accepted,
      duplicates: this.duplicates,
      rejected: this.rejected,
      responseStatus: outcome.responseStatus,
      failure: outcome.failure,
      failedRow: outcome.failedRow,
    };
  }
}

/** 202 when at least one item was valid (accepted or duplicate), else 400. */
export function completedOutcome(writer: { accepted: number; duplicates: number }, requestHashHex: string | null): BatchOutcome {
  const anyValid = writer.accepted + writer.duplicates > 0;
  return { status: 'completed', responseStatus: anyValid ? 202 : 400, failure: null, failedRow: null, requestHash: requestHashHex };
}

export async function storeOutcome(db: Client, batch: Batch, outcome: BatchOutcome, options: IntakeContext): Promise<void> {
  await finishBatch(db, batch.id, outcome);
  const actor = options.actor ?? null;
  await recordAudit(db, {
    actorKeyId: actor?.keyId ?? null,
    actorLabel: actor?.label ?? options.source,
    action: 'signals.intake',
    objectType: 'signal-batch',
    objectId: batch.id,
    municipality: actor?.municipality ?? null,
    result: outcome.responseStatus === 202 ? 'success' : 'failed',
    origin: options.origin ?? null,
    requestId: options.requestId ?? null,
  });
}

export function logBatch(
  ctx: AppContext,
  answer: Omit<IntakeAnswer, 'replayed'>,
  summary: BatchSummary,
  source: BatchSource,
  started: number,
  chunksWrittenTwice = 0,
): void {
  // Ids and counts only: never a signal's content.
  ctx.logger.info(
    {
      batchId: summary.batchId,
      source,
      status: answer.status,
      received: summary.received,
      accepted: summary.accepted,
      duplicates: summary.duplicates,
      rejected: summary.rejected,
      chunksWrittenTwice,
      ms: Math.round(performance.now() - started),
    },
    'signal batch',
  );
}

/** The batch's first duplicates by position, for its answer (read back: chunks may commit out of order). */
export async function firstDuplicates(ctx: AppContext, summary: Pick<BatchSummary, 'batchId' | 'duplicates'>): Promise<DuplicateRow[]> {
  return summary.duplicates > 0 ? listDuplicates(ctx.pool, summary.batchId, null, DUPLICATES_IN_ANSWER) : [];
}

async function replay(ctx: AppContext, batch: Batch): Promise<IntakeAnswer> {
  const summary = summaryOf(batch);
  const rejections = await listRejections(ctx.pool, batch.id, null, REJECTIONS_IN_ANSWER);
  return { ...buildAnswer(summary, rejections, await firstDuplicates(ctx, summary)), replayed: true };
}

/**
 * An Idempotency-Key this API key used before. Answered: the same body gets the stored answer,
 * another body 422. Still running: 409. Never answered (broke off, process died): the key is
 * freed and this request goes ahead (null).
 */
export async function settleExisting(ctx: AppContext, existing: Batch, hashOfThisRequest: () => Promise<string>): Promise<IntakeAnswer | null> {
  if (existing.responseStatus !== null) {
    if ((await hashOfThisRequest()) !== existing.requestHash) {
      throw new ProblemError(422, 'This Idempotency-Key was used before with a different request body; use a new key for a new request', {
        type: 'idempotency-key-reused',
      });
    }
    return replay(ctx, existing);
  }
  const heartbeatAge = (Date.now() - existing.updatedAt.getTime()) / 1000;
  if (existing.status === 'processing' && heartbeatAge < ABANDONED_AFTER_SECONDS) throw keyInUse();
  await releaseIdempotencyKey(ctx.pool, existing.id);
  return null;
}


export function keyInUse(): ProblemError {
  return new ProblemError(409, 'A request with this Idempotency-Key is still being processed; retry when it has been answered', {
    type: 'idempotency-key-in-use',
    headers: { 'Retry-After': '5' },
  });
}
