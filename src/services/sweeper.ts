import type { AppContext } from '../context.js';
import { staleHouseholds } from '../db/evaluation.js';
import { enqueueEvaluation } from '../queue/index.js';

/** At most this many households per sweep; the next sweep takes the rest. */
const SWEEP_LIMIT = 50_000;

/**
 * Re-enqueues households that have waited for evaluation longer than SWEEP_AFTER_SECONDS:
 * a Redis outage, or a crash between commit and enqueue, delays an evaluation but never loses
 * it. PostgreSQL decides what is pending; the queue only speeds things up.
 */
export async function sweepPendingHouseholds(ctx: AppContext): Promise<number> {
  const ids = await staleHouseholds(ctx.pool, ctx.config.SWEEP_AFTER_SECONDS, SWEEP_LIMIT);
  if (ids.length === 0) return 0;
  await enqueueEvaluation(ctx.queues, ids);
  ctx.logger.info({ households: ids.length }, 'sweeper re-enqueued waiting households');
  return ids.length;
}
