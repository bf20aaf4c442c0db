import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCursor } from '../../src/api/openapi.js';
import { runRetention } from '../../src/services/retention.js';
import { client, createKey, createTestContext, seedMunicipality, startTestServer, type TestContext, type TestServer } from '../helpers/context.js';
import { seedSignals } from '../helpers/signals.js';

let t: TestContext;
let server: TestServer;
let clock = new Date('2026-01-15T12:00:00Z');

beforeAll(async () => {
  t = await createTestContext('retention', { now: () => clock });
  server = await startTestServer(t.ctx);
  await seedMunicipality(t.ctx, '1916', ['2261']);
  await seedMunicipality(t.ctx, '0363', ['1011']);
});
afterAll(async () => {
  await server.close();
  await t.close();
});

async function closedTask(householdId: number, closedAt: string, suppressed: boolean): Promise<number> {
  const { rows } = await t.ctx.pool.query(
    `insert into tasks (household_id, municipality_code, status, suppressed, result, closed_at)
     values ($1, '1916', 'closed', $2, $3, $4) returning id`,
    [householdId, suppressed, suppressed ? 'not_picked_up_repeat_signal' : 'advice_or_quick_fix', closedAt],
  );
  await t.ctx.pool.query(`insert into task_signals (signal_id, task_id) select s.id, $2 from signals s where s.household_id = $1 on conflict (signal_id) do nothing`, [householdId, rows[0].id]);
  await t.ctx.pool.query(`delete from evaluation_queue where household_id = $1`, [householdId]);
  return rows[0].id;
}

