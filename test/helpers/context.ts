import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { parseConfig, type Config } from '../../src/config.js';
import type { AppContext } from '../../src/context.js';
import { migrate } from '../../src/db/migrate.js';
import { createPool } from '../../src/db/pool.js';
import { createLogger } from '../../src/logger.js';
import { startApiServer } from '../../src/server.js';
import { createMetrics } from '../../src/metrics.js';
import { createQueueBackend, deleteRedisPrefix } from '../../src/queue/index.js';
import { createApiKey, type CreateApiKeyInput } from '../../src/services/apiKeys.js';
import { withTransaction } from '../../src/db/pool.js';
import { upsertMunicipality, upsertTeam } from '../../src/db/municipalities.js';

/**
 * Every integration test file gets its own PostgreSQL schema in the shared `test` database
 * and its own queue prefix in the shared Redis, so files run in parallel without touching
 * each other. Real PostgreSQL, real Redis: nothing of ours is mocked.
 */

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestContext {
  ctx: AppContext;
  /** Every log line written during the test, as text (for the redaction tests). */
  logs: string[];
  close(): Promise<void>;
}

export async function createTestContext(
  name: string,
  options: { env?: Record<string, string>; queue?: 'redis' | 'postgres'; now?: () => Date } = {},
): Promise<TestContext> {
  const schema = `t_${name.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
  const config: Config = parseConfig({ DATABASE_URL: TEST_DATABASE_URL, DATABASE_SCHEMA: schema, LOG_LEVEL: 'info', ...(options.env ?? {}) });
  const pool = createPool({ connectionString: TEST_DATABASE_URL, schema, max: 12 });
  await migrate(pool, schema);
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(chunk.toString('utf8'));
      done();
    },
  });
  const queues = createQueueBackend(
    options.queue === 'postgres'
      ? { kind: 'postgres', connectionString: TEST_DATABASE_URL, schema: `${schema}_bullmq`, prefix: 'vs' }
      : { kind: 'redis', url: TEST_REDIS_URL, prefix: `test:${schema}` },
  );
  const ctx: AppContext = {
    config,
    pool,
    schema,
    queues,
    logger: createLogger('info', sink),
    metrics: createMetrics(),
    now: options.now ?? (() => new Date()),
  };
  return {
    ctx,
    logs,
    async close() {
      await queues.close().catch(() => {});
      if (queues.kind === 'redis') await deleteRedisPrefix(TEST_REDIS_URL, `test:${schema}`);
      await pool.query(`drop schema if exists "${schema}" cascade`).catch(() => {});
      await pool.query(`drop schema if exists "${schema}_bullmq" cascade`).catch(() => {});
      await pool.end();
    },
  };
}

export interface TestServer {
  url: string;
  close(): Promise<void>;
}

/** The real HTTP server (as `vroegsein api` starts it) on a free port. */
export async function startTestServer(ctx: AppContext): Promise<TestServer> {
  const server = await startApiServer(ctx, { host: '127.0.0.1', port: 0 });
  return { url: `http://127.0.0.1:${server.port}`, close: () => server.close(5_000) };
}

/** Creates a key directly in the database (as `vroegsein keys create` does). */
export async function createKey(ctx: AppContext, input: CreateApiKeyInput): Promise<string> {
  return (await createApiKey(ctx.pool, input)).key;
}

/** Registers a municipality with its postcode areas and (optionally) teams. */
export async function seedMunicipality(
  ctx: AppContext,
  code: string,
  areas: string[],
  teams: { id: string; areas: string[] }[] = [],
): Promise<void> {
  await withTransaction(ctx.pool, (tx) => upsertMunicipality(tx, code, `Gemeente ${code}`, areas));
  for (const team of teams) await upsertTeam(ctx.pool, { id: team.id, municipality: code, name: `Team ${team.id}`, postcodeAreas: team.areas });
}

/** A small HTTP client bound to a key. */
export function client(baseUrl: string, key?: string) {
  const request = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const init: RequestInit = { method, headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers } };
    if (body !== undefined) {
      if (typeof body === 'string' || body instanceof Uint8Array) init.body = body as BodyInit;
      else {
        init.body = JSON.stringify(body);
        (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
      }
    }
    const response = await fetch(baseUrl + path, init);
    const text = await response.text();
    let json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: response.status, headers: response.headers, json, text };
  };
  return {
    get: (path: string, headers?: Record<string, string>) => request('GET', path, undefined, headers),
    post: (path: string, body?: unknown, headers?: Record<string, string>) => request('POST', path, body, headers),
    put: (path: string, body?: unknown, headers?: Record<string, string>) => request('PUT', path, body, headers),
    delete: (path: string, headers?: Record<string, string>) => request('DELETE', path, undefined, headers),
  };
}
