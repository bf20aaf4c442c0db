import type { Queryable } from './pool.js';
import type { DuplicateRow } from './signals.js';

/**
 * Signal batches: one row per intake request, feed file or CLI import, with its counts, its
 * stored answer (status; the body is rebuilt from the counts and the rejections) and the
 * Idempotency-Key that binds it to its API key. Rejections and duplicates are stored per item
 * or row.
 */

export type BatchSource = 'api-json' | 'api-csv' | 'feed' | 'cli';
export type BatchFormat = 'json' | 'csv';
export type BatchStatus = 'processing' | 'completed' | 'failed';

export interface Batch {
  id: string;
  apiKeyId: string | null;
  source: BatchSource;
  format: BatchFormat;
  fileName: string | null;
  status: BatchStatus;
  idempotencyKey: string | null;
  requestHash: string | null;
  received: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  /** The HTTP status of the answer, once there is one (202, 400 or 413). */
  responseStatus: number | null;
  failure: string | null;
  failedRow: number | null;
  createdAt: Date;
  updatedAt: Date;
  completedAt: Date | null;
}

interface BatchRow {
  id: string;
  api_key_id: string | null;
  source: BatchSource;
  format: BatchFormat;
  file_name: string | null;
  status: BatchStatus;
  idempotency_key: string | null;
  request_hash: string | null;
  received: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  response_status: number | null;
  failure: string | null;
  failed_row: number | null;
  created_at: Date;
  updated_at: Date;
  completed_at: Date | null;
}

const COLUMN_NAMES = [
  'id', 'api_key_id', 'source', 'format', 'file_name', 'status', 'idempotency_key', 'request_hash', 'received', 'accepted',
  'duplicates', 'rejected', 'response_status', 'failure', 'failed_row', 'created_at', 'updated_at', 'completed_at',
];
const COLUMNS = COLUMN_NAMES.join(', ');

function toBatch(r: BatchRow): Batch {
  return {
    id: r.id,
    apiKeyId: r.api_key_id,
    source: r.source,
    format: r.format,
    fileName: r.file_name,
    status: r.status,
    idempotencyKey: r.idempotency_key,
    requestHash: r.request_hash,
    received: r.received,
    accepted: r.accepted,
    duplicates: r.duplicates,
    rejected: r.rejected,
    responseStatus: r.response_status,
    failure: r.failure,
    failedRow: r.failed_row,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    completedAt: r.completed_at,
  };
}

export interface NewBatch {
  apiKeyId: string | null;
  source: BatchSource;
  format: BatchFormat;
  fileName: string | null;
  idempotencyKey: string | null;
  requestHash: string | null;
}

/**
 * Inserts a batch. With an Idempotency-Key the unique index (api_key_id, idempotency_key)
 * decides who owns the key: null means another request holds it already (when that request's
 * transaction is still open, this waits for it to end first).
 */
export async function insertBatch(db: Queryable, batch: NewBatch): Promise<Batch | null> {
  const { rows } = await db.query<BatchRow>(
    `insert into signal_batches (api_key_id, source, format, file_name, idempotency_key, request_hash)
     values ($1, $2, $3, $4, $5, $6)
     on conflict (api_key_id, idempotency_key) where idempotency_key is not null do nothing
     returning ${COLUMNS}`,
    [batch.apiKeyId, batch.source, batch.format, batch.fileName, batch.idempotencyKey, batch.requestHash],
  );
  return rows[0] ? toBatch(rows[0]) : null;
}

export async function findBatch(db: Queryable, id: string): Promise<(Batch & { apiKeyMunicipality: string | null }) | null> {
  const { rows } = await db.query<BatchRow & { key_municipality: string | null }>(
    `select ${COLUMN_NAMES.map((c) => `b.${c}`).join(', ')}, k.municipality_code as key_municipality
       from signal_batches b left join api_keys k on k.id = b.api_key_id
      where b.id = $1`,
    [id],
  );
  const row = rows[0];
  return row ? { ...toBatch(row), apiKeyMunicipality: row.key_municipality } : null;
}

