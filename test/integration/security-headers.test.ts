import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../../src/context.js';
import { createPool } from '../../src/db/pool.js';
import { client, createTestContext, seedMunicipality, startTestServer, type TestContext, type TestServer } from '../helpers/context.js';
import { createKeyWithId, seedTask } from '../helpers/tasks.js';

/**
 * What every response says about itself: security headers on success and error answers alike,
 * no caching of the API's answers, CORS off unless configured (and then only for the configured
 * origins), and never a stack trace, file path or SQL in an answer — also when the database
 * breaks under a request.
 */

let t: TestContext;
let server: TestServer;
let coordinator: { id: string; key: string };

beforeAll(async () => {
  t = await createTestContext('security_headers', { env: { RATE_LIMIT_PER_MINUTE: '0' } });
  server = await startTestServer(t.ctx);
  await seedMunicipality(t.ctx, '1916', ['2261'], [{ id: 'noord', areas: ['2261'] }]);
  coordinator = await createKeyWithId(t.ctx, { role: 'coordinator', municipality: '1916' });
});
afterAll(async () => {
  await server.close();
  await t.close();
});

function expectSecurityHeaders(headers: Headers, what: string): void {
  expect(headers.get('x-content-type-options'), what).toBe('nosniff');
  const frames = headers.get('x-frame-options');
  const csp = headers.get('content-security-policy') ?? '';
  expect(frames === 'DENY' || frames === 'SAMEORIGIN' || /frame-ancestors '(none|self)'/.test(csp), `${what}: framing refused`).toBe(true);
  expect(headers.get('referrer-policy'), what).toMatch(/^(no-referrer|same-origin|strict-origin|strict-origin-when-cross-origin)$/);
  const hsts = headers.get('strict-transport-security') ?? '';
  expect(Number(/max-age=(\d+)/.exec(hsts)?.[1] ?? 0), `${what}: HSTS of at least 180 days`).toBeGreaterThanOrEqual(15_552_000);
  expect(headers.get('x-powered-by'), what).toBeNull();
  expect(headers.get('cross-origin-resource-policy'), what).toBe('same-origin');
}

/** What an answer to a client must never contain. */
const INTERNALS = [
  /\bat .+\.(ts|js):\d+/, // a stack frame
  /node_modules/,
  /\/work\/|src\/(api|db|services)\//, // a file path
  /\b(select|insert|update|delete)\b.+\b(from|into|set|where)\b/i, // SQL
  /relation ".+" does not exist/,
  /\b(syntax error|violates|constraint|duplicate key)\b/i,
  /\bpg\b|postgres/i,
  /\b(TypeError|RangeError|ReferenceError|DatabaseError)\b/,
];

function expectNoInternals(text: string, what: string): void {
  for (const pattern of INTERNALS) expect(text, `${what} shows ${pattern}`).not.toMatch(pattern);
}

describe('security headers', () => {
  it('are on every kind of answer: API success and errors, operations endpoints, docs and web pages', async () => {
    const api = client(server.url, coordinator.key);
    const answers: [string, Promise<{ status: number; headers: Headers }>][] = [
      ['GET /v1/municipalities 200', api.get('/v1/municipalities')],
      ['GET /v1/tasks 401', client(server.url).get('/v1/tasks')],
      ['PUT /v1/municipalities 403', api.put('/v1/municipalities/1916', { name: 'x', postcodeAreas: [] })],
      ['GET /v1/tasks/999999 404', api.get('/v1/tasks/999999')],
      ['GET /v1/tasks?limit=0 400', api.get('/v1/tasks?limit=0')],
      ['POST /v1/rule-sets/validate bad JSON 400', api.post('/v1/rule-sets/validate', '{"ruleSet":', { 'content-type': 'application/json' })],
      ['GET /nowhere 404', client(server.url).get('/nowhere')],
      ['GET /health/live', client(server.url).get('/health/live')],
      ['GET /openapi.json', client(server.url).get('/openapi.json')],
      ['GET /docs', client(server.url).get('/docs')],
      ['GET /web/sign-in', client(server.url).get('/web/sign-in')],
    ];
    for (const [what, answer] of answers) expectSecurityHeaders((await answer).headers, what);
  });

  it('the API forbids caching of its answers (they carry personal data)', async () => {
    const api = client(server.url, coordinator.key);
    const { taskId, householdId } = await seedTask(t.ctx.pool, { municipality: '1916', team: 'noord' });
    for (const path of [`/v1/tasks/${taskId}`, `/v1/households/${householdId}`, '/v1/tasks', '/v1/tasks/999999']) {
      const res = await api.get(path);
      expect(res.headers.get('cache-control'), path).toContain('no-store');
    }
  });

  it('serves problem+json with nosniff, so an error echoing input is never rendered as HTML', async () => {
    const res = await client(server.url, coordinator.key).get('/v1/tasks?status=<script>alert(1)</script>');
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });
});

