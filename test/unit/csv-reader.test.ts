import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { csvEvents, MAX_RECORD_BYTES, type CsvEvent } from '../../src/services/intakeCsv.js';
import { csvEventsReference } from '../helpers/csvEventsReference.js';

/**
 * The CSV reader splits quote-free lines itself and leaves every line with a quote to
 * csv-parse. Differential tests: on any bytes, cut into pieces anywhere, it must give exactly
 * what csv-parse reading every byte gives (test/helpers/csvEventsReference.ts) — the header,
 * every row with its fields and line number, the place and reason where a file breaks, or the
 * header error.
 */

type Outcome = { header: unknown; rows: unknown[]; broken: unknown; error: string | null };

async function outcomeOf(read: (source: AsyncIterable<Buffer>) => AsyncGenerator<CsvEvent>, pieces: Buffer[]): Promise<Outcome> {
  const outcome: Outcome = { header: null, rows: [], broken: null, error: null };
  async function* source() {
    for (const piece of pieces) yield piece;
  }
  try {
    for await (const event of read(source())) {
      if (event.kind === 'header') outcome.header = event;
      else if (event.kind === 'rows') outcome.rows.push(...event.rows);
      else outcome.broken = event;
    }
  } catch (error) {
    outcome.error = `${(error as Error).constructor.name}: ${(error as Error).message}`;
  }
  return outcome;
}

function cut(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let at = 0;
  for (const point of points) {
    if (point > at) pieces.push(bytes.subarray(at, point));
    at = Math.max(at, point);
  }
  if (at < bytes.length) pieces.push(bytes.subarray(at));
  return pieces;
}

async function expectSameAsCsvParse(bytes: Buffer, cuts: number[] = []): Promise<Outcome> {
  const pieces = cut(bytes, cuts);
  const actual = await outcomeOf(csvEvents, pieces);
  const expected = await outcomeOf(csvEventsReference, pieces);
  expect(actual).toEqual(expected);
  return actual;
}

/** Bytes that mean something to a CSV reader, and some that do not, as latin1 text (one byte each). */
const token = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('a', 'b', '1', ' ', 'x y') },
  { weight: 4, arbitrary: fc.constantFrom(',', ';') },
  { weight: 3, arbitrary: fc.constantFrom('"', '""', '\n', '\r\n', '\r') },
  { weight: 1, arbitrary: fc.constantFrom('\xc3\xa9', '\xff', '\xc3', '\xef\xbb\xbf', '\t', '\x00') },
);

const quoted = (value: string) => `"${value.replace(/"/g, '""')}"`;
const cell = fc.oneof(
  fc.stringMatching(/^[a-z0-9 ]{0,6}$/),
  fc.stringMatching(/^[a-z,;\n"]{0,6}$/).map(quoted),
  fc.constantFrom('', '""', '"a\r\nb"', '"\xc3\xa9"', 'x"y', '"a"b', '"open'),
);

describe('the CSV reader against csv-parse reading every byte', () => {
  it('gives the same header, rows, line numbers and breaks on arbitrary bytes (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(token, { maxLength: 60 }),
        fc.array(fc.nat(200), { maxLength: 6 }),
        fc.boolean(),
        async (tokens, cuts, bom) => {
          const bytes = Buffer.from((bom ? '\xef\xbb\xbf' : '') + 'h1,h2;h3\n' + tokens.join(''), 'latin1');
          await expectSameAsCsvParse(bytes, cuts);
        },
      ),
      { numRuns: 3_000 },
    );
  });

  it('gives the same on CSV-like files: quoted and plain cells, empty lines, both line ends (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ cells: fc.array(cell, { minLength: 1, maxLength: 4 }), emptyBefore: fc.nat(2), crlf: fc.boolean() }), { maxLength: 12 }),
        fc.constantFrom(',', ';'),
        fc.array(fc.nat(400), { maxLength: 8 }),
        fc.boolean(),
        async (records, delimiter, cuts, finalNewline) => {
          let text = `"a"${delimiter}b${delimiter}c\n`;
          records.forEach((record, index) => {
            const newline = record.crlf ? '\r\n' : '\n';
            text += newline.repeat(record.emptyBefore) + record.cells.join(delimiter);
            if (finalNewline || index < records.length - 1) text += newline;
          });
          await expectSameAsCsvParse(Buffer.from(text, 'latin1'), cuts);
        },
      ),
      { numRuns: 3_000 },
    );
  });

  it('reads plain lines itself and quoted ones through csv-parse, numbering both alike', async () => {
    const text = 'a,b\n1,2\r\n\r\n"x\r\ny",3\n\n4,"5"\n6,7\n"8\n\n9",10\n11,12';
    const outcome = await expectSameAsCsvParse(Buffer.from(text));
    expect(outcome.rows).toEqual([
      { line: 2, fields: ['1', '2'] },
      { line: 4, fields: ['x\r\ny', '3'] },
      { line: 7, fields: ['4', '5'] },
      { line: 8, fields: ['6', '7'] },
      { line: 9, fields: ['8\n\n9', '10'] },
      { line: 12, fields: ['11', '12'] },
    ]);
  });

  it('breaks where csv-parse breaks: a stray quote, text after a closing quote, a quote never closed', async () => {
    for (const text of ['a,b\n1,2\n3,x"y\n5,6\n', 'a,b\n1,2\n"3"x,4\n5,6\n', 'a,b\n1,2\n"3,4\n5,6\n7,8\n']) {
      const outcome = await expectSameAsCsvParse(Buffer.from(text));
      expect(outcome.broken).toMatchObject({ kind: 'broken', line: 3 });
      expect(outcome.rows).toEqual([{ line: 2, fields: ['1', '2'] }]);
    }
  });

  it('gives overlong lines to csv-parse: a plain one, a quoted one never closed, a line of separators', async () => {
    const long = 'x'.repeat(MAX_RECORD_BYTES + 10);
    const cases = [
      `a,b\n1,2\n${long},3\n4,5\n`,
      `a,b\n1,2\n"${long}\n4,5\n`,
      `a,b\n1,2\n${','.repeat(MAX_RECORD_BYTES * 2)}\n4,5\n`,
      `a,b\n1,2\n"${'y'.repeat(MAX_RECORD_BYTES - 100)}\n${'z'.repeat(50)}",3\n4,5\n`,
    ];
    for (const text of cases) {
      const bytes = Buffer.from(text);
      // In one piece, and in pieces of 16 KiB as a request body arrives.
      await expectSameAsCsvParse(bytes);
      await expectSameAsCsvParse(bytes, Array.from({ length: Math.ceil(bytes.length / 16_384) }, (_, i) => (i + 1) * 16_384));
    }
  });

  it('takes a byte order mark off only at the start of the file, even when it arrives byte by byte', async () => {
    const bytes = Buffer.from('\xef\xbb\xbfa,b\n1,2\n\xef\xbb\xbf3,4\n', 'latin1');
    const outcome = await expectSameAsCsvParse(bytes, [1, 2, 3, 4]);
    expect(outcome.header).toMatchObject({ columns: ['a', 'b'] });
    expect(outcome.rows).toEqual([
      { line: 2, fields: ['1', '2'] },
      { line: 3, fields: ['\uFEFF3', '4'] },
    ]);
  });
});
