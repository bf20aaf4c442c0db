import type { AppContext } from '../context.js';

/** Re-enqueues households that have waited for evaluation longer than SWEEP_AFTER_SECONDS. */
export async function sweepPendingHouseholds(_ctx: AppContext): Promise<number> {
  return 0;
}
