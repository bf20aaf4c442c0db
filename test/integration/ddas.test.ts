import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CONTACT_CHANNEL_CODES,
  CONTACT_CHANNELS,
  DAY_PART_CODES,
  PARTNER_TYPE_CODES,
  PARTNER_TYPES,
  RESULT_FOR_SUPPRESSED_STATUS,
  SIGNAL_STATUSES,
  TASK_RESULT_CODES,
  TASK_RESULTS,
  type SignalStatus,
} from '../../src/domain/codes.js';
import type { DdasUitwisselmodel, DdasVroegsignaal, DdasVroegsignaalzaak } from '../../src/domain/ddas.js';
import { client, createKey, createTestContext, seedMunicipality, startTestServer, type TestContext, type TestServer } from '../helpers/context.js';
import { ddasSchemaErrors } from '../fixtures/ddas-schema.js';
import { seedAttempt, seedHousehold, seedSignal, seedTask } from '../fixtures/ddas-seed.js';

/**
 * A rich delivery: every partner type, every signal status, every result, every contact kind
 * and day part, clients with and without BSN, house letters and additions, signals on both
 * sides of the period's Europe/Amsterdam boundaries, and a second municipality for scoping.
 * Every delivery the API answers is validated against the national schema, unchanged.
 */

let t: TestContext;
let server: TestServer;
let coordinator: ReturnType<typeof client>;
let admin: ReturnType<typeof client>;

const NOW = new Date('2025-04-02T08:15:30.500Z');
const PERIOD = 'from=2025-01-01&to=2025-03-31';
const BSNS = ['111222333', '123456782'];

/** What the fixture put in the period for 1916, to compare the delivery with. */
const expected = { signalIds: new Set<string>(), caseCount: 0, outside: new Set<string>() };
let claimedCaseSignalIds: string[] = [];

