import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDefaultRuleSets } from '../../src/db/ruleSets.js';
import { dutchToday } from '../../src/domain/dates.js';
import { createLogger } from '../../src/logger.js';
import { defaultRuleSet, evaluateHouseholds } from '../../src/services/evaluation.js';
import { client, createTestContext, seedMunicipality, startTestServer, TEST_REDIS_URL, type TestContext, type TestServer } from '../helpers/context.js';
import { createKeyWithId } from '../helpers/tasks.js';

/**
 * No personal data in the logs, the audit log or the queue. The whole life of a signal runs here
 * — intake as JSON and as CSV (with rejected items and a file with broken quoting), evaluation,
 * the consultant's claim, household view, contact attempt, note and close, the DDAS export, and
 * a database error on a row full of personal data — with the logger at trace level. Then every
 * log line, every audit record and every queue entry is scanned for each BSN, name, postcode,
 * house number with postcode, phone number, e-mail address, date of birth and note text used.
 */

let t: TestContext;
let server: TestServer;
let keys: Record<'admin' | 'integrator' | 'consultant' | 'coordinator', { id: string; key: string }>;

/** The personal data of this file: none of it may appear in a log line or an audit record. */
const PEOPLE = [
  {
    bsn: '123456782',
    initials: 'Q.Z.',
    prefix: 'van der',
    surname: 'Verschuren-Kwakman',
    birthDate: '1958-11-23',
    postcode: '2261AB',
    houseNumber: 14,
    houseLetter: 'B',
    houseNumberAddition: 'II',
    street: 'Lindenlaan',
    city: 'Leidschendam',
    phone: '06-44556677',
    email: 'q.verschuren@example.nl',
  },
  {
    bsn: '111222333',
    initials: 'J.',
    prefix: '',
    surname: 'Aydoğan',
    birthDate: '1990-02-17',
    postcode: '2261CD',
    houseNumber: 377,
    houseLetter: '',
    houseNumberAddition: '',
    street: 'Kastanjeplein',
    city: 'Voorburg',
    phone: '+31 70 123 4567',
    email: 'j.aydogan@example.org',
  },
  {
    bsn: '732298453',
    initials: 'M.',
    prefix: '',
    surname: 'Oudshoorn',
    birthDate: '1947-06-02',
    postcode: '2261EF',
    houseNumber: 9,
    houseLetter: '',
    houseNumberAddition: '',
    street: 'Molenweg',
    city: 'Stompwijk',
    phone: '0612398765',
    email: 'oudshoorn@example.com',
  },
];
/** A person in a row the database refuses (see the error test). */
const FAILING = { bsn: '999999990', surname: 'Foutbeek', phone: '0687001122', email: 'foutbeek@example.net', postcode: '2261GH', houseNumber: 51 };
const NOTE = 'Gesprek met mevrouw Verschuren-Kwakman: huurachterstand door ziekte, belt terug op 06-44556677.';
const CLOSING_NOTE = 'Doorverwezen naar budgetcoach; dochter Sanne helpt met de post.';
const BROKEN_CSV_NAME = 'Oudshoorn"Geheim';

/** Every string whose appearance in a log or audit record is a leak. */
function personalValues(): string[] {
  const values = new Set<string>([NOTE, CLOSING_NOTE, 'Sanne helpt', 'Geheim', FAILING.bsn, FAILING.surname, FAILING.phone, FAILING.email, `${FAILING.postcode}`]);
  for (const p of PEOPLE) {
    for (const v of [p.bsn, p.surname, p.birthDate, p.street, p.city, p.phone, p.email, p.postcode, `${p.postcode.slice(0, 4)} ${p.postcode.slice(4)}`]) values.add(v);
    // House number with postcode, in the forms they are written and keyed.
    for (const form of [`${p.postcode} ${p.houseNumber}`, `${p.postcode}${p.houseNumber}`, `${p.postcode}|${p.houseNumber}`, `${p.postcode}, ${p.houseNumber}`]) values.add(form);
    values.add(p.phone.replace(/[^0-9+]/g, ''));
  }
  values.add(`${FAILING.postcode}|${FAILING.houseNumber}`);
  values.add('Verschuren'); // part of a name
  return [...values];
}

function leaks(text: string): string[] {
  return personalValues().filter((value) => text.includes(value) || text.includes(JSON.stringify(value).slice(1, -1)));
}

