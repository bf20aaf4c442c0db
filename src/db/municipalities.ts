import type { Client, Queryable } from './pool.js';

export interface Municipality {
  code: string;
  name: string;
  postcodeAreas: string[];
  activeRuleSetVersion: number | null;
}

export async function listMunicipalities(db: Queryable, only: string | null): Promise<Municipality[]> {
  const { rows } = await db.query<{ code: string; name: string; active_rule_set_version: number | null; areas: string[] }>(
    `select m.code, m.name, m.active_rule_set_version,
            coalesce(array_agg(a.postcode_area order by a.postcode_area) filter (where a.postcode_area is not null), '{}') as areas
       from municipalities m left join municipality_areas a on a.municipality_code = m.code
      where $1::text is null or m.code = $1
      group by m.code order by m.code`,
    [only],
  );
  return rows.map((r) => ({ code: r.code, name: r.name, postcodeAreas: r.areas, activeRuleSetVersion: r.active_rule_set_version }));
}

/**
 * Creates or replaces a municipality and its postcode areas. Returns the areas that already
 * belong to another municipality (then nothing is written) and whether it was created.
 */
export async function upsertMunicipality(
  tx: Client,
  code: string,
  name: string,
  areas: string[],
): Promise<{ created: boolean; takenAreas: string[] }> {
  const taken = await tx.query<{ postcode_area: string }>(
    `select postcode_area from municipality_areas where postcode_area = any($1) and municipality_code <> $2 order by 1`,
    [areas, code],
  );
  if (taken.rows.length > 0) return { created: false, takenAreas: taken.rows.map((r) => r.postcode_area) };
  const { rows } = await tx.query<{ created: boolean }>(
    `insert into municipalities (code, name) values ($1, $2)
     on conflict (code) do update set name = excluded.name, updated_at = now()
     returning (xmax = 0) as created`,
    [code, name],
  );
  await tx.query(`delete from municipality_areas where municipality_code = $1 and postcode_area <> all($2)`, [code, areas]);
  await tx.query(
    `insert into municipality_areas (postcode_area, municipality_code) select unnest($1::text[]), $2 on conflict (postcode_area) do nothing`,
    [areas, code],
  );
  return { created: rows[0]!.created, takenAreas: [] };
}

export interface Team {
  id: string;
  municipality: string;
  name: string;
  postcodeAreas: string[];
}

export async function upsertTeam(db: Queryable, team: Team): Promise<{ created: boolean }> {
  const { rows } = await db.query<{ created: boolean }>(
    `insert into teams (municipality_code, id, name, postcode_areas) values ($1, $2, $3, $4)
     on conflict (municipality_code, id) do update set name = excluded.name, postcode_areas = excluded.postcode_areas, updated_at = now()
     returning (xmax = 0) as created`,
    [team.municipality, team.id, team.name, team.postcodeAreas],
  );
  return { created: rows[0]!.created };
}

export async function listTeams(db: Queryable, municipality: string): Promise<Team[]> {
  const { rows } = await db.query<{ id: string; municipality_code: string; name: string; postcode_areas: string[] }>(
    `select id, municipality_code, name, postcode_areas from teams where municipality_code = $1 order by id`,
    [municipality],
  );
  return rows.map((r) => ({ id: r.id, municipality: r.municipality_code, name: r.name, postcodeAreas: r.postcode_areas }));
}

export async function municipalityExists(db: Queryable, code: string): Promise<boolean> {
  const { rowCount } = await db.query(`select 1 from municipalities where code = $1`, [code]);
  return (rowCount ?? 0) > 0;
}
