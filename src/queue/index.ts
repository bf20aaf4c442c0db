import { Queue, Worker, createPostgresBackend, type Job, type JobsOptions, type RedisOptions as BullRedisOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../logger.js';

/**
 * BullMQ carries work, never data: every job payload holds ids only (Redis keeps job data in
 * clear text). With REDIS_URL the queues live in Redis; without it, BullMQ's PostgreSQL backend
 * keeps them in the same database as everything else.
 */

/**
 * The queues. Feed files are not queued: the workers claim them from FEED_DIR by renaming them
 * (src/services/feedFolder.ts), which needs no queue and survives a lost job by design.
 */
export const QUEUE_NAMES = {
  evaluate: 'evaluate',
} as const;
export type QueueName = (typeof QUEUE_NAMES)[keyof typeof QUEUE_NAMES];

export interface EvaluateJobData {
  householdIds: number[];
}

export type QueueSettings =
  | { kind: 'redis'; url: string; prefix: string }
  | { kind: 'postgres'; connectionString: string; schema: string; prefix: string };

/* eslint-disable @typescript-eslint/no-explicit-any -- BullMQ's backend generics do not survive a union of backends */
export type AnyQueue = Queue<any, any, string, any, any, string, any, any>;
export type AnyWorker = Worker<any, any, string, any, any, any>;

export type Processor<T> = (job: Job<T>) => Promise<unknown>;

export interface QueueBackend {
  readonly kind: 'redis' | 'postgres';
  queue(name: QueueName): AnyQueue;
  worker<T>(name: QueueName, processor: Processor<T>, concurrency: number): AnyWorker;
  /** True when the queue store answers (within a few seconds). */
  ping(): Promise<boolean>;
  /**
   * Closes workers first (each lets its active jobs finish, up to `timeoutMs`; after that they
   * are abandoned and come back as stalled jobs, which is safe because every handler is
   * idempotent), then queues and connections. Idempotent.
   */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

export interface QueueBackendOptions {
  /** Where worker and queue connection errors are reported (they are otherwise swallowed). */
  logger?: Logger;
}

function redisOptions(url: string, forWorker: boolean): RedisOptions {
  const parsed = new URL(url);
  return {
    host: parsed.hostname,
    port: Number(parsed.port || 6379),
    username: parsed.username || undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db: parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0,
    tls: parsed.protocol === 'rediss:' ? {} : undefined,
    // Workers block and must retry forever; producers fail fast so a Redis outage never holds
    // up an intake request (the sweeper enqueues what could not be enqueued).
    maxRetriesPerRequest: forWorker ? null : 1,
    enableOfflineQueue: forWorker,
    connectTimeout: 5_000,
  };
}

const PING_TIMEOUT_MS = 3_000;

function withTimeout<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
  });
  return Promise.race([promise.catch(() => fallback), timeout]).finally(() => clearTimeout(timer));
}

/**
 * Closes a worker: it takes no new jobs and its active jobs may finish for at most
 * `timeoutMs`; after that it is forced (the abandoned jobs come back as stalled and run again,
 * which is safe because every handler is idempotent). Closing twice is harmless.
 */
export async function closeWorker(worker: AnyWorker, timeoutMs: number, logger?: Logger): Promise<void> {
  const graceful = worker.close().then(() => true, () => true);
  if (await withTimeout(graceful, timeoutMs, false)) return;
  logger?.warn({ queue: worker.name }, 'jobs still running at shutdown; abandoning them (they will be retried)');
  await worker.close(true).catch(() => {});
}

async function closeWorkers(workers: AnyWorker[], timeoutMs: number, logger: Logger | undefined): Promise<void> {
  await Promise.all(workers.map((worker) => closeWorker(worker, timeoutMs, logger)));
}