beforeAll(async () => {
  t = await createTestContext('log_redaction', { env: { RATE_LIMIT_PER_MINUTE: '0', INTAKE_RATE_LIMIT_PER_MINUTE: '0' } });
  // Everything, down to trace: a personal value in a debug line is a leak too.
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      t.logs.push(chunk.toString('utf8'));
      done();
    },
  });
  t.ctx.logger = createLogger('trace', sink);
  server = await startTestServer(t.ctx);
  await seedMunicipality(t.ctx, '1916', ['2261'], [{ id: 'noord', areas: ['2261'] }]);
  await ensureDefaultRuleSets(t.ctx.pool, defaultRuleSet());
  keys = {
    admin: await createKeyWithId(t.ctx, { role: 'admin', label: 'admin' }),
    integrator: await createKeyWithId(t.ctx, { role: 'integrator', label: 'woningcorporatie' }),
    consultant: await createKeyWithId(t.ctx, { role: 'consultant', municipality: '1916', teams: ['noord'], label: 'consulent' }),
    coordinator: await createKeyWithId(t.ctx, { role: 'coordinator', municipality: '1916', label: 'coordinator' }),
  };
});
afterAll(async () => {
  await server.close();
  await t.close();
});

const signalOf = (p: (typeof PEOPLE)[number], externalId: string, partnerType = 'rent') => ({
  externalId,
  partnerType,
  signalDate: '2025-03-03',
  amountCents: 98_000,
  crisis: true,
  person: { bsn: p.bsn, initials: p.initials, ...(p.prefix ? { prefix: p.prefix } : {}), surname: p.surname, birthDate: p.birthDate, gender: 'female' },
  address: {
    postcode: `${p.postcode.slice(0, 4)} ${p.postcode.slice(4)}`,
    houseNumber: p.houseNumber,
    ...(p.houseLetter ? { houseLetter: p.houseLetter } : {}),
    ...(p.houseNumberAddition ? { houseNumberAddition: p.houseNumberAddition } : {}),
    street: p.street,
    city: p.city,
  },
  contact: { phone: p.phone, email: p.email },
});

