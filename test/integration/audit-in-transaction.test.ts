import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultRuleSet } from '../../src/services/evaluation.js';
import { A, buildWorld, closeWorld, webCsrf, webSignIn, type World } from '../helpers/accessMatrix.js';

/**
 * Every change through the API or the web pages writes its audit record in the change's own
 * transaction: when the record cannot be written, the change does not happen either. The test
 * makes PostgreSQL refuse the audit record of one action (a trigger on audit_events in this
 * file's schema), sends the change, and checks that nothing changed; then lets the record
 * through and checks that the change and exactly one record of it are there.
 */

let w: World;

beforeAll(async () => {
  w = await buildWorld('audit_in_transaction');
  const pool = w.t.ctx.pool;
  await pool.query(`create table audit_refusals (action text primary key)`);
  await pool.query(`
    create function refuse_audit() returns trigger language plpgsql as $$
    begin
      if exists (select 1 from audit_refusals where action = new.action) then
        raise exception 'audit record refused: %', new.action;
      end if;
      return new;
    end $$`);
  await pool.query(`create trigger refuse_audit before insert on audit_events for each row execute function refuse_audit()`);
});
afterAll(async () => {
  await closeWorld(w);
});

async function refusing<T>(action: string, work: () => Promise<T>): Promise<T> {
  await w.t.ctx.pool.query(`insert into audit_refusals (action) values ($1)`, [action]);
  try {
    return await work();
  } finally {
    await w.t.ctx.pool.query(`delete from audit_refusals where action = $1`, [action]);
  }
}

async function records(action: string, objectId: string): Promise<{ actor_label: string; request_id: string | null }[]> {
  const { rows } = await w.t.ctx.pool.query(`select actor_label, request_id from audit_events where action = $1 and object_id = $2`, [action, objectId]);
  return rows;
}

async function scalar<T>(sql: string, values: unknown[] = []): Promise<T> {
  const { rows } = await w.t.ctx.pool.query(sql, values);
  return Object.values(rows[0] ?? {})[0] as T;
}

const ruleSet = () => ({ ...defaultRuleSet(), rules: defaultRuleSet().rules.slice(0, 3) });

describe('API changes', () => {
  it('POST /v1/api-keys: no key without its record', async () => {
    const before = await scalar<number>(`select count(*)::int from api_keys`);
    const refused = await refusing('api-key.create', () => w.api('admin').post('/v1/api-keys', { role: 'integrator', label: 'audited', municipality: A.municipality }));
    expect(refused.status).toBe(500);
    expect(await scalar<number>(`select count(*)::int from api_keys`)).toBe(before);

    const created = await w.api('admin').post('/v1/api-keys', { role: 'integrator', label: 'audited', municipality: A.municipality });
    expect(created.status).toBe(201);
    const id = created.json.id as string;
    expect(await records('api-key.create', id)).toEqual([{ actor_label: 'admin', request_id: created.headers.get('x-request-id') }]);
  });

  it('DELETE /v1/api-keys/{id}: the key stays active without its record', async () => {
    const created = await w.api('admin').post('/v1/api-keys', { role: 'integrator', label: 'to revoke', municipality: A.municipality });
    const id = created.json.id as string;
    const refused = await refusing('api-key.revoke', () => w.api('admin').delete(`/v1/api-keys/${id}`));
    expect(refused.status).toBe(500);
    expect(await scalar<Date | null>(`select revoked_at from api_keys where id = $1`, [id])).toBeNull();

    expect((await w.api('admin').delete(`/v1/api-keys/${id}`)).status).toBe(204);
    expect(await scalar<Date | null>(`select revoked_at from api_keys where id = $1`, [id])).not.toBeNull();
    expect(await records('api-key.revoke', id)).toHaveLength(1);
    // Revoked already: nothing to revoke, nothing recorded.
    expect((await w.api('admin').delete(`/v1/api-keys/${id}`)).status).toBe(404);
    expect(await records('api-key.revoke', id)).toHaveLength(1);
  });

  it('POST /v1/rule-sets: no version without its record', async () => {
    const before = await scalar<number>(`select max(version)::int from rule_sets where municipality_code = $1`, [A.municipality]);
    const refused = await refusing('rule-set.publish', () => w.api('coordinatorA').post('/v1/rule-sets', { ruleSet: ruleSet(), note: 'refused' }));
    expect(refused.status).toBe(500);
    expect(await scalar<number>(`select max(version)::int from rule_sets where municipality_code = $1`, [A.municipality])).toBe(before);

    const published = await w.api('coordinatorA').post('/v1/rule-sets', { ruleSet: ruleSet(), note: 'published' });
    expect(published.status).toBe(201);
    expect(published.json.version).toBe(before + 1);
    expect(await records('rule-set.publish', String(before + 1))).toEqual([{ actor_label: 'coordinatorA', request_id: published.headers.get('x-request-id') }]);
  });

  it('POST /v1/rule-sets/{version}/activate: the active version stays without its record', async () => {
    const active = await scalar<number>(`select active_rule_set_version from municipalities where code = $1`, [A.municipality]);
    const earlier = active - 1;
    const refused = await refusing('rule-set.activate', () => w.api('coordinatorA').post(`/v1/rule-sets/${earlier}/activate`));
    expect(refused.status).toBe(500);
    expect(await scalar<number>(`select active_rule_set_version from municipalities where code = $1`, [A.municipality])).toBe(active);

    expect((await w.api('coordinatorA').post(`/v1/rule-sets/${earlier}/activate`)).status).toBe(200);
    expect(await scalar<number>(`select active_rule_set_version from municipalities where code = $1`, [A.municipality])).toBe(earlier);
    const recorded = await w.t.ctx.pool.query(`select 1 from audit_events where action = 'rule-set.activate' and object_id = $1 and municipality_code = $2`, [String(earlier), A.municipality]);
    expect(recorded.rowCount).toBe(1);
  });

  it('PUT /v1/municipalities/{code}: neither the municipality nor its rule set without its record', async () => {
    const refused = await refusing('municipality.create', () => w.api('admin').put('/v1/municipalities/0518', { name: 'Den Haag', postcodeAreas: ['2491'] }));
    expect(refused.status).toBe(500);
    expect(await scalar<number>(`select count(*)::int from municipalities where code = '0518'`)).toBe(0);
    expect(await scalar<number>(`select count(*)::int from rule_sets where municipality_code = '0518'`)).toBe(0);

    expect((await w.api('admin').put('/v1/municipalities/0518', { name: 'Den Haag', postcodeAreas: ['2491'] })).status).toBe(201);
    expect(await records('municipality.create', '0518')).toHaveLength(1);
    const updated = await refusing('municipality.update', () => w.api('admin').put('/v1/municipalities/0518', { name: "'s-Gravenhage", postcodeAreas: ['2491', '2492'] }));
    expect(updated.status).toBe(500);
    expect(await scalar<string>(`select name from municipalities where code = '0518'`)).toBe('Den Haag');
    expect(await scalar<string[]>(`select array_agg(postcode_area order by postcode_area) from municipality_areas where municipality_code = '0518'`)).toEqual(['2491']);
  });

  it('PUT /v1/municipalities/{code}/teams/{teamId}: no team without its record', async () => {
    const refused = await refusing('team.create', () => w.api('coordinatorA').put(`/v1/municipalities/${A.municipality}/teams/oost`, { name: 'Oost', postcodeAreas: ['2262'] }));
    expect(refused.status).toBe(500);
    expect(await scalar<number>(`select count(*)::int from teams where municipality_code = $1 and id = 'oost'`, [A.municipality])).toBe(0);

    expect((await w.api('coordinatorA').put(`/v1/municipalities/${A.municipality}/teams/oost`, { name: 'Oost', postcodeAreas: ['2262'] })).status).toBe(201);
    expect(await records('team.create', `${A.municipality}/oost`)).toHaveLength(1);
  });
});