describe('retention', () => {
  it('purges personal data per stage as of the injected clock, keeps open tasks and anonymous figures, and audits the run', async () => {
    const signal = { partnerType: 'rent' as const, amountCents: 12345, signalDate: '2024-01-10' };
    const [oldClosed] = await seedSignals(t.ctx, [{ ...signal, postcode: '2261AA', houseNumber: 1, receivedAt: '2024-01-10T10:00:00Z' }]);
    const [recentClosed] = await seedSignals(t.ctx, [{ ...signal, postcode: '2261AA', houseNumber: 2, receivedAt: '2025-06-10T10:00:00Z' }]);
    const [oldSuppressed] = await seedSignals(t.ctx, [{ ...signal, postcode: '2261AA', houseNumber: 3, receivedAt: '2025-05-01T10:00:00Z' }]);
    const [notResident] = await seedSignals(t.ctx, [{ ...signal, postcode: '9999AA', houseNumber: 4, receivedAt: '2025-05-01T10:00:00Z' }]);
    const [openTask] = await seedSignals(t.ctx, [{ ...signal, postcode: '2261AA', houseNumber: 5, receivedAt: '2023-01-01T10:00:00Z' }]);
    await t.ctx.pool.query(`update signals set bsn = '111222333', surname = 'Jansen', phone = '0612345678', children_in_household = 2`);
    const oldTask = await closedTask(oldClosed!, '2024-06-01T10:00:00Z', false); // 19.5 months before the clock
    await closedTask(recentClosed!, '2025-07-01T10:00:00Z', false); // 6.5 months: kept (18 months)
    await closedTask(oldSuppressed!, '2025-05-01T10:00:00Z', true); // suppressed 8.5 months ago: purged (6 months)
    await t.ctx.pool.query(`insert into tasks (household_id, municipality_code, status) values ($1, '1916', 'open')`, [openTask]);
    await t.ctx.pool.query(`insert into task_notes (task_id, text) values ($1, 'spoke to Mr Jansen')`, [oldTask]);
    // Still waiting for evaluation when it is purged: there is nothing left to evaluate.
    await t.ctx.pool.query(`insert into evaluation_queue (household_id, since) values ($1, now())`, [oldSuppressed]);

    const counts = await runRetention(t.ctx);
    expect(counts).toEqual({ signals: 3, notes: 1, households: 3 });
    const { rows: queue } = await t.ctx.pool.query(`select household_id from evaluation_queue where household_id = any($1) order by 1`, [
      [oldClosed, recentClosed, oldSuppressed, notResident, openTask],
    ]);
    expect(queue.map((r: { household_id: number }) => r.household_id)).toEqual([openTask]);

    const { rows } = await t.ctx.pool.query(
      `select h.house_number, h.postcode, s.bsn, s.surname, s.phone, s.children_in_household, s.amount_cents, s.purged_at is not null as purged
         from signals s join households h on h.id = s.household_id order by s.id`,
    );
    const byNumber = (n: number) => rows.filter((r: { house_number: number }) => r.house_number === n);
    expect(byNumber(2)[0]).toMatchObject({ bsn: '111222333', children_in_household: 2, purged: false });
    expect(byNumber(5)[0]).toMatchObject({ bsn: '111222333', purged: false });
    const purged = rows.filter((r: { purged: boolean }) => r.purged);
    expect(purged).toHaveLength(3);
    for (const row of purged) expect(row).toMatchObject({ bsn: null, surname: null, phone: null, children_in_household: null, house_number: 0, amount_cents: 12345 });
    expect(purged.map((r: { postcode: string }) => r.postcode).sort()).toEqual(['2261', '2261', '9999']);
    expect(notResident).toBeGreaterThan(0);
    const { rows: notes } = await t.ctx.pool.query(`select count(*)::int as n from task_notes`);
    expect(notes[0].n).toBe(0);

    const { rows: audit } = await t.ctx.pool.query(`select object_id from audit_events where action = 'retention.purge'`);
    expect(audit[0].object_id).toContain('signals=3');

    // Idempotent: a second run finds nothing; moving the clock on purges the next stage.
    expect(await runRetention(t.ctx)).toEqual({ signals: 0, notes: 0, households: 0 });
    clock = new Date('2027-01-15T12:00:00Z');
    expect((await runRetention(t.ctx)).signals).toBe(1);
  });

  it("applies a municipality's own terms, set by an admin, and the installation's elsewhere", async () => {
    clock = new Date('2028-06-15T12:00:00Z');
    const admin = client(server.url, await createKey(t.ctx, { role: 'admin', label: 'retention admin' }));
    const coordinator = client(server.url, await createKey(t.ctx, { role: 'coordinator', municipality: '0363', label: 'coordinator 0363' }));
    // One household in each municipality, its task closed eight months before the clock.
    const closedEightMonthsAgo = async (municipality: string, postcode: string) => {
      const [household] = await seedSignals(t.ctx, [{ partnerType: 'rent', amountCents: 500, signalDate: '2027-09-01', postcode, houseNumber: 77, receivedAt: '2027-09-01T10:00:00Z' }]);
      const { rows } = await t.ctx.pool.query(
        `insert into tasks (household_id, municipality_code, status, result, closed_at) values ($1, $2, 'closed', 'no_help_needed', '2027-10-15T10:00:00Z') returning id`,
        [household, municipality],
      );
      await t.ctx.pool.query(`insert into task_signals (signal_id, task_id) select id, $2 from signals where household_id = $1`, [household, rows[0].id]);
      await t.ctx.pool.query(`update signals set bsn = '111222333' where household_id = $1`, [household]);
      await t.ctx.pool.query(`delete from evaluation_queue where household_id = $1`, [household]);
      return household!;
    };
    const amsterdam = await closedEightMonthsAgo('0363', '1011AA');
    const leidschendam = await closedEightMonthsAgo('1916', '2261AA');

    expect((await admin.get('/v1/municipalities/0363/retention')).json).toEqual({
      municipality: '0363', untaskedMonths: null, closedTaskMonths: null, effective: { untaskedMonths: 6, closedTaskMonths: 18 },
    });
    expect((await runRetention(t.ctx)).signals).toBe(0);

    const set = await admin.put('/v1/municipalities/0363/retention', { untaskedMonths: null, closedTaskMonths: 6 });
    expect(set.status).toBe(200);
    expect(set.json.effective).toEqual({ untaskedMonths: 6, closedTaskMonths: 6 });
    const { rows: audit } = await t.ctx.pool.query(`select object_id from audit_events where action = 'municipality.retention' and request_id = $1`, [set.headers.get('x-request-id')]);
    expect(audit).toEqual([{ object_id: '0363 untaskedMonths=default;closedTaskMonths=6' }]);

    expect((await runRetention(t.ctx)).signals).toBe(1);
    const { rows } = await t.ctx.pool.query(`select household_id, bsn from signals where household_id = any($1) order by household_id`, [[amsterdam, leidschendam]]);
    expect(rows).toEqual(
      [
        { household_id: amsterdam, bsn: null },
        { household_id: leidschendam, bsn: '111222333' },
      ].sort((a, b) => a.household_id - b.household_id),
    );

    for (const [body, pointer] of [
      [{ untaskedMonths: 0, closedTaskMonths: 6 }, '/untaskedMonths'],
      [{ untaskedMonths: 6, closedTaskMonths: 121 }, '/closedTaskMonths'],
      [{ untaskedMonths: 6 }, '/closedTaskMonths'],
      [{ untaskedMonths: '6', closedTaskMonths: 6 }, '/untaskedMonths'],
    ] as const) {
      const refused = await admin.put('/v1/municipalities/0363/retention', body);
      expect(refused.status, JSON.stringify(body)).toBe(400);
      expect(refused.json.errors.map((e: { pointer: string }) => e.pointer)).toContain(pointer);
    }
    expect((await coordinator.get('/v1/municipalities/0363/retention')).status).toBe(403);
    expect((await admin.put('/v1/municipalities/9999/retention', { untaskedMonths: null, closedTaskMonths: null })).status).toBe(404);
    // Back to the installation's terms.
    const reset = await admin.put('/v1/municipalities/0363/retention', { untaskedMonths: null, closedTaskMonths: null });
    expect(reset.json.effective).toEqual({ untaskedMonths: 6, closedTaskMonths: 18 });
  });
});

