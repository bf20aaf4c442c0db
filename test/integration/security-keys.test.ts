import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey, hashApiKey, looksLikeApiKey, sameHash } from '../../src/domain/apiKey.js';
import { REPO_ROOT, runCli } from '../helpers/cli.js';
import { client, createTestContext, seedMunicipality, startTestServer, TEST_DATABASE_URL, TEST_REDIS_URL, type TestContext, type TestServer } from '../helpers/context.js';
import { createKeyWithId } from '../helpers/tasks.js';

/**
 * API keys: 32 random bytes, shown once, stored as a SHA-256 hash only, compared in constant
 * time, revocable (by the API and the CLI), rotated by `vroegsein keys rotate`, with the time
 * of last use recorded. Neither the key nor its hash ever appears in a log line or the audit log.
 */

let t: TestContext;
let server: TestServer;
let admin: { id: string; key: string };

beforeAll(async () => {
  t = await createTestContext('security_keys', { env: { RATE_LIMIT_PER_MINUTE: '0' } });
  server = await startTestServer(t.ctx);
  await seedMunicipality(t.ctx, '1916', ['2261'], [{ id: 'noord', areas: ['2261'] }]);
  admin = await createKeyWithId(t.ctx, { role: 'admin', label: 'admin' });
});
afterAll(async () => {
  await server.close();
  await t.close();
});

/** Every stored form a key could leak in: the key, its random part, its hash in hex and base64. */
function traces(key: string): string[] {
  const hash = hashApiKey(key);
  return [key, key.slice(3), hash.toString('hex'), hash.toString('base64')];
}

async function auditText(): Promise<string> {
  const { rows } = await t.ctx.pool.query(`select e::text as row from audit_events e`);
  return rows.map((r: { row: string }) => r.row).join('\n');
}

describe('key material', () => {
  it('is vs_ + 32 random bytes (base64url), never the same twice', () => {
    const keys = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const { key, hash, prefix } = generateApiKey();
      expect(key).toMatch(/^vs_[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(key.slice(3), 'base64url')).toHaveLength(32);
      expect(hash.equals(createHash('sha256').update(key).digest())).toBe(true);
      expect(prefix).toBe(key.slice(0, 8));
      expect(looksLikeApiKey(key)).toBe(true);
      keys.add(key);
    }
    expect(keys.size).toBe(200);
    // 200 keys × 43 characters: every base64url character shows up (a constant or a counter would not).
    expect(new Set([...keys].join('').replace(/^vs_/gm, '')).size).toBeGreaterThan(60);
  });

  it('compares hashes with crypto.timingSafeEqual, and the middleware compares through it', () => {
    expect(sameHash(hashApiKey('a'), hashApiKey('a'))).toBe(true);
    expect(sameHash(hashApiKey('a'), hashApiKey('b'))).toBe(false);
    expect(sameHash(hashApiKey('a'), Buffer.alloc(3))).toBe(false);
    // The timing itself cannot be asserted reliably in a test; the code path can.
    const domain = readFileSync(path.join(REPO_ROOT, 'src/domain/apiKey.ts'), 'utf8');
    expect(domain).toMatch(/return a\.length === b\.length && timingSafeEqual\(a, b\)/);
    for (const file of ['src/api/middleware/auth.ts', 'src/web/pages/signIn.tsx']) {
      expect(readFileSync(path.join(REPO_ROOT, file), 'utf8'), file).toMatch(/sameHash\(found\.hash, hash\)/);
    }
  });

  it('is shown once by POST /v1/api-keys and stored only as its hash', async () => {
    const res = await client(server.url, admin.key).post('/v1/api-keys', { role: 'consultant', municipality: '1916', teams: ['noord'], label: 'c' });
    expect(res.status).toBe(201);
    const { id, key } = res.json as { id: string; key: string };
    expect(looksLikeApiKey(key)).toBe(true);
    const { rows } = await t.ctx.pool.query(`select k::text as row, key_hash, key_prefix from api_keys k where id = $1`, [id]);
    expect(rows[0].key_hash.equals(hashApiKey(key))).toBe(true);
    expect(rows[0].key_prefix).toBe(key.slice(0, 8));
    // The row holds the hash (as bytea hex) and the 8-character prefix, nothing more of the key.
    expect(rows[0].row).not.toContain(key);
    expect(rows[0].row).not.toContain(key.slice(8));
    expect(await auditText()).not.toContain(key.slice(8));
  });
});

