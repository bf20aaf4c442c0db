import type { MiddlewareHandler } from 'hono';
import type { ApiEnv } from '../env.js';
import { problem } from '../problem.js';

/**
 * A fixed-window limit per API key and minute. It counts per process: with N API replicas a
 * key gets at most N × the limit (documented in the README's operations section).
 */
export function rateLimit(limitPerMinute: number, now: () => Date): MiddlewareHandler<ApiEnv> {
  const windows = new Map<string, { minute: number; count: number }>();
  return async (c, next) => {
    if (limitPerMinute <= 0) return next();
    const key = c.get('actor').keyId;
    const ms = now().getTime();
    const minute = Math.floor(ms / 60_000);
    let window = windows.get(key);
    if (!window || window.minute !== minute) {
      if (windows.size > 10_000) windows.clear(); // old windows of idle keys
      window = { minute, count: 0 };
      windows.set(key, window);
    }
    window.count++;
    if (window.count > limitPerMinute) {
      throw problem.tooManyRequests(Math.max(1, Math.ceil(((minute + 1) * 60_000 - ms) / 1000)));
    }
    await next();
  };
}