beforeAll(async () => {
  t = await createTestContext('ddas', {
    now: () => NOW,
    env: { DDAS_SUPPLIER_CODE: 'SUP01', DDAS_ORGANISATION_NAME: 'Stadsbank Test', DDAS_ORGANISATION_KVK: '12345678' },
  });
  server = await startTestServer(t.ctx);
  const ctx = t.ctx;
  await seedMunicipality(ctx, '1916', ['2261', '2262']);
  await seedMunicipality(ctx, '0363', ['1011']);
  coordinator = client(server.url, await createKey(ctx, { role: 'coordinator', municipality: '1916', label: 'coordinator 1916' }));
  admin = client(server.url, await createKey(ctx, { role: 'admin', label: 'admin' }));
  const m = '1916';
  let n = 0;
  const partnerType = () => PARTNER_TYPE_CODES[n % PARTNER_TYPE_CODES.length]!;
  const day = (i: number) => `2025-0${1 + (i % 3)}-${String(10 + (i % 15)).padStart(2, '0')}`;
  const statusForResult = new Map(Object.entries(RESULT_FOR_SUPPRESSED_STATUS).map(([status, result]) => [result, status as SignalStatus]));

  // One closed case per result; the "not picked up" ones are suppressed, their signal carries the status.
  for (const [i, result] of TASK_RESULT_CODES.entries()) {
    const status = statusForResult.get(result);
    const household = await seedHousehold(ctx, { municipality: m, postcode: '2261AB', houseNumber: 100 + i, houseLetter: i % 3 === 0 ? 'A' : undefined, houseNumberAddition: i % 4 === 0 ? 'bis' : undefined });
    const task = await seedTask(ctx, {
      householdId: household, municipality: m, status: 'closed', result, suppressed: status !== undefined,
      createdAt: `${day(i)}T12:00:00+01:00`, closedAt: `${day(i)}T16:00:00+01:00`,
    });
    const id = await seedSignal(ctx, {
      householdId: household, municipality: m, partnerType: partnerType(), signalDate: day(i), receivedAt: `${day(i)}T09:00:00+01:00`,
      status: status ?? 'picked_up', taskId: task, bsn: i % 2 === 0 ? BSNS[i % 4 === 0 ? 0 : 1] : undefined, originDate: i % 2 === 0 ? '2024-11-01' : undefined,
      crisis: i === 1, warmHandover: i === 2, amountCents: i === 3 ? 7_550 : 25_049,
    });
    n++;
    expected.signalIds.add(String(id));
    expected.caseCount++;
    if (status === undefined && i % 2 === 1) await seedAttempt(ctx, { taskId: task, channel: 'phone', reached: true, date: day(i), dayPart: 'morning' });
  }

  // A claimed case with every contact kind and day part; one signal received before the period.
  const claimedHousehold = await seedHousehold(ctx, { municipality: m, postcode: '2262CD', houseNumber: 7, houseLetter: 'B', houseNumberAddition: '2' });
  const claimed = await seedTask(ctx, { householdId: claimedHousehold, municipality: m, status: 'claimed', createdAt: '2025-01-03T10:00:00+01:00', pickedUpDate: '2025-01-06' });
  const early = await seedSignal(ctx, { householdId: claimedHousehold, municipality: m, partnerType: partnerType(), signalDate: '2024-12-20', receivedAt: '2024-12-31T22:30:00Z', status: 'picked_up', taskId: claimed });
  n++;
  expected.outside.add(String(early));
  const late = await seedSignal(ctx, { householdId: claimedHousehold, municipality: m, partnerType: partnerType(), signalDate: '2025-01-02', receivedAt: '2025-01-02T11:00:00+01:00', status: 'picked_up', taskId: claimed });
  n++;
  expected.signalIds.add(String(late));
  expected.caseCount++;
  claimedCaseSignalIds = [String(early), String(late)].sort((a, b) => Number(a) - Number(b));
  for (const [i, channel] of CONTACT_CHANNEL_CODES.entries()) {
    await seedAttempt(ctx, { taskId: claimed, channel, reached: i === 9, date: `2025-01-${String(6 + i).padStart(2, '0')}`, dayPart: i < 3 ? DAY_PART_CODES[i] : undefined });
  }

  // An open case without attempts, its signal received on the last evening of the period (summer time).
  const openHousehold = await seedHousehold(ctx, { municipality: m, postcode: '2261EF', houseNumber: 3 });
  const open = await seedTask(ctx, { householdId: openHousehold, municipality: m, status: 'open', createdAt: '2025-03-31T23:40:00+02:00' });
  const lastEvening = await seedSignal(ctx, { householdId: openHousehold, municipality: m, partnerType: partnerType(), signalDate: '2025-03-31', receivedAt: '2025-03-31T21:30:00Z', taskId: open, bsn: BSNS[1] });
  n++;
  expected.signalIds.add(String(lastEvening));
  expected.caseCount++;

  // Outside the period: received just after it; a case matched before it (its new signal is in).
  const after = await seedSignal(ctx, { householdId: openHousehold, municipality: m, partnerType: 'energy', signalDate: '2025-03-31', receivedAt: '2025-03-31T22:30:00Z' });
  expected.outside.add(String(after));
  const oldHousehold = await seedHousehold(ctx, { municipality: m, postcode: '2261GH', houseNumber: 1 });
  const oldCase = await seedTask(ctx, { householdId: oldHousehold, municipality: m, status: 'open', createdAt: '2024-12-15T10:00:00+01:00' });
  expected.signalIds.add(String(await seedSignal(ctx, { householdId: oldHousehold, municipality: m, partnerType: 'rent', signalDate: '2025-02-01', receivedAt: '2025-02-01T10:00:00+01:00', taskId: oldCase })));

  // Another municipality.
  const amsterdam = await seedHousehold(ctx, { municipality: '0363', postcode: '1011AA', houseNumber: 1 });
  const amsterdamCase = await seedTask(ctx, { householdId: amsterdam, municipality: '0363', status: 'closed', result: 'no_help_needed', createdAt: '2025-02-01T10:00:00+01:00', closedAt: '2025-02-10T10:00:00+01:00' });
  await seedSignal(ctx, { householdId: amsterdam, municipality: '0363', partnerType: 'water', signalDate: '2025-02-01', receivedAt: '2025-02-01T09:00:00+01:00', status: 'picked_up', taskId: amsterdamCase });
  await seedSignal(ctx, { householdId: amsterdam, municipality: '0363', partnerType: 'energy', signalDate: '2025-02-02', receivedAt: '2025-02-02T09:00:00+01:00', taskId: amsterdamCase, status: 'picked_up' });
});

afterAll(async () => {
  await server?.close();
  await t?.close();
});

interface Answer {
  gegevens: DdasUitwisselmodel;
  paginering: { pageSize: number; currentPage: number; totalPages: number; totalRecords: number };
}