describe('audit events API', () => {
  it('lists events newest first for admins, scopes coordinators, pages, and exports CSV', async () => {
    const admin = client(server.url, await createKey(t.ctx, { role: 'admin', label: 'admin' }));
    const coordinator = client(server.url, await createKey(t.ctx, { role: 'coordinator', municipality: '0363', label: 'coord' }));
    const consultant = client(server.url, await createKey(t.ctx, { role: 'consultant', municipality: '0363', label: 'cons' }));
    await admin.put('/v1/municipalities/0363/teams/centrum', { name: 'Centrum', postcodeAreas: ['1011'] });
    await admin.put('/v1/municipalities/1916/teams/noord', { name: 'Noord', postcodeAreas: ['2261'] });

    const all = await admin.get('/v1/audit-events?limit=2');
    expect(all.status).toBe(200);
    expect(all.json.events).toHaveLength(2);
    expect(all.json.events[0].id).toBeGreaterThan(all.json.events[1].id);
    const next = await admin.get(`/v1/audit-events?limit=2&cursor=${all.json.nextCursor}`);
    expect(next.json.events[0].id).toBeLessThan(all.json.events[1].id);
    // A cursor that is no position of this list is refused, not sent to the database.
    for (const forged of [[1.5], [1e300], [-1], ['7'], [7, 8], []]) {
      const response = await admin.get(`/v1/audit-events?cursor=${encodeCursor(forged)}`);
      expect(response.status, JSON.stringify(forged)).toBe(400);
      expect(response.json.errors[0].pointer).toBe('/query/cursor');
    }

    const own = await coordinator.get('/v1/audit-events?object=team');
    expect(own.json.events.map((e: { objectId: string }) => e.objectId)).toEqual(['0363/centrum']);
    expect((await coordinator.get('/v1/audit-events?municipality=1916')).status).toBe(404);
    expect((await consultant.get('/v1/audit-events')).status).toBe(403);

    const csv = await admin.get('/v1/audit-events?object=team:1916/noord', { accept: 'text/csv' });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const lines = csv.text.trim().split('\r\n');
    expect(lines[0]).toBe('id,at,actorKeyId,actorLabel,action,objectType,objectId,municipality,result,origin,requestId');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain('team.create');
  });
});
