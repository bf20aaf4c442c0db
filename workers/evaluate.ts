import type { AppContext } from '../src/context.js';
import { QUEUE_NAMES, type AnyWorker, type EvaluateJobData } from '../src/queue/index.js';
import { evaluateHouseholds } from '../src/services/evaluation.js';

/** Evaluates households; the job carries their ids only. Thin: all logic is in the service. */
export function startEvaluateWorker(ctx: AppContext): AnyWorker {
  const worker = ctx.queues.worker<EvaluateJobData>(
    QUEUE_NAMES.evaluate,
    async (job) => {
      const summary = await evaluateHouseholds(ctx, job.data.householdIds);
      ctx.logger.debug({ jobId: job.id, ...summary }, 'households evaluated');
      return summary;
    },
    ctx.config.EVALUATION_CONCURRENCY,
  );
  worker.on('failed', (job, error) => ctx.logger.warn({ jobId: job?.id, err: { message: error.message } }, 'evaluation job failed'));
  worker.on('error', (error) => ctx.logger.warn({ err: { message: error.message } }, 'evaluate worker error'));
  return worker;
}
