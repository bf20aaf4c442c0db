import type { BatchFormat, BatchSource, BatchStatus } from '../db/batches.js';
import type { Queryable } from '../db/pool.js';

/**
 * The earlier batches of one API key, newest first, for the upload page. The API has no list of
 * batches yet (only GET /v1/signal-batches/{id}); this read belongs in db/batches.ts beside
 * readBatch's query and should move there with an API route. Scoped like readBatch: the key
 * that sent a batch sees it (the signal_batches_key index serves this query).
 */

export interface BatchListing {
  id: string;
  source: BatchSource;
  format: BatchFormat;
  fileName: string | null;
  status: BatchStatus;
  received: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  responseStatus: number | null;
  createdAt: Date;
}

export async function listBatchesOfKey(db: Queryable, apiKeyId: string, limit: number): Promise<BatchListing[]> {
  const { rows } = await db.query<BatchListing>(
    `select id, source, format, file_name as "fileName", status, received, accepted, duplicates, rejected,
            response_status as "responseStatus", created_at as "createdAt"
       from signal_batches where api_key_id = $1 order by created_at desc, id limit $2`,
    [apiKeyId, limit],
  );
  return rows;
}