describe('use, last use and revocation', () => {
  it('sets last_used_at on use, at most once a minute', async () => {
    const key = await createKeyWithId(t.ctx, { role: 'coordinator', municipality: '1916' });
    const lastUsed = async () => (await t.ctx.pool.query(`select last_used_at from api_keys where id = $1`, [key.id])).rows[0].last_used_at as Date | null;
    expect(await lastUsed()).toBeNull();
    const before = Date.now();
    expect((await client(server.url, key.key).get('/v1/municipalities')).status).toBe(200);
    // The touch is not awaited by the request: wait for it briefly.
    let first: Date | null = null;
    for (let i = 0; i < 50 && !first; i++) {
      first = await lastUsed();
      if (!first) await new Promise((r) => setTimeout(r, 20));
    }
    expect(first).not.toBeNull();
    expect(first!.getTime()).toBeGreaterThanOrEqual(before - 1_000);
    expect((await client(server.url, key.key).get('/v1/municipalities')).status).toBe(200);
    await new Promise((r) => setTimeout(r, 100));
    expect((await lastUsed())!.getTime()).toBe(first!.getTime());
  });

  it('a refused key (unknown, malformed, revoked) does not touch any key', async () => {
    const { rows: before } = await t.ctx.pool.query(`select id, last_used_at from api_keys order by id`);
    for (const key of ['vs_' + 'B'.repeat(43), 'nonsense']) expect((await client(server.url, key).get('/v1/municipalities')).status).toBe(401);
    await new Promise((r) => setTimeout(r, 50));
    const { rows: after } = await t.ctx.pool.query(`select id, last_used_at from api_keys order by id`);
    expect(after).toEqual(before);
  });

  it('revocation through the API takes effect on the next request and is audited', async () => {
    const key = await createKeyWithId(t.ctx, { role: 'integrator', label: 'to revoke' });
    const integrator = client(server.url, key.key);
    expect((await integrator.get('/v1/municipalities')).status).toBe(200);
    expect((await client(server.url, admin.key).delete(`/v1/api-keys/${key.id}`)).status).toBe(204);
    const refused = await integrator.get('/v1/municipalities');
    expect(refused.status).toBe(401);
    expect(refused.json.detail).toBe('Unknown or revoked API key');
    const { rows } = await t.ctx.pool.query(`select action, actor_key_id, result from audit_events where object_id = $1`, [key.id]);
    expect(rows).toEqual([{ action: 'api-key.revoke', actor_key_id: admin.id, result: 'success' }]);
  });

  it('no key, key hash or authorization header reaches the logs', async () => {
    const keys = await t.ctx.pool.query(`select count(*)::int as n from api_keys`);
    expect(keys.rows[0].n).toBeGreaterThan(3);
    const logs = t.logs.join('');
    expect(logs).toContain('"msg":"request"');
    expect(logs.toLowerCase()).not.toContain('bearer');
    for (const trace of traces(admin.key)) expect(logs).not.toContain(trace);
  });
});

