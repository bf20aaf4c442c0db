import type { AppContext } from '../src/context.js';
import type { AnyWorker } from '../src/queue/index.js';

/** Evaluates households (job data: household ids only). */
export function startEvaluateWorker(_ctx: AppContext): AnyWorker | null {
  return null;
}
