import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addDays,
  addWorkingDays,
  daysBetween,
  fromDayNumber,
  isWorkingDay,
  publicHolidays,
  toDayNumber,
  workingDaysBetween,
} from '../../src/domain/workingDays.js';
import { isIsoDate } from '../../src/domain/dates.js';

describe('public holidays (date-holidays, NL, type public)', () => {
  it.each([
    ['2025-01-01', 'Nieuwjaarsdag'],
    ['2025-04-21', 'Tweede Paasdag'],
    ['2025-04-26', 'Koningsdag on Saturday, because 27 April 2025 is a Sunday'],
    ['2026-04-27', 'Koningsdag'],
    ['2025-05-29', 'Hemelvaartsdag'],
    ['2025-06-09', 'Tweede Pinksterdag'],
    ['2025-12-25', 'Eerste Kerstdag'],
    ['2025-12-26', 'Tweede Kerstdag'],
    ['2026-01-01', 'Nieuwjaarsdag'],
  ])('%s (%s) is a public holiday and no working day', (date) => {
    expect(publicHolidays(Number(date.slice(0, 4))).has(date)).toBe(true);
    expect(isWorkingDay(date)).toBe(false);
  });

  it.each([
    ['2025-04-18', 'Goede Vrijdag (type school)'],
    ['2025-05-05', 'Bevrijdingsdag in a lustrum year (type school: not public)'],
    ['2026-05-05', 'Bevrijdingsdag'],
    ['2025-12-31', 'Oudejaarsdag (type bank)'],
  ])('%s (%s) is a working day', (date) => {
    expect(isWorkingDay(date)).toBe(true);
  });

  it('has no weekday holidays other than the expected ones in 2025', () => {
    expect([...publicHolidays(2025)].sort()).toEqual([
      '2025-01-01',
      '2025-04-20',
      '2025-04-21',
      '2025-04-26',
      '2025-05-29',
      '2025-06-08',
      '2025-06-09',
      '2025-12-25',
      '2025-12-26',
    ]);
  });

  it('counts 255 working days in 2025', () => {
    // 365 days − 104 weekend days − 6 public holidays on weekdays.
    expect(workingDaysBetween('2024-12-31', '2025-12-31')).toBe(255);
  });
});

describe('addWorkingDays', () => {
  it('skips weekends', () => {
    expect(addWorkingDays('2025-03-14', 1)).toBe('2025-03-17'); // Friday → Monday
    expect(addWorkingDays('2025-03-10', 5)).toBe('2025-03-17');
    expect(addWorkingDays('2025-03-15', 1)).toBe('2025-03-17'); // from a Saturday
  });

  it('skips public holidays', () => {
    expect(addWorkingDays('2025-12-24', 1)).toBe('2025-12-29');
    expect(addWorkingDays('2025-05-28', 1)).toBe('2025-05-30'); // over Hemelvaartsdag
    expect(addWorkingDays('2025-04-17', 1)).toBe('2025-04-18'); // Goede Vrijdag is a working day
    expect(addWorkingDays('2025-04-18', 1)).toBe('2025-04-22'); // over Easter
    expect(addWorkingDays('2025-12-31', 1)).toBe('2026-01-02'); // over the year boundary
  });

  it('gives a deadline of 3 and 10 working days', () => {
    expect(addWorkingDays('2025-04-24', 3)).toBe('2025-04-29');
    expect(addWorkingDays('2025-04-24', 10)).toBe('2025-05-08'); // 5 May 2025 counts
  });

  it('with 0 days rolls forward to a working day', () => {
    expect(addWorkingDays('2025-03-14', 0)).toBe('2025-03-14');
    expect(addWorkingDays('2025-03-15', 0)).toBe('2025-03-17');
    expect(addWorkingDays('2025-12-25', 0)).toBe('2025-12-29');
  });

  it('counts backwards with negative days', () => {
    expect(addWorkingDays('2025-03-17', -1)).toBe('2025-03-14');
    expect(addWorkingDays('2025-12-29', -1)).toBe('2025-12-24');
  });

  it('rejects malformed input', () => {
    expect(() => addWorkingDays('2025-02-30', 1)).toThrow(RangeError);
    expect(() => addWorkingDays('14-03-2025', 1)).toThrow(RangeError);
    expect(() => addWorkingDays('2025-03-14', 1.5)).toThrow(RangeError);
    expect(() => isWorkingDay('2025-3-1')).toThrow(RangeError);
  });
});

