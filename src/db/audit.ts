import type { Queryable } from './pool.js';

/**
 * One record per read or change of personal data and per export (BIO2 8.15.01).
 * Never a BSN, name or address: objects are named by id only.
 */
export interface AuditEvent {
  actorKeyId: string | null;
  actorLabel: string | null;
  action: string;
  objectType: string;
  objectId?: string | null;
  municipality?: string | null;
  result: 'success' | 'denied' | 'failed';
  origin?: string | null;
  requestId?: string | null;
}

/**
 * Who makes a change, for its audit record. Services write that record inside the change's own
 * transaction: it exists exactly when the change does (a change that commits while its record
 * fails would go unrecorded), and the request costs one commit instead of two. The caller fills
 * it from the request (actor, origin, request id) or names the command line.
 */
export type AuditSource = Pick<AuditEvent, 'actorKeyId' | 'actorLabel' | 'origin' | 'requestId'>;

/** The audit record of a successful change by `source`. */
export function changeRecord(
  source: AuditSource,
  change: { action: string; objectType: string; objectId: string | null; municipality: string | null },
): AuditEvent {
  return { ...source, ...change, result: 'success' };
}

export async function recordAudit(db: Queryable, event: AuditEvent): Promise<void> {
  await db.query(
    `insert into audit_events (actor_key_id, actor_label, action, object_type, object_id, municipality_code, result, origin, request_id)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [event.actorKeyId, event.actorLabel, event.action, event.objectType, event.objectId ?? null, event.municipality ?? null, event.result, event.origin ?? null, event.requestId ?? null],
  );
}
