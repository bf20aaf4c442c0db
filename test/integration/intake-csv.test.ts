import { Readable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importCsvStream } from '../../src/services/intake.js';
import { csvEvents, detectDelimiter, type CsvEvent } from '../../src/services/intakeCsv.js';
import { client, createKey, createTestContext, seedMunicipality, startTestServer, type TestContext, type TestServer } from '../helpers/context.js';

/**
 * POST /v1/signals with text/csv, against the real server, PostgreSQL and Redis: row numbers and
 * columns in the answer, separators, BOM, encodings, broken files, limits, duplicates,
 * idempotency; and the streaming CSV reader on its own.
 */

const MAX_ROWS = 15_000;
const MAX_BYTES = 4 * 1024 * 1024;

let t: TestContext;
let server: TestServer;
let integratorKey: string;
let otherIntegratorKey: string;

beforeAll(async () => {
  t = await createTestContext('intake_csv', { env: { MAX_CSV_ROWS: String(MAX_ROWS), MAX_CSV_BYTES: String(MAX_BYTES) } });
  server = await startTestServer(t.ctx);
  await seedMunicipality(t.ctx, '1916', ['2261', '2262']);
  integratorKey = await createKey(t.ctx, { role: 'integrator', label: 'hub' });
  otherIntegratorKey = await createKey(t.ctx, { role: 'integrator', label: 'other hub' });
});
afterAll(async () => {
  await server.close();
  await t.close();
});

const COLUMNS = ['externalId', 'partnerType', 'partnerName', 'signalDate', 'amountCents', 'crisis', 'bsn', 'surname', 'postcode', 'houseNumber', 'houseLetter', 'street', 'city'];
let counter = 0;

/** One row's cells (in COLUMNS order), valid unless overridden. */
function cells(overrides: Partial<Record<string, string>> = {}): string[] {
  counter++;
  const values: Record<string, string> = {
    externalId: `C-${counter}`,
    partnerType: 'rent',
    partnerName: 'Woonstichting',
    signalDate: '2026-01-20',
    amountCents: '45000',
    crisis: 'nee',
    bsn: '111222333',
    surname: 'de Vries',
    postcode: '2261 CD',
    houseNumber: String(counter),
    houseLetter: '',
    street: 'Kerkstraat',
    city: 'Leidschendam',
    ...overrides,
  };
  return COLUMNS.map((c) => values[c] ?? '');
}

function csv(rows: string[][], options: { separator?: string; newline?: string; bom?: boolean; columns?: string[] } = {}): string {
  const separator = options.separator ?? ',';
  const newline = options.newline ?? '\n';
  const text = [(options.columns ?? COLUMNS).join(separator), ...rows.map((r) => r.join(separator))].join(newline) + newline;
  return (options.bom ? '\uFEFF' : '') + text;
}

const postCsv = (body: string | Uint8Array, key = integratorKey, headers: Record<string, string> = {}) =>
  client(server.url, key).post('/v1/signals', body, { 'content-type': 'text/csv', ...headers });

/** A body sent in pieces without Content-Length (chunked transfer). */
async function postStream(pieces: Uint8Array[], key = integratorKey) {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const piece of pieces) controller.enqueue(piece);
      controller.close();
    },
  });
  const response = await fetch(`${server.url}/v1/signals`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'text/csv' },
    body,
    duplex: 'half',
  } as RequestInit & { duplex: 'half' });
  const text = await response.text();
  return { status: response.status, json: JSON.parse(text) };
}

async function stored(externalIds: string[]): Promise<number> {
  const { rows } = await t.ctx.pool.query<{ n: number }>(`select count(*)::int as n from signals where external_id = any($1)`, [externalIds]);
  return rows[0]!.n;
}

