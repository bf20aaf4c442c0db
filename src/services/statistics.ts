import type { AppContext } from '../context.js';
import { analyzeTable, ANALYZE_THRESHOLD, FAST_GROWING_TABLES, staleStatistics, type AnalyzeThreshold } from '../db/statistics.js';

/**
 * Keeps the planner statistics of the fast-growing tables current during bursts (see
 * src/db/statistics.ts). Called after every intake chunk and before every evaluation chunk;
 * it looks at most once a second per schema, never runs twice at once, and never holds up its
 * caller: the ANALYZE runs on its own pooled connection while the caller goes on.
 */

const CHECK_INTERVAL_MS = 1_000;

interface State {
  checkedAt: number;
  running: Promise<void> | null;
}
const states = new Map<string, State>();

export function keepStatistics(ctx: AppContext, threshold: AnalyzeThreshold = ANALYZE_THRESHOLD): Promise<void> {
  let state = states.get(ctx.schema);
  if (!state) states.set(ctx.schema, (state = { checkedAt: 0, running: null }));
  const now = Date.now();
  if (state.running) return state.running;
  if (now - state.checkedAt < CHECK_INTERVAL_MS) return Promise.resolve();
  state.checkedAt = now;
  const current = state;
  current.running = refresh(ctx, threshold)
    .catch((error: unknown) => ctx.logger.warn({ err: { message: (error as Error).message } }, 'refreshing planner statistics failed'))
    .finally(() => {
      current.running = null;
    });
  return current.running;
}

async function refresh(ctx: AppContext, threshold: AnalyzeThreshold): Promise<void> {
  const stale = await staleStatistics(ctx.pool, FAST_GROWING_TABLES, threshold);
  if (stale.length === 0) return;
  const client = await ctx.pool.connect();
  try {
    for (const table of stale as (typeof FAST_GROWING_TABLES)[number][]) {
      const started = performance.now();
      const done = await analyzeTable(client, table);
      ctx.logger.debug({ table, analyzed: done, ms: Math.round(performance.now() - started) }, 'planner statistics');
    }
  } finally {
    client.release();
  }
}
