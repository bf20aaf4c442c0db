import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createKey, createTestContext, seedMunicipality, startTestServer, type TestContext, type TestServer } from '../helpers/context.js';

let t: TestContext;
let server: TestServer;
let adminKey: string;

beforeAll(async () => {
  t = await createTestContext('auth');
  server = await startTestServer(t.ctx);
  adminKey = await createKey(t.ctx, { role: 'admin', label: 'admin' });
  await seedMunicipality(t.ctx, '1916', ['2261']);
  await seedMunicipality(t.ctx, '0363', ['1011']);
});
afterAll(async () => {
  await server.close();
  await t.close();
});

describe('authentication and roles', () => {
  it('answers 401 problem+json without a key, with a malformed key and with an unknown key', async () => {
    for (const key of [undefined, 'nonsense', 'vs_' + 'A'.repeat(43)]) {
      const res = await client(server.url, key).get('/v1/municipalities');
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.headers.get('api-version')).toBe('1.0.0');
      expect(res.json).toMatchObject({ status: 401, title: expect.any(String), detail: expect.any(String) });
    }
  });

  it('lets an admin register a municipality and create keys; the key works until revoked', async () => {
    const admin = client(server.url, adminKey);
    const put = await admin.put('/v1/municipalities/1680', { name: 'Aa en Hunze', postcodeAreas: ['9451', '9452'] });
    expect(put.status).toBe(201);
    expect(put.json).toMatchObject({ code: '1680', postcodeAreas: ['9451', '9452'] });
    expect((await admin.put('/v1/municipalities/1680', { name: 'Aa en Hunze', postcodeAreas: ['9451'] })).status).toBe(200);

    const created = await admin.post('/v1/api-keys', { role: 'coordinator', municipality: '1680', label: 'coordinator' });
    expect(created.status).toBe(201);
    const coordinator = client(server.url, created.json.key);
    const own = await coordinator.get('/v1/municipalities');
    expect(own.json.municipalities.map((m: { code: string }) => m.code)).toEqual(['1680']);

    expect((await admin.delete(`/v1/api-keys/${created.json.id}`)).status).toBe(204);
    expect((await coordinator.get('/v1/municipalities')).status).toBe(401);
    expect((await admin.delete(`/v1/api-keys/${created.json.id}`)).status).toBe(404);
  });

  it('answers 403 for the wrong role and 404 for another municipality', async () => {
    const coordinatorKey = await createKey(t.ctx, { role: 'coordinator', municipality: '1916', label: 'c1916' });
    const coordinator = client(server.url, coordinatorKey);
    expect((await coordinator.put('/v1/municipalities/1916', { name: 'x', postcodeAreas: [] })).status).toBe(403);
    expect((await coordinator.post('/v1/api-keys', { role: 'admin', label: 'x' })).status).toBe(403);
    const team = await coordinator.put('/v1/municipalities/0363/teams/centrum', { name: 'Centrum', postcodeAreas: ['1011'] });
    expect(team.status).toBe(404);
    const ownTeam = await coordinator.put('/v1/municipalities/1916/teams/noord', { name: 'Noord', postcodeAreas: ['2261'] });
    expect(ownTeam.status).toBe(201);
  });

  it('refuses invalid input with pointers, unknown properties included', async () => {
    const admin = client(server.url, adminKey);
    const res = await admin.put('/v1/municipalities/1916', { name: '', postcodeAreas: ['12'], extra: true });
    expect(res.status).toBe(400);
    const pointers = res.json.errors.map((e: { pointer: string }) => e.pointer).sort();
    expect(pointers).toEqual(expect.arrayContaining(['/name', '/postcodeAreas/0']));
    expect(JSON.stringify(res.json.errors)).toContain('extra');
    const keyRes = await admin.post('/v1/api-keys', { role: 'consultant', label: 'c' });
    expect(keyRes.status).toBe(400);
    expect(keyRes.json.errors[0].pointer).toBe('/municipality');
  });

  it('refuses a postcode area that another municipality serves with 409', async () => {
    const res = await client(server.url, adminKey).put('/v1/municipalities/0363', { name: 'Amsterdam', postcodeAreas: ['1011', '2261'] });
    expect(res.status).toBe(409);
  });

  it('records an audit event for key creation', async () => {
    const { rows } = await t.ctx.pool.query(`select action, result from audit_events where action = 'api-key.create'`);
    expect(rows.length).toBeGreaterThan(0);
    await expect(t.ctx.pool.query(`delete from audit_events`)).rejects.toThrow(/append-only/);
  });
});