describe('CSV files', () => {
  it('reads ;-separated UTF-8 with BOM and CRLF; answers rejected rows by line number and column', async () => {
    const ok1 = cells({ surname: 'Çelik', street: '"Lange Voorhout; achterzijde"' });
    const badPostcode = cells({ postcode: '0000AA' });
    const badAmountAndDate = cells({ amountCents: '12,50', signalDate: '2026-13-01' });
    const multiline = cells({ street: '"Dorpsstraat\r\nhoek Kerkpad"' });
    const duplicate = [...ok1];
    const short = ['only', 'three', 'fields'];
    const ok2 = cells({ houseLetter: 'b', crisis: 'ja' });
    const text = csv([ok1, badPostcode, badAmountAndDate, multiline, duplicate, short, ok2], { separator: ';', newline: '\r\n', bom: true });
    const res = await postCsv(text);
    expect(res.status).toBe(202);
    expect(res.json).toMatchObject({ received: 7, accepted: 3, duplicates: 1, rejectedCount: 3 });
    // Lines: header 1, ok1 2, badPostcode 3, badAmountAndDate 4, multiline 5–6, duplicate 7, short 8, ok2 9.
    expect(res.json.rejected).toEqual([
      { row: 3, errors: [{ column: 'postcode', detail: expect.any(String) }] },
      { row: 4, errors: expect.arrayContaining([{ column: 'amountCents', detail: expect.any(String) }, { column: 'signalDate', detail: expect.any(String) }]) },
      { row: 8, errors: [{ column: null, detail: expect.stringContaining('3 fields') }] },
    ]);
    expect(res.json.rejected[1].errors).toHaveLength(2);
    expect(res.json.duplicated).toEqual([{ row: 7, externalId: ok1[0] }]);
    const { rows } = await t.ctx.pool.query(
      `select s.external_id, s.surname, s.crisis, h.street, h.house_letter from signals s join households h on h.id = s.household_id
        where s.external_id = any($1) order by s.external_id`,
      [[ok1[0], multiline[0], ok2[0]]],
    );
    expect(rows).toEqual([
      { external_id: ok1[0], surname: 'Çelik', crisis: false, street: 'Lange Voorhout; achterzijde', house_letter: null },
      { external_id: multiline[0], surname: 'de Vries', crisis: false, street: 'Dorpsstraat\r\nhoek Kerkpad', house_letter: null },
      { external_id: ok2[0], surname: 'de Vries', crisis: true, street: 'Kerkstraat', house_letter: 'B' },
    ].sort((a, b) => a.external_id!.localeCompare(b.external_id!)));
    const batch = await t.ctx.pool.query(`select source, format, status, response_status from signal_batches where id = $1`, [res.json.batchId]);
    expect(batch.rows[0]).toEqual({ source: 'api-csv', format: 'csv', status: 'completed', response_status: 202 });
  });

  it('reads a ,-separated file with the columns in another order and only the required ones', async () => {
    const columns = ['houseNumber', 'postcode', 'amountCents', 'signalDate', 'partnerType', 'externalId'];
    const res = await postCsv(csv([['12', '2262AB', '100', '2026-01-02', 'water', 'W-1'], ['13', '2262AB', '100', '2026-01-02', 'water', 'W-2']], { columns }));
    expect(res.status).toBe(202);
    expect(res.json).toMatchObject({ accepted: 2, rejectedCount: 0 });
  });

  it('rejects text that is not UTF-8 per row and column', async () => {
    const head = Buffer.from(csv([cells()]), 'utf8');
    const latin1Row = Buffer.from(cells({ surname: 'Müller' }).join(',') + '\n', 'latin1');
    const res = await postCsv(Buffer.concat([head, latin1Row]));
    expect(res.status).toBe(202);
    expect(res.json.rejected).toEqual([{ row: 3, errors: [{ column: 'surname', detail: expect.stringContaining('UTF-8') }] }]);
  });

  it('decodes characters split across the pieces of a streamed body', async () => {
    const row = cells({ surname: 'Ëlif Çakır-Ødegård' });
    const bytes = Buffer.from(csv([row]), 'utf8');
    const pieces = Array.from(bytes, (byte) => Uint8Array.of(byte)); // one byte per piece
    const res = await postStream(pieces);
    expect(res.status).toBe(202);
    expect(res.json).toMatchObject({ accepted: 1, rejectedCount: 0 });
    const { rows } = await t.ctx.pool.query(`select surname from signals where external_id = $1`, [row[0]]);
    expect(rows[0].surname).toBe('Ëlif Çakır-Ødegård');
  });

  it('refuses a wrong header with 400 and creates no batch', async () => {
    const before = await t.ctx.pool.query(`select count(*)::int as n from signal_batches`);
    const unknown = await postCsv(csv([cells()], { columns: [...COLUMNS.slice(0, -1), 'stad'] }));
    expect(unknown.status).toBe(400);
    expect(unknown.headers.get('content-type')).toContain('application/problem+json');
    expect(unknown.json.errors).toEqual([{ pointer: '/rows/1', detail: "unknown column 'stad'" }]);
    const missing = await postCsv('externalId,partnerType\nX,energy\n');
    expect(missing.status).toBe(400);
    expect(missing.json.errors.map((e: { detail: string }) => e.detail)).toEqual(expect.arrayContaining(["required column 'postcode' is missing"]));
    expect((await postCsv('')).status).toBe(400);
    expect((await postCsv('not,a,header\n1,2,3\n')).status).toBe(400);
    const after = await t.ctx.pool.query(`select count(*)::int as n from signal_batches`);
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });

  it('answers 400 with /rows/{line}/{column} pointers when no row is valid', async () => {
    const res = await postCsv(csv([cells({ postcode: 'x' }), cells({ partnerType: 'gas', houseNumber: '0' })]));
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ received: 2, rejectedCount: 2, batchId: expect.any(String) });
    expect(res.json.errors.map((e: { pointer: string }) => e.pointer).sort()).toEqual(['/rows/2/postcode', '/rows/3/houseNumber', '/rows/3/partnerType']);
    expect(res.json.errors[0]).toMatchObject({ row: 2, column: 'postcode' });
    const batch = await client(server.url, integratorKey).get(`/v1/signal-batches/${res.json.batchId}`);
    expect(batch.json).toMatchObject({ format: 'csv', rejectedCount: 2, responseStatus: 400 });
    expect(batch.json.rejected.map((r: { row: number }) => r.row)).toEqual([2, 3]);
    expect((await client(server.url, otherIntegratorKey).get(`/v1/signal-batches/${res.json.batchId}`)).status).toBe(404);

    const empty = await postCsv(csv([]));
    expect(empty.status).toBe(400);
    expect(empty.json.detail).toContain('no rows');
  });

  it('counts a resent file and two concurrent uploads of one file as duplicates', async () => {
    const rows = Array.from({ length: 300 }, () => cells({ postcode: '2262EF' }));
    const text = csv(rows);
    const [a, b] = await Promise.all([postCsv(text), postCsv(text, otherIntegratorKey)]);
    expect([a.status, b.status]).toEqual([202, 202]);
    expect(a.json.accepted + b.json.accepted).toBe(300);
    expect(a.json.duplicates + b.json.duplicates).toBe(300);
    // Row by row: each line in exactly one of the two answers' duplicates, with its externalId.
    const lines = rows.map((_, i) => i + 2);
    const listed = [...a.json.duplicated, ...b.json.duplicated] as { row: number; externalId: string }[];
    expect(listed.map((d) => d.row).sort((x, y) => x - y)).toEqual(lines);
    for (const d of listed) expect(d.externalId).toBe(rows[d.row - 2]![0]);
    const again = await postCsv(text);
    expect(again.json).toMatchObject({ accepted: 0, duplicates: 300 });
    expect(again.json.duplicated.map((d: { row: number }) => d.row)).toEqual(lines);
    expect(await stored(rows.map((r) => r[0]!))).toBe(300);
  });
});

