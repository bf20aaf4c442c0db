import type { AppContext } from '../src/context.js';
import { failAbandonedBatches } from '../src/db/batches.js';
import { feedFolder, type FeedFolderOptions } from '../src/services/feedFolder.js';
import { ABANDONED_AFTER_SECONDS } from '../src/services/intake.js';

/**
 * Polls the drop folder (FEED_DIR) every FEED_POLL_SECONDS; the work of a poll is in
 * src/services/feedFolder.ts. One poll runs at a time.
 */

export interface ImportWorkerOptions extends FeedFolderOptions {
  pollSeconds?: number;
}

export interface ImportWorker {
  /** Runs one poll now (waits for a running one first). */
  poll(): Promise<void>;
  stop(): Promise<void>;
}

export function startImportWorker(ctx: AppContext, options: ImportWorkerOptions = {}): ImportWorker {
  const feedDir = ctx.config.FEED_DIR;
  if (!feedDir) return { poll: async () => {}, stop: async () => {} };
  const pollMs = (options.pollSeconds ?? ctx.config.FEED_POLL_SECONDS) * 1000;
  const folder = feedFolder(ctx, feedDir, options);
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  const poll = () => {
    running = running.then(() => folder.pollOnce(() => stopped)).catch((error: unknown) => {
      ctx.logger.error({ err: error }, 'feed folder poll failed');
    });
    return running;
  };

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      void poll().then(schedule);
    }, pollMs);
    timer.unref?.();
  };

  // Batches left 'processing' by a process that died are marked failed once at start-up.
  void failAbandonedBatches(ctx.pool, ABANDONED_AFTER_SECONDS).catch(() => {});
  void poll().then(schedule);

  return {
    poll,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
