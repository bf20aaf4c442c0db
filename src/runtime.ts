import type { Config } from './config.js';
import type { AppContext } from './context.js';
import { migrate } from './db/migrate.js';
import { createPool } from './db/pool.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics } from './metrics.js';
import { createQueueBackend } from './queue/index.js';

/**
 * Start-up wiring shared by the CLI commands: the database (external, or the embedded
 * PostgreSQL under EMBEDDED_DATA_DIR when DATABASE_URL is not set), migrations, queues
 * (Redis, or BullMQ's PostgreSQL backend when REDIS_URL is not set) and the context.
 */

export interface Runtime {
  ctx: AppContext;
  /** Set when the database is the embedded one. */
  embedded: EmbeddedPostgres | null;
  /** Closes queues (workers finish their jobs first), the pool and, when this process owns it, the embedded PostgreSQL. Idempotent. */
  close(): Promise<void>;
}

export interface RuntimeOptions {
  logger?: Logger;
  /** Apply pending migrations (default true). */
  applyMigrations?: boolean;
  /** Shown in pg_stat_activity: which kind of process holds a connection. */
  applicationName?: string;
}

/** The schema BullMQ's PostgreSQL backend keeps its queues in, next to ours. */
export function queueSchemaFor(schema: string): string {
  return schema === 'public' ? 'bullmq' : `${schema}_bullmq`;
}

export async function startRuntime(config: Config, options: RuntimeOptions = {}): Promise<Runtime> {
  const logger = options.logger ?? createLogger(config.LOG_LEVEL);
  let embedded: EmbeddedPostgres | null = null;
  let connectionString = config.DATABASE_URL;
  if (!connectionString) {
    embedded = await startEmbeddedPostgres({ dataDir: config.EMBEDDED_DATA_DIR, port: config.EMBEDDED_PORT, logger });
    connectionString = embedded.connectionString;
  }
  const pool = createPool({
    connectionString,
    schema: config.DATABASE_SCHEMA,
    max: config.DATABASE_POOL_SIZE,
    applicationName: options.applicationName ?? 'vroegsein',
  });
  try {
    if (options.applyMigrations !== false) {
      const applied = await migrate(pool, config.DATABASE_SCHEMA);
      if (applied.length > 0) logger.info({ applied }, 'migrations applied');
    }
  } catch (error) {
    await pool.end().catch(() => {});
    await embedded?.stop().catch(() => {});
    throw error;
  }
  const queues = createQueueBackend(
    config.REDIS_URL
      ? { kind: 'redis', url: config.REDIS_URL, prefix: config.QUEUE_PREFIX }
      : { kind: 'postgres', connectionString, schema: queueSchemaFor(config.DATABASE_SCHEMA), prefix: config.QUEUE_PREFIX },
    { logger },
  );
  const ctx: AppContext = {
    config,
    pool,
    schema: config.DATABASE_SCHEMA,
    queues,
    logger,
    metrics: createMetrics({ defaultMetrics: true }),
    now: () => new Date(),
  };
  let closing: Promise<void> | undefined;
  return {
    ctx,
    embedded,
    close() {
      // Order matters: workers and queues first (in-flight jobs finish and commit), then our
      // pool, then the database itself.
      closing ??= (async () => {
        await queues.close().catch((error: unknown) => logger.warn({ err: error }, 'closing queues failed'));
        await pool.end().catch((error: unknown) => logger.warn({ err: error }, 'closing the database pool failed'));
        if (embedded) await embedded.stop().catch((error: unknown) => logger.warn({ err: error }, 'stopping the embedded PostgreSQL failed'));
      })();
      return closing;
    },
  };
}
