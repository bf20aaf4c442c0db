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

export async function recordAudit(db: Queryable, event: AuditEvent): Promise<void> {
  await db.query(
    `insert into audit_events (actor_key_id, actor_label, action, object_type, object_id, municipality_code, result, origin, request_id)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [event.actorKeyId, event.actorLabel, event.action, event.objectType, event.objectId ?? null, event.municipality ?? null, event.result, event.origin ?? null, event.requestId ?? null],
  );
}
