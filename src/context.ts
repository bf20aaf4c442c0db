import type { Config } from './config.js';
import type { Pool } from './db/pool.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import type { QueueBackend } from './queue/index.js';

/**
 * Everything a request handler or job handler needs, built once per process (and once per
 * test file, with its own schema and queue prefix).
 */
export interface AppContext {
  config: Config;
  pool: Pool;
  /** The PostgreSQL schema all tables live in. */
  schema: string;
  queues: QueueBackend;
  logger: Logger;
  metrics: Metrics;
  /** The clock; tests inject a fixed one. */
  now: () => Date;
}
