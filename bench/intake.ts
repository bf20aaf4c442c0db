/**
 * CSV intake through HTTP against a plain PostgreSQL COPY of the same rows, measured in the
 * same run. Run with `npm run bench:intake [-- --rows 200000]`.
 *
 * - reference: pg-copy-streams COPY of the generated file into a table with the same column
 *   types as the CSV, a primary key and the partner + externalId uniqueness of `signals`,
 *   run before and after the intake (the mean is the reference: the load on a shared
 *   machine drifts);
 * - intake: the real server on a free port (fresh schema, real Redis) receives the same file
 *   as POST /v1/signals text/csv, streamed, and answers 202 once every row is committed — with
 *   validation, households, duplicates check, rejections and the evaluation enqueue included.
 *
 * Prints a readable table and one JSON line. The target is intake ≥ 0.3 × COPY.
 * Environment: BENCH_DATABASE_URL (default postgres://root@127.0.0.1:5432/test),
 * BENCH_REDIS_URL (default redis://127.0.0.1:6379).
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { serve, type ServerType } from '@hono/node-server';
import { createApp } from '../src/api/app.js';
import { parseConfig } from '../src/config.js';
import type { AppContext } from '../src/context.js';
import { migrate } from '../src/db/migrate.js';
import { upsertMunicipality } from '../src/db/municipalities.js';
import { createPool, withTransaction } from '../src/db/pool.js';
import { createLogger } from '../src/logger.js';
import { createMetrics } from '../src/metrics.js';
import { createQueueBackend, deleteRedisPrefix } from '../src/queue/index.js';
import { createApiKey } from '../src/services/apiKeys.js';
import { BackendCpu, copyReference, processCpuMs, writeCsv } from './lib.js';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '200000' } } });
const ROWS = Number(values.rows);
if (!Number.isInteger(ROWS) || ROWS < 1) throw new Error('--rows must be a positive whole number');
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'vroegsein-bench-'));
  const file = path.join(dir, 'signals.csv');
  const suffix = randomBytes(4).toString('hex');
  const referenceSchema = `bench_copy_${suffix}`;
  const schema = `bench_intake_${suffix}`;
  const prefix = `bench:${schema}`;
  const referencePool = createPool({ connectionString: DATABASE_URL, schema: referenceSchema, max: 2 });
  const applicationName = `vroegsein-bench-${suffix}`;
  const pool = createPool({ connectionString: DATABASE_URL, schema, max: 10, applicationName });
  const queues = createQueueBackend({ kind: 'redis', url: REDIS_URL, prefix });
  let server: ServerType | undefined;
  try {
    console.log(`generating ${ROWS.toLocaleString('en-US')} rows …`);
    const bytes = await writeCsv(file, ROWS);

    await referencePool.query(`create schema "${referenceSchema}"`);
    // COPY before and after the intake: on a shared machine the load drifts, and the mean of
    // the two is the fairer reference for the run in between.
    const copyBefore = await copyReference(referencePool, file, ROWS);

    await migrate(pool, schema);
    // Every generated PC4 (1000–1999) belongs to one municipality: every row is a resident.
    const areas = Array.from({ length: 1000 }, (_, i) => String(1000 + i));
    await withTransaction(pool, (tx) => upsertMunicipality(tx, '0363', 'Benchstad', areas));
    const { key } = await createApiKey(pool, { role: 'integrator', label: 'bench' });
    const config = parseConfig({ DATABASE_URL, DATABASE_SCHEMA: schema, LOG_LEVEL: 'warn', RATE_LIMIT_PER_MINUTE: '0', INTAKE_RATE_LIMIT_PER_MINUTE: '0' });
    const ctx: AppContext = { config, pool, schema, queues, logger: createLogger('warn'), metrics: createMetrics(), now: () => new Date() };
    const { app } = createApp(ctx);
    server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
    });
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;

    let peakRss = process.memoryUsage().rss;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 50);
    const databaseCpu = new BackendCpu(referencePool, applicationName);
    await databaseCpu.start();
    const processBefore = process.cpuUsage();
    const started = performance.now();
    const response = await fetch(`http://127.0.0.1:${port}/v1/signals`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'text/csv', 'content-length': String((await stat(file)).size) },
      body: Readable.toWeb(createReadStream(file)) as ReadableStream,
      duplex: 'half',
    } as RequestInit & { duplex: 'half' });
    const answer = (await response.json()) as { accepted?: number; duplicates?: number; rejectedCount?: number; detail?: string };
    const intakeSeconds = (performance.now() - started) / 1000;
    const intakeProcessCpuMs = processCpuMs(processBefore);
    const intakeDatabaseCpuMs = await databaseCpu.stop();
    clearInterval(sampler);
    if (response.status !== 202) throw new Error(`intake answered ${response.status}: ${answer.detail ?? JSON.stringify(answer)}`);
    const { rows } = await pool.query<{ signals: number; households: number }>(
      'select (select count(*)::int from signals) as signals, (select count(*)::int from households) as households',
    );

    const copyAfter = await copyReference(referencePool, file, ROWS);
    const copySeconds = (copyBefore.seconds + copyAfter.seconds) / 2;
    const copyRate = ROWS / copySeconds;
    const perRow = (ms: number | null) => (ms === null ? null : Number(((ms * 1000) / ROWS).toFixed(1)));
    const copyDatabaseCpu = copyBefore.databaseCpuMs === null || copyAfter.databaseCpuMs === null ? null : (copyBefore.databaseCpuMs + copyAfter.databaseCpuMs) / 2;
    const intakeRate = ROWS / intakeSeconds;
    const result = {
      bench: 'intake',
      rows: ROWS,
      bytes,
      copySeconds: Number(copySeconds.toFixed(3)),
      copySecondsBefore: Number(copyBefore.seconds.toFixed(3)),
      copySecondsAfter: Number(copyAfter.seconds.toFixed(3)),
      copyRowsPerSecond: Math.round(copyRate),
      intakeSeconds: Number(intakeSeconds.toFixed(3)),
      intakeRowsPerSecond: Math.round(intakeRate),
      ratio: Number((intakeRate / copyRate).toFixed(3)),
      target: 0.3,
      accepted: answer.accepted,
      duplicates: answer.duplicates,
      rejected: answer.rejectedCount,
      signalsStored: rows[0]!.signals,
      households: rows[0]!.households,
      peakRssMiB: Math.round(peakRss / 1024 / 1024),
      cpuMicrosecondsPerRow: {
        copyDatabase: perRow(copyDatabaseCpu),
        copyProcess: perRow((copyBefore.processCpuMs + copyAfter.processCpuMs) / 2),
        intakeDatabase: perRow(intakeDatabaseCpuMs),
        intakeProcess: perRow(intakeProcessCpuMs),
      },
      cpus: availableParallelism(),
      loadAverage: Number(loadavg()[0]!.toFixed(2)),
    };
    const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
    console.log('');
    console.log(`rows                      ${fmt(ROWS)} (${(bytes / 1024 / 1024).toFixed(1)} MiB CSV)`);
    console.log(`PostgreSQL COPY           ${copySeconds.toFixed(2).padStart(7)} s  ${fmt(copyRate).padStart(9)} rows/s  (before ${copyBefore.seconds.toFixed(2)} s, after ${copyAfter.seconds.toFixed(2)} s)`);
    console.log(`POST /v1/signals (CSV)    ${intakeSeconds.toFixed(2).padStart(7)} s  ${fmt(intakeRate).padStart(9)} rows/s`);
    console.log(`ratio intake / COPY       ${result.ratio.toFixed(3)}   (target ≥ 0.3: ${result.ratio >= 0.3 ? 'met' : 'NOT met'})`);
    console.log(`stored                    ${fmt(result.signalsStored)} signals, ${fmt(result.households)} households`);
    const cpu = result.cpuMicrosecondsPerRow;
    const show = (v: number | null) => (v === null ? 'n/a' : `${v} µs`);
    console.log(`CPU per row, database    COPY ${show(cpu.copyDatabase)}, intake ${show(cpu.intakeDatabase)}`);
    console.log(`CPU per row, this process COPY ${show(cpu.copyProcess)}, intake ${show(cpu.intakeProcess)} (server and HTTP client)`);
    console.log(`machine                   ${result.cpus} CPUs, load average ${result.loadAverage}; peak RSS of this process ${result.peakRssMiB} MiB`);
    console.log('');
    console.log(JSON.stringify(result));
  } finally {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await queues.close().catch(() => {});
    await deleteRedisPrefix(REDIS_URL, prefix).catch(() => {});
    await pool.query(`drop schema if exists "${schema}" cascade`).catch(() => {});
    await referencePool.query(`drop schema if exists "${referenceSchema}" cascade`).catch(() => {});
    await Promise.all([pool.end(), referencePool.end()]);
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