describe('the life of a signal leaves no personal data in the logs, the audit log or the queue', () => {
  it('runs intake (JSON, CSV, rejections, broken quoting), evaluation, the consultant flow and the DDAS export', async () => {
    const integrator = client(server.url, keys.integrator.key);
    const [first, second, third] = PEOPLE as [(typeof PEOPLE)[number], (typeof PEOPLE)[number], (typeof PEOPLE)[number]];

    const json = await integrator.post(
      '/v1/signals',
      {
        signals: [
          signalOf(first, 'JSON-1'),
          signalOf(first, 'JSON-2', 'energy'),
          // Rejected: the e-mail address is not one, the BSN fails the eleven-test.
          { ...signalOf(second, 'JSON-3'), contact: { email: `${second.email}@@` }, person: { bsn: '123456789', surname: second.surname } },
        ],
      },
      { 'idempotency-key': 'redaction-1' },
    );
    expect(json.status, json.text).toBe(202);
    expect(json.json).toMatchObject({ accepted: 2, rejectedCount: 1 });

    const header = 'externalId;partnerType;signalDate;amountCents;bsn;initials;surname;birthDate;postcode;houseNumber;street;city;phone;email';
    const row = (p: (typeof PEOPLE)[number], id: string) =>
      [id, 'water', '2025-03-04', '4500', p.bsn, p.initials, p.surname, p.birthDate, p.postcode, p.houseNumber, p.street, p.city, p.phone, p.email].join(';');
    const csv = await integrator.post('/v1/signals', [header, row(second, 'CSV-1'), row(third, 'CSV-2'), `CSV-3;water;2025-03-04;x;${third.bsn};;${third.surname};;nope;1;;;;`].join('\r\n'), {
      'content-type': 'text/csv; charset=utf-8',
    });
    expect(csv.status, csv.text).toBe(202);
    expect(csv.json, JSON.stringify(csv.json.rejected)).toMatchObject({ accepted: 2, rejectedCount: 1 });

    // Broken quoting part-way: the row before is kept, the answer names the line, not the content.
    const broken = await integrator.post('/v1/signals', [header, row(first, 'CSV-4'), `CSV-5;water;2025-03-04;100;;;${BROKEN_CSV_NAME};;${third.postcode};1;;;;`, `CSV-6;water;"2025-03-04;100`].join('\n'), {
      'content-type': 'text/csv',
    });
    expect(broken.status, broken.text).toBeGreaterThanOrEqual(400);

    // Evaluation, as the worker runs it.
    const { rows: pending } = await t.ctx.pool.query<{ id: number }>(`select household_id as id from evaluation_queue`);
    expect(pending.length).toBeGreaterThanOrEqual(3);
    const summary = await evaluateHouseholds(t.ctx, pending.map((r) => r.id));
    expect(summary.tasksOpened).toBeGreaterThan(0);
    await t.ctx.pool.query(`update tasks set team = 'noord' where status = 'open'`);

    // The consultant: queue, claim, the household at a glance, an attempt, a note, close.
    const consultant = client(server.url, keys.consultant.key);
    expect((await consultant.get('/v1/tasks/queue')).status).toBe(200);
    const { rows: firstTask } = await t.ctx.pool.query<{ id: number; household_id: number }>(
      `select t.id, t.household_id from tasks t join households h on h.id = t.household_id where h.house_number = $1 and t.status = 'open'`,
      [first.houseNumber],
    );
    const task = firstTask[0]!;
    const claimed = await consultant.post(`/v1/tasks/${task.id}/claim`);
    expect(claimed.status, claimed.text).toBe(200);
    const household = await consultant.get(`/v1/households/${task.household_id}`);
    expect(household.status).toBe(200);
    expect(household.text).toContain(first.bsn); // the answer has it: the logs must not
    expect((await consultant.post(`/v1/tasks/${task.id}/contact-attempts`, { channel: 'phone', reached: true, date: dutchToday(), dayPart: 'afternoon' })).status).toBe(201);
    expect((await consultant.post(`/v1/tasks/${task.id}/notes`, { text: NOTE })).status).toBe(201);
    expect((await consultant.get(`/v1/tasks/${task.id}/notes`)).text).toContain(NOTE);
    const closed = await consultant.post(`/v1/tasks/${task.id}/close`, { result: 'follow_up_or_referral_financial', note: CLOSING_NOTE });
    expect(closed.status, closed.text).toBe(200);
    // A refused close and a refused note carry personal text too.
    expect((await consultant.post(`/v1/tasks/${task.id}/notes`, { text: `${NOTE}${'!'.repeat(4_000)}` })).status).toBe(400);

    // The exports, with BSNs in them.
    const coordinator = client(server.url, keys.coordinator.key);
    const ddas = await coordinator.get(`/v1/exports/ddas?from=2025-01-01&to=${dutchToday()}`);
    expect(ddas.status, ddas.text).toBe(200);
    expect(ddas.text).toContain(first.bsn);
    const pull = await coordinator.post('/v1/ddas/gegevens', { aanleverperiodeStartdatum: '2025-01-01', aanleverperiodeEinddatum: dutchToday() });
    expect(pull.status).toBe(200);
    expect((await coordinator.get('/v1/monitoring/summary?from=2025-01-01&to=2026-12-31&groupBy=team', { accept: 'text/csv' })).status).toBe(200);
    expect((await coordinator.get('/v1/audit-events?limit=1000')).status).toBe(200);
  });

  it('a database error on a row full of personal data is logged without that data', async () => {
    // Any failing constraint will do: PostgreSQL then describes the failing row in the error's detail.
    await t.ctx.pool.query(`alter table signals add constraint log_redaction_probe check (surname is distinct from '${FAILING.surname}')`);
    try {
      const failing = {
        externalId: 'FAIL-1',
        partnerType: 'rent',
        signalDate: '2025-03-05',
        amountCents: 1_000,
        person: { bsn: FAILING.bsn, surname: FAILING.surname },
        address: { postcode: FAILING.postcode, houseNumber: FAILING.houseNumber },
        contact: { phone: FAILING.phone, email: FAILING.email },
      };
      const res = await client(server.url, keys.integrator.key).post('/v1/signals', { signals: [failing] });
      expect(res.status).toBe(500);
      expect(leaks(res.text)).toEqual([]);
      const line = t.logs.find((l) => l.includes('"unhandled error"') && l.includes('log_redaction_probe'));
      expect(line, 'the error is logged, with its constraint').toBeDefined();
    } finally {
      await t.ctx.pool.query(`alter table signals drop constraint log_redaction_probe`);
    }
  });

  it('no log line holds any of it', () => {
    const logs = t.logs.join('');
    expect(t.logs.length).toBeGreaterThan(15);
    expect(logs).toContain('"msg":"signal batch"');
    expect(logs).toContain('"msg":"request"');
    const found = t.logs.flatMap((line) => leaks(line).map((value) => `${value} in ${line.slice(0, 400)}`));
    expect(found).toEqual([]);
  });

  it('no audit record holds any of it', async () => {
    const { rows } = await t.ctx.pool.query<{ row: string }>(`select e::text as row from audit_events e`);
    expect(rows.length).toBeGreaterThan(10);
    const text = rows.map((r) => r.row).join('\n');
    expect(text).toContain('household.read');
    expect(text).toContain('ddas.export');
    expect(leaks(text)).toEqual([]);
  });

  it('no queue entry holds any of it (jobs carry ids only)', async () => {
    const { Redis } = await import('ioredis');
    const redis = new Redis(TEST_REDIS_URL);
    try {
      const prefix = `test:${t.ctx.schema}`;
      const dump: string[] = [];
      let cursor = '0';
      do {
        const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        cursor = next;
        for (const key of found) {
          const type = await redis.type(key);
          if (type === 'string') dump.push((await redis.get(key)) ?? '');
          else if (type === 'hash') dump.push(JSON.stringify(await redis.hgetall(key)));
          else if (type === 'list') dump.push(JSON.stringify(await redis.lrange(key, 0, -1)));
          else if (type === 'set') dump.push(JSON.stringify(await redis.smembers(key)));
          else if (type === 'zset') dump.push(JSON.stringify(await redis.zrange(key, '0', '-1')));
          else if (type === 'stream') dump.push(JSON.stringify(await redis.xrange(key, '-', '+')));
        }
      } while (cursor !== '0');
      expect(dump.length, 'the intake enqueued evaluations').toBeGreaterThan(0);
      expect(leaks(dump.join('\n'))).toEqual([]);
    } finally {
      redis.disconnect();
    }
  });
});

