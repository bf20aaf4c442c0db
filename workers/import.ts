import type { AppContext } from '../src/context.js';

/** Imports CSV files dropped in FEED_DIR. */
export function startImportWorker(_ctx: AppContext): { stop(): Promise<void> } {
  return { stop: async () => {} };
}
