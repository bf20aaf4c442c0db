import type { Queryable } from './pool.js';

export interface StoredRuleSet {
  municipality: string;
  version: number;
  name: string;
  definition: unknown;
  note: string | null;
  authorLabel: string | null;
  createdAt: Date;
}

interface RuleSetRow {
  municipality_code: string;
  version: number;
  name: string;
  definition: unknown;
  note: string | null;
  author_label: string | null;
  created_at: Date;
}

const toStored = (r: RuleSetRow): StoredRuleSet => ({
  municipality: r.municipality_code,
  version: r.version,
  name: r.name,
  definition: r.definition,
  note: r.note,
  authorLabel: r.author_label,
  createdAt: r.created_at,
});

/**
 * Gives every municipality without a rule set the default as version 1 and activates it.
 * Idempotent and safe to run concurrently (on conflict do nothing; activation only when unset).
 */
export async function ensureDefaultRuleSets(db: Queryable, defaultRuleSet: { name: string }, municipalities?: string[]): Promise<void> {
  await db.query(
    `insert into rule_sets (municipality_code, version, name, definition, note, author_label)
     select m.code, 1, $1, $2::jsonb, 'default rule set shipped with vroegsein', 'vroegsein'
       from municipalities m
      where ($3::text[] is null or m.code = any($3))
        and not exists (select 1 from rule_sets r where r.municipality_code = m.code)
     on conflict do nothing`,
    [defaultRuleSet.name, JSON.stringify(defaultRuleSet), municipalities ?? null],
  );
  await db.query(
    `update municipalities set active_rule_set_version = 1
      where active_rule_set_version is null and ($1::text[] is null or code = any($1))
        and exists (select 1 from rule_sets r where r.municipality_code = code and r.version = 1)`,
    [municipalities ?? null],
  );
}

/** The active rule set of each given municipality. */
export async function activeRuleSets(db: Queryable, municipalities: string[]): Promise<Map<string, StoredRuleSet>> {
  const { rows } = await db.query<RuleSetRow>(
    `select r.municipality_code, r.version, r.name, r.definition, r.note, r.author_label, r.created_at
       from municipalities m join rule_sets r on r.municipality_code = m.code and r.version = m.active_rule_set_version
      where m.code = any($1)`,
    [municipalities],
  );
  return new Map(rows.map((r) => [r.municipality_code, toStored(r)]));
}

/**
 * The active version number of each given municipality that has one. Versions are immutable:
 * a caller that keeps compiled versions needs the definition (see findVersion) only for a
 * version it has not seen, not with every chunk of households.
 */
export async function activeRuleSetVersions(db: Queryable, municipalities: string[]): Promise<Map<string, number>> {
  const { rows } = await db.query<{ code: string; version: number }>({
    name: 'active-rule-set-versions',
    text: `select code, active_rule_set_version as version from municipalities where code = any($1) and active_rule_set_version is not null`,
    values: [municipalities],
  });
  return new Map(rows.map((r) => [r.code, r.version]));
}
