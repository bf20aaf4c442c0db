import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { API_VERSION } from '../../src/api/env.js';
import { applyApiConventions, openApiDocument } from '../../src/api/openapiDocument.js';
import { createPool } from '../../src/db/pool.js';
import { createQueueBackend } from '../../src/queue/index.js';
import { startCli, type RunningCli } from '../helpers/cli.js';
import { client, createKey, createTestContext, startTestServer, TEST_DATABASE_URL, TEST_REDIS_URL, type TestContext, type TestServer } from '../helpers/context.js';

let t: TestContext;
let server: TestServer;
/** Every response these tests saw, to check the API-Version header on all of them. */
const seen: { path: string; status: number; apiVersion: string | null }[] = [];

async function get(path: string, headers: Record<string, string> = {}) {
  const res = await client(server.url).get(path, headers);
  seen.push({ path, status: res.status, apiVersion: res.headers.get('api-version') });
  return res;
}

beforeAll(async () => {
  t = await createTestContext('ops');
  server = await startTestServer(t.ctx);
});
afterAll(async () => {
  await server.close();
  await t.close();
});

describe('health', () => {
  it('answers liveness without touching anything', async () => {
    const res = await get('/health/live');
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ status: 'up' });
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('is ready when the database and the queue answer', async () => {
    const res = await get('/health/ready');
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ status: 'up', checks: { database: 'up', queue: 'up' } });
  });

  it('is not ready (503) when the queue store cannot be reached', async () => {
    const queues = createQueueBackend({ kind: 'redis', url: 'redis://127.0.0.1:1', prefix: 'unreachable' });
    try {
      const { app } = createApp({ ...t.ctx, queues });
      const res = await app.request('/health/ready');
      expect(res.status).toBe(503);
      expect(res.headers.get('api-version')).toBe(API_VERSION);
      expect(await res.json()).toEqual({ status: 'down', checks: { database: 'up', queue: 'down' } });
    } finally {
      await queues.close();
    }
  });

  it('is not ready (503) when the database cannot be reached', async () => {
    const pool = createPool({ connectionString: 'postgres://nobody@127.0.0.1:1/none', schema: 'public' });
    try {
      const { app } = createApp({ ...t.ctx, pool });
      const res = await app.request('/health/ready');
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ status: 'down', checks: { database: 'down' } });
    } finally {
      await pool.end();
    }
  });
});

describe('metrics', () => {
  it('serves Prometheus text with the HTTP, queue and evaluation metrics', async () => {
    await get('/health/live');
    const res = await get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    expect(res.text).toContain('# TYPE vroegsein_http_requests_total counter');
    expect(res.text).toMatch(/vroegsein_http_requests_total\{method="GET",route="\/health\/live",status="200"\} \d+/);
    expect(res.text).toMatch(/vroegsein_queue_job_counts\{queue="evaluate",state="waiting"\} 0/);
    expect(res.text).toMatch(/vroegsein_households_pending_evaluation 0/);
    expect(res.text).toContain('vroegsein_maintenance_runs_total');
  });
});

describe('OpenAPI document and docs', () => {
  it('serves the document at /openapi.json and at the API base /v1/openapi.json, without a key', async () => {
    for (const path of ['/openapi.json', '/v1/openapi.json']) {
      const res = await get(path);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('application/json');
      expect(res.json.openapi).toBe('3.1.0');
      expect(res.json.servers).toEqual([{ url: '/v1', description: 'This server' }]);
      expect(res.json.info.contact).toMatchObject({ name: expect.any(String), email: expect.any(String), url: expect.any(String) });
      expect(Object.keys(res.json.paths)).toContain('/municipalities');
    }
  });

  it('documents API-Version on every response, a 400 on every operation and problem+json for every error', () => {
    const document = openApiDocument() as { paths: Record<string, Record<string, { responses: Record<string, { headers?: object; content?: object }> }>> };
    let operations = 0;
    for (const [path, item] of Object.entries(document.paths)) {
      expect(path, 'kebab-case, no trailing slash').toMatch(/^(\/([a-z0-9-]+|\{[A-Za-z]+\}))+$/);
      for (const [method, operation] of Object.entries(item)) {
        if (!['get', 'put', 'post', 'delete', 'patch'].includes(method)) continue;
        operations++;
        expect(operation.responses['400'], `${method} ${path}`).toBeDefined();
        for (const [status, response] of Object.entries(operation.responses)) {
          expect(response.headers, `${method} ${path} ${status}`).toHaveProperty('API-Version');
          if (/^[45]/.test(status)) expect(response.content, `${method} ${path} ${status}`).toHaveProperty(['application/problem+json']);
        }
      }
    }
    expect(operations).toBeGreaterThan(3);
  });

  it('adds what the application guarantees to a route that left it out', () => {
    const fixed = applyApiConventions({
      paths: {
        '/things/{id}': {
          get: {
            responses: {
              200: { description: 'ok', content: { 'application/json': { schema: { type: 'object', properties: { dueDate: { type: ['string', 'null'] }, createdAt: { type: 'string', format: 'date-time' } } } } } },
              404: { description: 'not found', content: { 'application/json': { schema: { type: 'object' } } } },
            },
          },
        },
      },
    }) as { paths: Record<string, { get: { responses: Record<string, { headers: object; content: Record<string, { schema: { properties?: Record<string, { format?: string }> } }> }> } }> };
    const responses = fixed.paths['/things/{id}']!.get.responses;
    expect(Object.keys(responses).sort()).toEqual(['200', '400', '404']);
    for (const response of Object.values(responses)) expect(response.headers).toHaveProperty('API-Version');
    expect(Object.keys(responses['404']!.content)).toEqual(['application/problem+json']);
    expect(Object.keys(responses['400']!.content)).toEqual(['application/problem+json']);
    const properties = responses['200']!.content['application/json']!.schema.properties!;
    expect(properties.dueDate!.format).toBe('date');
    expect(properties.createdAt!.format).toBe('date-time');
  });

  it('serves interactive docs whose every asset comes from this server', async () => {
    const page = await get('/docs');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    // Nothing from a CDN: no absolute URL anywhere in the page.
    expect(page.text).not.toMatch(/(https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}/i);
    const assets = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets).toEqual(expect.arrayContaining(['docs/assets/swagger-ui-bundle.js', 'docs/assets/swagger-ui.css', 'docs/assets/init.js']));
    for (const asset of assets) {
      const url = new URL(asset, `${server.url}/docs`);
      const res = await get(url.pathname);
      expect(res.status, asset).toBe(200);
      expect(res.text.length, asset).toBeGreaterThan(100);
    }
    expect((await get('/docs/assets/swagger-ui-bundle.js')).headers.get('content-type')).toContain('javascript');
    const init = await get('/docs/assets/init.js');
    expect(init.text).toContain("url: 'openapi.json'");
    expect(init.text).toContain('validatorUrl: null'); // no call to validator.swagger.io
  });

  it('serves only the known docs assets', async () => {
    for (const path of ['/docs/assets/package.json', '/docs/assets/..%2Fpackage.json', '/docs/assets/index.html']) {
      const res = await get(path);
      expect(res.status, path).toBe(404);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    }
  });
});