async function exportPage(who: ReturnType<typeof client>, query: string): Promise<Answer> {
  const res = await who.get(`/v1/exports/ddas?${query}`);
  expect(res.status, res.text).toBe(200);
  expect(ddasSchemaErrors(res.json.gegevens)).toEqual([]);
  expect(res.headers.get('digest')).toBe(`SHA-256=${createHash('sha256').update(res.text).digest('base64')}`);
  return res.json as Answer;
}

describe('DDAS delivery', () => {
  let delivery: Answer;
  let signals: DdasVroegsignaal[];
  let cases: DdasVroegsignaalzaak[];

  beforeAll(async () => {
    delivery = await exportPage(coordinator, PERIOD);
    const levering = delivery.gegevens.leveringen![0]!;
    signals = levering.vroegsignalen;
    cases = levering.vroegsignaalzaken;
  });

  it("delivers the coordinator's municipality with the configured supplier and organisation", () => {
    expect(delivery.gegevens).toMatchObject({
      startdatumLevering: '2025-01-01',
      einddatumLevering: '2025-03-31',
      aanleverdatumEnTijd: '2025-04-02T08:15:30Z',
      codeGegevensleverancier: 'SUP01',
    });
    expect(delivery.gegevens.leveringen).toHaveLength(1);
    expect(delivery.gegevens.leveringen![0]).toMatchObject({ teller: 1, gemeentecode: '1916', aanleverendeOrganisatie: { naam: 'Stadsbank Test', 'kvk-nummer': '12345678' } });
    expect(delivery.paginering).toEqual({ pageSize: 25_000, currentPage: 1, totalPages: 1, totalRecords: expected.signalIds.size + expected.caseCount });
  });

  it('holds every signal received in the period and no other, and every case matched in it', () => {
    expect(new Set(signals.map((s) => s.ID))).toEqual(expected.signalIds);
    expect(cases).toHaveLength(expected.caseCount);
    for (const id of expected.outside) expect(signals.map((s) => s.ID)).not.toContain(id);
  });

  it('uses every partner type, status, result, contact kind and day part', () => {
    expect(new Set(signals.map((s) => s.signaalpartner.type))).toEqual(new Set(Object.values(PARTNER_TYPES)));
    expect(new Set(signals.map((s) => s.status))).toEqual(new Set(Object.values(SIGNAL_STATUSES)));
    expect(new Set(cases.map((c) => c.resultaat).filter(Boolean))).toEqual(new Set(Object.values(TASK_RESULTS)));
    const attempts = cases.flatMap((c) => c.contactpogingen);
    expect(new Set(attempts.map((a) => a.soort))).toEqual(new Set(Object.values(CONTACT_CHANNELS)));
    expect(new Set(attempts.map((a) => a.dagdeel))).toEqual(new Set(['Ochtend', 'Middag', 'Avond', undefined]));
  });

  it('names the client by BSN alone, or by address, and never by name or contact details', () => {
    const withBsn = signals.filter((s) => 'burgerservicenummer' in s.client);
    const withAddress = signals.filter((s) => 'postcode' in s.client);
    expect(withBsn.length).toBeGreaterThan(0);
    expect(withAddress.length).toBeGreaterThan(0);
    for (const s of withBsn) expect(Object.keys(s.client)).toEqual(['burgerservicenummer']);
    expect(withAddress.map((s) => s.client)).toEqual(expect.arrayContaining([
      { postcode: '2261AB', huisnummer: '101' },
      { postcode: '2261AB', huisnummer: '103', huisnummertoevoeging: 'A' },
      { postcode: '2262CD', huisnummer: '7', huisnummertoevoeging: 'B-2' },
    ]));
    const text = JSON.stringify(delivery);
    for (const personal of ['Jansen', '0612345678', 'example.org', '1961-07-04', 'female', 'Vrouw', 'Crediteur']) expect(text).not.toContain(personal);
  });

  it('rounds amounts to whole euros, half up', () => {
    const amounts = new Set(signals.map((s) => s.bedrag));
    expect(amounts).toContain(76); // €75.50
    expect(amounts).toContain(250); // €250.49
    expect(signals.some((s) => s.crisissignaal) && signals.some((s) => s.warmeOverdracht)).toBe(true);
  });

  it('describes a case with its signals, matching period, pick-up date and attempts', () => {
    const claimed = cases.find((c) => c.contactpogingen.length === 10)!;
    expect(claimed).toEqual({
      matchingsdatum: '2025-01-03',
      startdatumMatchingperiode: '2024-12-31', // received 2024-12-31 22:30 UTC = 23:30 in Amsterdam
      einddatumMatchingperiode: '2025-01-02',
      datumOpgepakt: '2025-01-06',
      vroegsignalen: claimedCaseSignalIds.map((ID) => ({ ID })),
      contactpogingen: CONTACT_CHANNEL_CODES.map((channel, i) => ({
        soort: CONTACT_CHANNELS[channel],
        bereikt: i === 9,
        datum: `2025-01-${String(6 + i).padStart(2, '0')}`,
        ...(i < 3 ? { dagdeel: ['Ochtend', 'Middag', 'Avond'][i] } : {}),
      })),
    });
    const open = cases.find((c) => c.matchingsdatum === '2025-03-31')!;
    expect(open).not.toHaveProperty('resultaat');
    expect(open).not.toHaveProperty('datumOpgepakt');
    expect(open.contactpogingen).toEqual([]);
  });

  it('pages through the same records, every page valid, with the same totals', async () => {
    const first = await exportPage(coordinator, `${PERIOD}&pageSize=5`);
    const { totalPages, totalRecords } = first.paginering;
    expect(totalRecords).toBe(delivery.paginering.totalRecords);
    expect(totalPages).toBe(Math.ceil(totalRecords / 5));
    const ids: string[] = [];
    let caseCount = 0;
    for (let page = 1; page <= totalPages; page++) {
      const answer = await exportPage(coordinator, `${PERIOD}&pageSize=5&page=${page}`);
      expect(answer.paginering).toEqual({ pageSize: 5, currentPage: page, totalPages, totalRecords });
      const levering = answer.gegevens.leveringen![0]!;
      expect(levering.teller).toBe(1);
      expect(levering.vroegsignalen.length + levering.vroegsignaalzaken.length).toBe(page < totalPages ? 5 : totalRecords - 5 * (totalPages - 1));
      ids.push(...levering.vroegsignalen.map((s) => s.ID));
      caseCount += levering.vroegsignaalzaken.length;
    }
    expect(ids).toHaveLength(expected.signalIds.size);
    expect(new Set(ids)).toEqual(expected.signalIds);
    expect(caseCount).toBe(expected.caseCount);
    const beyond = await coordinator.get(`/v1/exports/ddas?${PERIOD}&pageSize=5&page=${totalPages + 1}`);
    expect(beyond.status).toBe(400);
    expect(beyond.json.errors[0].pointer).toBe('/query/page');
  });

  it('answers the DDAS-VS pull operation with the same content', async () => {
    const res = await coordinator.post('/v1/ddas/gegevens', { aanleverperiodeStartdatum: '2025-01-01', aanleverperiodeEinddatum: '2025-03-31' });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toEqual(delivery);
    expect(res.headers.get('digest')).toBe(`SHA-256=${createHash('sha256').update(res.text).digest('base64')}`);
    const paged = await coordinator.post('/v1/ddas/gegevens', { aanleverperiodeStartdatum: '2025-01-01', aanleverperiodeEinddatum: '2025-03-31', page: 2, pageSize: 4, aanleverendeOrganisatie: 'Stadsbank Test' });
    expect(paged.status).toBe(200);
    expect(ddasSchemaErrors(paged.json.gegevens)).toEqual([]);
    expect(paged.json.paginering).toMatchObject({ currentPage: 2, pageSize: 4, totalRecords: delivery.paginering.totalRecords });
  });

  it('delivers an empty levering for a period without records', async () => {
    const empty = await exportPage(coordinator, 'from=2020-01-01&to=2020-12-31');
    expect(empty.gegevens.leveringen).toEqual([
      { teller: 1, gemeentecode: '1916', aanleverendeOrganisatie: { naam: 'Stadsbank Test', 'kvk-nummer': '12345678' }, vroegsignalen: [], vroegsignaalzaken: [] },
    ]);
    expect(empty.paginering).toEqual({ pageSize: 25_000, currentPage: 1, totalPages: 1, totalRecords: 0 });
  });

  it('audits who pulled which period and page', async () => {
    const { rows } = await t.ctx.pool.query(
      `select actor_label, object_id, municipality_code from audit_events where action = 'ddas.export' and object_id like '2025-01-01..2025-03-31 page 1/1 %'`,
    );
    expect(rows).toContainEqual({ actor_label: 'coordinator 1916', object_id: '2025-01-01..2025-03-31 page 1/1 size 25000', municipality_code: '1916' });
  });
});

