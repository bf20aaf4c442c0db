import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dutchToday } from '../../src/domain/dates.js';

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
