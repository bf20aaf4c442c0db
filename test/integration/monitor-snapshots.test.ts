import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMaintenance } from '../../workers/maintenance.js';
import { client, createKey, createTestContext, seedMunicipality, startTestServer, type TestContext, type TestServer } from '../helpers/context.js';
import { seedTask } from '../helpers/tasks.js';

/**
 * The daily snapshot of the work stock (maintenance job `monitor-snapshot`) and its read,
 * GET /v1/monitoring/work-stock: per municipality and team, zeros included, one row per day
 * (a second run on the same day replaces the first), scoped like the other monitoring reads.
 */

let t: TestContext;
let server: TestServer;
/** The clock of the context: 22:55 UTC is 23:55 in Amsterdam in winter, the default tick. */
let now = new Date('2026-01-12T22:55:00Z');
let coordinator: ReturnType<typeof client>;
let otherCoordinator: ReturnType<typeof client>;
let admin: ReturnType<typeof client>;
let consultant: ReturnType<typeof client>;

beforeAll(async () => {
  t = await createTestContext('monitor_snapshots', { now: () => now });
  server = await startTestServer(t.ctx);
  await seedMunicipality(t.ctx, '1916', ['2261', '2262'], [
    { id: 'noord', areas: ['2261'] },
    { id: 'zuid', areas: ['2262'] },
  ]);
  await seedMunicipality(t.ctx, '0363', ['1011'], [{ id: 'centrum', areas: ['1011'] }]);
  coordinator = client(server.url, await createKey(t.ctx, { role: 'coordinator', municipality: '1916', label: 'coordinator' }));
  otherCoordinator = client(server.url, await createKey(t.ctx, { role: 'coordinator', municipality: '0363', label: 'other' }));
  admin = client(server.url, await createKey(t.ctx, { role: 'admin', label: 'admin' }));
  consultant = client(server.url, await createKey(t.ctx, { role: 'consultant', municipality: '1916', teams: ['noord'], label: 'consultant' }));
});
afterAll(async () => {
  await server.close();
  await t.close();
});

type Day = { date: string; municipality: string; team: string | null; tasksOpen: number; tasksClaimed: number; tasksOverdue: number; oldestOpenSince: string | null };
const counts = (d: Day) => [d.date, d.municipality, d.team, d.tasksOpen, d.tasksClaimed, d.tasksOverdue];

async function snapshotNow(): Promise<void> {
  const maintenance = startMaintenance(t.ctx);
  try {
    const result = await maintenance.runNow('monitor-snapshot');
    expect(result.ran).toBe(true);
  } finally {
    await maintenance.stop();
  }
}