describe('files that repeat stored signals', () => {
  it('writes a file of new signals without lookups, and after the first chunk that repeats stored ones, looks them up', async () => {
    const old = Array.from({ length: 30 }, () => cells({ postcode: '2262PR' }));
    expect((await postCsv(csv(old))).json).toMatchObject({ accepted: 30 });
    const { rows: before } = await t.ctx.pool.query<{ id: number; xmin: string }>(
      `select h.id, h.xmin::text from households h where h.postcode = '2262PR' order by h.id`,
    );
    const fresh = (n: number) => Array.from({ length: n }, () => cells({ postcode: '2262PS' }));
    // Chunks of 10: new; 7 new and 3 stored; stored only; stored only; new.
    const rows = [...fresh(10), ...fresh(7), ...old.slice(0, 3), ...old.slice(3, 13), ...old.slice(13, 23), ...fresh(10)];
    const logsBefore = t.logs.length;
    const answer = await importCsvStream(t.ctx, Readable.from([Buffer.from(csv(rows))]), { source: 'cli', chunkSize: 10, writers: 1 });
    expect(answer.body).toMatchObject({ received: 50, accepted: 27, duplicates: 23 });
    // The stored ones are rows 18–40 of the list, lines 19–41 of the file (the header is line 1),
    // found by the rewrite of the chunk that met them and by the lookups after it.
    expect(answer.body.duplicated).toEqual(rows.slice(17, 40).map((r, i) => ({ row: 19 + i, externalId: r[0] })));
    expect(await stored(rows.map((r) => r[0]!))).toBe(50);
    // The households of the stored signals were not written again (same row versions).
    const { rows: after } = await t.ctx.pool.query<{ id: number; xmin: string }>(
      `select h.id, h.xmin::text from households h where h.postcode = '2262PR' order by h.id`,
    );
    expect(after).toEqual(before);
    // Only the first chunk that met stored signals was written twice; the chunks after it were
    // looked up first (a lookup-less attempt of the two chunks of stored signals would have failed too).
    const log = t.logs.slice(logsBefore).map((line) => JSON.parse(line) as Record<string, unknown>).find((l) => l.msg === 'signal batch');
    expect(log).toMatchObject({ batchId: answer.batchId, accepted: 27, chunksWrittenTwice: 1 });
    // Every new household waits for evaluation once.
    const { rows: queued } = await t.ctx.pool.query<{ n: number }>(
      `select count(*)::int as n from evaluation_queue q join households h on h.id = q.household_id where h.postcode = '2262PS'`,
    );
    expect(queued[0]!.n).toBe(27);
  });
});

