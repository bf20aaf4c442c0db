import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../../src/db/pool.js';
import { createQueueBackend } from '../../src/queue/index.js';
import { importJsonBatch } from '../../src/services/intake.js';
import { client, createKey, createTestContext, seedMunicipality, startTestServer, TEST_DATABASE_URL, type TestContext, type TestServer } from '../helpers/context.js';

/**
 * POST /v1/signals with JSON batches, against the real server, PostgreSQL and Redis: partial
 * acceptance, duplicates (within a batch, across batches, concurrent), households, not-resident
 * addresses, scope of integrator keys, idempotency, limits and the batch read.
 */

let t: TestContext;
let server: TestServer;
let adminKey: string;
let integratorKey: string;
let energyOnlyKey: string;
let boundKey: string;
let consultantKey: string;

const MAX_ITEMS = 50;

beforeAll(async () => {
  t = await createTestContext('intake_json', { env: { MAX_BATCH_ITEMS: String(MAX_ITEMS), MAX_BODY_BYTES: String(64 * 1024) } });
  server = await startTestServer(t.ctx);
  await seedMunicipality(t.ctx, '1916', ['2261', '2262']);
  await seedMunicipality(t.ctx, '0363', ['1011']);
  adminKey = await createKey(t.ctx, { role: 'admin', label: 'admin' });
  integratorKey = await createKey(t.ctx, { role: 'integrator', label: 'hub' });
  energyOnlyKey = await createKey(t.ctx, { role: 'integrator', label: 'energy supplier', partnerTypes: ['energy'] });
  boundKey = await createKey(t.ctx, { role: 'integrator', label: 'corporation 1916', municipality: '1916' });
  consultantKey = await createKey(t.ctx, { role: 'consultant', municipality: '1916', label: 'consultant' });
});
afterAll(async () => {
  await server.close();
  await t.close();
});

let counter = 0;
/** A valid item with a unique external id and address unless overridden. */
function item(overrides: Record<string, unknown> = {}) {
  counter++;
  return {
    externalId: `J-${counter}`,
    partnerType: 'energy',
    partnerName: 'Stroom BV',
    signalDate: '2026-01-15',
    amountCents: 12_550,
    person: { bsn: '111222333', initials: 'A.B.', surname: 'Jansen', birthDate: '1980-04-01' },
    address: { postcode: '2261 ab', houseNumber: 100 + counter, street: 'Dorpsstraat', city: 'Leidschendam' },
    contact: { phone: '+31 6 12345678', email: 'a.jansen@example.nl' },
    ...overrides,
  };
}

const post = (key: string, body: unknown, headers?: Record<string, string>) => client(server.url, key).post('/v1/signals', body, headers);

async function signalCount(externalIds: string[]): Promise<number> {
  const { rows } = await t.ctx.pool.query<{ n: number }>(`select count(*)::int as n from signals where external_id = any($1)`, [externalIds]);
  return rows[0]!.n;
}

