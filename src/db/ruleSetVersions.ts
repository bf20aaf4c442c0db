import type { Client, Queryable } from './pool.js';

export interface RuleSetVersion {
  version: number;
  name: string;
  note: string | null;
  authorLabel: string | null;
  createdAt: string;
  active: boolean;
}

export async function listVersions(db: Queryable, municipality: string): Promise<RuleSetVersion[]> {
  const { rows } = await db.query<{ version: number; name: string; note: string | null; author_label: string | null; created_at: Date; active: boolean }>(
    `select r.version, r.name, r.note, r.author_label, r.created_at, (m.active_rule_set_version = r.version) as active
       from rule_sets r join municipalities m on m.code = r.municipality_code
      where r.municipality_code = $1 order by r.version desc`,
    [municipality],
  );
  return rows.map((r) => ({ version: r.version, name: r.name, note: r.note, authorLabel: r.author_label, createdAt: r.created_at.toISOString(), active: r.active }));
}

export async function findVersion(db: Queryable, municipality: string, version: number): Promise<(RuleSetVersion & { definition: unknown }) | null> {
  const { rows } = await db.query<{ version: number; name: string; note: string | null; author_label: string | null; created_at: Date; active: boolean; definition: unknown }>(
    `select r.version, r.name, r.note, r.author_label, r.created_at, (m.active_rule_set_version = r.version) as active, r.definition
       from rule_sets r join municipalities m on m.code = r.municipality_code
      where r.municipality_code = $1 and r.version = $2`,
    [municipality, version],
  );
  const r = rows[0];
  return r ? { version: r.version, name: r.name, note: r.note, authorLabel: r.author_label, createdAt: r.created_at.toISOString(), active: r.active, definition: r.definition } : null;
}

/** Stores a new immutable version with the next number; the municipality row lock serialises publishers. */
export async function insertVersion(
  tx: Client,
  municipality: string,
  ruleSet: { name: string },
  note: string | null,
  author: { keyId: string; label: string },
): Promise<number> {
  await tx.query(`select 1 from municipalities where code = $1 for update`, [municipality]);
  const { rows } = await tx.query<{ version: number }>(
    `insert into rule_sets (municipality_code, version, name, definition, note, author_key_id, author_label)
     select $1, coalesce(max(version), 0) + 1, $2, $3, $4, $5, $6 from rule_sets where municipality_code = $1
     returning version`,
    [municipality, ruleSet.name, JSON.stringify(ruleSet), note, author.keyId, author.label],
  );
  return rows[0]!.version;
}

export async function setActiveVersion(tx: Client, municipality: string, version: number): Promise<void> {
  await tx.query(`update municipalities set active_rule_set_version = $2, updated_at = now() where code = $1`, [municipality, version]);
}

/**
 * Marks the households of the municipality's open, unclaimed tasks as waiting, so that the
 * next evaluation re-scores them with the active version. Claimed and closed tasks keep theirs.
 */
export async function markOpenTasksForRescoring(tx: Client, municipality: string): Promise<number[]> {
  // DO UPDATE rather than DO NOTHING: it locks a row that is already queued, so an evaluation
  // running now cannot take it with the version this transaction replaces (see signals.ts).
  const { rows } = await tx.query<{ household_id: number }>(
    `insert into evaluation_queue as q (household_id, since)
     select household_id, now() from tasks where municipality_code = $1 and status = 'open' order by household_id
     on conflict (household_id) do update set since = q.since
     returning q.household_id`,
    [municipality],
  );
  return rows.map((r) => r.household_id);
}