describe('every response', () => {
  it('answers an unknown path with a 404 problem', async () => {
    for (const path of ['/nope', '/v1/nope', '/health']) {
      const res = await get(path, path.startsWith('/v1') ? { authorization: `Bearer ${await createKey(t.ctx, { role: 'admin', label: 'ops' })}` } : {});
      expect(res.status, path).toBe(404);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.json).toMatchObject({ status: 404, title: expect.any(String), detail: expect.any(String), type: expect.any(String) });
    }
  });

  it('carries the API-Version header, whatever the status', async () => {
    await get('/');
    await get('/v1/municipalities'); // 401
    expect(seen.length).toBeGreaterThan(15);
    for (const response of seen) expect(response.apiVersion, `${response.path} (${response.status})`).toBe(API_VERSION);
    expect(seen.map((s) => s.status)).toEqual(expect.arrayContaining([200, 401, 404]));
  });
});

describe('graceful shutdown of `vroegsein api`', { timeout: 180_000 }, () => {
  let cli: RunningCli | undefined;
  afterAll(async () => {
    await cli?.stop(5_000);
  });

  it('finishes a request in flight at SIGTERM, refuses new connections, and exits 0', async () => {
    const adminKey = await createKey(t.ctx, { role: 'admin', label: 'shutdown' });
    cli = startCli(['api'], {
      DATABASE_URL: TEST_DATABASE_URL,
      DATABASE_SCHEMA: t.ctx.schema,
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: `test:${t.ctx.schema}`,
      PORT: '0',
      LOG_LEVEL: 'info',
    });
    const listening = await cli.waitForLog((e) => e.msg === 'API listening');
    const url = new URL(String(listening.url));

    // A slow client: the headers now, the body only after the signal. The request is in flight
    // (authenticated, waiting for its body) when the server is told to stop.
    const body = JSON.stringify({ name: 'Alphen aan den Rijn', postcodeAreas: ['2401', '2402'] });
    const response = new Promise<{ status: number; apiVersion: string | undefined; body: string }>((resolve, reject) => {
      const req = httpRequest(
        {
          host: url.hostname,
          port: url.port,
          method: 'PUT',
          path: '/v1/municipalities/0484',
          agent: false,
          headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, apiVersion: res.headers['api-version'] as string | undefined, body: text }));
        },
      );
      req.on('error', reject);
      req.write(body.slice(0, 10));
      setTimeout(() => {
        cli!.child.kill('SIGTERM');
        void cli!.waitForLog((e) => e.msg === 'shutting down: finishing requests and jobs in flight').then(async () => {
          // Stopped listening: a new connection is refused while the old request goes on.
          await expect(fetch(`${url.origin}/health/live`)).rejects.toThrow();
          req.end(body.slice(10));
        }, reject);
      }, 500);
    });

    const answer = await response;
    expect(answer.status).toBe(201);
    expect(answer.apiVersion).toBe(API_VERSION);
    expect(JSON.parse(answer.body)).toMatchObject({ code: '0484', postcodeAreas: ['2401', '2402'] });
    expect(await cli.exited).toBe(0);
    expect(cli.output()).toContain('API stopped');
    // The write was committed, not cut off.
    const { rows } = await t.ctx.pool.query(`select name from municipalities where code = '0484'`);
    expect(rows).toEqual([{ name: 'Alphen aan den Rijn' }]);
  });
});