describe('JSON batches', () => {
  it('accepts the valid items, rejects the others with pointers, counts in-batch duplicates', async () => {
    const a = item();
    const b = item({ address: { postcode: '12345', houseNumber: 1 } });
    const c = item({ person: { bsn: '123456789' } });
    const d = item({ unknownField: true });
    const e = item();
    const res = await post(integratorKey, { signals: [a, b, c, a, d, e] });
    expect(res.status).toBe(202);
    expect(res.headers.get('api-version')).toBe('1.0.0');
    expect(res.json).toMatchObject({ received: 6, accepted: 2, duplicates: 1, rejectedCount: 3 });
    expect(res.headers.get('location')).toBe(`/v1/signal-batches/${res.json.batchId}`);
    const rejected = res.json.rejected as { index: number; errors: { pointer: string; detail: string }[] }[];
    expect(rejected.map((r) => r.index)).toEqual([1, 2, 4]);
    expect(rejected[0]!.errors.map((x) => x.pointer)).toEqual(['/signals/1/address/postcode']);
    expect(rejected[1]!.errors.map((x) => x.pointer)).toEqual(['/signals/2/person/bsn']);
    expect(rejected[2]!.errors.map((x) => x.pointer)).toEqual(['/signals/4/unknownField']);
    // The second copy of `a` is the duplicate; every item listed in neither list was accepted.
    expect(res.json.duplicated).toEqual([{ index: 3, externalId: a.externalId }]);
    expect(await signalCount([a.externalId, e.externalId])).toBe(2);
    expect(await signalCount([b.externalId, c.externalId, d.externalId])).toBe(0);

    // Person fields on the signal, street and city on the household, which waits for evaluation.
    const { rows } = await t.ctx.pool.query(
      `select s.bsn, s.surname, s.birth_date, s.phone, s.email, s.status, s.municipality_code, s.batch_id,
              h.address_key, h.street, h.city, h.municipality_code as household_municipality,
              exists (select 1 from evaluation_queue q where q.household_id = h.id) as queued
         from signals s join households h on h.id = s.household_id where s.external_id = $1`,
      [a.externalId],
    );
    expect(rows[0]).toMatchObject({
      bsn: '111222333', surname: 'Jansen', birth_date: '1980-04-01', phone: '+31 6 12345678', email: 'a.jansen@example.nl',
      status: 'not_yet_picked_up', municipality_code: '1916', batch_id: res.json.batchId,
      address_key: `2261AB|${a.address.houseNumber}||`, street: 'Dorpsstraat', city: 'Leidschendam', household_municipality: '1916',
    });
    expect(rows[0].queued).toBe(true);

    const stored = await t.ctx.pool.query(`select status, received, accepted, duplicates, rejected, response_status, source, format from signal_batches where id = $1`, [res.json.batchId]);
    expect(stored.rows[0]).toEqual({ status: 'completed', received: 6, accepted: 2, duplicates: 1, rejected: 3, response_status: 202, source: 'api-json', format: 'json' });
  });

  it('counts a resent batch as duplicates and stores nothing twice', async () => {
    const items = [item(), item(), item()];
    const first = await post(integratorKey, { signals: items });
    expect(first.json).toMatchObject({ accepted: 3, duplicates: 0 });
    // Same partner and external id, even with another amount: a duplicate.
    const again = await post(integratorKey, { signals: items.map((i) => ({ ...i, amountCents: 1 })) });
    expect(again.status).toBe(202);
    expect(again.json).toMatchObject({ accepted: 0, duplicates: 3, rejectedCount: 0 });
    expect(again.json.duplicated).toEqual(items.map((i, index) => ({ index, externalId: i.externalId })));
    expect(first.json.duplicated).toEqual([]);
    expect(await signalCount(items.map((i) => i.externalId))).toBe(3);
    // Mixed: new ones between stored ones (and one stored one twice) are told apart item by item.
    const fresh = [item(), item()];
    const mixed = await post(integratorKey, { signals: [items[2], fresh[0], items[0], fresh[1], items[2]] });
    expect(mixed.json).toMatchObject({ accepted: 2, duplicates: 3 });
    expect(mixed.json.duplicated).toEqual([
      { index: 0, externalId: items[2]!.externalId },
      { index: 2, externalId: items[0]!.externalId },
      { index: 4, externalId: items[2]!.externalId },
    ]);
    // Another partner name is another partner: not a duplicate.
    const other = await post(integratorKey, { signals: [{ ...items[0], partnerName: 'Ander Energie' }] });
    expect(other.json).toMatchObject({ accepted: 1, duplicates: 0 });
  });

  it('stores two concurrent identical uploads once', async () => {
    const items = Array.from({ length: 40 }, () => item({ address: { postcode: '2262CD', houseNumber: 1 + (counter % 7) } }));
    const [one, two] = await Promise.all([post(integratorKey, { signals: items }), post(adminKey, { signals: items })]);
    expect([one.status, two.status]).toEqual([202, 202]);
    expect(one.json.accepted + two.json.accepted).toBe(40);
    expect(one.json.duplicates + two.json.duplicates).toBe(40);
    expect(await signalCount(items.map((i) => i.externalId))).toBe(40);
    // Each item is listed as a duplicate in exactly one of the two answers (whichever stored it second).
    const listed = [...one.json.duplicated, ...two.json.duplicated] as { index: number; externalId: string }[];
    expect(listed.map((d) => d.index).sort((x, y) => x - y)).toEqual(items.map((_, index) => index));
    for (const d of listed) expect(d.externalId).toBe(items[d.index]!.externalId);
  });

  it('stores text with tabs, backslashes and line breaks exactly as sent', async () => {
    const tricky = ['\\N', 'tab\there', 'back\\slash', 'two\nlines\r\nthree'];
    const items = tricky.map((surname) => item({ person: { surname }, address: { postcode: '2261QQ', houseNumber: 3, street: surname } }));
    const res = await post(integratorKey, { signals: items });
    expect(res.json.accepted).toBe(4);
    const { rows } = await t.ctx.pool.query(`select surname from signals where external_id = any($1) order by external_id`, [items.map((i) => i.externalId)]);
    expect(rows.map((r) => r.surname).sort()).toEqual([...tricky].sort());
    const household = await t.ctx.pool.query(`select street from households where address_key = '2261QQ|3||'`);
    expect(household.rows[0].street).toBe(tricky[0]);
  });

  it('links signals at one address to one household, whatever the spelling', async () => {
    const one = item({ address: { postcode: '2261 xy', houseNumber: 7, houseLetter: 'a', houseNumberAddition: '-bis' } });
    const two = item({ partnerType: 'water', address: { postcode: '2261XY', houseNumber: 7, houseLetter: 'A', houseNumberAddition: 'BIS' } });
    const res = await post(integratorKey, { signals: [one, two] });
    expect(res.json.accepted).toBe(2);
    const { rows } = await t.ctx.pool.query(`select distinct household_id from signals where external_id = any($1)`, [[one.externalId, two.externalId]]);
    expect(rows).toHaveLength(1);
  });

  it('stores a signal outside every registered municipality as not_resident, without evaluation', async () => {
    const outside = item({ address: { postcode: '9999ZZ', houseNumber: 1 } });
    const res = await post(integratorKey, { signals: [outside] });
    expect(res.json.accepted).toBe(1);
    const { rows } = await t.ctx.pool.query(
      `select s.status, s.municipality_code, h.municipality_code as hm,
              exists (select 1 from evaluation_queue q where q.household_id = h.id) as queued
         from signals s join households h on h.id = s.household_id where s.external_id = $1`,
      [outside.externalId],
    );
    expect(rows[0]).toEqual({ status: 'not_resident', municipality_code: null, hm: null, queued: false });
  });

  it('keeps every batch, household and municipality a signal refers to: their deletion is refused', async () => {
    const res = await post(integratorKey, { signals: [item()] });
    expect(res.status).toBe(202);
    await expect(t.ctx.pool.query(`delete from signal_batches where id = $1`, [res.json.batchId])).rejects.toMatchObject({ code: '23001' });
    await expect(t.ctx.pool.query(`delete from municipalities where code = '1916'`)).rejects.toMatchObject({ code: '23001' });
    await expect(t.ctx.pool.query(`delete from households where id in (select household_id from signals where batch_id = $1)`, [res.json.batchId])).rejects.toMatchObject({ code: '23001' });
    const { rows } = await t.ctx.pool.query<{ n: number }>(
      `select count(*)::int as n from signals s join signal_batches b on b.id = s.batch_id join municipalities m on m.code = s.municipality_code
              join households h on h.id = s.household_id
        where s.batch_id = $1`,
      [res.json.batchId],
    );
    expect(rows[0]!.n).toBe(1);
  });

  it('enqueues the waiting households for evaluation after the commit', async () => {
    const a = item({ address: { postcode: '1011AA', houseNumber: 5 } });
    const res = await post(integratorKey, { signals: [a] });
    expect(res.json.accepted).toBe(1);
    const { rows } = await t.ctx.pool.query<{ household_id: number }>(`select household_id from signals where external_id = $1`, [a.externalId]);
    const jobs = await t.ctx.queues.queue('evaluate').getJobs(['waiting', 'delayed', 'prioritized', 'active']);
    const ids = jobs.flatMap((j) => (j.data as { householdIds: number[] }).householdIds);
    expect(ids).toContain(rows[0]!.household_id);
    // Job data holds ids only.
    expect(JSON.stringify(jobs.map((j) => j.data))).not.toMatch(/Jansen|2261|1011/);
  });

  it('limits an integrator key to its partner types and its municipality', async () => {
    const res = await post(energyOnlyKey, { signals: [item(), item({ partnerType: 'rent' })] });
    expect(res.status).toBe(202);
    expect(res.json.accepted).toBe(1);
    expect(res.json.rejected).toEqual([{ index: 1, errors: [{ pointer: '/signals/1/partnerType', detail: expect.stringContaining('energy') }] }]);

    const bound = await post(boundKey, {
      signals: [item(), item({ address: { postcode: '1011AB', houseNumber: 3 } }), item({ address: { postcode: '9998AB', houseNumber: 3 } })],
    });
    expect(bound.json).toMatchObject({ accepted: 2, rejectedCount: 1 });
    expect(bound.json.rejected[0]).toMatchObject({ index: 1, errors: [{ pointer: '/signals/1/address/postcode' }] });
  });

  it('answers 400 with every error when not a single item is valid, and stores the rejections', async () => {
    const res = await post(integratorKey, { signals: [item({ amountCents: -1 }), item({ signalDate: '2026-02-30', partnerType: 'gas' })] });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.json).toMatchObject({ status: 400, received: 2, rejectedCount: 2, batchId: expect.any(String) });
    const pointers = res.json.errors.map((e: { pointer: string }) => e.pointer).sort();
    expect(pointers).toEqual(['/signals/0/amountCents', '/signals/1/partnerType', '/signals/1/signalDate']);
    const batch = await client(server.url, integratorKey).get(`/v1/signal-batches/${res.json.batchId}`);
    expect(batch.status).toBe(200);
    expect(batch.json).toMatchObject({ status: 'completed', responseStatus: 400, accepted: 0, rejectedCount: 2 });
    expect(batch.json.rejected.map((r: { index: number }) => r.index)).toEqual([0, 1]);
  });

  it('refuses bad requests without a 500: content type, JSON, shape, size, role', async () => {
    const integrator = client(server.url, integratorKey);
    expect((await integrator.post('/v1/signals', 'signals', { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await integrator.post('/v1/signals', '{}', { 'content-type': 'application/xml' })).status).toBe(415);
    expect((await integrator.post('/v1/signals', '{"signals": []}', { 'content-type': 'application/json; charset=iso-8859-1' })).status).toBe(415);
    const malformed = await integrator.post('/v1/signals', '{"signals": [', { 'content-type': 'application/json' });
    expect(malformed.status).toBe(400);
    expect(malformed.headers.get('content-type')).toContain('application/problem+json');
    expect((await integrator.post('/v1/signals', '[1,2]', { 'content-type': 'application/json' })).status).toBe(400);
    const shape = await post(integratorKey, { signals: [], extra: 1 });
    expect(shape.status).toBe(400);
    expect(shape.json.errors.map((e: { pointer: string }) => e.pointer).sort()).toEqual(['/extra', '/signals']);
    const tooMany = await post(integratorKey, { signals: Array.from({ length: MAX_ITEMS + 1 }, () => item()) });
    expect(tooMany.status).toBe(413);
    const tooLarge = await post(integratorKey, { signals: [item({ externalId: 'x'.repeat(70 * 1024) })] });
    expect(tooLarge.status).toBe(413);
    expect((await post(consultantKey, { signals: [item()] })).status).toBe(403);
    expect((await client(server.url).post('/v1/signals', { signals: [item()] })).status).toBe(401);
    expect((await integrator.post('/v1/signals', { signals: [item()] }, { 'idempotency-key': 'with space' })).status).toBe(400);
    // Nothing of these created a batch.
    const { rows } = await t.ctx.pool.query(`select count(*)::int as n from signal_batches where response_status is null`);
    expect(rows[0].n).toBe(0);
  });
});

describe('Idempotency-Key', () => {
  it('returns the first answer to a retry, refuses the key with another body (422), and is per API key', async () => {
    const body = { signals: [item(), item({ address: { postcode: 'bad', houseNumber: 1 } })] };
    const headers = { 'idempotency-key': 'retry-1' };
    const first = await post(integratorKey, body, headers);
    expect(first.status).toBe(202);
    expect(first.json.accepted).toBe(1);
    const retry = await post(integratorKey, body, headers);
    expect(retry.status).toBe(202);
    expect(retry.text).toBe(first.text);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(await signalCount([body.signals[0]!.externalId])).toBe(1);

    const other = await post(integratorKey, { signals: [item()] }, headers);
    expect(other.status).toBe(422);
    expect(other.headers.get('content-type')).toContain('application/problem+json');

    // The same key of another API key is another key.
    const elsewhere = await post(adminKey, body, headers);
    expect(elsewhere.status).toBe(202);
    expect(elsewhere.json).toMatchObject({ accepted: 0, duplicates: 1 });
    expect(elsewhere.json.batchId).not.toBe(first.json.batchId);
  });

  it('replays a 400 answer as well', async () => {
    const body = { signals: [item({ amountCents: 'lots' })] };
    const headers = { 'idempotency-key': 'retry-400' };
    const first = await post(integratorKey, body, headers);
    expect(first.status).toBe(400);
    const retry = await post(integratorKey, body, headers);
    expect(retry.status).toBe(400);
    expect(retry.text).toBe(first.text);
  });

  it('gives two concurrent requests with one key one batch and the same answer', async () => {
    const body = { signals: Array.from({ length: 30 }, () => item()) };
    const headers = { 'idempotency-key': 'concurrent-1' };
    const answers = await Promise.all([post(integratorKey, body, headers), post(integratorKey, body, headers), post(integratorKey, body, headers)]);
    for (const answer of answers) expect(answer.status).toBe(202);
    expect(new Set(answers.map((a) => a.text)).size).toBe(1);
    expect(answers[0]!.json.accepted).toBe(30);
    const { rows } = await t.ctx.pool.query(`select count(*)::int as n from signal_batches where idempotency_key = 'concurrent-1'`);
    expect(rows[0].n).toBe(1);
  });
});

describe('GET /v1/signal-batches/{batchId}', () => {
  it('shows a batch to the key that sent it and to admins only, and pages the rejections', async () => {
    const signals = [item(), ...Array.from({ length: 7 }, () => item({ amountCents: -5 }))];
    const sent = await post(integratorKey, { signals });
    expect(sent.json).toMatchObject({ accepted: 1, rejectedCount: 7 });
    const id = sent.json.batchId as string;

    const own = client(server.url, integratorKey);
    const page1 = await own.get(`/v1/signal-batches/${id}?limit=3`);
    expect(page1.status).toBe(200);
    expect(page1.json).toMatchObject({ batchId: id, status: 'completed', source: 'api-json', received: 8, accepted: 1, rejectedCount: 7 });
    expect(page1.json.rejected.map((r: { index: number }) => r.index)).toEqual([1, 2, 3]);
    const page2 = await own.get(`/v1/signal-batches/${id}?limit=3&cursor=${page1.json.nextCursor}`);
    const page3 = await own.get(`/v1/signal-batches/${id}?limit=3&cursor=${page2.json.nextCursor}`);
    expect(page2.json.rejected.map((r: { index: number }) => r.index)).toEqual([4, 5, 6]);
    expect(page3.json.rejected.map((r: { index: number }) => r.index)).toEqual([7]);
    expect(page3.json.nextCursor).toBeNull();

    expect((await client(server.url, adminKey).get(`/v1/signal-batches/${id}`)).status).toBe(200);
    for (const key of [energyOnlyKey, boundKey, consultantKey]) expect((await client(server.url, key).get(`/v1/signal-batches/${id}`)).status).toBe(404);
    expect((await own.get(`/v1/signal-batches/00000000-0000-4000-8000-000000000000`)).status).toBe(404);
    expect((await own.get(`/v1/signal-batches/not-a-uuid`)).status).toBe(400);

    const audits = await t.ctx.pool.query(`select action, result from audit_events where object_type = 'signal-batch' and object_id = $1 order by id`, [id]);
    expect(audits.rows.map((r) => r.action)).toEqual(['signals.intake', 'signal-batch.read', 'signal-batch.read', 'signal-batch.read', 'signal-batch.read']);
  });

  it('pages the duplicates at /duplicates, for the same keys only, and a replay lists them as the first answer did', async () => {
    const stored = [item(), item(), item()];
    await post(integratorKey, { signals: stored });
    const signals = [stored[0], item(), stored[1], stored[1], item(), stored[2], item({ amountCents: -1 })];
    const headers = { 'idempotency-key': 'with-duplicates' };
    const sent = await post(integratorKey, { signals }, headers);
    expect(sent.json).toMatchObject({ accepted: 2, duplicates: 4, rejectedCount: 1 });
    expect(sent.json.duplicated.map((d: { index: number }) => d.index)).toEqual([0, 2, 3, 5]);
    expect((await post(integratorKey, { signals }, headers)).text).toBe(sent.text);
    const id = sent.json.batchId as string;

    const own = client(server.url, integratorKey);
    const page1 = await own.get(`/v1/signal-batches/${id}/duplicates?limit=3`);
    expect(page1.status).toBe(200);
    expect(page1.json.duplicates).toEqual([
      { index: 0, externalId: stored[0]!.externalId },
      { index: 2, externalId: stored[1]!.externalId },
      { index: 3, externalId: stored[1]!.externalId },
    ]);
    const page2 = await own.get(`/v1/signal-batches/${id}/duplicates?limit=3&cursor=${page1.json.nextCursor}`);
    expect(page2.json).toEqual({ duplicates: [{ index: 5, externalId: stored[2]!.externalId }], nextCursor: null });

    expect((await client(server.url, adminKey).get(`/v1/signal-batches/${id}/duplicates`)).status).toBe(200);
    for (const key of [energyOnlyKey, boundKey, consultantKey]) expect((await client(server.url, key).get(`/v1/signal-batches/${id}/duplicates`)).status).toBe(404);
    expect((await own.get(`/v1/signal-batches/${id}/duplicates?cursor=x`)).status).toBe(400);
  });
});

describe('operations', () => {
  it('counts signals in the metrics and keeps personal data out of the logs', async () => {
    // prom-client hands out its live value objects: read the numbers out right away.
    const read = async () => {
      const metric = await t.ctx.metrics.signals.get();
      const value = (outcome: string) => metric.values.filter((v) => v.labels.outcome === outcome && v.labels.partner_type === 'energy').reduce((s, v) => s + v.value, 0);
      return { accepted: value('accepted'), duplicate: value('duplicate'), rejected: value('rejected') };
    };
    const before = await read();
    const a = item({ person: { surname: 'Vermeulen-Unieknaam' } });
    await post(integratorKey, { signals: [a, a, item({ amountCents: -1 })] });
    const after = await read();
    expect(after.accepted - before.accepted).toBe(1);
    expect(after.duplicate - before.duplicate).toBe(1);
    expect(after.rejected - before.rejected).toBe(1);
    const logs = t.logs.join('');
    expect(logs).toContain('signal batch');
    expect(logs).not.toContain('Vermeulen-Unieknaam');
    expect(logs).not.toContain('111222333');
    expect(logs).not.toContain('a.jansen@example.nl');
  });

  it('answers 202 when the queue is down (the data is committed) and logs a warning', async () => {
    const queues = createQueueBackend({ kind: 'redis', url: 'redis://127.0.0.1:1', prefix: 'down' });
    const down = await startTestServer({ ...t.ctx, queues });
    try {
      const a = item();
      const res = await client(down.url, integratorKey).post('/v1/signals', { signals: [a] });
      expect(res.status).toBe(202);
      expect(res.json.accepted).toBe(1);
      expect(await signalCount([a.externalId])).toBe(1);
      expect(t.logs.join('')).toContain('enqueueing evaluations failed');
    } finally {
      await down.close();
      await queues.close().catch(() => {});
    }
  });

  it('answers 503 when the database cannot be reached', async () => {
    const pool = createPool({ connectionString: TEST_DATABASE_URL.replace('5432', '1'), schema: t.ctx.schema });
    const down = await startTestServer({ ...t.ctx, pool });
    try {
      const res = await client(down.url, integratorKey).post('/v1/signals', { signals: [item()] });
      expect(res.status).toBe(503);
    } finally {
      await down.close();
      await pool.end();
    }
  });

  it('limits intake requests per key and minute (429 with Retry-After)', async () => {
    const limited = await createTestContext('intake_json_limit', { env: { INTAKE_RATE_LIMIT_PER_MINUTE: '2' } });
    const limitedServer = await startTestServer(limited.ctx);
    try {
      const key = await createKey(limited.ctx, { role: 'integrator', label: 'busy hub' });
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      // The first: nothing valid, on connections that never wrote a valid row (the chunk table must exist anyway).
      for (const signals of [[item({ amountCents: -1 })], [item()], [item()]]) {
        const res = await client(limitedServer.url, key).post('/v1/signals', { signals });
        statuses.push(res.status);
        retryAfter ??= res.headers.get('retry-after');
      }
      expect(statuses).toEqual([400, 202, 429]);
      expect(Number(retryAfter)).toBeGreaterThan(0);
      // Reading a batch is not intake: the general limit applies, not this one.
      expect((await client(limitedServer.url, key).get('/v1/signal-batches/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    } finally {
      await limitedServer.close();
      await limited.close();
    }
  });

  it('is the same service for the CLI: importJsonBatch without a key', async () => {
    const a = item({ partnerType: 'rent' });
    const answer = await importJsonBatch(t.ctx, JSON.stringify({ signals: [a] }), { source: 'cli' });
    expect(answer).toMatchObject({ status: 202, replayed: false, body: { accepted: 1 } });
    const { rows } = await t.ctx.pool.query(`select source, api_key_id from signal_batches where id = $1`, [answer.batchId]);
    expect(rows[0]).toEqual({ source: 'cli', api_key_id: null });
  });
});
