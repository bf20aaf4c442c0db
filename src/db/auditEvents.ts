import type { Queryable } from './pool.js';

export interface AuditEventView {
  id: number;
  at: string;
  actorKeyId: string | null;
  actorLabel: string | null;
  action: string;
  objectType: string;
  objectId: string | null;
  municipality: string | null;
  result: string;
  origin: string | null;
  requestId: string | null;
}

export interface AuditFilter {
  /** null: every municipality (admin without one). */
  municipality: string | null;
  actor?: string | undefined;
  objectType?: string | undefined;
  objectId?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  /** Newest first; the id of the last event of the previous page. */
  beforeId?: number | undefined;
  limit: number;
}

export async function listAuditEvents(db: Queryable, filter: AuditFilter): Promise<AuditEventView[]> {
  const { rows } = await db.query<{
    id: number; at: Date; actor_key_id: string | null; actor_label: string | null; action: string; object_type: string;
    object_id: string | null; municipality_code: string | null; result: string; origin: string | null; request_id: string | null;
  }>(
    `select id, at, actor_key_id, actor_label, action, object_type, object_id, municipality_code, result, origin, request_id
       from audit_events
      where ($1::text is null or municipality_code = $1)
        and ($2::uuid is null or actor_key_id = $2)
        and ($3::text is null or object_type = $3)
        and ($4::text is null or object_id = $4)
        and ($5::date is null or at >= ($5::date::timestamp at time zone 'Europe/Amsterdam'))
        and ($6::date is null or at < (($6::date + 1)::timestamp at time zone 'Europe/Amsterdam'))
        and ($7::bigint is null or id < $7)
      order by id desc limit $8`,
    [filter.municipality, filter.actor ?? null, filter.objectType ?? null, filter.objectId ?? null, filter.from ?? null, filter.to ?? null, filter.beforeId ?? null, filter.limit],
  );
  return rows.map((r) => ({
    id: r.id,
    at: r.at.toISOString(),
    actorKeyId: r.actor_key_id,
    actorLabel: r.actor_label,
    action: r.action,
    objectType: r.object_type,
    objectId: r.object_id,
    municipality: r.municipality_code,
    result: r.result,
    origin: r.origin,
    requestId: r.request_id,
  }));
}
