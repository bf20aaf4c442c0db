/**
 * The whole pipeline: N signals from CSV upload to the last task written, against a plain
 * PostgreSQL COPY of the same rows measured in the same run.
 *
 *   npm run bench -- [--signals 200000] [--queue redis|postgres] [--teams 0] [--steady-seconds 10] [--simulate] [--households 1000000]
 *
 * - end to end: the real server on a free port and the evaluate worker in this process (as
 *   `npm start` runs them), the CSV streamed through POST /v1/signals, then the clock runs
 *   until no household waits for evaluation any more;
 * - latency: signals sent as small JSON batches at a steady 500 signals/s, each for a new
 *   household; per signal the time from being stored to its task being written (p50/p95);
 * - evaluations/s of json-rules-engine and of the compiled evaluator on the same facts (the
 *   facts of households of this run, rules/default.json);
 * - --teams N: the municipality's postcode areas split over N teams, so that every task gets a
 *   team (as in a municipality with district teams); by default it has none;
 * - --simulate: a simulation of a changed default rule set over --households stored households.
 *
 * Prints a readable table and one JSON line. Environment: BENCH_DATABASE_URL (default
 * postgres://root@127.0.0.1:5432/test), BENCH_REDIS_URL (default redis://127.0.0.1:6379).
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
import { loadSnapshots } from '../src/db/evaluation.js';
import { migrate } from '../src/db/migrate.js';
import { upsertMunicipality, upsertTeam } from '../src/db/municipalities.js';
import { createPool, withTransaction } from '../src/db/pool.js';
import { ensureDefaultRuleSets } from '../src/db/ruleSets.js';
import { dutchToday } from '../src/domain/dates.js';
import { computeHouseholdFacts } from '../src/domain/facts.js';
import { createLogger } from '../src/logger.js';
import { createMetrics } from '../src/metrics.js';
import { createQueueBackend, deleteRedisPrefix } from '../src/queue/index.js';
import { compileRuleSet, evaluate, evaluateWithEngine } from '../src/rules/index.js';
import { createApiKey } from '../src/services/apiKeys.js';
import { defaultRuleSet } from '../src/services/evaluation.js';
import { simulateRuleSet } from '../src/services/ruleSets.js';
import { startEvaluateWorker } from '../workers/evaluate.js';
import { BackendCpu, copyReference, processCpuMs, writeCsv } from './lib.js';

const { values } = parseArgs({
  options: {
    signals: { type: 'string', default: '200000' },
    queue: { type: 'string', default: 'redis' },
    'steady-seconds': { type: 'string', default: '10' },
    simulate: { type: 'boolean', default: false },
    households: { type: 'string', default: '1000000' },
    teams: { type: 'string', default: '0' },
  },
});
const SIGNALS = Number(values.signals);
const QUEUE = values.queue === 'postgres' ? 'postgres' : 'redis';
const STEADY_SECONDS = Number(values['steady-seconds']);
const TEAMS = Number(values.teams);
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitUntilEvaluated(ctx: AppContext): Promise<void> {
  for (;;) {
    // Whether any household still waits, not how many: counting a queue of hundreds of
    // thousands every 100 ms would take database CPU from the run it measures.
    const { rows } = await ctx.pool.query<{ waiting: boolean }>('select exists (select from evaluation_queue) as waiting');
    if (!rows[0]!.waiting) return;
    await sleep(100);
  }
}

/** Steady load: one JSON batch every 100 ms, each signal for a new household. */
async function steadyLatency(url: string, key: string, ctx: AppContext, seconds: number): Promise<{ sent: number; p50: number; p95: number }> {
  const perBatch = 50;
  const today = dutchToday();
  let sent = 0;
  const started = performance.now();
  for (let batch = 0; performance.now() - started < seconds * 1000; batch++) {
    const due = started + batch * 100;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const signals = Array.from({ length: perBatch }, (_, i) => {
      const n = batch * perBatch + i;
      return {
        externalId: `STEADY-${n}`,
        partnerType: 'energy',
        signalDate: today,
        amountCents: 10_000 + n,
        person: {},
        address: { postcode: `1${String(n % 1000).padStart(3, '0')}ZZ`, houseNumber: 1000 + Math.floor(n / 1000) },
      };
    });
    const response = await fetch(`${url}/v1/signals`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ signals }),
    });
    if (response.status !== 202) throw new Error(`steady batch answered ${response.status}`);
    await response.arrayBuffer();
    sent += perBatch;
  }
  await waitUntilEvaluated(ctx);
  const { rows } = await ctx.pool.query<{ p50: number; p95: number }>(
    `select percentile_cont(0.5) within group (order by ms) as p50, percentile_cont(0.95) within group (order by ms) as p95
       from (select extract(epoch from t.created_at - s.received_at) * 1000 as ms
               from signals s join task_signals ts on ts.signal_id = s.id join tasks t on t.id = ts.task_id where s.external_id like 'STEADY-%') x`,
  );
  return { sent, p50: rows[0]!.p50, p95: rows[0]!.p95 };
}