describe('large and broken files', () => {
  const many = (n: number) => Array.from({ length: n }, () => cells({ postcode: '2261GH', houseNumber: String(1 + (counter % 900)) }));

  it('keeps the rows before a broken quote and says where it broke (400)', async () => {
    const rows = many(12_000);
    const text = csv(rows) + 'B-1,rent,"unclosed quote,2026-01-01,1,,,,2261GH,1,,,\n' + csv(many(10)).split('\n').slice(1).join('\n');
    const res = await postCsv(text);
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ received: 12_000, accepted: 12_000, rejectedCount: 0 });
    expect(res.json.errors).toEqual([{ pointer: '/rows/12002', row: 12_002, column: null, detail: expect.stringContaining('line 12002') }]);
    expect(await stored(rows.map((r) => r[0]!))).toBe(12_000);
    const batch = await t.ctx.pool.query(`select status, response_status, failed_row, received from signal_batches where id = $1`, [res.json.batchId]);
    expect(batch.rows[0]).toEqual({ status: 'failed', response_status: 400, failed_row: 12_002, received: 12_000 });
  });

  it('stops at MAX_CSV_ROWS with 413 and keeps the rows before', async () => {
    const rows = many(MAX_ROWS + 5);
    const res = await postCsv(csv(rows));
    expect(res.status).toBe(413);
    expect(res.json).toMatchObject({ status: 413, received: MAX_ROWS, accepted: MAX_ROWS, batchId: expect.any(String) });
    expect(await stored(rows.slice(0, MAX_ROWS).map((r) => r[0]!))).toBe(MAX_ROWS);
    expect(await stored(rows.slice(MAX_ROWS).map((r) => r[0]!))).toBe(0);
  });

  it('refuses a body over MAX_CSV_BYTES: at once when declared, part-way when streamed', async () => {
    // Rows with long values: the byte limit bites before the row limit.
    const long = 'x'.repeat(190);
    const big = Buffer.from(csv(Array.from({ length: 14_000 }, () => cells({ postcode: '2261GH', street: long, city: long }))));
    expect(big.length).toBeGreaterThan(MAX_BYTES);
    const declared = await postCsv(big);
    expect(declared.status).toBe(413);
    expect(declared.json.batchId).toBeUndefined();

    const pieces: Uint8Array[] = [];
    for (let i = 0; i < big.length; i += 64 * 1024) pieces.push(big.subarray(i, i + 64 * 1024));
    const streamed = await postStream(pieces);
    expect(streamed.status).toBe(413);
    expect(streamed.json.batchId).toEqual(expect.any(String));
    expect(streamed.json.accepted).toBeGreaterThan(0);
    const batch = await t.ctx.pool.query(`select status, response_status from signal_batches where id = $1`, [streamed.json.batchId]);
    expect(batch.rows[0]).toEqual({ status: 'failed', response_status: 413 });
  });
});

