import { validate as isValidCron } from 'node-cron';
import { z } from 'zod';

/**
 * All configuration comes from the environment and is parsed once, here.
 * The README's configuration table lists the same variables with the same defaults.
 */
const booleanish = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

// node-cron expressions: five fields (minute precision) or six (with seconds first).
const cron = (fallback: string) => z.string().refine((v) => isValidCron(v), 'not a valid cron expression').default(fallback);

const configSchema = z.object({
  DATABASE_URL: z.string().url().optional(),
  DATABASE_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]*$/).default('public'),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(2).max(200).default(10),
  EMBEDDED_DATA_DIR: z.string().default('./data'),
  EMBEDDED_PORT: z.coerce.number().int().min(1).max(65535).default(54329),
  REDIS_URL: z.string().url().optional(),
  QUEUE_PREFIX: z.string().min(1).default('vroegsein'),
  HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  PUBLIC_URL: z.string().url().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  FEED_DIR: z.string().optional(),
  FEED_POLL_SECONDS: z.coerce.number().int().min(1).default(10),
  SWEEP_AFTER_SECONDS: z.coerce.number().int().min(1).default(60),
  MAX_BODY_BYTES: z.coerce.number().int().min(1024).default(5 * 1024 * 1024),
  MAX_CSV_BYTES: z.coerce.number().int().min(1024).default(512 * 1024 * 1024),
  MAX_BATCH_ITEMS: z.coerce.number().int().min(1).default(10_000),
  MAX_CSV_ROWS: z.coerce.number().int().min(1).default(1_000_000),
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).default(600),
  INTAKE_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).default(600),
  EVALUATION_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  MAX_NOTES_PER_TASK: z.coerce.number().int().min(1).default(200),
  MAX_ATTEMPTS_PER_TASK: z.coerce.number().int().min(1).default(100),
  MIN_ATTEMPTS_NO_CONTACT: z.coerce.number().int().min(0).default(3),
  MIN_CHANNELS_NO_CONTACT: z.coerce.number().int().min(0).default(2),
  DEFAULT_DUE_WORKING_DAYS: z.coerce.number().int().min(1).default(10),
  ESCALATION_CRON: cron('*/15 * * * *'),
  /** How often the sweeper re-enqueues households still waiting for evaluation. */
  SWEEP_CRON: cron('*/30 * * * * *'),
  /** On SIGTERM/SIGINT: how long in-flight requests and jobs may take to finish. */
  SHUTDOWN_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(600).default(30),
  RETENTION_UNTASKED_MONTHS: z.coerce.number().int().min(1).default(6),
  RETENTION_CLOSED_TASK_MONTHS: z.coerce.number().int().min(1).default(18),
  RETENTION_CRON: cron('30 3 * * *'),
  /** When the day's snapshot of the work stock is taken (late: it describes the end of the day). */
  MONITOR_SNAPSHOT_CRON: cron('55 23 * * *'),
  CORS_ORIGINS: z.string().optional(),
  TRUST_PROXY: booleanish.default(false),
  DDAS_SUPPLIER_CODE: z.string().default('vroegsein'),
  DDAS_ORGANISATION_NAME: z.string().optional(),
  DDAS_ORGANISATION_KVK: z.string().optional(),
});

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {}

export function parseConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const result = configSchema.safeParse(env);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return result.data;
}

let cached: Config | undefined;

/** The process-wide configuration, parsed on first use. */
export function config(): Config {
  cached ??= parseConfig();
  return cached;
}