/** Evaluations per second on the facts of households of this run. */
async function evaluatorRates(ctx: AppContext): Promise<{ engine: number; compiled: number; identical: boolean }> {
  const { rows } = await ctx.pool.query<{ id: number; municipality_code: string; postcode: string }>(
    'select id, municipality_code, postcode from households where municipality_code is not null order by id limit 2000',
  );
  const households = rows.map((r) => ({ id: r.id, municipalityCode: r.municipality_code, postcode: r.postcode, neverEvaluated: false }));
  const sample = (await loadSnapshots(ctx.pool, households, new Date())).snapshots.map(computeHouseholdFacts);
  const ruleSet = defaultRuleSet();
  const compiled = compileRuleSet(ruleSet);
  let identical = true;
  const engineStarted = performance.now();
  let engineRuns = 0;
  while (performance.now() - engineStarted < 2_000) {
    for (const facts of sample) {
      const reference = await evaluateWithEngine(ruleSet, facts);
      if (engineRuns < sample.length && JSON.stringify(reference) !== JSON.stringify(evaluate(compiled, facts))) identical = false;
      engineRuns++;
    }
  }
  const engineRate = engineRuns / ((performance.now() - engineStarted) / 1000);
  const compiledStarted = performance.now();
  let compiledRuns = 0;
  while (performance.now() - compiledStarted < 2_000) {
    for (const facts of sample) evaluate(compiled, facts);
    compiledRuns += sample.length;
  }
  return { engine: engineRate, compiled: compiledRuns / ((performance.now() - compiledStarted) / 1000), identical };
}

/**
 * Seeds `count` households with one or two signals each, straight into the tables; every other
 * household also has a closed task its signals are linked to, as after a year of outreach.
 */