describe('Idempotency-Key with CSV', () => {
  it('replays the answer for the same file, refuses another file (422)', async () => {
    const text = csv([cells(), cells({ postcode: 'nope' })]);
    const headers = { 'idempotency-key': 'csv-1' };
    const first = await postCsv(text, integratorKey, headers);
    expect(first.status).toBe(202);
    const retry = await postCsv(text, integratorKey, headers);
    expect(retry.status).toBe(202);
    expect(retry.text).toBe(first.text);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect((await postCsv(csv([cells()]), integratorKey, headers)).status).toBe(422);
    // The same bytes as JSON are another request.
    expect((await postCsv(text, integratorKey, { ...headers, 'content-type': 'application/json' })).status).toBe(400);
  });

  it('lists the first 1,000 rejections in file order, the same on a replay, however the chunks were written', async () => {
    const rows = Array.from({ length: 12_000 }, (_, i) => cells(i % 7 === 3 ? { amountCents: 'veel', postcode: '2262RR' } : { postcode: '2262RR' }));
    const text = csv(rows);
    const headers = { 'idempotency-key': 'csv-many-rejections' };
    const first = await postCsv(text, integratorKey, headers);
    expect(first.status).toBe(202);
    const expectedRejected = rows.flatMap((_, i) => (i % 7 === 3 ? [i + 2] : []));
    expect(first.json.rejectedCount).toBe(expectedRejected.length);
    expect(first.json.rejected.map((r: { row: number }) => r.row)).toEqual(expectedRejected.slice(0, 1_000));
    const retry = await postCsv(text, integratorKey, headers);
    expect(retry.text).toBe(first.text);
    const page = await client(server.url, integratorKey).get(`/v1/signal-batches/${first.json.batchId}?limit=1000&cursor=${expectedRejected[999]}`);
    expect(page.json.rejected.map((r: { row: number }) => r.row)).toEqual(expectedRejected.slice(1_000));

    // Sent again: every valid row is a duplicate, the first 1,000 listed in file order as well.
    const resent = await postCsv(text, integratorKey, { 'idempotency-key': 'csv-many-duplicates' });
    const expectedDuplicates = rows.flatMap((_, i) => (i % 7 === 3 ? [] : [i + 2]));
    expect(resent.json).toMatchObject({ accepted: 0, duplicates: expectedDuplicates.length });
    expect(resent.json.duplicated.map((d: { row: number }) => d.row)).toEqual(expectedDuplicates.slice(0, 1_000));
    const more = await client(server.url, integratorKey).get(`/v1/signal-batches/${resent.json.batchId}/duplicates?limit=1000&cursor=${expectedDuplicates[999]}`);
    expect(more.json.duplicates.map((d: { row: number }) => d.row)).toEqual(expectedDuplicates.slice(1_000, 2_000));
  });

  it('replays a broken-off answer (413) as well', async () => {
    const text = csv(Array.from({ length: MAX_ROWS + 1 }, () => cells({ postcode: '2261KL', houseNumber: '1' })));
    const headers = { 'idempotency-key': 'csv-too-many' };
    const first = await postCsv(text, integratorKey, headers);
    expect(first.status).toBe(413);
    const retry = await postCsv(text, integratorKey, headers);
    expect(retry.status).toBe(413);
    expect(retry.text).toBe(first.text);
  });

  it('answers 409 while the key is in use, and frees a key whose request was abandoned', async () => {
    const keyId = (await t.ctx.pool.query(`select id from api_keys where label = 'hub'`)).rows[0].id as string;
    await t.ctx.pool.query(`insert into signal_batches (api_key_id, source, format, idempotency_key) values ($1, 'api-csv', 'csv', 'busy')`, [keyId]);
    expect((await postCsv(csv([cells()]), integratorKey, { 'idempotency-key': 'busy' })).status).toBe(409);
    await t.ctx.pool.query(
      `insert into signal_batches (api_key_id, source, format, idempotency_key, updated_at) values ($1, 'api-csv', 'csv', 'abandoned', now() - interval '1 hour')`,
      [keyId],
    );
    const res = await postCsv(csv([cells()]), integratorKey, { 'idempotency-key': 'abandoned' });
    expect(res.status).toBe(202);
    const { rows } = await t.ctx.pool.query(
      `select status, idempotency_key from signal_batches
        where api_key_id = $1 and (idempotency_key = 'abandoned' or failure like 'abandoned%') order by created_at`,
      [keyId],
    );
    expect(rows).toEqual([
      { status: 'failed', idempotency_key: null },
      { status: 'completed', idempotency_key: 'abandoned' },
    ]);
  });
});

