import { ProblemError, problemBody } from '../api/problem.js';
import type { Batch, BatchFormat, StoredRejection } from '../db/batches.js';
import type { DuplicateRow } from '../db/signals.js';
import { csvPointer, type CsvFieldError } from './intakeRows.js';

/**
 * The answer to an intake request, built from the batch's counts and its first rejections by
 * one function, both the first time and when a retry with the same Idempotency-Key replays it
 * from the database, so the two are the same document.
 */

/** The answer lists at most this many rejected items; all are stored and readable per batch. */
export const REJECTIONS_IN_ANSWER = 1_000;
/** The answer lists at most this many duplicate items; all are stored and readable per batch. */
export const DUPLICATES_IN_ANSWER = 1_000;

export interface JsonRejection {
  index: number;
  errors: { pointer: string; detail: string }[];
}
export interface CsvRejection {
  row: number;
  errors: CsvFieldError[];
}
export type Rejection = JsonRejection | CsvRejection;

export type Duplicate = { index: number; externalId: string } | { row: number; externalId: string };

export interface BatchSummary {
  batchId: string;
  format: BatchFormat;
  received: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  responseStatus: number;
  failure: string | null;
  failedRow: number | null;
}

export interface IntakeAnswer {
  /** 202, or 400 / 413 (problem+json) when nothing valid arrived or the input broke off. */
  status: number;
  batchId: string;
  body: Record<string, unknown>;
  /** True when this is the stored answer of an earlier request with the same Idempotency-Key. */
  replayed: boolean;
}

// Rebuilt property by property: jsonb does not keep key order, and a replayed answer must be
// the same text as the first one.
const jsonError = (e: { pointer: string; detail: string }) => ({ pointer: e.pointer, detail: e.detail });
const csvError = (e: CsvFieldError) => ({ column: e.column, detail: e.detail });

export function presentRejection(format: BatchFormat, rejection: StoredRejection): Rejection {
  return format === 'csv'
    ? { row: rejection.position, errors: (rejection.errors as CsvFieldError[]).map(csvError) }
    : { index: rejection.position, errors: (rejection.errors as JsonRejection['errors']).map(jsonError) };
}

export function presentDuplicate(format: BatchFormat, duplicate: DuplicateRow): Duplicate {
  return format === 'csv' ? { row: duplicate.position, externalId: duplicate.externalId } : { index: duplicate.position, externalId: duplicate.externalId };
}

export function summaryOf(batch: Batch): BatchSummary {
  return {
    batchId: batch.id,
    format: batch.format,
    received: batch.received,
    accepted: batch.accepted,
    duplicates: batch.duplicates,
    rejected: batch.rejected,
    responseStatus: batch.responseStatus ?? 202,
    failure: batch.failure,
    failedRow: batch.failedRow,
  };
}

/** The errors of the listed rejections as problem `errors`: one pointer per error. */
function problemErrors(format: BatchFormat, rejections: readonly StoredRejection[]) {
  const errors: Record<string, unknown>[] = [];
  for (const rejection of rejections) {
    if (format === 'csv') {
      for (const e of rejection.errors as CsvFieldError[]) {
        errors.push({ pointer: csvPointer(rejection.position, e.column), detail: e.detail, row: rejection.position, column: e.column });
      }
    } else {
      for (const e of rejection.errors as JsonRejection['errors']) errors.push({ pointer: e.pointer, detail: e.detail });
    }
  }
  return errors as { pointer: string; detail: string }[];
}

/**
 * The answer: counts, the first rejected items with their errors and the first duplicate items
 * (every item listed in neither was accepted; the batch's sub-resources list all of both).
 */
export function buildAnswer(
  summary: BatchSummary,
  firstRejections: readonly StoredRejection[],
  firstDuplicates: readonly DuplicateRow[],
): Omit<IntakeAnswer, 'replayed'> {
  const listed = firstRejections.slice(0, REJECTIONS_IN_ANSWER);
  const counts = {
    batchId: summary.batchId,
    received: summary.received,
    accepted: summary.accepted,
    duplicates: summary.duplicates,
    rejectedCount: summary.rejected,
  };
  const rejected = listed.map((r) => presentRejection(summary.format, r));
  const duplicated = firstDuplicates.slice(0, DUPLICATES_IN_ANSWER).map((d) => presentDuplicate(summary.format, d));
  const more =
    summary.rejected > listed.length
      ? ` The first ${listed.length} of ${summary.rejected} rejected ${summary.format === 'csv' ? 'rows' : 'items'} are listed; GET /v1/signal-batches/${summary.batchId} lists them all.`
      : '';

  if (summary.responseStatus === 202) {
    return { status: 202, batchId: summary.batchId, body: { ...counts, rejected, duplicated } };
  }

  let error: ProblemError;
  if (summary.failure !== null) {
    // The input broke off part-way (CSV): what came before was processed and is counted.
    const errors = summary.failedRow !== null && summary.responseStatus === 400
      ? [{ pointer: csvPointer(summary.failedRow, null), detail: summary.failure, row: summary.failedRow, column: null }]
      : undefined;
    error = new ProblemError(summary.responseStatus, summary.failure + more, {
      type: summary.responseStatus === 413 ? 'too-large' : 'validation',
      errors,
      extra: { ...counts, rejected, duplicated },
    });
  } else if (summary.received === 0) {
    error = new ProblemError(400, 'The file holds no rows below its header', { type: 'validation', extra: counts });
  } else {
    const what = summary.format === 'csv' ? 'rows' : 'signals';
    error = new ProblemError(400, `None of the ${summary.received} ${what} is valid, so nothing was stored.${more}`, {
      type: 'validation',
      errors: problemErrors(summary.format, listed),
      extra: counts,
    });
  }
  return { status: error.status, batchId: summary.batchId, body: problemBody(error) };
}
