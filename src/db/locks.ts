import { createHash } from 'node:crypto';
import type { Client, Pool } from './pool.js';

/**
 * Cluster-wide mutual exclusion through PostgreSQL advisory locks: with N worker replicas on
 * one database, a periodic job guarded by runExclusive runs on one replica per tick, and the
 * others skip that tick instead of queueing behind it.
 */

/**
 * The 64-bit advisory lock key of a name, as a decimal string (pg passes it as bigint). The
 * schema is part of the key, so installations (and test files) that share a database in
 * different schemas never block each other.
 */
export function advisoryLockKey(schema: string, name: string): string {
  return createHash('sha256').update(`vroegsein:${schema}:${name}`).digest().readBigInt64BE(0).toString();
}

export type ExclusiveResult<T> = { ran: true; value: T } | { ran: false };

/**
 * Runs `fn` only if no other session (in this process or any other) is running the same
 * `name` right now; otherwise returns `{ ran: false }` at once without waiting.
 *
 * The lock is a session-level `pg_try_advisory_lock` held on a dedicated pooled connection for
 * the duration of `fn` (`fn` itself uses the pool as usual, so the pool needs at least two
 * connections). If the connection is lost, PostgreSQL releases the lock by itself; if the
 * unlock cannot be confirmed, the connection is destroyed instead of returned to the pool, so a
 * lock can never leak into the next borrower of that connection.
 */
export async function runExclusive<T>(ctx: { pool: Pool; schema: string }, name: string, fn: () => Promise<T>): Promise<ExclusiveResult<T>> {
  const key = advisoryLockKey(ctx.schema, name);
  const client: Client = await ctx.pool.connect();
  let broken: Error | undefined;
  try {
    let locked: boolean;
    try {
      const { rows } = await client.query<{ locked: boolean }>('select pg_try_advisory_lock($1::bigint) as locked', [key]);
      locked = rows[0]?.locked === true;
    } catch (error) {
      broken = error as Error;
      throw error;
    }
    if (!locked) return { ran: false };
    try {
      return { ran: true, value: await fn() };
    } finally {
      try {
        const { rows } = await client.query<{ unlocked: boolean }>('select pg_advisory_unlock($1::bigint) as unlocked', [key]);
        if (rows[0]?.unlocked !== true) broken = new Error(`advisory lock ${name} was not held at unlock`);
      } catch (error) {
        broken = error as Error;
      }
    }
  } finally {
    client.release(broken ?? undefined);
  }
}

/**
 * The transaction-scoped variant, for work that already runs in one transaction: true when the
 * lock was taken (it is released at commit or rollback), false when another session holds it.
 */
export async function tryTransactionLock(tx: Client, schema: string, name: string): Promise<boolean> {
  const { rows } = await tx.query<{ locked: boolean }>('select pg_try_advisory_xact_lock($1::bigint) as locked', [advisoryLockKey(schema, name)]);
  return rows[0]?.locked === true;
}
