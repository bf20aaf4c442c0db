import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../../src/context.js';
import { createPool, type Pool } from '../../src/db/pool.js';
import { maintenanceJobs, startMaintenance, type MaintenanceJob } from '../../workers/maintenance.js';
import { createTestContext, TEST_DATABASE_URL, type TestContext } from '../helpers/context.js';

let t: TestContext;
let replicaPool: Pool;
/** A second worker replica: same database and schema, its own connections. */
let replica: AppContext;

beforeAll(async () => {
  t = await createTestContext('maintenance');
  replicaPool = createPool({ connectionString: TEST_DATABASE_URL, schema: t.ctx.schema, max: 4 });
  replica = { ...t.ctx, pool: replicaPool };
});
afterAll(async () => {
  await replicaPool.end();
  await t.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('maintenance', () => {
  it('schedules the sweeper, the escalation, the retention and the monitor snapshot from the configuration', () => {
    expect(maintenanceJobs(t.ctx).map((j) => [j.name, j.cron])).toEqual([
      ['sweep', t.ctx.config.SWEEP_CRON],
      ['escalation', t.ctx.config.ESCALATION_CRON],
      ['retention', t.ctx.config.RETENTION_CRON],
      ['monitor-snapshot', t.ctx.config.MONITOR_SNAPSHOT_CRON],
    ]);
    expect(t.ctx.config.MONITOR_SNAPSHOT_CRON).toBe('55 23 * * *');
    expect(t.ctx.config.SWEEP_CRON).toBe('*/30 * * * * *');
  });

  it('runs each tick on one replica at a time', async () => {
    let running = 0;
    let maxRunning = 0;
    const runs: string[] = [];
    const job = (who: string): MaintenanceJob => ({
      name: 'slow',
      cron: '* * * * * *', // every second
      run: async () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        runs.push(who);
        await sleep(700);
        running--;
      },
    });
    const a = startMaintenance(t.ctx, [job('a')]);
    const b = startMaintenance(replica, [job('b')]);
    await sleep(3_500);
    await Promise.all([a.stop(), b.stop()]);
    expect(runs.length).toBeGreaterThanOrEqual(2);
    expect(maxRunning).toBe(1);
    const skipped = (await t.ctx.metrics.registry.getSingleMetric('vroegsein_maintenance_runs_total')!.get()).values.find(
      (v) => v.labels.job === 'slow' && v.labels.outcome === 'skipped',
    );
    expect(skipped?.value ?? 0).toBeGreaterThan(0);
  });

  it('runs a job on demand under the same lock, and stop() waits for a running tick', async () => {
    const state = { finished: false };
    const job: MaintenanceJob = {
      name: 'on-demand',
      cron: '0 0 1 1 *', // not within this test
      run: async () => {
        await sleep(400);
        state.finished = true;
        return 'done';
      },
    };
    const a = startMaintenance(t.ctx, [job]);
    const b = startMaintenance(replica, [job]);
    const [first, second] = await Promise.all([a.runNow('on-demand'), (async () => (await sleep(100), b.runNow('on-demand')))()]);
    expect(first).toEqual({ ran: true, value: 'done' });
    expect(second).toEqual({ ran: false });

    state.finished = false;
    void a.runNow('on-demand');
    await sleep(50);
    await a.stop();
    expect(state.finished).toBe(true);
    await b.stop();
    await expect(a.runNow('nonexistent')).rejects.toThrow(/no maintenance job/);
  });

  it('keeps going after a failing tick', async () => {
    let calls = 0;
    const job: MaintenanceJob = {
      name: 'flaky',
      cron: '* * * * * *',
      run: async () => {
        calls++;
        if (calls === 1) throw new Error('first tick fails');
      },
    };
    const m = startMaintenance(t.ctx, [job]);
    await expect(m.runNow('flaky')).rejects.toThrow('first tick fails');
    await expect.poll(() => calls, { timeout: 5_000 }).toBeGreaterThanOrEqual(2);
    await m.stop();
    expect(t.logs.join('')).toContain('maintenance job failed');
  });
});
