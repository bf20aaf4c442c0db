import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dutchToday, isoDateOfDay, isoInstant } from '../../src/domain/dates.js';

const reference = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Amsterdam', year: 'numeric', month: '2-digit', day: '2-digit' });
const HOUR = 3_600_000;

// Instants around midnight in Amsterdam and around the clock changes (01:00 UTC on the last
// Sundays of March and October), where a cache keyed on anything coarser than the hour breaks.
const edges = [
  '2026-03-28T22:59:59.999Z', '2026-03-28T23:00:00.000Z', '2026-03-29T00:59:59.999Z', '2026-03-29T01:00:00.000Z',
  '2026-03-29T21:59:59.999Z', '2026-03-29T22:00:00.000Z', '2026-10-24T21:59:59.999Z', '2026-10-24T22:00:00.000Z',
  '2026-10-25T00:59:59.999Z', '2026-10-25T01:00:00.000Z', '2026-10-25T22:59:59.999Z', '2026-10-25T23:00:00.000Z',
].map((text) => Date.parse(text));

describe('dutchToday', () => {
  it('gives the Dutch calendar date of any instant, in any order of calls', () => {
    const instant = fc.oneof(
      fc.integer({ min: Date.parse('1950-01-01T00:00:00Z'), max: Date.parse('2100-01-01T00:00:00Z') }),
      fc.tuple(fc.constantFrom(...edges), fc.integer({ min: -2 * HOUR, max: 2 * HOUR })).map(([edge, offset]) => edge + offset),
    );
    fc.assert(
      fc.property(fc.array(instant, { minLength: 1, maxLength: 20 }), (instants) => {
        for (const ms of instants) expect(dutchToday(new Date(ms))).toBe(reference.format(new Date(ms)));
      }),
      { numRuns: 2_000 },
    );
  });

  it('turns at midnight in Amsterdam, in winter and in summer time', () => {
    expect(dutchToday(new Date('2026-01-15T22:59:59.999Z'))).toBe('2026-01-15');
    expect(dutchToday(new Date('2026-01-15T23:00:00.000Z'))).toBe('2026-01-16');
    expect(dutchToday(new Date('2026-07-15T21:59:59.999Z'))).toBe('2026-07-15');
    expect(dutchToday(new Date('2026-07-15T22:00:00.000Z'))).toBe('2026-07-16');
  });

  it('refuses an invalid date, also right after a valid one', () => {
    dutchToday(new Date('2026-01-15T12:00:00Z'));
    expect(() => dutchToday(new Date(Number.NaN))).toThrow(RangeError);
  });
});

describe('isoInstant and isoDateOfDay', () => {
  const DAY = 86_400_000;
  // Date's own range is ±8.64e15 ms; the four-digit years 0000–9999 are written with integers,
  // everything else by Date (six-digit years with a sign).
  const FIRST = Date.parse('0000-01-01T00:00:00.000Z');
  const LAST = Date.parse('9999-12-31T23:59:59.999Z');

  it('writes every instant as toISOString does', () => {
    const instant = fc.oneof(
      fc.integer({ min: FIRST, max: LAST }),
      fc.integer({ min: -8.64e15, max: 8.64e15 }),
      fc.constantFrom(FIRST, FIRST - 1, LAST, LAST + 1, 0, -1, Date.parse('2000-02-29T23:59:59.999Z'), Date.parse('1900-03-01T00:00:00.000Z')),
      fc.tuple(fc.integer({ min: FIRST / DAY, max: Math.floor(LAST / DAY) }), fc.constantFrom(0, 1, 999, 1000, 59_999, 3_599_999, DAY - 1)).map(([d, ms]) => d * DAY + ms),
    );
    fc.assert(
      fc.property(instant, (ms) => isoInstant(new Date(ms)) === new Date(ms).toISOString()),
      { numRuns: 20_000 },
    );
    expect(() => isoInstant(new Date(Number.NaN))).toThrow(RangeError);
  });

  it('writes the date of every day number as Date does', () => {
    fc.assert(
      fc.property(fc.integer({ min: -100_000_000, max: 100_000_000 }), (n) => isoDateOfDay(n) === new Date(n * DAY).toISOString().slice(0, 10)),
      { numRuns: 20_000 },
    );
    for (const n of [FIRST / DAY, FIRST / DAY - 1, Math.floor(LAST / DAY), Math.floor(LAST / DAY) + 1, 0, -1, 11_016, 10_956]) {
      expect(isoDateOfDay(n)).toBe(new Date(n * DAY).toISOString().slice(0, 10));
    }
  });
});