describe('workingDaysBetween', () => {
  it('counts working days after a up to and including b', () => {
    expect(workingDaysBetween('2025-03-14', '2025-03-17')).toBe(1);
    expect(workingDaysBetween('2025-03-14', '2025-03-14')).toBe(0);
    expect(workingDaysBetween('2025-12-24', '2025-12-29')).toBe(1);
    expect(workingDaysBetween('2025-03-17', '2025-03-14')).toBe(-1);
  });

  const date = fc.integer({ min: Date.UTC(2020, 0, 1) / 86_400_000, max: Date.UTC(2035, 11, 31) / 86_400_000 }).map((day) =>
    new Date(day * 86_400_000).toISOString().slice(0, 10),
  );

  it('is the inverse of addWorkingDays, and the result is a working day', () => {
    fc.assert(
      fc.property(date, fc.integer({ min: 1, max: 60 }), (from, days) => {
        const to = addWorkingDays(from, days);
        expect(isWorkingDay(to)).toBe(true);
        expect(to > from).toBe(true);
        expect(workingDaysBetween(from, to)).toBe(days);
        // No working day is skipped: the day before the deadline is at most days − 1 away.
        expect(workingDaysBetween(from, addDays(to, -1))).toBe(days - 1);
      }),
    );
  });

  it('counts backwards symmetrically from a working day', () => {
    fc.assert(
      fc.property(date, fc.integer({ min: 1, max: 60 }), (start, days) => {
        const from = addWorkingDays(start, 0);
        expect(workingDaysBetween(from, addWorkingDays(from, -days))).toBe(-days);
      }),
    );
  });
});

describe('calendar helpers', () => {
  it('validates and moves dates', () => {
    expect(isIsoDate('2024-02-29')).toBe(true);
    expect(isIsoDate('2025-02-29')).toBe(false);
    expect(addDays('2025-02-28', 1)).toBe('2025-03-01');
    expect(daysBetween('2025-03-30', '2025-03-31')).toBe(1); // across the switch to summer time
  });

  it('accepts exactly the dates the calendar has, years 0100–9999', () => {
    // The reference: the calendar as Date knows it (proleptic Gregorian).
    const reference = (input: string) => {
      const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(input);
      if (!match) return false;
      const [y, m, d] = match.slice(1).map(Number) as [number, number, number];
      if (y < 100) return false;
      const date = new Date(Date.UTC(y, m - 1, d));
      return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
    };
    const pad = (n: number, width: number) => String(n).padStart(width, '0');
    const nearlyDates = fc
      .tuple(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 0, max: 13 }), fc.integer({ min: 0, max: 32 }))
      .map(([y, m, d]) => `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`);
    const anything = fc.oneof(nearlyDates, fc.string({ maxLength: 12 }), nearlyDates.map((s) => s.replace(/[0-9]/, '٣')), nearlyDates.map((s) => ` ${s}`));
    fc.assert(fc.property(anything, (input) => isIsoDate(input) === reference(input)), { numRuns: 5_000 });
    for (const leap of ['2000-02-29', '2024-02-29', '1600-02-29']) expect(isIsoDate(leap)).toBe(true);
    for (const notLeap of ['1900-02-29', '2100-02-29', '2023-02-29', '0099-01-01', '2024-04-31', '2024-00-10']) expect(isIsoDate(notLeap)).toBe(false);
  });

  it('numbers days as Date does, and back, years 0100–9999', () => {
    const day = fc.integer({ min: Date.UTC(100, 0, 1) / 86_400_000, max: Date.UTC(9999, 11, 31) / 86_400_000 });
    fc.assert(
      fc.property(day, (n) => {
        const date = new Date(n * 86_400_000).toISOString().slice(0, 10);
        return toDayNumber(date) === n && fromDayNumber(n) === date;
      }),
      { numRuns: 5_000 },
    );
    expect(toDayNumber('1970-01-01')).toBe(0);
    expect(toDayNumber('2000-03-01') - toDayNumber('2000-02-28')).toBe(2);
    for (const bad of ['2025-02-29', '0099-12-31', '2025-1-01', ' 2025-01-01', '']) expect(() => toDayNumber(bad)).toThrow(RangeError);
  });
});