describe('keys over the API: list and rotate', () => {
  it('lists keys newest first, without hashes, paged, and an admin of one municipality sees its own only', async () => {
    const created: { id: string; key: string }[] = [];
    for (let i = 0; i < 5; i++) created.push(await createKeyWithId(t.ctx, { role: 'integrator', municipality: '1916', label: `listed ${i}` }));
    const boundAdmin = await createKeyWithId(t.ctx, { role: 'admin', municipality: '1916', label: 'admin 1916' });
    const everyone = client(server.url, admin.key);

    const pages: { id: string; label: string; municipality: string | null }[][] = [];
    let cursor: string | null = null;
    do {
      const res = await everyone.get(`/v1/api-keys?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      pages.push(res.json.apiKeys);
      cursor = res.json.nextCursor;
    } while (cursor);
    const listed = pages.flat();
    const { rows } = await t.ctx.pool.query<{ id: string }>(`select id from api_keys order by created_at desc, id desc`);
    expect(listed.map((k) => k.id)).toEqual(rows.map((r) => r.id));
    expect(pages.slice(0, -1).every((page) => page.length === 3)).toBe(true);
    // Newest first: the last five integrator keys, then those before.
    expect(listed.slice(1, 6).map((k) => k.label)).toEqual(['listed 4', 'listed 3', 'listed 2', 'listed 1', 'listed 0']);
    const text = JSON.stringify(listed);
    for (const key of [...created, boundAdmin]) for (const trace of traces(key.key)) expect(text).not.toContain(trace);
    expect(listed.find((k) => k.id === created[0]!.id)).toMatchObject({ prefix: created[0]!.key.slice(0, 8), role: 'integrator', revokedAt: null });

    const own = await client(server.url, boundAdmin.key).get('/v1/api-keys?limit=500');
    expect(own.json.apiKeys.length).toBeGreaterThan(0);
    expect(own.json.apiKeys.every((k: { municipality: string | null }) => k.municipality === '1916')).toBe(true);
    expect((await everyone.get('/v1/api-keys?cursor=nonsense')).status).toBe(400);
  });

  it('rotates a key: the new one works at once, the old one no longer, and both changes are audited', async () => {
    const old = await createKeyWithId(t.ctx, { role: 'consultant', municipality: '1916', teams: ['noord'], label: 'rotated by API' });
    const res = await client(server.url, admin.key).post(`/v1/api-keys/${old.id}/rotate`);
    expect(res.status).toBe(201);
    expect(res.json.previousId).toBe(old.id);
    expect(looksLikeApiKey(res.json.key)).toBe(true);
    expect((await client(server.url, old.key).get('/v1/tasks/queue')).status).toBe(401);
    expect((await client(server.url, res.json.key).get('/v1/tasks/queue')).status).toBe(200);
    const { rows } = await t.ctx.pool.query(`select role, municipality_code, teams, label from api_keys where id = $1`, [res.json.id]);
    expect(rows[0]).toEqual({ role: 'consultant', municipality_code: '1916', teams: ['noord'], label: 'rotated by API' });
    const audit = await t.ctx.pool.query(`select action, object_id from audit_events where request_id = $1 order by id`, [res.headers.get('x-request-id')]);
    expect(audit.rows).toEqual([
      { action: 'api-key.create', object_id: res.json.id },
      { action: 'api-key.revoke', object_id: old.id },
    ]);
    // A revoked key cannot be rotated.
    expect((await client(server.url, admin.key).post(`/v1/api-keys/${old.id}/rotate`)).status).toBe(404);
  });
});

describe('vroegsein keys rotate (CLI)', () => {
  const env = () => ({
    DATABASE_URL: TEST_DATABASE_URL,
    DATABASE_SCHEMA: t.ctx.schema,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: `test:${t.ctx.schema}`,
    LOG_LEVEL: 'warn',
  });

  it('refuses an unknown LOG_LEVEL as a configuration error, naming the setting, without a stack', async () => {
    const result = await runCli(['keys', 'list'], { ...env(), LOG_LEVEL: 'loud' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^vroegsein: invalid configuration:\n\s+LOG_LEVEL: /);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('replaces a key by one with the same role, scope and label, revokes the old one at once, and audits both', async () => {
    const old = await createKeyWithId(t.ctx, { role: 'consultant', municipality: '1916', teams: ['noord'], label: 'rotating consultant' });
    expect((await client(server.url, old.key).get('/v1/tasks/queue')).status).toBe(200);

    const result = await runCli(['keys', 'rotate', old.id], env());
    expect(result.code, result.stderr).toBe(0);
    const newKey = result.stdout.trim().split('\n').at(-1)!;
    expect(looksLikeApiKey(newKey)).toBe(true);
    expect(newKey).not.toBe(old.key);
    const newId = /id:\s+([0-9a-f-]{36})/.exec(result.stdout)?.[1];
    expect(newId).toBeDefined();

    expect((await client(server.url, old.key).get('/v1/tasks/queue')).status).toBe(401);
    expect((await client(server.url, newKey).get('/v1/tasks/queue')).status).toBe(200);
    const { rows } = await t.ctx.pool.query(
      `select id, role, municipality_code, teams, label, revoked_at is not null as revoked, key_hash from api_keys where id = any($1::uuid[]) order by created_at`,
      [[old.id, newId]],
    );
    expect(rows.map(({ key_hash: _h, id: _id, ...r }: Record<string, unknown>) => r)).toEqual([
      { role: 'consultant', municipality_code: '1916', teams: ['noord'], label: 'rotating consultant', revoked: true },
      { role: 'consultant', municipality_code: '1916', teams: ['noord'], label: 'rotating consultant', revoked: false },
    ]);
    expect(rows[1].key_hash.equals(hashApiKey(newKey))).toBe(true);

    const { rows: audit } = await t.ctx.pool.query(`select action, object_id, actor_label from audit_events where origin = 'cli' order by id`);
    expect(audit).toEqual(
      expect.arrayContaining([
        { action: 'api-key.create', object_id: newId, actor_label: 'cli' },
        { action: 'api-key.revoke', object_id: old.id, actor_label: 'cli' },
      ]),
    );
    // Only the new key's own output line holds it; nothing else printed (logs included) does.
    expect(result.stderr).not.toContain(newKey);
    expect(result.stdout.split(newKey).length - 1).toBe(1);
  });

  it('refuses to rotate a revoked or unknown key, changing nothing', async () => {
    const gone = await createKeyWithId(t.ctx, { role: 'integrator', label: 'gone' });
    await t.ctx.pool.query(`update api_keys set revoked_at = now() where id = $1`, [gone.id]);
    const { rows: before } = await t.ctx.pool.query(`select count(*)::int as n from api_keys`);
    const revoked = await runCli(['keys', 'rotate', gone.id], env());
    expect(revoked.code).toBe(1);
    expect(revoked.stderr).toContain('no active API key');
    const unknown = await runCli(['keys', 'rotate', '00000000-0000-4000-8000-000000000000'], env());
    expect(unknown.code).toBe(1);
    const usage = await runCli(['keys', 'rotate', 'not-a-uuid'], env());
    expect(usage.code).toBe(2);
    const { rows: after } = await t.ctx.pool.query(`select count(*)::int as n from api_keys`);
    expect(after[0].n).toBe(before[0].n);
  });

  it('keys list shows prefixes, scopes and last use, never a key or a hash', async () => {
    const result = await runCli(['keys', 'list'], env());
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('last used');
    expect(result.stdout).toContain('rotating consultant');
    for (const trace of traces(admin.key)) expect(result.stdout).not.toContain(trace);
    expect(result.stdout).not.toMatch(/vs_[A-Za-z0-9_-]{43}/);
  });
});