describe('the CLI path', () => {
  it('imports a file stream without a key and reports progress per chunk', async () => {
    const rows = Array.from({ length: 11_000 }, () => cells({ postcode: '2262MN' }));
    const progress: number[] = [];
    const answer = await importCsvStream(t.ctx, Readable.from([Buffer.from(csv(rows))]), { source: 'cli', fileName: 'export.csv', onProgress: (n) => progress.push(n) });
    expect(answer).toMatchObject({ status: 202, replayed: false, body: { accepted: 11_000 } });
    // Rows committed so far, after each of the three chunks (two may be written at once).
    expect(progress).toHaveLength(3);
    expect([...progress].sort((a, b) => a - b)).toEqual(progress);
    expect(progress.at(-1)).toBe(11_000);
    const { rows: batch } = await t.ctx.pool.query(`select source, file_name, api_key_id from signal_batches where id = $1`, [answer.batchId]);
    expect(batch[0]).toEqual({ source: 'cli', file_name: 'export.csv', api_key_id: null });
  });
});

describe('the CSV reader', () => {
  async function read(pieces: string[]): Promise<CsvEvent[]> {
    const events: CsvEvent[] = [];
    for await (const event of csvEvents(Readable.from(pieces.map((p) => Buffer.from(p))))) events.push(event);
    return events;
  }
  const rowsOf = (events: CsvEvent[]) => events.flatMap((e) => (e.kind === 'rows' ? e.rows : []));

  it('detects the separator from the header line', () => {
    expect(detectDelimiter('a;b;c')).toBe(';');
    expect(detectDelimiter('a,b,c')).toBe(',');
    expect(detectDelimiter('"a,b";c;d')).toBe(';');
    expect(detectDelimiter('a')).toBe(',');
  });

  it('numbers rows by the line they start on, across empty lines and quoted newlines', async () => {
    const events = await read(['a;b\r\n1;2\r\n\r\n"x\r\ny";3\n', '4;5\n']);
    expect(events[0]).toEqual({ kind: 'header', columns: ['a', 'b'], delimiter: ';' });
    expect(rowsOf(events)).toEqual([
      { line: 2, fields: ['1', '2'] },
      { line: 4, fields: ['x\r\ny', '3'] },
      { line: 6, fields: ['4', '5'] },
    ]);
  });

  it('numbers every row by the line it starts on (property)', async () => {
    const field = fc.oneof(fc.stringMatching(/^[a-z ]{0,5}$/), fc.stringMatching(/^[a-z\n]{0,5}$/), fc.constantFrom('a\r\nb', '\r\n', 'x"y'));
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ fields: fc.array(field, { minLength: 2, maxLength: 2 }), emptyBefore: fc.nat(2) }), { maxLength: 8 }),
        fc.constantFrom('\n', '\r\n'),
        async (records, newline) => {
          const quote = (v: string) => `"${v.replace(/"/g, '""')}"`;
          let text = `h1,h2${newline}`;
          const expected: number[] = [];
          for (const record of records) {
            text += newline.repeat(record.emptyBefore);
            // The line a row starts on: 1 + the line breaks before it.
            expected.push(1 + (text.match(/\r\n|\n/g) ?? []).length);
            text += record.fields.map(quote).join(',') + newline;
          }
          const rows = rowsOf(await read([text]));
          expect(rows.map((r) => r.line)).toEqual(expected);
          expect(rows.map((r) => r.fields)).toEqual(records.map((r) => r.fields));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('gives one broken event at the line where an unclosed quote opens, and no rows after it', async () => {
    const events = await read(['a,b\n1,2\n"open,3\n4,5\n']);
    expect(rowsOf(events)).toEqual([{ line: 2, fields: ['1', '2'] }]);
    expect(events.at(-1)).toEqual({ kind: 'broken', line: 3, detail: expect.stringContaining('never closed') });
  });

  it('gives the same rows however the input is cut into pieces', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.stringMatching(/^[a-zé"\n, ]{0,6}$/), { minLength: 2, maxLength: 2 }), { maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 10 }),
        async (records, cuts) => {
          const quote = (v: string) => `"${v.replace(/"/g, '""')}"`;
          const text = ['h1,h2', ...records.map((r) => r.map(quote).join(','))].join('\n') + '\n';
          const bytes = Buffer.from(text);
          const pieces: string[] = [];
          let at = 0;
          for (let i = 0; at < bytes.length; i++) {
            const size = cuts[i % cuts.length]!;
            pieces.push(bytes.subarray(at, at + size).toString('latin1'));
            at += size;
          }
          const events: CsvEvent[] = [];
          for await (const event of csvEvents(Readable.from(pieces.map((p) => Buffer.from(p, 'latin1'))))) events.push(event);
          expect(rowsOf(events).map((r) => r.fields)).toEqual(records);
        },
      ),
      { numRuns: 150 },
    );
  });
});
