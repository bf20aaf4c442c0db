import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GENDER_CODES, PARTNER_TYPE_CODES } from '../../src/domain/codes.js';
import { dutchToday } from '../../src/domain/dates.js';
import { compileCsvRow, CSV_COLUMNS, validateSignalItem, type CsvColumn } from '../../src/domain/signal.js';
import { compileCsvFastPath } from '../../src/domain/signalCsvFastPath.js';
import { addDays } from '../../src/domain/workingDays.js';

/**
 * The CSV fast path against the schema, which stays the definition of a valid signal: on any
 * row, the fast path either is not sure (null) or gives exactly the item the schema gives. It
 * must never accept a row the schema refuses. The generated cells are mostly valid values, with
 * near misses mixed in (edge lengths, NUL, whitespace, wrong case, impossible dates, tomorrow),
 * so both sides of every check are exercised.
 */

const today = dutchToday();
const tomorrow = addDays(today, 1);

const around = (...values: string[]) => fc.constantFrom(...values);
const withNoise = (valid: fc.Arbitrary<string>, ...nearMisses: fc.Arbitrary<string>[]) =>
  fc.oneof(
    { weight: 6, arbitrary: valid },
    { weight: 1, arbitrary: fc.constant('') },
    { weight: 1, arbitrary: valid.map((v) => ` ${v}\t`) },
    ...nearMisses.map((arbitrary) => ({ weight: 1, arbitrary })),
  );
const isoDate = fc.date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date(`${today}T00:00:00Z`), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10));
const date = withNoise(isoDate, around(tomorrow, '2025-02-29', '2024-02-29', '0099-01-01', '2025-13-01', '2025-1-01', '20250101', '2025-01-01T00:00'));
const longText = (max: number) => fc.integer({ min: max - 1, max: max + 1 }).map((n) => 'x'.repeat(n));
const text = (max: number) => withNoise(fc.string({ minLength: 1, maxLength: 12 }), longText(max), around('a\u0000b', '\u00a0', 'Ĳssel'));
const digits = (min: number, max: number) => fc.integer({ min, max }).map(String);
const number = (min: number, max: number) =>
  withNoise(digits(min, max), around(String(min - 1), String(max + 1), '007', '-0', '1.5', '1e3', '١٢', '99999999999999999999999'));
const flag = withNoise(around('true', 'false', '1', '0', 'yes', 'no', 'ja', 'nee', 'j', 'n', 'y', 'TRUE', 'Ja'), around('maybe', 'waar', 'ttrue'));
const WEIGHTS = [9, 8, 7, 6, 5, 4, 3, 2, -1];
const bsn = withNoise(
  fc
    .array(fc.integer({ min: 0, max: 9 }), { minLength: 8, maxLength: 8 })
    .map((eight) => [...eight, eight.reduce((s, d, i) => s + d * WEIGHTS[i]!, 0) % 11])
    .filter((d) => d[8]! < 10)
    .map((d) => d.join('')),
  around('111222333', '11222333', '000000000', '12345678', '1234567890', '11122233x'),
);
const postcode = withNoise(
  fc
    .tuple(fc.integer({ min: 1000, max: 9999 }), fc.stringMatching(/^[A-Za-z]{2}$/), fc.constantFrom('', ' ', '  '))
    .map(([n, letters, space]) => `${n}${space}${letters}`),
  around('0123AB', '1234SA', '1234 ss', '12345AB', '1234 AB  CD', '1234ABC', '1234\u00a0AB'),
);

const CELLS: Record<CsvColumn, fc.Arbitrary<string>> = {
  externalId: withNoise(fc.stringMatching(/^[A-Za-z0-9-]{1,20}$/), longText(100), around('a\u0000')),
  partnerType: withNoise(fc.constantFrom(...PARTNER_TYPE_CODES), around('Energy', 'gas', 'rent ')),
  partnerName: text(200),
  signalDate: date,
  originDate: date,
  amountCents: number(0, 10_000_000_000),
  crisis: flag,
  warmHandover: flag,
  endOfSupply: flag,
  childrenInHousehold: fc.oneof(fc.constant(''), number(0, 30)),
  bsn,
  initials: text(50),
  prefix: text(50),
  surname: text(200),
  birthDate: date,
  gender: withNoise(fc.constantFrom(...GENDER_CODES), around('Female', 'x')),
  postcode,
  houseNumber: number(1, 99_999),
  houseLetter: withNoise(fc.stringMatching(/^[A-Za-z]$/), around('ab', '1', 'é')),
  houseNumberAddition: withNoise(fc.stringMatching(/^[A-Za-z0-9 -]{1,6}$/), around('1234567', 'a/b', 'bis.')),
  street: text(200),
  city: text(200),
  phone: withNoise(fc.stringMatching(/^\+?[0-9 ()-]{6,20}$/), around('12345', '06-1234567a', `+${'1'.repeat(33)}`)),
  email: withNoise(fc.emailAddress(), around('a@b', 'a..b@example.nl', 'a@example.nl.', `${'a'.repeat(250)}@example.nl`, 'Ä@example.nl')),
};