describe('web changes', () => {
  let cookie: string;
  let csrf: string;
  beforeAll(async () => {
    cookie = await webSignIn(w, w.keys.coordinatorA.key);
    csrf = await webCsrf(w, cookie, '/web/teams');
  });

  const post = (page: string, fields: Record<string, string>) =>
    fetch(w.server.url + page, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie, origin: w.server.url, 'x-csrf-token': csrf, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: csrf, ...fields }).toString(),
    });

  it('a team saved on /web/teams: not without its record', async () => {
    const refused = await refusing('team.create', () => post('/web/teams', { id: 'west', name: 'West', areas: '2261' }));
    expect(refused.status).toBe(500);
    expect(await scalar<number>(`select count(*)::int from teams where municipality_code = $1 and id = 'west'`, [A.municipality])).toBe(0);

    expect((await post('/web/teams', { id: 'west', name: 'West', areas: '2261' })).status).toBe(303);
    expect(await records('team.create', `${A.municipality}/west`)).toEqual([{ actor_label: 'coordinatorA', request_id: expect.any(String) }]);
  });

  it('a rule set published and a version activated on /web/rules: not without their records', async () => {
    const before = await scalar<number>(`select max(version)::int from rule_sets where municipality_code = $1`, [A.municipality]);
    const fields = { action: 'publish', ruleSet: JSON.stringify(ruleSet()), note: 'web' };
    expect((await refusing('rule-set.publish', () => post('/web/rules/candidate', fields))).status).toBe(500);
    expect(await scalar<number>(`select max(version)::int from rule_sets where municipality_code = $1`, [A.municipality])).toBe(before);
    expect((await post('/web/rules/candidate', fields)).status).toBe(303);
    expect(await records('rule-set.publish', String(before + 1))).toHaveLength(1);

    expect((await refusing('rule-set.activate', () => post(`/web/rules/${before}/activate`, {}))).status).toBe(500);
    expect(await scalar<number>(`select active_rule_set_version from municipalities where code = $1`, [A.municipality])).toBe(before + 1);
    expect((await post(`/web/rules/${before}/activate`, {})).status).toBe(303);
    expect(await scalar<number>(`select active_rule_set_version from municipalities where code = $1`, [A.municipality])).toBe(before);
  });
});