describe('the monitor snapshot', () => {
  it('counts open, claimed and overdue tasks per team, zeros and tasks without a team included', async () => {
    await seedTask(t.ctx.pool, { municipality: '1916', team: 'noord' });
    await seedTask(t.ctx.pool, { municipality: '1916', team: 'noord', overdue: true });
    await seedTask(t.ctx.pool, { municipality: '1916', team: 'noord', status: 'claimed', overdue: true });
    await seedTask(t.ctx.pool, { municipality: '1916', team: 'noord', status: 'closed' });
    await seedTask(t.ctx.pool, { municipality: '1916', team: null });
    // A team that is no longer registered but still has an open task is counted too.
    await seedTask(t.ctx.pool, { municipality: '1916', team: 'opgeheven' });
    await snapshotNow();

    const res = await coordinator.get('/v1/monitoring/work-stock?from=2026-01-01&to=2026-01-31');
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ from: '2026-01-01', to: '2026-01-31', municipalities: ['1916'] });
    expect(res.json.days.map(counts)).toEqual([
      ['2026-01-12', '1916', 'noord', 2, 1, 2],
      ['2026-01-12', '1916', 'opgeheven', 1, 0, 0],
      ['2026-01-12', '1916', 'zuid', 0, 0, 0],
      ['2026-01-12', '1916', null, 1, 0, 0],
    ]);
    const { rows } = await t.ctx.pool.query(`select min(created_at) as oldest from tasks where municipality_code = '1916' and team = 'noord' and status = 'open'`);
    expect(res.json.days[0].oldestOpenSince).toBe(rows[0].oldest.toISOString());
    expect(res.json.days[2].oldestOpenSince).toBeNull();
  });

  it('replaces a snapshot taken earlier the same day, and adds one for the next day', async () => {
    await seedTask(t.ctx.pool, { municipality: '1916', team: 'zuid' });
    now = new Date('2026-01-12T22:59:00Z');
    await snapshotNow();
    now = new Date('2026-01-13T22:55:00Z');
    await seedTask(t.ctx.pool, { municipality: '1916', team: 'zuid', status: 'claimed' });
    await snapshotNow();

    const days = (await coordinator.get('/v1/monitoring/work-stock?from=2026-01-12&to=2026-01-13')).json.days as Day[];
    expect(days.filter((d) => d.team === 'zuid').map(counts)).toEqual([
      ['2026-01-12', '1916', 'zuid', 1, 0, 0],
      ['2026-01-13', '1916', 'zuid', 1, 1, 0],
    ]);
    expect(days.filter((d) => d.date === '2026-01-12')).toHaveLength(4);
    const { rows } = await t.ctx.pool.query(`select count(*)::int as n from monitor_snapshots where taken_on = '2026-01-12'`);
    // Four groups of 1916 and two of 0363 (centrum and no team).
    expect(rows[0].n).toBe(6);
  });

  it('takes the day in Amsterdam: 23:30 UTC on the 14th is already the 15th there', async () => {
    now = new Date('2026-01-14T23:30:00Z');
    await snapshotNow();
    const days = (await coordinator.get('/v1/monitoring/work-stock?from=2026-01-14&to=2026-01-15')).json.days as Day[];
    expect([...new Set(days.map((d) => d.date))]).toEqual(['2026-01-15']);
  });
});

describe('GET /v1/monitoring/work-stock', () => {
  it('shows a coordinator its own municipality, an admin all or the one asked for', async () => {
    const own = await otherCoordinator.get('/v1/monitoring/work-stock?from=2026-01-12&to=2026-01-12');
    expect(own.json.days.map(counts)).toEqual([
      ['2026-01-12', '0363', 'centrum', 0, 0, 0],
      ['2026-01-12', '0363', null, 0, 0, 0],
    ]);
    expect((await otherCoordinator.get('/v1/monitoring/work-stock?from=2026-01-12&to=2026-01-12&municipality=1916')).status).toBe(404);
    const all = await admin.get('/v1/monitoring/work-stock?from=2026-01-12&to=2026-01-12');
    expect(all.json.municipalities).toEqual(['0363', '1916']);
    expect(all.json.days).toHaveLength(6);
    const one = await admin.get('/v1/monitoring/work-stock?from=2026-01-12&to=2026-01-12&municipality=0363');
    expect(one.json.days).toHaveLength(2);
    expect((await admin.get('/v1/monitoring/work-stock?from=2026-01-12&to=2026-01-12&municipality=9999')).status).toBe(404);
    expect((await consultant.get('/v1/monitoring/work-stock?from=2026-01-12&to=2026-01-12')).status).toBe(403);
  });

  it('refuses a period backwards or longer than 366 days, with a pointer', async () => {
    const backwards = await coordinator.get('/v1/monitoring/work-stock?from=2026-02-01&to=2026-01-01');
    expect(backwards.status).toBe(400);
    expect(backwards.json.errors.map((e: { pointer: string }) => e.pointer)).toEqual(['/query/to']);
    expect((await coordinator.get('/v1/monitoring/work-stock?from=2025-01-01&to=2026-01-01')).status).toBe(200);
    const long = await coordinator.get('/v1/monitoring/work-stock?from=2025-01-01&to=2026-01-02');
    expect(long.status).toBe(400);
    expect(long.json.errors[0].detail).toContain('366 days');
    expect((await coordinator.get('/v1/monitoring/work-stock?from=2026-01-01')).status).toBe(400);
  });
});
