import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GENDER_CODES, PARTNER_TYPE_CODES } from '../../src/domain/codes.js';
import {
  checkCsvHeader,
  compileCsvRow,
  CSV_COLUMNS,
  csvRecordToItem,
  LIMITS,
  pointerToCsvColumn,
  validateSignalItem,
  type SignalItem,
} from '../../src/domain/signal.js';

/** The signal item schema (JSON and CSV share it) and the CSV mapping onto it. */

const WEIGHTS = [9, 8, 7, 6, 5, 4, 3, 2, -1];
const validBsn = fc
  .array(fc.integer({ min: 0, max: 9 }), { minLength: 8, maxLength: 8 })
  .map((eight) => [...eight, eight.reduce((s, d, i) => s + d * WEIGHTS[i]!, 0) % 11])
  .filter((digits) => digits[8]! < 10 && digits.reduce((s, d, i) => s + d * WEIGHTS[i]!, 0) !== 0)
  .map((digits) => digits.join(''));
const isoDate = fc
  .date({ min: new Date('1920-01-01T00:00:00Z'), max: new Date('2025-12-31T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString().slice(0, 10));
const text = (max: number) => fc.stringMatching(new RegExp(`^[A-Za-zÀ-ÿ' .-]{1,${max}}$`)).filter((s) => s.trim().length > 0);
const postcode = fc
  .tuple(fc.integer({ min: 1000, max: 9999 }), fc.stringMatching(/^[A-Z]{2}$/).filter((l) => !['SA', 'SD', 'SS'].includes(l)), fc.constantFrom('', ' '), fc.boolean())
  .map(([n, letters, space, lower]) => `${n}${space}${lower ? letters.toLowerCase() : letters}`);

/** A valid item as an integrator might send it; optional properties absent or present. */
const validItem = fc
  .record(
    {
      externalId: fc.stringMatching(/^[A-Za-z0-9-]{1,30}$/),
      partnerType: fc.constantFrom(...PARTNER_TYPE_CODES),
      partnerName: text(40),
      dates: fc.tuple(isoDate, isoDate).map(([a, b]) => (a <= b ? [a, b] : [b, a])),
      withOrigin: fc.boolean(),
      amountCents: fc.integer({ min: 0, max: LIMITS.maxAmountCents }),
      crisis: fc.boolean(),
      warmHandover: fc.boolean(),
      endOfSupply: fc.boolean(),
      person: fc.record(
        {
          bsn: validBsn,
          initials: fc.stringMatching(/^([A-Z]\.){1,3}$/),
          prefix: fc.constantFrom('van', 'de', 'van der', "'t"),
          surname: text(40),
          birthDate: isoDate,
          gender: fc.constantFrom(...GENDER_CODES),
        },
        { requiredKeys: [] },
      ),
      address: fc.record(
        {
          postcode,
          houseNumber: fc.integer({ min: 1, max: 99_999 }),
          houseLetter: fc.stringMatching(/^[a-zA-Z]$/),
          houseNumberAddition: fc.stringMatching(/^[A-Za-z0-9]{1,3}(-[A-Za-z0-9]{1,2})?$/),
          street: text(60),
          city: text(40),
        },
        { requiredKeys: ['postcode', 'houseNumber'] },
      ),
      contact: fc
        .record({ phone: fc.stringMatching(/^(\+31 6 |06)[0-9]{8}$/), email: fc.stringMatching(/^[a-z0-9]{1,10}@[a-z]{1,10}\.nl$/) }, { requiredKeys: [] })
        .filter((c) => Object.keys(c).length > 0),
    },
    { requiredKeys: ['externalId', 'partnerType', 'dates', 'withOrigin', 'amountCents', 'person', 'address'] },
  )
  .map(({ dates, withOrigin, ...rest }) => ({ ...rest, signalDate: dates[1], ...(withOrigin ? { originDate: dates[0] } : {}) }));

/** The CSV record for an item: the flattened columns, text only, empty for absent values. */
function toCsvRecord(item: Record<string, unknown>, booleans: [string, string]): Record<string, string> {
  const flat: Record<string, unknown> = { ...item, ...(item.person as object), ...(item.address as object), ...((item.contact as object) ?? {}) };
  const record: Record<string, string> = {};
  for (const column of CSV_COLUMNS) {
    const value = flat[column];
    record[column] = value === undefined ? '' : typeof value === 'boolean' ? booleans[value ? 0 : 1] : String(value);
  }
  return record;
}

const validOf = (input: unknown): SignalItem => {
  const result = validateSignalItem(input);
  if (!result.ok) throw new Error(`expected valid: ${JSON.stringify(result.errors)}`);
  return result.value;
};
const pointersOf = (input: unknown): string[] => {
  const result = validateSignalItem(input);
  return result.ok ? [] : result.errors.map((e) => e.pointer).sort();
};

const base = {
  externalId: 'E-1',
  partnerType: 'energy',
  signalDate: '2025-06-01',
  amountCents: 5_000,
  person: { bsn: '12345672' },
  address: { postcode: '2261 ab', houseNumber: 4, houseLetter: 'b' },
};

describe('signalItemSchema', () => {
  it('accepts every valid item, normalises it, and accepts its own output unchanged', () => {
    fc.assert(
      fc.property(validItem, (item) => {
        const value = validOf(item);
        expect(value.address.postcode).toMatch(/^[1-9][0-9]{3}[A-Z]{2}$/);
        if (value.address.houseLetter) expect(value.address.houseLetter).toBe(value.address.houseLetter.toUpperCase());
        expect(validOf(value)).toEqual(value);
      }),
      { numRuns: 300 },
    );
  });

  it('normalises postcode, house letter and an eight-digit BSN', () => {
    expect(validOf(base)).toMatchObject({ person: { bsn: '012345672' }, address: { postcode: '2261AB', houseLetter: 'B' } });
  });

  it.each([
    [{ ...base, amountCents: -1 }, ['/amountCents']],
    [{ ...base, amountCents: 10.5 }, ['/amountCents']],
    [{ ...base, amountCents: '5000' }, ['/amountCents']],
    [{ ...base, amountCents: LIMITS.maxAmountCents + 1 }, ['/amountCents']],
    [{ ...base, partnerType: 'gas' }, ['/partnerType']],
    [{ ...base, signalDate: '2025-02-29' }, ['/signalDate']],
    [{ ...base, signalDate: '01-06-2025' }, ['/signalDate']],
    [{ ...base, signalDate: '2999-01-01' }, ['/signalDate']],
    [{ ...base, originDate: '2025-07-01' }, ['/originDate']],
    [{ ...base, person: { bsn: '123456789' } }, ['/person/bsn']],
    [{ ...base, person: { gender: 'm' } }, ['/person/gender']],
    [{ ...base, address: { postcode: '1234SA', houseNumber: 1 } }, ['/address/postcode']],
    [{ ...base, address: { postcode: '1234AB', houseNumber: 0 } }, ['/address/houseNumber']],
    [{ ...base, address: { postcode: '1234AB', houseNumber: 1, houseLetter: 'AB' } }, ['/address/houseLetter']],
    [{ ...base, address: { postcode: '1234AB', houseNumber: 1, houseNumberAddition: 'toolong1' } }, ['/address/houseNumberAddition']],
    [{ ...base, contact: { email: 'not-an-address' } }, ['/contact/email']],
    [{ ...base, contact: { phone: 'call me' } }, ['/contact/phone']],
    [{ ...base, externalId: '   ' }, ['/externalId']],
    [{ ...base, externalId: 'x'.repeat(LIMITS.externalId + 1) }, ['/externalId']],
    [{ ...base, partnerName: '' }, ['/partnerName']],
    [{ ...base, crisis: 'yes' }, ['/crisis']],
    [{ ...base, colour: 'red' }, ['/colour']],
    [{ ...base, address: { ...base.address, flat: true } }, ['/address/flat']],
    [{ ...base, person: undefined }, ['/person']],
    [{ partnerType: 'water' }, ['/address', '/amountCents', '/externalId', '/person', '/signalDate']],
  ])('%j is refused at %j', (input, pointers) => {
    expect(pointersOf(input)).toEqual(pointers);
  });

  it('never throws, whatever it is given, and points at where the errors are', () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), validItem.chain((item) => fc.tuple(fc.constant(item), fc.anything()).map(([i, noise]) => ({ ...i, address: noise })))), (input) => {
        const result = validateSignalItem(input);
        if (result.ok) return;
        expect(result.errors.length).toBeGreaterThan(0);
        for (const error of result.errors) {
          expect(error.pointer).toMatch(/^(\/[^/]*)*$/); // RFC 6901: "/" is the key ""
          expect(error.detail.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('the CSV mapping', () => {
  it('reads a row to the same signal as the JSON item it was flattened from', () => {
    fc.assert(
      fc.property(validItem, fc.constantFrom<[string, string]>(['true', 'false'], ['ja', 'nee'], ['1', '0'], ['Yes', 'No'], ['J', 'N']), (item, booleans) => {
        const fromCsv = csvRecordToItem(toCsvRecord(item, booleans));
        expect(validOf(fromCsv)).toEqual(validOf(item));
      }),
      { numRuns: 300 },
    );
  });

  it('maps every column back from the pointer of its error', () => {
    for (const column of CSV_COLUMNS) {
      const record = Object.fromEntries(CSV_COLUMNS.map((c) => [c, c === column ? '?' : '']));
      const item = csvRecordToItem(record);
      const path = Object.entries(item).flatMap(([k, v]) =>
        typeof v === 'object' && v !== null ? Object.keys(v).map((inner) => `/${k}/${inner}`) : [`/${k}`],
      );
      expect(path).toHaveLength(1);
      expect(pointerToCsvColumn(path[0]!)).toBe(column);
    }
    expect(pointerToCsvColumn('/address')).toBe('address');
    expect(pointerToCsvColumn('')).toBe('');
  });

  it('converts cells: integers, yes/no words, empty cells as absent, contact only when given', () => {
    const toItem = compileCsvRow(['amountCents', 'houseNumber', 'crisis', 'warmHandover', 'endOfSupply', 'email', 'surname']);
    expect(toItem(['0012', ' -3 ', 'JA', 'n', '', '', 'de Boer'])).toEqual({
      amountCents: 12,
      person: { surname: 'de Boer' },
      address: { houseNumber: -3 },
      crisis: true,
      warmHandover: false,
    });
    expect(toItem(['12.50', '7a', 'misschien', '', '', 'x@y.nl', ''])).toEqual({
      amountCents: '12.50',
      person: {},
      address: { houseNumber: '7a' },
      crisis: 'misschien',
      contact: { email: 'x@y.nl' },
    });
    // What the schema says about such cells, by column.
    const errors = validateSignalItem({ ...csvRecordToItem({ amountCents: '12.50', houseNumber: '7a' }) });
    expect(errors.ok ? [] : errors.errors.map((e) => pointerToCsvColumn(e.pointer))).toEqual(expect.arrayContaining(['amountCents', 'houseNumber', 'postcode']));
  });

  it('compiled and per-record mapping agree for any header order', () => {
    fc.assert(
      fc.property(
        fc.shuffledSubarray([...CSV_COLUMNS], { minLength: 1 }),
        fc.array(fc.oneof(fc.constant(''), fc.constantFrom('ja', 'nee', '12', '-1', ' x '), fc.string({ maxLength: 4 })), { minLength: CSV_COLUMNS.length, maxLength: CSV_COLUMNS.length }),
        (columns, values) => {
          const fields = columns.map((_, i) => values[i]!);
          expect(compileCsvRow(columns)(fields)).toEqual(csvRecordToItem(Object.fromEntries(columns.map((c, i) => [c, fields[i]]))));
        },
      ),
    );
  });
});

describe('checkCsvHeader', () => {
  it('accepts the columns in any order, with or without the optional ones', () => {
    fc.assert(
      fc.property(fc.shuffledSubarray([...CSV_COLUMNS]), (columns) => {
        const required = ['externalId', 'partnerType', 'signalDate', 'amountCents', 'postcode', 'houseNumber'];
        const problems = checkCsvHeader([...columns, ...required.filter((c) => !columns.includes(c as (typeof CSV_COLUMNS)[number]))]);
        expect(problems).toEqual([]);
      }),
    );
  });

  it('names unknown, doubled and missing columns', () => {
    expect(checkCsvHeader([...CSV_COLUMNS, 'iban', 'bsn'])).toEqual(["unknown column 'iban'", "column 'bsn' appears twice"]);
    expect(checkCsvHeader(['externalId', 'partnerType', 'signalDate', 'amountCents', 'postcode'])).toEqual(["required column 'houseNumber' is missing"]);
    expect(checkCsvHeader([])).toHaveLength(6);
  });
});