describe('DDAS scope', () => {
  it('gives an admin a levering per municipality, numbered by code', async () => {
    const all = await exportPage(admin, PERIOD);
    expect(all.gegevens.leveringen!.map((l) => [l.teller, l.gemeentecode])).toEqual([[1, '0363'], [2, '1916']]);
    expect(all.gegevens.leveringen![0]!.vroegsignalen).toHaveLength(2);
    expect(all.gegevens.leveringen![0]!.vroegsignaalzaken).toHaveLength(1);
    const one = await exportPage(admin, `${PERIOD}&municipality=0363`);
    expect(one.gegevens.leveringen!.map((l) => l.gemeentecode)).toEqual(['0363']);
    for (const organisation of ['0363', 'GM0363', 'gemeente 0363']) {
      const res = await admin.post('/v1/ddas/gegevens', { aanleverperiodeStartdatum: '2025-01-01', aanleverperiodeEinddatum: '2025-03-31', aanleverendeOrganisatie: organisation });
      expect(res.status).toBe(200);
      expect(res.json.gegevens.leveringen.map((l: { gemeentecode: string }) => l.gemeentecode)).toEqual(['0363']);
    }
  });

  it("hides another municipality's delivery from a coordinator", async () => {
    expect((await coordinator.get(`/v1/exports/ddas?${PERIOD}&municipality=0363`)).status).toBe(404);
    expect((await admin.get(`/v1/exports/ddas?${PERIOD}&municipality=9999`)).status).toBe(404);
    const res = await coordinator.post('/v1/ddas/gegevens', { aanleverperiodeStartdatum: '2025-01-01', aanleverperiodeEinddatum: '2025-03-31', aanleverendeOrganisatie: '0363' });
    expect(res.status).toBe(422);
    expect(res.json.errors[0].pointer).toBe('/aanleverendeOrganisatie');
  });

  it('refuses consultants and integrators with 403', async () => {
    const consultant = client(server.url, await createKey(t.ctx, { role: 'consultant', municipality: '1916', teams: ['noord'], label: 'consultant' }));
    const integrator = client(server.url, await createKey(t.ctx, { role: 'integrator', label: 'integrator' }));
    for (const who of [consultant, integrator]) {
      expect((await who.get(`/v1/exports/ddas?${PERIOD}`)).status).toBe(403);
      expect((await who.post('/v1/ddas/gegevens', { aanleverperiodeStartdatum: '2025-01-01', aanleverperiodeEinddatum: '2025-03-31' })).status).toBe(403);
    }
  });
});