export async function findBatchByIdempotencyKey(db: Queryable, apiKeyId: string, idempotencyKey: string): Promise<Batch | null> {
  const { rows } = await db.query<BatchRow>(
    `select ${COLUMNS} from signal_batches where api_key_id = $1 and idempotency_key = $2`,
    [apiKeyId, idempotencyKey],
  );
  return rows[0] ? toBatch(rows[0]) : null;
}

/**
 * Frees the Idempotency-Key of a batch that never produced an answer (the upload broke off, the
 * database went away, the process died), so the client's retry is processed instead of being
 * refused forever. The batch itself stays, marked failed. False when someone else freed it first.
 */
export async function releaseIdempotencyKey(db: Queryable, batchId: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `update signal_batches
        set idempotency_key = null,
            status = case when status = 'processing' then 'failed' else status end,
            failure = coalesce(failure, 'abandoned before an answer was given'),
            updated_at = now()
      where id = $1 and idempotency_key is not null and response_status is null`,
    [batchId],
  );
  return (rowCount ?? 0) > 0;
}

/** Marks batches whose heartbeat stopped more than `seconds` ago as failed; returns how many. */
export async function failAbandonedBatches(db: Queryable, seconds: number): Promise<number> {
  const { rowCount } = await db.query(
    `update signal_batches set status = 'failed', failure = coalesce(failure, 'abandoned before an answer was given'), updated_at = now()
      where status = 'processing' and updated_at < now() - make_interval(secs => $1)`,
    [seconds],
  );
  return rowCount ?? 0;
}

/** Best effort: a batch that broke off without an answer (no response status is stored). */
export async function markBatchFailed(db: Queryable, batchId: string, failure: string): Promise<void> {
  await db.query(
    `update signal_batches set status = 'failed', failure = $2, updated_at = now(), completed_at = now()
      where id = $1 and status = 'processing'`,
    [batchId, failure],
  );
}

export interface BatchOutcome {
  status: Exclude<BatchStatus, 'processing'>;
  responseStatus: number;
  failure: string | null;
  failedRow: number | null;
  /** Set at the end for streamed bodies, whose hash is known only then. */
  requestHash: string | null;
}

/** Stores the answer of a batch; its counts were added chunk by chunk (see db/signals.ts). */
export async function finishBatch(db: Queryable, batchId: string, outcome: BatchOutcome): Promise<void> {
  await db.query(
    `update signal_batches
        set status = $2, response_status = $3, failure = $4, failed_row = $5, request_hash = coalesce($6, request_hash),
            completed_at = now(), updated_at = now()
      where id = $1`,
    [batchId, outcome.status, outcome.responseStatus, outcome.failure, outcome.failedRow, outcome.requestHash],
  );
}

export interface StoredRejection {
  /** JSON: the item index; CSV: the line number in the file (header = 1). */
  position: number;
  /** JSON: [{ pointer, detail }]; CSV: [{ column, detail }] — as the answer shows them. */
  errors: unknown[];
}

/** Duplicates in position order, after `afterPosition` (exclusive). */
export async function listDuplicates(db: Queryable, batchId: string, afterPosition: number | null, limit: number): Promise<DuplicateRow[]> {
  const { rows } = await db.query<DuplicateRow>(
    `select position, external_id as "externalId" from signal_batch_duplicates
      where batch_id = $1 and ($2::int is null or position > $2)
      order by position limit $3`,
    [batchId, afterPosition, limit],
  );
  return rows;
}

/** Rejections in position order, after `afterPosition` (exclusive). */
export async function listRejections(db: Queryable, batchId: string, afterPosition: number | null, limit: number): Promise<StoredRejection[]> {
  const { rows } = await db.query<{ position: number; errors: unknown[] }>(
    `select position, errors from signal_batch_rejections
      where batch_id = $1 and ($2::int is null or position > $2)
      order by position limit $3`,
    [batchId, afterPosition, limit],
  );
  return rows;
}
