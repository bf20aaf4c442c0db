import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registeredV1Routes, signalA } from '../helpers/accessMatrix.js';
import { client, createTestContext, seedMunicipality, startTestServer, type TestContext, type TestServer } from '../helpers/context.js';
import { createKeyWithId, seedTask } from '../helpers/tasks.js';

/**
 * Abuse: rate limits per key (429 with Retry-After), and a limit on everything a client can
 * make large — body, batch, file, rows, page, string, notes and attempts per task — each
 * answered with a problem, never by running out of memory or time.
 */

type Api = ReturnType<typeof client>;

function expectProblem(res: { status: number; headers: Headers; json: unknown }, status: number, what = ''): void {
  expect(res.status, what).toBe(status);
  expect(res.headers.get('content-type'), what).toContain('application/problem+json');
  expect(res.json, what).toMatchObject({ status });
}

async function count(t: TestContext, table: string): Promise<number> {
  const { rows } = await t.ctx.pool.query(`select count(*)::int as n from ${table}`);
  return rows[0].n;
}

describe('rate limits per key', () => {
  let t: TestContext;
  let server: TestServer;
  let clock = new Date('2026-03-02T10:00:15Z');

  beforeAll(async () => {
    t = await createTestContext('security_rate', { env: { RATE_LIMIT_PER_MINUTE: '5', INTAKE_RATE_LIMIT_PER_MINUTE: '2' }, now: () => clock });
    server = await startTestServer(t.ctx);
    await seedMunicipality(t.ctx, '1916', ['2261'], [{ id: 'noord', areas: ['2261'] }]);
  });
  afterAll(async () => {
    await server.close();
    await t.close();
  });

  it('answers 429 problem+json with Retry-After after RATE_LIMIT_PER_MINUTE requests of a key, until the minute is over', async () => {
    clock = new Date('2026-03-02T10:00:15Z');
    const one = client(server.url, (await createKeyWithId(t.ctx, { role: 'coordinator', municipality: '1916' })).key);
    const two = client(server.url, (await createKeyWithId(t.ctx, { role: 'coordinator', municipality: '1916' })).key);
    for (let i = 0; i < 5; i++) expect((await one.get('/v1/municipalities')).status).toBe(200);
    const limited = await one.get('/v1/municipalities');
    expectProblem(limited, 429);
    expect(limited.headers.get('retry-after')).toBe('45');
    expect(limited.headers.get('api-version')).toBe('1.0.0');
    expect(limited.json.type).toBe('urn:vroegsein:problem:rate-limited');

    // Per key: another key of the same municipality and role is not affected.
    expect((await two.get('/v1/municipalities')).status).toBe(200);

    // Writes are limited too, and a refused write changes nothing.
    const teamsBefore = await count(t, 'teams');
    expectProblem(await one.put('/v1/municipalities/1916/teams/zuid', { name: 'Zuid', postcodeAreas: [] }), 429);
    expect(await count(t, 'teams')).toBe(teamsBefore);

    clock = new Date('2026-03-02T10:00:59.500Z');
    expect((await one.get('/v1/municipalities')).headers.get('retry-after')).toBe('1');
    clock = new Date('2026-03-02T10:01:00Z');
    expect((await one.get('/v1/municipalities')).status).toBe(200);
  });

  it('limits intake separately (INTAKE_RATE_LIMIT_PER_MINUTE), storing nothing of a refused batch', async () => {
    clock = new Date('2026-03-02T11:00:00Z');
    const integrator = client(server.url, (await createKeyWithId(t.ctx, { role: 'integrator', label: 'intake' })).key);
    const signal = (n: number) => ({ signals: [{ ...signalA(), externalId: `rate-${n}`, signalDate: '2026-02-02' }] });
    expect((await integrator.post('/v1/signals', signal(1))).status).toBe(202);
    expect((await integrator.post('/v1/signals', signal(2))).status).toBe(202);
    const [signals, batches] = [await count(t, 'signals'), await count(t, 'signal_batches')];
    const limited = await integrator.post('/v1/signals', signal(3));
    expectProblem(limited, 429);
    expect(Number(limited.headers.get('retry-after'))).toBe(60);
    expect([await count(t, 'signals'), await count(t, 'signal_batches')]).toEqual([signals, batches]);
    // The general limit still leaves room for reads.
    expect((await integrator.get('/v1/municipalities')).status).toBe(200);
  });

  it('has the documented defaults (the README limits table), and RATE_LIMIT_PER_MINUTE=0 turns the limit off', async () => {
    const { parseConfig } = await import('../../src/config.js');
    expect(parseConfig({})).toMatchObject({
      RATE_LIMIT_PER_MINUTE: 600,
      INTAKE_RATE_LIMIT_PER_MINUTE: 600,
      MAX_BODY_BYTES: 5 * 1024 * 1024,
      MAX_CSV_BYTES: 512 * 1024 * 1024,
      MAX_BATCH_ITEMS: 10_000,
      MAX_CSV_ROWS: 1_000_000,
      MAX_NOTES_PER_TASK: 200,
      MAX_ATTEMPTS_PER_TASK: 100,
    });
    expect(parseConfig({ RATE_LIMIT_PER_MINUTE: '0' }).RATE_LIMIT_PER_MINUTE).toBe(0);
    expect(() => parseConfig({ RATE_LIMIT_PER_MINUTE: '-1' })).toThrow();
    expect(() => parseConfig({ MAX_BODY_BYTES: '10' })).toThrow();
  });
});