/** A header: every required column, optional ones in or out, in any order. */
const header = fc
  .subarray([...CSV_COLUMNS])
  .map((optional) => [...new Set<CsvColumn>(['externalId', 'partnerType', 'signalDate', 'amountCents', 'postcode', 'houseNumber', ...optional])])
  .chain((columns) => fc.shuffledSubarray(columns, { minLength: columns.length, maxLength: columns.length }));

const headerAndRows = header.chain((columns) =>
  fc.tuple(fc.constant(columns), fc.array(fc.tuple(...columns.map((c) => CELLS[c])), { minLength: 1, maxLength: 20 })),
);

function bySchema(columns: readonly string[], fields: readonly string[]) {
  const result = validateSignalItem(compileCsvRow(columns)(fields));
  return result.ok ? result.value : null;
}

describe('CSV fast path', () => {
  it('accepts only what the schema accepts, and gives the schema’s item', () => {
    let vouched = 0;
    let rows = 0;
    fc.assert(
      fc.property(headerAndRows, ([columns, table]) => {
        const fastPath = compileCsvFastPath(columns);
        for (const fields of table) {
          rows++;
          const fast = fastPath(fields);
          if (fast === null) continue;
          vouched++;
          expect(fast).toEqual(bySchema(columns, fields));
        }
      }),
      { numRuns: 2_000 },
    );
    // The generators must reach the fast path's acceptance often, or the comparison proves little.
    expect(vouched / rows).toBeGreaterThan(0.05);
  });

  it('vouches for plainly valid rows, so that they skip the schema', () => {
    const fastPath = compileCsvFastPath([...CSV_COLUMNS]);
    const values: Record<CsvColumn, string> = {
      externalId: 'E-1', partnerType: 'rent', partnerName: 'Woonstede', signalDate: '2026-01-05', originDate: '2025-12-01',
      amountCents: '125000', crisis: 'ja', warmHandover: 'false', endOfSupply: '', childrenInHousehold: '2', bsn: '10000021', initials: 'J.', prefix: 'van',
      surname: 'Dam', birthDate: '1970-03-02', gender: 'male', postcode: '2261 ab', houseNumber: '12', houseLetter: 'a',
      houseNumberAddition: '2', street: 'Kerkstraat', city: 'Leidschendam', phone: '070 1234567', email: 'j.vandam@example.nl',
    };
    const fields = CSV_COLUMNS.map((c) => values[c]);
    const fast = fastPath(fields);
    expect(fast).not.toBeNull();
    expect(fast).toEqual(bySchema(CSV_COLUMNS, fields));
    expect(fast).toMatchObject({ crisis: true, childrenInHousehold: 2, person: { bsn: '010000021' }, address: { postcode: '2261AB', houseLetter: 'A' } });
  });

  it('leaves every row with a fault to the schema', () => {
    const fastPath = compileCsvFastPath(['externalId', 'partnerType', 'signalDate', 'amountCents', 'postcode', 'houseNumber', 'originDate']);
    const good = ['E-1', 'energy', '2026-01-05', '100', '2261AB', '1', ''];
    expect(fastPath(good)).not.toBeNull();
    const faults: [number, string][] = [[0, ''], [1, 'gas'], [2, tomorrow], [3, '-1'], [4, '2261'], [5, '0'], [6, '2026-01-06']];
    for (const [column, value] of faults) {
      const fields = good.slice();
      fields[column] = value;
      expect(fastPath(fields), `column ${column} = ${value}`).toBeNull();
      expect(bySchema(['externalId', 'partnerType', 'signalDate', 'amountCents', 'postcode', 'houseNumber', 'originDate'], fields)).toBeNull();
    }
    expect(fastPath(good.slice(0, 6))).toBeNull(); // a field short
  });
});
