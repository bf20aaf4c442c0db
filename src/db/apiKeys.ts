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

export interface ApiKeyListing {
  id: string;
  prefix: string;
  role: Role;
  municipality: string | null;
  partnerTypes: PartnerType[] | null;
  teams: string[] | null;
  label: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/** Every key, newest first, without hashes (for `vroegsein keys list`). */
export async function listApiKeys(db: Queryable): Promise<ApiKeyListing[]> {
  const { rows } = await db.query<ApiKeyListing>(
    `select id, key_prefix as "prefix", role, municipality_code as "municipality", partner_types as "partnerTypes", teams, label,
            created_at as "createdAt", last_used_at as "lastUsedAt", revoked_at as "revokedAt"
       from api_keys order by created_at desc, id`,
  );
  return rows;
}

/**
 * One page of keys, newest first, without hashes: those of `municipality` only when given,
 * after the previous page's last key (`afterId`; its position is read here, to the microsecond).
 */
export async function listApiKeyPage(
  db: Queryable,
  options: { municipality: string | null; afterId: string | null; limit: number },
): Promise<ApiKeyListing[]> {
  const { rows } = await db.query<ApiKeyListing>(
    `select id, key_prefix as "prefix", role, municipality_code as "municipality", partner_types as "partnerTypes", teams, label,
            created_at as "createdAt", last_used_at as "lastUsedAt", revoked_at as "revokedAt"
       from api_keys
      where ($1::text is null or municipality_code = $1)
        and ($2::uuid is null or (created_at, id) < (select p.created_at, p.id from api_keys p where p.id = $2::uuid))
      order by created_at desc, id desc
      limit $3`,
    [options.municipality, options.afterId, options.limit],
  );
  return rows;
}

/** How many keys can still be used; 0 means a fresh installation that needs its first admin key. */
export async function countActiveApiKeys(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`select count(*)::int as n from api_keys where revoked_at is null`);
  return rows[0]?.n ?? 0;
}

/** An active key's scope, locked for the rest of the transaction (rotation reads and revokes it at once). */
export async function lockActiveApiKey(tx: Queryable, id: string): Promise<Omit<NewApiKey, 'hash' | 'prefix'> | null> {
  const { rows } = await tx.query<ApiKeyRow>(
    `select id, key_hash, role, municipality_code, partner_types, teams, label, revoked_at
       from api_keys where id = $1 and revoked_at is null for update`,
    [id],
  );
  const row = rows[0];
  if (!row) return null;
  return { role: row.role, municipality: row.municipality_code, partnerTypes: row.partner_types, teams: row.teams, label: row.label };
}
