import cron, { type Logger as CronLogger, type ScheduledTask } from 'node-cron';
import type { AppContext } from '../src/context.js';
import { runExclusive, type ExclusiveResult } from '../src/db/locks.js';
import { escalateOverdueTasks } from '../src/services/escalation.js';
import { takeMonitorSnapshot } from '../src/services/monitorSnapshots.js';
import { runRetention } from '../src/services/retention.js';
import { sweepPendingHouseholds } from '../src/services/sweeper.js';

/**
 * The periodic work of the worker process, triggered by node-cron. Every worker replica
 * schedules the same jobs; a PostgreSQL advisory lock per job makes one replica run each tick
 * while the others skip it. The jobs themselves are idempotent, so a tick that runs twice (one
 * replica finishing just before another's clock reaches the same tick) changes nothing.
 */

export interface MaintenanceJob {
  name: string;
  /** A node-cron expression (5 fields, or 6 with seconds first), in Europe/Amsterdam time. */
  cron: string;
  run(ctx: AppContext): Promise<unknown>;
}

export function maintenanceJobs(ctx: AppContext): MaintenanceJob[] {
  return [
    { name: 'sweep', cron: ctx.config.SWEEP_CRON, run: sweepPendingHouseholds },
    { name: 'escalation', cron: ctx.config.ESCALATION_CRON, run: escalateOverdueTasks },
    { name: 'retention', cron: ctx.config.RETENTION_CRON, run: runRetention },
    { name: 'monitor-snapshot', cron: ctx.config.MONITOR_SNAPSHOT_CRON, run: takeMonitorSnapshot },
  ];
}

export interface Maintenance {
  /** Runs one job now, under the same lock as its schedule (for tests and `vroegsein` commands). */
  runNow(name: string): Promise<ExclusiveResult<unknown>>;
  /** No new ticks; waits for the ticks that are running to finish. */
  stop(): Promise<void>;
}

export function startMaintenance(ctx: AppContext, jobs: MaintenanceJob[] = maintenanceJobs(ctx)): Maintenance {
  const running = new Set<Promise<unknown>>();
  let stopped = false;
  const log = ctx.logger.child({ component: 'maintenance' });
  // node-cron reports missed and overlapping executions through this; by default it would
  // write to the console.
  const cronLogger: CronLogger = {
    info: (message) => log.debug(message),
    warn: (message) => log.warn(message),
    error: (message, err) => log.error({ err: err ?? message }, typeof message === 'string' ? message : 'node-cron error'),
    debug: (message) => log.debug(typeof message === 'string' ? message : { err: message }, 'node-cron'),
  };

  async function tick(job: MaintenanceJob): Promise<ExclusiveResult<unknown>> {
    const started = performance.now();
    try {
      const result = await runExclusive(ctx, `maintenance:${job.name}`, () => job.run(ctx));
      ctx.metrics.maintenanceRuns.inc({ job: job.name, outcome: result.ran ? 'ran' : 'skipped' });
      if (result.ran) {
        ctx.metrics.maintenanceLastSuccess.set({ job: job.name }, Date.now() / 1000);
        log.debug({ job: job.name, ms: Math.round(performance.now() - started) }, 'maintenance job done');
      } else {
        log.debug({ job: job.name }, 'maintenance job skipped: another replica is running it');
      }
      return result;
    } catch (error) {
      ctx.metrics.maintenanceRuns.inc({ job: job.name, outcome: 'failed' });
      log.error({ err: error, job: job.name }, 'maintenance job failed');
      throw error;
    }
  }

  function track(job: MaintenanceJob): Promise<ExclusiveResult<unknown>> {
    const promise = tick(job);
    running.add(promise);
    void promise.finally(() => running.delete(promise)).catch(() => {});
    return promise;
  }

  const tasks: ScheduledTask[] = jobs.map((job) =>
    cron.schedule(
      job.cron,
      async () => {
        if (stopped) return;
        // Errors are logged and counted in tick(); a failed tick is retried by the next one.
        await track(job).catch(() => {});
      },
      { name: `vroegsein:${job.name}`, noOverlap: true, timezone: 'Europe/Amsterdam', logger: cronLogger },
    ),
  );
  log.info({ schedule: Object.fromEntries(jobs.map((j) => [j.name, j.cron])) }, 'maintenance scheduled');

  return {
    runNow(name) {
      const job = jobs.find((j) => j.name === name);
      if (!job) return Promise.reject(new Error(`no maintenance job named ${name}`));
      return track(job);
    },
    async stop() {
      stopped = true;
      for (const task of tasks) await task.stop();
      for (const task of tasks) await task.destroy();
      await Promise.allSettled([...running]);
    },
  };
}
