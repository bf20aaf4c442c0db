import { Queue, Worker, createPostgresBackend, type Job, type JobsOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';

/**
 * BullMQ carries work, never data: every job payload holds ids only (Redis keeps job data in
 * clear text). With REDIS_URL the queues live in Redis; without it, BullMQ's PostgreSQL backend
 * keeps them in the same database as everything else.
 */

export const QUEUE_NAMES = {
  evaluate: 'evaluate',
  import: 'import',
} as const;
export type QueueName = (typeof QUEUE_NAMES)[keyof typeof QUEUE_NAMES];

export interface EvaluateJobData {
  householdIds: number[];
}
export interface ImportJobData {
  /** A file name inside FEED_DIR (no path, no personal data). */
  fileName: string;
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
  /** True when the queue store answers. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
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

export function createQueueBackend(settings: QueueSettings): QueueBackend {
  const queues = new Map<QueueName, AnyQueue>();
  const workers: AnyWorker[] = [];
  if (settings.kind === 'redis') {
    const producer = new Redis(redisOptions(settings.url, false));
    producer.on('error', () => {}); // reported through ping() and failed enqueues
    return {
      kind: 'redis',
      queue(name) {
        let queue = queues.get(name);
        if (!queue) {
          queue = new Queue(name, { connection: producer, prefix: settings.prefix });
          queue.on('error', () => {});
          queues.set(name, queue);
        }
        return queue;
      },
      worker(name, processor, concurrency) {
        const worker = new Worker(name, processor, { connection: new Redis(redisOptions(settings.url, true)), prefix: settings.prefix, concurrency });
        workers.push(worker);
        return worker;
      },
      async ping() {
        try {
          return (await producer.ping()) === 'PONG';
        } catch {
          return false;
        }
      },
      async close() {
        await Promise.all(workers.map((w) => w.close()));
        await Promise.all([...queues.values()].map((q) => q.close()));
        producer.disconnect();
      },
    };
  }
  const connection = { connectionString: settings.connectionString, schema: settings.schema, migrate: true, max: 4 };
  return {
    kind: 'postgres',
    queue(name) {
      let queue = queues.get(name);
      if (!queue) {
        queue = new Queue(name, { connection, prefix: settings.prefix }, createPostgresBackend) as AnyQueue;
        queue.on('error', () => {});
        queues.set(name, queue);
      }
      return queue;
    },
    worker(name, processor, concurrency) {
      const worker = new Worker(name, processor, { connection, prefix: settings.prefix, concurrency }, createPostgresBackend) as AnyWorker;
      workers.push(worker);
      return worker;
    },
    async ping() {
      try {
        await this.queue(QUEUE_NAMES.evaluate).getJobCounts('waiting');
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      await Promise.all(workers.map((w) => w.close()));
      await Promise.all([...queues.values()].map((q) => q.close()));
    },
  };
}

/** How many household ids one evaluate job carries. */
export const EVALUATION_CHUNK = 500;

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
