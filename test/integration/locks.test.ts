import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, type Pool } from '../../src/db/pool.js';
import { advisoryLockKey, runExclusive, tryTransactionLock } from '../../src/db/locks.js';
import { withTransaction } from '../../src/db/pool.js';
import { createTestContext, TEST_DATABASE_URL, type TestContext } from '../helpers/context.js';

let t: TestContext;
/** A second pool: another "replica" with its own connections to the same database. */
let otherReplica: Pool;

beforeAll(async () => {
  t = await createTestContext('locks');
  otherReplica = createPool({ connectionString: TEST_DATABASE_URL, schema: t.ctx.schema, max: 4 });
});
afterAll(async () => {
  await otherReplica.end();
  await t.close();
});

/** A promise and the function that resolves it: lets a test hold a lock as long as it likes. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

describe('runExclusive', () => {
  it('runs one of two concurrent callers; the other returns at once without running', async () => {
    const release = gate();
    let runs = 0;
    const first = runExclusive(t.ctx, 'job', async () => {
      runs++;
      await release.opened;
      return 'first';
    });
    // Wait until the first holds the lock, then try from the "other replica".
    await expect.poll(() => runs).toBe(1);
    const second = await runExclusive({ pool: otherReplica, schema: t.ctx.schema }, 'job', async () => {
      runs++;
      return 'second';
    });
    expect(second).toEqual({ ran: false });
    release.open();
    expect(await first).toEqual({ ran: true, value: 'first' });
    expect(runs).toBe(1);
  });

  it('lets exactly one of many simultaneous callers run', async () => {
    // The one that gets the lock holds it until all the others have been turned away (their
    // connections may take a while to open under load; none of them may run meanwhile).
    const callers = 8;
    let running = 0;
    let maxRunning = 0;
    let turnedAway = 0;
    const results = await Promise.all(
      Array.from({ length: callers }, async (_, i) => {
        const result = await runExclusive({ pool: i % 2 ? otherReplica : t.ctx.pool, schema: t.ctx.schema }, 'burst', async () => {
          running++;
          maxRunning = Math.max(maxRunning, running);
          await expect.poll(() => turnedAway, { timeout: 10_000, interval: 20 }).toBe(callers - 1);
          running--;
        });
        if (!result.ran) turnedAway++;
        return result;
      }),
    );
    expect(results.filter((r) => r.ran)).toHaveLength(1);
    expect(maxRunning).toBe(1);
  });

  it('releases the lock after the work finished, also when it threw', async () => {
    // Sessions holding the advisory lock of a name (the bigint key is split over classid/objid).
    const holders = async (name: string) =>
      (
        await t.ctx.pool.query<{ n: number }>(
          `select count(*)::int as n from pg_locks
            where locktype = 'advisory' and objsubid = 1 and ((classid::bigint << 32) | objid::bigint) = $1::bigint`,
          [advisoryLockKey(t.ctx.schema, name)],
        )
      ).rows[0]!.n;
    expect(await runExclusive(t.ctx, 'sequential', async () => holders('sequential'))).toEqual({ ran: true, value: 1 });
    await expect(runExclusive(t.ctx, 'sequential', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await runExclusive({ pool: otherReplica, schema: t.ctx.schema }, 'sequential', async () => 3)).toEqual({ ran: true, value: 3 });
    // No session (a pooled connection above all) still holds it.
    expect(await holders('sequential')).toBe(0);
  });

  it('keeps different names and different schemas apart', async () => {
    const release = gate();
    let held = false;
    const holder = runExclusive(t.ctx, 'a', async () => {
      held = true;
      await release.opened;
    });
    await expect.poll(() => held).toBe(true);
    expect(await runExclusive(t.ctx, 'b', async () => 'b')).toEqual({ ran: true, value: 'b' });
    expect(await runExclusive({ pool: otherReplica, schema: `${t.ctx.schema}_other` }, 'a', async () => 'other')).toEqual({ ran: true, value: 'other' });
    release.open();
    await holder;
    expect(advisoryLockKey('s1', 'x')).not.toBe(advisoryLockKey('s2', 'x'));
  });

  it('has a transaction-scoped variant that holds until commit', async () => {
    const release = gate();
    let locked = false;
    const tx = withTransaction(t.ctx.pool, async (client) => {
      locked = await tryTransactionLock(client, t.ctx.schema, 'tx');
      await release.opened;
    });
    await expect.poll(() => locked).toBe(true);
    expect(await runExclusive({ pool: otherReplica, schema: t.ctx.schema }, 'tx', async () => 'x')).toEqual({ ran: false });
    release.open();
    await tx;
    expect(await runExclusive({ pool: otherReplica, schema: t.ctx.schema }, 'tx', async () => 'x')).toEqual({ ran: true, value: 'x' });
  });
});
