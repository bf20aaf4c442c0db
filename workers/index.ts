import type { AppContext } from '../src/context.js';
import { closeWorker } from '../src/queue/index.js';
import { startEvaluateWorker } from './evaluate.js';
import { startImportWorker } from './import.js';
import { startMaintenance } from './maintenance.js';

/**
 * Everything `vroegsein worker` runs in one process: the evaluate worker (BullMQ), the feed
 * import worker and the periodic maintenance (node-cron under advisory locks). Workers are
 * stateless; run as many replicas as needed against one Redis and one PostgreSQL.
 */
export interface Workers {
  /**
   * Stops taking work and lets what runs finish: maintenance ticks and imports first, then
   * the evaluate worker's active jobs (for at most `timeoutMs`).
   */
  close(timeoutMs?: number): Promise<void>;
}

export function startWorkers(ctx: AppContext): Workers {
  const evaluate = startEvaluateWorker(ctx);
  const importer = startImportWorker(ctx);
  const maintenance = startMaintenance(ctx);
  ctx.logger.info({ queue: ctx.queues.kind, evaluationConcurrency: ctx.config.EVALUATION_CONCURRENCY }, 'workers started');
  let closing: Promise<void> | undefined;
  return {
    close(timeoutMs = ctx.config.SHUTDOWN_TIMEOUT_SECONDS * 1000) {
      closing ??= (async () => {
        await Promise.all([maintenance.stop(), importer.stop()]);
        if (evaluate) await closeWorker(evaluate, timeoutMs, ctx.logger);
        ctx.logger.info('workers stopped');
      })();
      return closing;
    },
  };
}
