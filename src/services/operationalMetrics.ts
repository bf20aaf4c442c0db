import type { JobType } from 'bullmq';
import { Gauge, type Registry } from 'prom-client';
import type { AppContext } from '../context.js';
import { QUEUE_NAMES } from '../queue/index.js';

/**
 * Operational gauges read from PostgreSQL and the queue at scrape time: the state of the work
 * (open, claimed, overdue tasks per municipality), how far evaluation lags behind intake,
 * what came in per partner type, and the BullMQ job counts. Call `collectOperationalMetrics`
 * from the /metrics handler before rendering the registry.
 *
 * Every query here is an index range or a small aggregate, so a scrape every 15 s costs little:
 * task counts read only tasks that are not closed (tasks_queue), the lag reads the evaluation
 * queue (nearly empty between bursts), signals per partner type only the last 24 hours
 * (signals_received).
 */

// BullMQ 6 has no 'paused' state any more (a paused queue keeps its jobs 'waiting').
const QUEUE_STATES = ['waiting', 'prioritized', 'waiting-children', 'active', 'delayed', 'failed', 'completed'] as const satisfies readonly JobType[];

function createGauges(registry: Registry) {
  const registers = [registry];
  return {
    tasks: new Gauge({
      name: 'vroegsein_tasks_not_closed',
      help: 'Tasks per municipality and status (open: in the queue, claimed: being worked), read at scrape time',
      labelNames: ['municipality', 'status'] as const,
      registers,
    }),
    overdue: new Gauge({
      name: 'vroegsein_tasks_overdue_not_closed',
      help: 'Open or claimed tasks marked overdue (no first contact attempt by the due day), per municipality, read at scrape time',
      labelNames: ['municipality'] as const,
      registers,
    }),
    evaluationLag: new Gauge({
      name: 'vroegsein_evaluation_lag_seconds',
      help: 'Seconds the longest-waiting household has waited for evaluation; 0 when none waits',
      registers,
    }),
    signals24h: new Gauge({
      name: 'vroegsein_signals_received_24h',
      help: 'Signals received in the last 24 hours per partner type, read at scrape time (all municipalities)',
      labelNames: ['partner_type'] as const,
      registers,
    }),
    queueJobs: new Gauge({
      name: 'vroegsein_queue_job_counts',
      help: 'BullMQ jobs per queue and state, read at scrape time',
      labelNames: ['queue', 'state'] as const,
      registers,
    }),
  };
}

type Gauges = ReturnType<typeof createGauges>;

// One set of gauges per registry: prom-client refuses to register a name twice, and every
// application context (and every test file) has a registry of its own.
const gaugesByRegistry = new WeakMap<Registry, Gauges>();

function gaugesFor(registry: Registry): Gauges {
  let gauges = gaugesByRegistry.get(registry);
  if (!gauges) {
    gauges = createGauges(registry);
    gaugesByRegistry.set(registry, gauges);
  }
  return gauges;
}

async function collectTasks(ctx: AppContext, gauges: Gauges): Promise<void> {
  const { rows } = await ctx.pool.query<{ code: string; open: number; claimed: number; overdue: number }>(
    `select m.code,
            count(t.id) filter (where t.status = 'open')::int as open,
            count(t.id) filter (where t.status = 'claimed')::int as claimed,
            count(t.id) filter (where t.overdue)::int as overdue
       from municipalities m left join tasks t on t.municipality_code = m.code and t.status <> 'closed'
      group by m.code`,
  );
  // Reset and refill in one synchronous step: a municipality that was removed loses its series,
  // and no scrape can see the gauge half-filled.
  gauges.tasks.reset();
  gauges.overdue.reset();
  for (const r of rows) {
    gauges.tasks.set({ municipality: r.code, status: 'open' }, r.open);
    gauges.tasks.set({ municipality: r.code, status: 'claimed' }, r.claimed);
    gauges.overdue.set({ municipality: r.code }, r.overdue);
  }
}

async function collectEvaluationLag(ctx: AppContext, gauges: Gauges): Promise<void> {
  const { rows } = await ctx.pool.query<{ oldest: Date | null }>(
    `select min(since) as oldest from evaluation_queue`,
  );
  const oldest = rows[0]?.oldest ?? null;
  gauges.evaluationLag.set(oldest ? Math.max(0, (ctx.now().getTime() - oldest.getTime()) / 1000) : 0);
}

async function collectSignals(ctx: AppContext, gauges: Gauges): Promise<void> {
  const { rows } = await ctx.pool.query<{ partner_type: string; n: number }>(
    // A range of signals_received. A signal of the last day is never purged (retention counts in
    // months), so purged_at needs no test.
    `select partner_type, count(*)::int as n from signals where received_at >= $1 group by partner_type`,
    [new Date(ctx.now().getTime() - 86_400_000)],
  );
  gauges.signals24h.reset();
  for (const r of rows) gauges.signals24h.set({ partner_type: r.partner_type }, r.n);
}

async function collectQueues(ctx: AppContext, gauges: Gauges): Promise<void> {
  const counts = await Promise.all(
    Object.values(QUEUE_NAMES).map(async (name) => [name, await ctx.queues.queue(name).getJobCounts(...QUEUE_STATES)] as const),
  );
  for (const [queue, byState] of counts) {
    for (const state of QUEUE_STATES) gauges.queueJobs.set({ queue, state }, byState[state] ?? 0);
  }
}

/**
 * Sets the operational gauges on `ctx.metrics.registry`. Each part runs on its own: when the
 * queue store is down the database figures are still fresh, and a part that fails keeps its
 * last value (the failure is logged at warn). Never throws.
 */
export async function collectOperationalMetrics(ctx: AppContext): Promise<void> {
  const gauges = gaugesFor(ctx.metrics.registry);
  const parts: [string, Promise<void>][] = [
    ['tasks', collectTasks(ctx, gauges)],
    ['evaluationLag', collectEvaluationLag(ctx, gauges)],
    ['signals', collectSignals(ctx, gauges)],
    ['queues', collectQueues(ctx, gauges)],
  ];
  const outcomes = await Promise.allSettled(parts.map(([, promise]) => promise));
  outcomes.forEach((outcome, i) => {
    if (outcome.status === 'rejected') ctx.logger.warn({ err: outcome.reason, part: parts[i]![0] }, 'operational metrics: part failed');
  });
}
