/**
 * The consultant work queue under load: N open tasks, C consultants who each claim the next
 * task, record a contact attempt and close it, as fast as they can, over HTTP against the real
 * API server (its own process, so the load generator does not share its event loop).
 *
 *   npm run bench:queue -- [--tasks 100000] [--consultants 50] [--seconds 30] [--teams 10] [--think-ms 0] [--keep]
 *
 * With --think-ms 0 (the default) every consultant fires its next request the moment the last
 * one answers: the server runs saturated and latency is mostly waiting for a turn. A think time
 * between requests models people at work and shows the latency below saturation.
 *
 * Database: BENCH_DATABASE_URL, else DATABASE_URL, else the test database
 * (postgres://root@127.0.0.1:5432/test), in a fresh schema that is dropped afterwards unless
 * --keep. Queue store: REDIS_URL, else redis://127.0.0.1:6379 (the API only needs it to start).
 * Prints one JSON line, then a table. Target: claim p95 <= 20 ms.
 *
 * For calibration it first measures the same server answering GET /health/live with the same
 * number of concurrent clients (no database, no auth), and reports the machine's load average:
 * on a shared machine both say how much of the figures is the machine.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { cpus, loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseConfig } from '../src/config.js';
import { migrate } from '../src/db/migrate.js';
import { createPool } from '../src/db/pool.js';
import { dutchToday } from '../src/domain/dates.js';
import { startRuntime } from '../src/runtime.js';
import { startApiServer } from '../src/server.js';
import { createApiKey } from '../src/services/apiKeys.js';
import { seedManyTasks } from '../test/helpers/tasks.js';

const { values: args } = parseArgs({
  options: {
    tasks: { type: 'string', default: '100000' },
    consultants: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '30' },
    teams: { type: 'string', default: '10' },
    'think-ms': { type: 'string', default: '0' },
    keep: { type: 'boolean', default: false },
    serve: { type: 'boolean', default: false },
  },
});

const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Child mode: the real API server (startRuntime + startApiServer), its port on stdout. */
async function serve(): Promise<void> {
  const runtime = await startRuntime(parseConfig(process.env), { applyMigrations: false });
  const server = await startApiServer(runtime.ctx, { host: '127.0.0.1', port: 0 });
  process.stdout.write(`${JSON.stringify({ port: server.port })}\n`);
  const stop = async () => {
    await server.close(2_000);
    await runtime.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
}

async function startServerProcess(schema: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--serve'], {
    env: {
      ...process.env,
      DATABASE_URL,
      DATABASE_SCHEMA: schema,
      REDIS_URL,
      QUEUE_PREFIX: `bench:${schema}`,
      RATE_LIMIT_PER_MINUTE: '0',
      LOG_LEVEL: 'warn',
      DATABASE_POOL_SIZE: process.env.DATABASE_POOL_SIZE ?? '20',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) {
    try {
      const { port } = JSON.parse(line) as { port?: number };
      if (port) return { child, url: `http://127.0.0.1:${port}` };
    } catch {
      // a log line
    }
  }
  throw new Error('the API server process ended before it listened');
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function summary(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 100) / 100;
  return { count: sorted.length, p50: round(percentile(sorted, 50)), p95: round(percentile(sorted, 95)), p99: round(percentile(sorted, 99)), max: round(sorted[sorted.length - 1] ?? NaN) };
}

async function main(): Promise<void> {
  const tasks = Number(args.tasks);
  const consultants = Number(args.consultants);
  const seconds = Number(args.seconds);
  const teamCount = Number(args.teams);
  const thinkMs = Number(args['think-ms']);
  const schema = `bench_queue_${randomBytes(4).toString('hex')}`;
  const pool = createPool({ connectionString: DATABASE_URL, schema, max: 4 });
  let server: ChildProcess | undefined;
  try {
    await migrate(pool, schema);
    await pool.query(`insert into municipalities (code, name) values ('1916', 'Bench')`);
    const teams = Array.from({ length: teamCount }, (_, i) => `team-${i}`);
    const seedStart = performance.now();
    for (let done = 0; done < tasks; done += 25_000) await seedManyTasks(pool, Math.min(25_000, tasks - done), { municipality: '1916', teams });
    await pool.query('vacuum analyze tasks, signals');
    const seedMs = performance.now() - seedStart;
    // Every fifth consultant works two teams (the multi-team claim path); the rest one.
    const keys = await Promise.all(
      Array.from({ length: consultants }, async (_, i) => {
        const own = i % 5 === 0 ? [teams[i % teamCount]!, teams[(i + 1) % teamCount]!] : [teams[i % teamCount]!];
        return (await createApiKey(pool, { role: 'consultant', municipality: '1916', teams: own, label: `bench-${i}` })).key;
      }),
    );

    const started = await startServerProcess(schema);
    server = started.child;
    const claim: number[] = [];
    const attempt: number[] = [];
    const close: number[] = [];
    const errors = new Map<string, number>();
    let empty = 0;
    const today = dutchToday();

    const call = async (key: string, path: string, body?: unknown) => {
      const response = await fetch(started.url + path, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      const text = await response.text();
      if (response.status >= 400) errors.set(`${path.replace(/\d+/g, '{id}')} ${response.status}`, (errors.get(`${path.replace(/\d+/g, '{id}')} ${response.status}`) ?? 0) + 1);
      return { status: response.status, json: text ? (JSON.parse(text) as { id?: number }) : undefined };
    };
    const timed = async <T>(samples: number[], work: () => Promise<T>): Promise<T> => {
      if (thinkMs > 0) await new Promise((resolve) => setTimeout(resolve, thinkMs * (0.5 + Math.random())));
      const start = performance.now();
      const result = await work();
      samples.push(performance.now() - start);
      return result;
    };

    // Calibration: what this server and machine do with no work per request at all.
    let baselineRequests = 0;
    const baselineEnd = performance.now() + 3_000;
    await Promise.all(
      keys.map(async () => {
        while (performance.now() < baselineEnd) {
          await (await fetch(`${started.url}/health/live`)).text();
          baselineRequests++;
        }
      }),
    );
    const baselineRps = Math.round(baselineRequests / 3);
    // Warm-up, untimed: every consultant's key once through auth, so the server's database
    // connections and code paths are in place before the first timed claim.
    await Promise.all(keys.map(async (key) => (await fetch(`${started.url}/v1/municipalities`, { headers: { authorization: `Bearer ${key}` } })).text()));

    const loadStart = performance.now();
    const deadline = loadStart + seconds * 1000;
    await Promise.all(
      keys.map(async (key) => {
        while (performance.now() < deadline) {
          const claimed = await timed(claim, () => call(key, '/v1/tasks/claim'));
          if (claimed.status === 204) {
            empty++;
            return;
          }
          const id = claimed.json?.id;
          if (claimed.status !== 200 || !id) continue;
          await timed(attempt, () => call(key, `/v1/tasks/${id}/contact-attempts`, { channel: 'phone', reached: true, date: today, dayPart: 'morning' }));
          await timed(close, () => call(key, `/v1/tasks/${id}/close`, { result: 'advice_or_quick_fix' }));
        }
      }),
    );
    const loadSeconds = (performance.now() - loadStart) / 1000;

    const result = {
      bench: 'queue',
      tasks,
      consultants,
      teams: teamCount,
      thinkMs,
      seconds: Math.round(loadSeconds * 10) / 10,
      seedSeconds: Math.round(seedMs / 100) / 10,
      claimsPerSecond: Math.round(claim.length / loadSeconds),
      cyclesPerSecond: Math.round(close.length / loadSeconds),
      claimMs: summary(claim),
      attemptMs: summary(attempt),
      closeMs: summary(close),
      emptyClaims: empty,
      errors: Object.fromEntries(errors),
      target: { claimP95Ms: 20, met: summary(claim).p95 <= 20 },
      machine: { cpus: cpus().length, loadAverage1m: Math.round(loadavg()[0]! * 10) / 10, healthLiveRequestsPerSecond: baselineRps },
    };
    console.log(JSON.stringify(result));
    console.table(
      Object.fromEntries(
        (['claim', 'attempt', 'close'] as const).map((name) => {
          const s = result[`${name}Ms`];
          return [name, { 'per s': Math.round(s.count / loadSeconds), 'p50 ms': s.p50, 'p95 ms': s.p95, 'p99 ms': s.p99, 'max ms': s.max }];
        }),
      ),
    );
  } finally {
    if (server && server.exitCode === null) {
      server.kill('SIGTERM');
      await once(server, 'exit');
    }
    if (!args.keep) await pool.query(`drop schema if exists "${schema}" cascade`).catch(() => {});
    else console.log(`kept schema ${schema}`);
    await pool.end();
  }
}

if (args.serve) await serve();
else await main();