describe("the logger's safety net", () => {
  const captured: string[] = [];
  const logger = createLogger(
    'trace',
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        captured.push(chunk.toString('utf8'));
        done();
      },
    }),
  );
  const p = PEOPLE[0]!;

  /** Personal fields under every name the code base gives them: API (camelCase), database rows (snake_case), DDAS (Dutch). */
  const fields: Record<string, unknown> = {
    bsn: p.bsn,
    burgerservicenummer: p.bsn,
    initials: p.initials,
    prefix: p.prefix,
    surname: p.surname,
    birthDate: p.birthDate,
    birth_date: p.birthDate,
    postcode: p.postcode,
    houseNumber: `${p.postcode}-${p.houseNumber}`,
    house_number: `${p.postcode}-${p.houseNumber}`,
    huisnummer: `${p.postcode}-${p.houseNumber}`,
    houseLetter: 'Z-letter',
    house_letter: 'Z-letter',
    houseNumberAddition: 'Z-addition',
    house_number_addition: 'Z-addition',
    huisnummertoevoeging: 'Z-addition',
    address_key: `${p.postcode}|${p.houseNumber}||`,
    addressKey: `${p.postcode}|${p.houseNumber}||`,
    street: p.street,
    city: p.city,
    phone: p.phone,
    email: p.email,
    text: NOTE,
    note: CLOSING_NOTE,
  };

  it.each([1, 2, 3])('redacts every personal field at depth %i, in every naming the code uses', (depth) => {
    captured.length = 0;
    for (const [field, value] of Object.entries(fields)) {
      let entry: Record<string, unknown> = { [field]: value };
      for (let i = 1; i < depth; i++) entry = { [`level${i}`]: entry };
      logger.info(entry, `field ${field}`);
    }
    expect(captured).toHaveLength(Object.keys(fields).length);
    const found = captured.filter((line) => Object.values(fields).some((v) => typeof v === 'string' && v.length > 3 && line.includes(v)));
    expect(found).toEqual([]);
  });

  it('redacts whole personal objects (person, address, contact, client) and a signal row', () => {
    captured.length = 0;
    logger.warn({ signal: { person: { surname: p.surname }, address: { street: p.street }, contact: { email: p.email } } }, 'nested');
    logger.warn({ row: { bsn: p.bsn, surname: p.surname, phone: p.phone, house_number: 14, postcode: p.postcode } }, 'a database row');
    logger.warn({ client: { burgerservicenummer: p.bsn } }, 'ddas client');
    expect(captured.join('')).not.toMatch(new RegExp([p.surname, p.street, p.email, p.bsn, p.phone, p.postcode].join('|')));
  });

  it("redacts a database error's detail and context, which quote the failing row", () => {
    captured.length = 0;
    const error = Object.assign(new Error('new row for relation "signals" violates check constraint "x"'), {
      code: '23514',
      detail: `Failing row contains (1, ${p.bsn}, ${p.surname}, ${p.phone}).`,
      where: `COPY intake_chunk, line 1, column surname: "${p.surname}"`,
      hint: `value ${p.email}`,
      parameters: [p.bsn, p.surname],
      query: `insert into signals values ('${p.bsn}')`,
      table: 'signals',
      constraint: 'x',
    });
    logger.error({ err: error, requestId: 'r-1' }, 'unhandled error');
    logger.error({ error }, 'as error');
    const line = captured.join('');
    expect(line).toContain('violates check constraint');
    expect(line).toContain('23514');
    expect(line).not.toMatch(new RegExp([p.bsn, p.surname, p.phone, p.email].join('|')));
  });
});
