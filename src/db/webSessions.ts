import type { Actor, Role } from '../domain/apiKey.js';
import type { PartnerType } from '../domain/codes.js';
import type { Queryable } from './pool.js';

/**
 * Sessions of the web pages (migration 050). A session acts for one API key: the key's role and
 * scope are read from api_keys on every request, so a changed scope applies at once and a
 * revoked key's sessions are gone (the join below, and the trigger of migration 050).
 */

export interface WebSession {
  id: number;
  csrfSecret: string;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  actor: Actor;
}

interface SessionRow {
  id: number;
  csrf_secret: string;
  created_at: Date;
  last_seen_at: Date;
  expires_at: Date;
  key_id: string;
  role: Role;
  municipality_code: string | null;
  partner_types: PartnerType[] | null;
  teams: string[] | null;
  label: string;
}

export async function insertWebSession(
  db: Queryable,
  session: { tokenHash: Buffer; apiKeyId: string; csrfSecret: string; expiresAt: Date; now: Date },
): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    `insert into web_sessions (token_hash, api_key_id, csrf_secret, created_at, last_seen_at, expires_at)
     values ($1, $2, $3, $4, $4, $5) returning id`,
    [session.tokenHash, session.apiKeyId, session.csrfSecret, session.now, session.expiresAt],
  );
  return rows[0]!.id;
}

/**
 * The live session with this token hash: not expired, not idle for longer than `idleSeconds`,
 * and its key not revoked. Null otherwise.
 */
export async function findLiveWebSession(db: Queryable, tokenHash: Buffer, now: Date, idleSeconds: number): Promise<WebSession | null> {
  const { rows } = await db.query<SessionRow>(
    `select s.id, s.csrf_secret, s.created_at, s.last_seen_at, s.expires_at,
            k.id as key_id, k.role, k.municipality_code, k.partner_types, k.teams, k.label
       from web_sessions s join api_keys k on k.id = s.api_key_id
      where s.token_hash = $1 and k.revoked_at is null
        and s.expires_at > $2 and s.last_seen_at > $2::timestamptz - make_interval(secs => $3)`,
    [tokenHash, now, idleSeconds],
  );
  const r = rows[0];
  if (!r) return null;
  return {
    id: r.id,
    csrfSecret: r.csrf_secret,
    createdAt: r.created_at,
    lastSeenAt: r.last_seen_at,
    expiresAt: r.expires_at,
    actor: { keyId: r.key_id, label: r.label, role: r.role, municipality: r.municipality_code, partnerTypes: r.partner_types, teams: r.teams ?? [] },
  };
}

/** Moves the idle clock; callers do this at most once a minute per session, not per request. */
export async function touchWebSession(db: Queryable, id: number, now: Date): Promise<void> {
  await db.query(`update web_sessions set last_seen_at = $2 where id = $1`, [id, now]);
}

export async function deleteWebSession(db: Queryable, id: number): Promise<void> {
  await db.query(`delete from web_sessions where id = $1`, [id]);
}

/** Removes sessions that can no longer be used; returns how many. Cheap: an index range. */
export async function deleteExpiredWebSessions(db: Queryable, now: Date, idleSeconds: number): Promise<number> {
  const { rowCount } = await db.query(
    `delete from web_sessions where expires_at <= $1 or last_seen_at <= $1::timestamptz - make_interval(secs => $2)`,
    [now, idleSeconds],
  );
  return rowCount ?? 0;
}