async function seedHouseholds(ctx: AppContext, count: number): Promise<void> {
  const batchId = (await ctx.pool.query<{ id: string }>(`insert into signal_batches (source, status) values ('cli', 'completed') returning id`)).rows[0]!.id;
  for (let start = 0; start < count; start += 100_000) {
    const end = Math.min(count, start + 100_000);
    await ctx.pool.query(
      `insert into households (address_key, municipality_code, postcode, house_number)
       select 'sim|' || n, '0363', (1000 + n % 1000)::text || 'AA', n from generate_series($1::int, $2::int - 1) n`,
      [start, end],
    );
    await ctx.pool.query(
      `insert into signals (batch_id, household_id, municipality_code, partner_type, external_id, signal_date, amount_cents, crisis, received_at)
       select $1, h.id, '0363', (array['energy','rent','water','health_insurance'])[1 + h.house_number % 4], 'SIM-' || h.house_number || '-' || k,
              current_date - (h.house_number % 60), 1000 + (h.house_number * 37) % 300000, h.house_number % 97 = 0, now() - interval '1 day'
         from households h, generate_series(1, 1 + (h.house_number % 3 = 0)::int) k
        where h.address_key like 'sim|%' and h.house_number >= $2 and h.house_number < $3`,
      [batchId, start, end],
    );
    await ctx.pool.query(
      `with t as (
         insert into tasks (household_id, municipality_code, status, result, closed_at, created_at)
         select h.id, '0363', 'closed', 'no_contact_possible', now() - interval '1 day', now() - interval '20 days'
           from households h
          where h.address_key like 'sim|%' and h.house_number >= $1 and h.house_number < $2 and h.house_number % 2 = 0
         returning id, household_id
       )
       insert into task_signals (signal_id, task_id) select s.id, t.id from t join signals s on s.household_id = t.household_id`,
      [start, end],
    );
  }
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'vroegsein-pipeline-'));
  const file = path.join(dir, 'signals.csv');
  const suffix = randomBytes(4).toString('hex');
  const schema = `bench_pipeline_${suffix}`;
  const referenceSchema = `bench_copy_${suffix}`;
  const prefix = `bench:${schema}`;
  const pool = createPool({ connectionString: DATABASE_URL, schema, max: 12 });
  const referencePool = createPool({ connectionString: DATABASE_URL, schema: referenceSchema, max: 2 });
  const queues = createQueueBackend(
    QUEUE === 'redis' ? { kind: 'redis', url: REDIS_URL, prefix } : { kind: 'postgres', connectionString: DATABASE_URL, schema: `${schema}_bullmq`, prefix: 'vs' },
  );
  let server: ServerType | undefined;
  let worker: Awaited<ReturnType<typeof startEvaluateWorker>> | undefined;
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  try {
    const config = parseConfig({
      DATABASE_URL,
      DATABASE_SCHEMA: schema,
      LOG_LEVEL: 'warn',
      RATE_LIMIT_PER_MINUTE: '0',
      INTAKE_RATE_LIMIT_PER_MINUTE: '0',
      EVALUATION_CONCURRENCY: '4',
    });
    const ctx: AppContext = { config, pool, schema, queues, logger: createLogger('warn'), metrics: createMetrics(), now: () => new Date() };
    await migrate(pool, schema);
    const areas = Array.from({ length: 1000 }, (_, i) => String(1000 + i));
    await withTransaction(pool, async (tx) => {
      await upsertMunicipality(tx, '0363', 'Benchstad', areas);
      for (let team = 0; team < TEAMS; team++) {
        const postcodeAreas = areas.filter((_, i) => i % TEAMS === team);
        await upsertTeam(tx, { municipality: '0363', id: `wijk-${team + 1}`, name: `Wijkteam ${team + 1}`, postcodeAreas });
      }
      await ensureDefaultRuleSets(tx, defaultRuleSet(), ['0363']);
    });

    if (values.simulate) {
      const households = Number(values.households);
      console.log(`seeding ${fmt(households)} households …`);
      await seedHouseholds(ctx, households);
      await pool.query('analyze');
      const candidate = { ...defaultRuleSet(), rules: defaultRuleSet().rules.map((r) => (r.event.type === 'score' ? { ...r, event: { ...r.event, params: { ...r.event.params, points: Number(r.event.params.points) + 5 } } } : r)) };
      const started = performance.now();
      const result = await simulateRuleSet(ctx, '0363', candidate, '2000-01-01', dutchToday());
      const seconds = (performance.now() - started) / 1000;
      const out = { bench: 'simulate', households: result.households, seconds: Number(seconds.toFixed(2)), target: 10, peakRssMiB: Math.round(peakRss / 1048576) };
      console.log(`simulation over ${fmt(result.households)} households   ${seconds.toFixed(2)} s   (target ≤ 10 s: ${seconds <= 10 ? 'met' : 'NOT met'})`);
      console.log(JSON.stringify(out));
      return;
    }

    console.log(`generating ${fmt(SIGNALS)} rows …`);
    await writeCsv(file, SIGNALS);
    await referencePool.query(`create schema "${referenceSchema}"`);
    const copy = await copyReference(referencePool, file, SIGNALS);
    const copyRate = SIGNALS / copy.seconds;

    const { key } = await createApiKey(pool, { role: 'integrator', label: 'bench' });
    const { app } = createApp(ctx);
    server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
    });
    const address = server.address();
    const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    worker = startEvaluateWorker(ctx);

    const backends = new BackendCpu(pool, 'vroegsein');
    await backends.start();
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const response = await fetch(`${url}/v1/signals`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'text/csv', 'content-length': String((await stat(file)).size) },
      body: Readable.toWeb(createReadStream(file)) as ReadableStream,
      duplex: 'half',
    } as RequestInit & { duplex: 'half' });
    const answer = (await response.json()) as { accepted?: number; detail?: string };
    if (response.status !== 202) throw new Error(`intake answered ${response.status}: ${answer.detail ?? ''}`);
    const acceptedSeconds = (performance.now() - started) / 1000;
    await waitUntilEvaluated(ctx);
    const totalSeconds = (performance.now() - started) / 1000;
    const processCpu = processCpuMs(cpuBefore);
    const databaseCpu = await backends.stop();
    const { rows: counts } = await pool.query<{ tasks: number; households: number; unattached: number }>(
      `select (select count(*)::int from tasks) as tasks, (select count(*)::int from households) as households,
              (select count(*)::int from signals s where not exists (select 1 from task_signals ts where ts.signal_id = s.id) and municipality_code is not null) as unattached`,
    );
    const rate = SIGNALS / totalSeconds;

    console.log(`steady load at 500 signals/s for ${STEADY_SECONDS} s …`);
    const steady = await steadyLatency(url, key, ctx, STEADY_SECONDS);
    const evaluators = await evaluatorRates(ctx);

    const result = {
      bench: 'pipeline',
      queue: QUEUE,
      teams: TEAMS,
      signals: SIGNALS,
      accepted: answer.accepted,
      households: counts[0]!.households,
      tasks: counts[0]!.tasks,
      unattachedSignals: counts[0]!.unattached,
      intakeSeconds: Number(acceptedSeconds.toFixed(2)),
      totalSeconds: Number(totalSeconds.toFixed(2)),
      signalsPerSecond: Math.round(rate),
      copySeconds: Number(copy.seconds.toFixed(2)),
      copyRowsPerSecond: Math.round(copyRate),
      ratio: Number((rate / copyRate).toFixed(3)),
      // CPU per signal from upload to last task: this process (API, worker, load generator) and
      // the PostgreSQL backends of its pool (null when the database is on another machine).
      processCpuMicrosPerSignal: Math.round((processCpu * 1000) / SIGNALS),
      databaseCpuMicrosPerSignal: databaseCpu === null ? null : Math.round((databaseCpu * 1000) / SIGNALS),
      steadySignals: steady.sent,
      latencyP50Ms: Math.round(steady.p50),
      latencyP95Ms: Math.round(steady.p95),
      engineEvaluationsPerSecond: Math.round(evaluators.engine),
      compiledEvaluationsPerSecond: Math.round(evaluators.compiled),
      evaluatorSpeedup: Number((evaluators.compiled / evaluators.engine).toFixed(1)),
      evaluatorsIdentical: evaluators.identical,
      peakRssMiB: Math.round(peakRss / 1048576),
      cpus: availableParallelism(),
      loadAverage: Number(loadavg()[0]!.toFixed(2)),
    };
    console.log('');
    console.log(`signals                     ${fmt(SIGNALS)} (${fmt(result.households)} households, ${fmt(result.tasks)} tasks, queue: ${QUEUE}, teams: ${TEAMS})`);
    console.log(`PostgreSQL COPY             ${copy.seconds.toFixed(2).padStart(7)} s  ${fmt(copyRate).padStart(9)} rows/s`);
    console.log(`CSV upload → 202            ${acceptedSeconds.toFixed(2).padStart(7)} s`);
    console.log(`CSV upload → last task      ${totalSeconds.toFixed(2).padStart(7)} s  ${fmt(rate).padStart(9)} signals/s`);
    console.log(`ratio end to end / COPY     ${result.ratio.toFixed(3)}`);
    console.log(
      `CPU per signal              this process ${result.processCpuMicrosPerSignal} µs, PostgreSQL ${result.databaseCpuMicrosPerSignal ?? '–'} µs (${result.cpus} cores give ${Math.round((result.cpus * 1e6) / rate)} µs per signal at this rate)`,
    );
    console.log(`accept → task at 500/s      p50 ${result.latencyP50Ms} ms, p95 ${result.latencyP95Ms} ms (${fmt(steady.sent)} signals)`);
    console.log(`evaluations/s               json-rules-engine ${fmt(evaluators.engine)}, compiled ${fmt(evaluators.compiled)} (× ${result.evaluatorSpeedup}, identical: ${evaluators.identical})`);
    console.log(`peak RSS                    ${result.peakRssMiB} MiB (API, worker and load generator in one process)`);
    console.log(`machine                     ${result.cpus} CPUs, load average ${result.loadAverage}`);
    console.log('');
    console.log(JSON.stringify(result));
  } finally {
    clearInterval(sampler);
    await worker?.close().catch(() => {});
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await queues.close().catch(() => {});
    if (QUEUE === 'redis') await deleteRedisPrefix(REDIS_URL, prefix).catch(() => {});
    await pool.query(`drop schema if exists "${schema}" cascade`).catch(() => {});
    await pool.query(`drop schema if exists "${schema}_bullmq" cascade`).catch(() => {});
    await referencePool.query(`drop schema if exists "${referenceSchema}" cascade`).catch(() => {});
    await Promise.all([pool.end(), referencePool.end()]);
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
process.exit(0);
