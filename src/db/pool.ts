import pg from 'pg';

export type Pool = pg.Pool;
export type Client = pg.PoolClient;
export type Queryable = pg.Pool | pg.PoolClient;

// PostgreSQL bigint (int8) and numeric arrive as strings by default; our ids and counts fit
// comfortably in a JS number (2^53), so parse them once here instead of at every call site.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
// A `date` is a calendar date: keep it as 'YYYY-MM-DD' instead of a midnight-UTC Date.
pg.types.setTypeParser(pg.types.builtins.DATE, (v) => v);

export interface PoolOptions {
  connectionString: string;
  schema: string;
  max?: number;
  applicationName?: string;
}

export function createPool(options: PoolOptions): Pool {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'vroegsein',
    // Every connection works in the configured schema, so one database can hold several
    // installations (and every test file its own schema).
    options: `-c search_path=${options.schema},public`,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client that loses its connection emits an error on the pool; without a listener
  // that would crash the process. The next query reports the outage instead.
  pool.on('error', () => {});
  return pool;
}

/** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
export async function withTransaction<T>(pool: Pool, work: (client: Client) => Promise<T>, options: { synchronousCommit?: boolean } = {}): Promise<T> {
  const client = await pool.connect();
  try {
    // Both statements in one round trip (the simple query protocol takes several at once).
    await client.query(options.synchronousCommit === false ? 'begin; set local synchronous_commit = off' : 'begin');
    const result = await work(client);
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EPIPE', '57P01', '57P02', '57P03', '53300']);

/**
 * PostgreSQL's "invalid byte sequence" (22021) and "unsupported Unicode escape" (22P05): input
 * with a NUL (U+0000), which text and jsonb cannot hold. The statement wrote nothing; callers
 * answer 400.
 */
export function isUnstorableText(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '22021' || code === '22P05';
}

/** True when an error means "the database cannot be reached right now" (answered with 503). */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: string }).code;
  if (code && UNAVAILABLE_CODES.has(code)) return true;
  return /Connection terminated|timeout exceeded when trying to connect|connect ECONNREFUSED/i.test(error.message);
}
