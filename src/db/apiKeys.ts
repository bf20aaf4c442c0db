import type { Actor, Role } from '../domain/apiKey.js';
import type { PartnerType } from '../domain/codes.js';
import type { Queryable } from './pool.js';

interface ApiKeyRow {
  id: string;
  key_hash: Buffer;
  role: Role;
  municipality_code: string | null;
  partner_types: PartnerType[] | null;
  teams: string[] | null;
  label: string;
  revoked_at: Date | null;
}

export interface NewApiKey {
  hash: Buffer;
  prefix: string;
  role: Role;
  municipality: string | null;
  partnerTypes: PartnerType[] | null;
  teams: string[] | null;
  label: string;
}

export async function insertApiKey(db: Queryable, key: NewApiKey): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `insert into api_keys (key_hash, key_prefix, role, municipality_code, partner_types, teams, label)
     values ($1, $2, $3, $4, $5, $6, $7) returning id`,
    [key.hash, key.prefix, key.role, key.municipality, key.partnerTypes, key.teams, key.label],
  );
  return rows[0]!.id;
}

export async function findActiveKeyByHash(db: Queryable, hash: Buffer): Promise<(Actor & { hash: Buffer }) | null> {
  const { rows } = await db.query<ApiKeyRow>(
    `select id, key_hash, role, municipality_code, partner_types, teams, label, revoked_at
       from api_keys where key_hash = $1 and revoked_at is null`,
    [hash],
  );
  const row = rows[0];
  if (!row) return null;
  return {
    keyId: row.id,
    hash: row.key_hash,
    label: row.label,
    role: row.role,
    municipality: row.municipality_code,
    partnerTypes: row.partner_types,
    teams: row.teams ?? [],
  };
}

/** Records use, at most once a minute per key, so reads do not turn into a write per request. */
export async function touchApiKey(db: Queryable, id: string): Promise<void> {
  await db.query(`update api_keys set last_used_at = now() where id = $1 and (last_used_at is null or last_used_at < now() - interval '1 minute')`, [id]);
}

/** Revokes a key; returns false when there was no such active key. */
export async function revokeApiKey(db: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await db.query(`update api_keys set revoked_at = now() where id = $1 and revoked_at is null`, [id]);
  return (rowCount ?? 0) > 0;
}

export async function findApiKey(db: Queryable, id: string) {
  const { rows } = await db.query<{ id: string; role: Role; municipality_code: string | null; label: string; revoked_at: Date | null; teams: string[] | null }>(
    `select id, role, municipality_code, label, revoked_at, teams from api_keys where id = $1`,
    [id],
  );
  return rows[0] ?? null;
}