describe('size limits', () => {
  let t: TestContext;
  let server: TestServer;
  let admin: Api;
  let coordinator: Api;
  let integrator: Api;

  beforeAll(async () => {
    t = await createTestContext('security_limits', {
      env: {
        RATE_LIMIT_PER_MINUTE: '0',
        INTAKE_RATE_LIMIT_PER_MINUTE: '0',
        MAX_BODY_BYTES: '4096',
        MAX_BATCH_ITEMS: '3',
        MAX_CSV_ROWS: '50',
        MAX_CSV_BYTES: '16384',
      },
    });
    server = await startTestServer(t.ctx);
    await seedMunicipality(t.ctx, '1916', ['2261'], [{ id: 'noord', areas: ['2261'] }]);
    admin = client(server.url, (await createKeyWithId(t.ctx, { role: 'admin' })).key);
    coordinator = client(server.url, (await createKeyWithId(t.ctx, { role: 'coordinator', municipality: '1916' })).key);
    integrator = client(server.url, (await createKeyWithId(t.ctx, { role: 'integrator' })).key);
  });
  afterAll(async () => {
    await server.close();
    await t.close();
  });

  it('refuses a JSON batch over MAX_BODY_BYTES with 413, declared or streamed, storing nothing', async () => {
    const signals = await count(t, 'signals');
    const big = JSON.stringify({ signals: [{ ...signalA(), partnerName: 'x'.repeat(5_000) }] });
    expectProblem(await integrator.post('/v1/signals', big, { 'content-type': 'application/json' }), 413, 'declared');
    // Without Content-Length (chunked): the limit holds while reading.
    const streamed = await fetch(`${server.url}/v1/signals`, {
      method: 'POST',
      headers: { authorization: `Bearer ${(await createKeyWithId(t.ctx, { role: 'integrator' })).key}`, 'content-type': 'application/json' },
      body: new ReadableStream({
        start(controller) {
          for (let i = 0; i < 10; i++) controller.enqueue(new TextEncoder().encode(big.slice(i * 600, (i + 1) * 600)));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(await count(t, 'signals')).toBe(signals);
  });

  it('refuses a body over MAX_BODY_BYTES with 413 on every other JSON write endpoint, before validating it', async () => {
    const writes = registeredV1Routes().filter((r) => /^(POST|PUT) /.test(r) && r !== 'POST /signals');
    expect(writes.length).toBeGreaterThan(10);
    const body = JSON.stringify({ padding: 'x'.repeat(5_000) });
    for (const route of writes) {
      const [method, template] = route.split(' ') as [string, string];
      const path =
        '/v1' +
        template
          .replace(':code', '1916')
          .replace(':teamId', 'noord')
          .replace(':id', '1')
          .replace(':version', '1');
      const api = route.includes('/tasks/') ? coordinator : admin;
      const res = method === 'PUT' ? await api.put(path, body, { 'content-type': 'application/json' }) : await api.post(path, body, { 'content-type': 'application/json' });
      expectProblem(res, 413, route);
    }
  });

  it('refuses more than MAX_BATCH_ITEMS signals in one JSON batch with 413', async () => {
    const small = (n: number) => ({ externalId: `b-${n}`, partnerType: 'rent', signalDate: '2025-01-10', amountCents: 100, person: {}, address: { postcode: '2261AB', houseNumber: n } });
    const res = await integrator.post('/v1/signals', { signals: [small(1), small(2), small(3), small(4)] });
    expectProblem(res, 413);
    expect(res.json.detail).toContain('at most 3 signals');
    expect((await integrator.post('/v1/signals', { signals: [small(1), small(2), small(3)] })).status).toBe(202);
  });

  it('stops a CSV file at MAX_CSV_ROWS and MAX_CSV_BYTES with 413; a file over MAX_BODY_BYTES but within MAX_CSV_BYTES is fine', async () => {
    const header = 'externalId,partnerType,signalDate,amountCents,postcode,houseNumber,street,city';
    const rows = (from: number, n: number, text = 'Dorp') => Array.from({ length: n }, (_, i) => `csv-${from + i},rent,2025-01-10,100,2261AB,${from + i},${text},${text}`);
    const tooMany = await integrator.post('/v1/signals', [header, ...rows(100, 51)].join('\n'), { 'content-type': 'text/csv' });
    expectProblem(tooMany, 413, 'rows');
    expect(tooMany.json.detail).toContain('at most 50 rows');
    const big = [header, ...rows(200, 45, 's'.repeat(200))].join('\n');
    expect(Buffer.byteLength(big)).toBeGreaterThan(16_384);
    expectProblem(await integrator.post('/v1/signals', big, { 'content-type': 'text/csv' }), 413, 'bytes');
    const fine = [header, ...rows(300, 30, 's'.repeat(190))].join('\n');
    expect(Buffer.byteLength(fine)).toBeGreaterThan(4_096);
    const accepted = await integrator.post('/v1/signals', fine, { 'content-type': 'text/csv' });
    expect(accepted.status, accepted.text).toBe(202);
    expect(accepted.json.accepted).toBe(30);
  });

  it('caps every page size', async () => {
    const id = (await seedTask(t.ctx.pool, { municipality: '1916', team: 'noord' })).taskId;
    const cases: [Api, string, string][] = [
      [coordinator, '/v1/tasks?limit=501', '/query/limit'],
      [coordinator, '/v1/tasks/queue?limit=501', '/query/limit'],
      [coordinator, `/v1/tasks/${id}/notes?limit=501`, '/query/limit'],
      [coordinator, `/v1/tasks/${id}/contact-attempts?limit=501`, '/query/limit'],
      [coordinator, `/v1/tasks/${id}/history?limit=501`, '/query/limit'],
      [integrator, '/v1/signal-batches/00000000-0000-4000-8000-000000000000?limit=1001', '/query/limit'],
      [admin, '/v1/audit-events?limit=10001', '/query/limit'],
      [coordinator, '/v1/exports/ddas?from=2025-01-01&to=2025-12-31&pageSize=50001', '/query/pageSize'],
      [coordinator, `/v1/tasks?cursor=${'A'.repeat(201)}`, '/query/cursor'],
      [coordinator, `/v1/tasks?team=${'a'.repeat(64)}`, '/query/team'],
    ];
    for (const [api, path, pointer] of cases) {
      const res = await api.get(path);
      expectProblem(res, 400, path);
      expect(res.json.errors.map((e: { pointer: string }) => e.pointer), path).toContain(pointer);
    }
    for (const path of ['/v1/tasks?limit=500', '/v1/tasks/queue?limit=500', `/v1/tasks/${id}/notes?limit=500`]) expect((await coordinator.get(path)).status, path).toBe(200);
    const gegevens = await coordinator.post('/v1/ddas/gegevens', { aanleverperiodeStartdatum: '2025-01-01', aanleverperiodeEinddatum: '2025-12-31', pageSize: 50_001 });
    expectProblem(gegevens, 400, 'gegevens pageSize');
  });

  it('limits a note to 4,000 characters and a task to 200 notes and 100 contact attempts', async () => {
    const consultant = await createKeyWithId(t.ctx, { role: 'consultant', municipality: '1916', teams: ['noord'] });
    const api = client(server.url, consultant.key);
    const { taskId } = await seedTask(t.ctx.pool, { municipality: '1916', team: 'noord', status: 'claimed', assignee: consultant.id });
    expect((await api.post(`/v1/tasks/${taskId}/notes`, { text: 'n'.repeat(4_000) })).status).toBe(201);
    const long = await api.post(`/v1/tasks/${taskId}/notes`, { text: 'n'.repeat(4_001) });
    expectProblem(long, 400);
    expect(long.json.errors[0].pointer).toBe('/text');
    const closeNote = await api.post(`/v1/tasks/${taskId}/close`, { result: 'deceased', note: 'n'.repeat(4_001) });
    expectProblem(closeNote, 400);

    await t.ctx.pool.query(`insert into task_notes (task_id, text) select $1, 'n' from generate_series(1, 198)`, [taskId]);
    expect((await api.post(`/v1/tasks/${taskId}/notes`, { text: 'the 200th' })).status).toBe(201);
    const full = await api.post(`/v1/tasks/${taskId}/notes`, { text: 'the 201st' });
    expectProblem(full, 409);
    expect(full.json.code).toBe('note_limit');
    expect(await count(t, `task_notes where task_id = ${Number(taskId)}`)).toBe(200);

    await t.ctx.pool.query(`insert into contact_attempts (task_id, channel, reached, attempt_date) select $1, 'letter', false, '2025-01-07' from generate_series(1, 100)`, [taskId]);
    const attempts = await api.post(`/v1/tasks/${taskId}/contact-attempts`, { channel: 'phone', reached: false, date: '2025-01-08' });
    expectProblem(attempts, 409);
    expect(attempts.json.code).toBe('attempt_limit');
  });

  it('limits the Idempotency-Key header to 255 visible characters', async () => {
    const res = await integrator.post('/v1/signals', { signals: [signalA()] }, { 'idempotency-key': 'k'.repeat(256) });
    expectProblem(res, 400);
    expect(res.json.errors[0].pointer).toBe('/header/idempotency-key');
  });

  it('refuses each signal field one character over its limit, with its pointer, and accepts it at the limit', async () => {
    const fields: [string, (v: string) => Record<string, unknown>, number][] = [
      ['/externalId', (v) => ({ externalId: v }), 100],
      ['/partnerName', (v) => ({ partnerName: v }), 200],
      ['/person/initials', (v) => ({ person: { initials: v } }), 50],
      ['/person/prefix', (v) => ({ person: { prefix: v } }), 50],
      ['/person/surname', (v) => ({ person: { surname: v } }), 200],
      ['/address/street', (v) => ({ address: { postcode: '2261AB', houseNumber: 1, street: v } }), 200],
      ['/address/city', (v) => ({ address: { postcode: '2261AB', houseNumber: 1, city: v } }), 200],
      ['/address/houseNumberAddition', (v) => ({ address: { postcode: '2261AB', houseNumber: 1, houseNumberAddition: v } }), 6],
      ['/contact/phone', (v) => ({ contact: { phone: v } }), 32],
      ['/contact/email', (v) => ({ contact: { email: `${'e'.repeat(v.length - 12)}@example.org` } }), 254],
    ];
    let n = 0;
    const item = (patch: Record<string, unknown>) => ({ ...signalA(), externalId: `len-${++n}`, person: {}, contact: undefined, ...patch });
    for (const [pointer, patch, max] of fields) {
      const ok = await integrator.post('/v1/signals', { signals: [item(patch('1'.repeat(max)))] });
      expect(ok.status, `${pointer} at ${max}: ${ok.text}`).toBe(202);
      const over = await integrator.post('/v1/signals', { signals: [item(patch('1'.repeat(max + 1)))] });
      expectProblem(over, 400, `${pointer} at ${max + 1}`);
      expect(over.json.errors.map((e: { pointer: string }) => e.pointer), pointer).toContain(`/signals/0${pointer}`);
    }
  });

});