describe('CORS', () => {
  it('is off by default: no Access-Control-Allow-Origin for any origin, also not on a preflight', async () => {
    const api = client(server.url, coordinator.key);
    const res = await api.get('/v1/municipalities', { origin: 'https://evil.example' });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    const preflight = await fetch(`${server.url}/v1/tasks`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    expect(preflight.headers.get('access-control-allow-headers')).toBeNull();
  });

  it('with CORS_ORIGINS set, allows exactly those origins', async () => {
    const cors = await createTestContext('security_cors', { env: { CORS_ORIGINS: 'https://portaal.gemeente.example, https://intern.gemeente.example' } });
    const corsServer = await startTestServer(cors.ctx);
    try {
      const key = (await createKeyWithId(cors.ctx, { role: 'admin' })).key;
      const api = client(corsServer.url, key);
      const allowed = await api.get('/v1/municipalities', { origin: 'https://intern.gemeente.example' });
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://intern.gemeente.example');
      expect(allowed.headers.get('access-control-expose-headers')).toContain('API-Version');
      expect(allowed.headers.get('vary') ?? '').toMatch(/origin/i);
      for (const origin of ['https://evil.example', 'https://portaal.gemeente.example.evil.example', 'null', 'http://portaal.gemeente.example']) {
        const refused = await api.get('/v1/municipalities', { origin });
        expect(refused.headers.get('access-control-allow-origin'), origin).toBeNull();
      }
      const preflight = await fetch(`${corsServer.url}/v1/signals`, {
        method: 'OPTIONS',
        headers: { origin: 'https://portaal.gemeente.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
      });
      expect(preflight.status).toBeLessThan(300);
      expect(preflight.headers.get('access-control-allow-origin')).toBe('https://portaal.gemeente.example');
      const evilPreflight = await fetch(`${corsServer.url}/v1/signals`, {
        method: 'OPTIONS',
        headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
      });
      expect(evilPreflight.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await corsServer.close();
      await cors.close();
    }
  });
});

describe('errors disclose nothing of the inside', () => {
  it('a query that fails in the database answers 500 problem+json with a request id, no SQL or stack; the details go to the log', async () => {
    const broken = await createTestContext('security_broken');
    const brokenServer = await startTestServer(broken.ctx);
    try {
      await seedMunicipality(broken.ctx, '1916', ['2261']);
      const key = (await createKeyWithId(broken.ctx, { role: 'coordinator', municipality: '1916' })).key;
      await broken.ctx.pool.query(`drop table task_history, contact_attempts, task_notes cascade`);
      await broken.ctx.pool.query(`alter table tasks rename to tasks_gone`);
      const api = client(brokenServer.url, key);
      for (const path of ['/v1/tasks', '/v1/tasks/1', '/v1/tasks/queue', '/v1/tasks/1/history']) {
        const res = await api.get(path);
        expect(res.status, path).toBe(500);
        expect(res.headers.get('content-type')).toBe('application/problem+json');
        expect(res.json).toMatchObject({ status: 500, title: 'Internal error', type: 'urn:vroegsein:problem:about' });
        const requestId = res.headers.get('x-request-id');
        expect(requestId).toBeTruthy();
        expect(res.json.detail).toBe(`Something went wrong; quote request id ${requestId}`);
        expectNoInternals(res.text, path);
        expectSecurityHeaders(res.headers, path);
        // For the operator: the log line has the request id and the cause.
        const line = broken.logs.find((l) => l.includes('"unhandled error"') && l.includes(requestId!));
        expect(line, `log line for ${requestId}`).toBeDefined();
        expect(line).toContain('does not exist');
      }
      const write = await api.post('/v1/tasks/1/notes', { text: 'x' });
      expect(write.status).toBe(500);
      expectNoInternals(write.text, 'POST notes');
    } finally {
      await brokenServer.close();
      await broken.close();
    }
  });

  it('a web page whose query fails shows an error page without SQL or stack', async () => {
    const broken = await createTestContext('security_broken_web');
    const brokenServer = await startTestServer(broken.ctx);
    try {
      await seedMunicipality(broken.ctx, '1916', ['2261']);
      const key = (await createKeyWithId(broken.ctx, { role: 'coordinator', municipality: '1916' })).key;
      const form = await fetch(`${brokenServer.url}/web/sign-in`);
      const token = /vs_signin=([A-Za-z0-9_-]{43})/.exec(form.headers.get('set-cookie') ?? '')![1]!;
      const signedIn = await fetch(`${brokenServer.url}/web/sign-in`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `vs_signin=${token}` },
        body: new URLSearchParams({ _csrf: token, apiKey: key }).toString(),
      });
      const cookie = /vs_session=[A-Za-z0-9_-]{43}/.exec(signedIn.headers.get('set-cookie') ?? '')![0];
      await broken.ctx.pool.query(`alter table tasks rename to tasks_gone`);
      const res = await fetch(`${brokenServer.url}/web/queue`, { headers: { cookie } });
      expect(res.status).toBe(500);
      const html = await res.text();
      expectNoInternals(html, '/web/queue');
      expect(res.headers.get('cache-control')).toContain('no-store');
    } finally {
      await brokenServer.close();
      await broken.close();
    }
  });

  it('an unreachable database answers 503 with Retry-After, and readiness says down without details', async () => {
    const unreachable: AppContext = { ...t.ctx, pool: createPool({ connectionString: 'postgres://root@127.0.0.1:1/test', schema: t.ctx.schema, max: 2 }) };
    const down = await startTestServer(unreachable);
    try {
      const res = await client(down.url, coordinator.key).get('/v1/tasks');
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(res.headers.get('retry-after')).toBe('5');
      expectNoInternals(res.text, '503');
      expect(res.text).not.toContain('ECONNREFUSED');
      expect(res.text).not.toContain('127.0.0.1');
      const ready = await client(down.url).get('/health/ready');
      expect(ready.status).toBe(503);
      expect(ready.json).toEqual({ status: 'down', checks: { database: 'down', queue: 'up' } });
    } finally {
      await down.close();
      await unreachable.pool.end();
    }
  });

  it('malformed requests get a plain problem, never a parser message with internals', async () => {
    const api = client(server.url, coordinator.key);
    const cases: [string, string, string | undefined][] = [
      ['{"text": "x"', 'application/json', undefined],
      ['\u0000\u0001\u0002', 'application/json', undefined],
      ['text=x', 'application/x-www-form-urlencoded', undefined],
      ['<x/>', 'application/xml', undefined],
    ];
    const { taskId } = await seedTask(t.ctx.pool, { municipality: '1916', team: 'noord' });
    for (const [body, type] of cases) {
      const res = await api.post(`/v1/tasks/${taskId}/notes`, body, { 'content-type': type });
      expect(res.status, `${type} ${JSON.stringify(body)}`).toBeGreaterThanOrEqual(400);
      expect(res.status, `${type} ${JSON.stringify(body)}`).toBeLessThan(500);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expectNoInternals(res.text, body);
    }
  });
});