export function createQueueBackend(settings: QueueSettings, options: QueueBackendOptions = {}): QueueBackend {
  const { logger } = options;
  const queues = new Map<QueueName, AnyQueue>();
  const workers: AnyWorker[] = [];
  let closing: Promise<void> | undefined;
  const reportError = (what: string, name: string) => (error: Error) => logger?.warn({ err: error, queue: name }, `${what} error`);

  if (settings.kind === 'redis') {
    const producer = new Redis(redisOptions(settings.url, false));
    producer.on('error', () => {}); // reported through ping() and failed enqueues
    const queue = (name: QueueName): AnyQueue => {
      let found = queues.get(name);
      if (!found) {
        found = new Queue(name, { connection: producer, prefix: settings.prefix });
        found.on('error', () => {});
        queues.set(name, found);
      }
      return found;
    };
    return {
      kind: 'redis',
      queue,
      worker(name, processor, concurrency) {
        // Connection options rather than an ioredis instance: BullMQ then owns the worker's
        // connections and closes them in worker.close() (a passed-in instance is "shared" and
        // would stay open, keeping the process alive). ioredis' and BullMQ's RedisOptions types
        // differ in detail only; BullMQ hands these to ioredis.
        const connection = redisOptions(settings.url, true) as BullRedisOptions;
        const worker = new Worker(name, processor, { connection, prefix: settings.prefix, concurrency });
        worker.on('error', reportError('worker', name));
        workers.push(worker);
        return worker;
      },
      ping: () => withTimeout(producer.ping().then((answer) => answer === 'PONG'), PING_TIMEOUT_MS, false),
      close(closeOptions = {}) {
        closing ??= (async () => {
          await closeWorkers(workers, closeOptions.timeoutMs ?? 30_000, logger);
          await Promise.all([...queues.values()].map((q) => q.close().catch(() => {})));
          await producer.quit().catch(() => producer.disconnect());
        })();
        return closing;
      },
    };
  }

  const connection = { connectionString: settings.connectionString, schema: settings.schema, migrate: true, max: 4 };
  const queue = (name: QueueName): AnyQueue => {
    let found = queues.get(name);
    if (!found) {
      found = new Queue(name, { connection, prefix: settings.prefix }, createPostgresBackend) as AnyQueue;
      found.on('error', () => {});
      queues.set(name, found);
    }
    return found;
  };
  return {
    kind: 'postgres',
    queue,
    worker(name, processor, concurrency) {
      const worker = new Worker(name, processor, { connection, prefix: settings.prefix, concurrency }, createPostgresBackend) as AnyWorker;
      worker.on('error', reportError('worker', name));
      workers.push(worker);
      return worker;
    },
    // Reading a count goes through the backend's pool and its schema check: it answers only
    // when the database is reachable and the queue tables exist.
    ping: () => withTimeout(queue(QUEUE_NAMES.evaluate).getJobCounts('waiting').then(() => true), PING_TIMEOUT_MS, false),
    close(closeOptions = {}) {
      closing ??= (async () => {
        await closeWorkers(workers, closeOptions.timeoutMs ?? 30_000, logger);
        await Promise.all([...queues.values()].map((q) => q.close().catch(() => {})));
      })();
      return closing;
    },
  };
}

/**
 * How many household ids one evaluate job carries at most. Each job is one transaction with a
 * fixed part (a dozen round trips, the job's own bookkeeping in the queue); with 1,000 instead
 * of 500 a burst evaluated about 5 % faster, and a job still commits within some tens of ms.
 */
export const EVALUATION_CHUNK = 1_000;

const JOB_OPTIONS: JobsOptions = {
  removeOnComplete: true,
  removeOnFail: 1_000,
  attempts: 5,
  backoff: { type: 'exponential', delay: 1_000 },
};

/**
 * Enqueues households for evaluation in chunks (ids only). A household that appears in two
 * jobs is evaluated once: the evaluation skips households no longer marked as pending.
 */
export async function enqueueEvaluation(queues: QueueBackend, householdIds: readonly number[]): Promise<void> {
  if (householdIds.length === 0) return;
  const unique = [...new Set(householdIds)].sort((a, b) => a - b);
  const jobs = [];
  for (let i = 0; i < unique.length; i += EVALUATION_CHUNK) {
    jobs.push({ name: 'evaluate', data: { householdIds: unique.slice(i, i + EVALUATION_CHUNK) } satisfies EvaluateJobData, opts: JOB_OPTIONS });
  }
  await queues.queue(QUEUE_NAMES.evaluate).addBulk(jobs);
}

/**
 * Deletes every Redis key under a queue prefix (`<prefix>:*`): for tearing down the queues of
 * a test file or a benchmark run, never needed in normal operation.
 */
export async function deleteRedisPrefix(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