describe('DDAS input', () => {
  it.each([
    ['from=2025-03-31&to=2025-01-01', '/query/to'],
    ['from=2025-01-01&to=2025-02-30', '/query/to'],
    ['to=2025-01-01', '/query/from'],
    [`${PERIOD}&pageSize=50001`, '/query/pageSize'],
    [`${PERIOD}&page=0`, '/query/page'],
    [`${PERIOD}&limit=10`, '/query/limit'],
  ])('refuses GET ?%s with 400 at %s', async (query, pointer) => {
    const res = await coordinator.get(`/v1/exports/ddas?${query}`);
    expect(res.status).toBe(400);
    expect(res.json.errors.map((e: { pointer: string }) => e.pointer)).toContain(pointer);
  });

  it.each([
    [{ aanleverperiodeStartdatum: '2025-01-01' }, '/aanleverperiodeEinddatum'],
    [{ aanleverperiodeStartdatum: '2025-03-01', aanleverperiodeEinddatum: '2025-01-01' }, '/aanleverperiodeEinddatum'],
    [{ aanleverperiodeStartdatum: '2025-01-01', aanleverperiodeEinddatum: '2025-03-31', pageSize: 50_001 }, '/pageSize'],
    [{ aanleverperiodeStartdatum: '2025-01-01', aanleverperiodeEinddatum: '2025-03-31', page: '1' }, '/page'],
    [{ aanleverperiodeStartdatum: '2025-01-01', aanleverperiodeEinddatum: '2025-03-31', filter: 'x' }, '/filter'],
  ])('refuses POST %j with 400 at %s', async (body, pointer) => {
    const res = await coordinator.post('/v1/ddas/gegevens', body);
    expect(res.status).toBe(400);
    expect(res.json.errors.map((e: { pointer: string }) => e.pointer)).toContain(pointer);
  });

  it('refuses a body that is not JSON with 415', async () => {
    const res = await coordinator.post('/v1/ddas/gegevens', 'aanleverperiodeStartdatum=2025-01-01', { 'content-type': 'text/plain' });
    expect(res.status).toBe(415);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
  });
});
