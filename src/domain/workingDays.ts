/**
 * Calendar dates (`YYYY-MM-DD`) and Dutch working days.
 *
 * A working day is Monday to Friday and not a Dutch public holiday. The holidays come from the
 * `date-holidays` library (country `NL`), and only the ones it types `public` count:
 *
 * | holiday | date-holidays type | working day? |
 * | --- | --- | --- |
 * | Nieuwjaarsdag (1 Jan) | public | no |
 * | Eerste en Tweede Paasdag | public | no |
 * | Koningsdag (27 Apr, 26 Apr when the 27th is a Sunday) | public | no |
 * | Hemelvaartsdag | public | no |
 * | Eerste en Tweede Pinksterdag | public | no |
 * | Eerste en Tweede Kerstdag | public | no |
 * | Goede Vrijdag | school | yes |
 * | Bevrijdingsdag (5 May) | school, every year | yes |
 * | Oudejaarsdag (31 Dec) | bank | yes |
 *
 * Bevrijdingsdag is a day off only once every five years (2025, 2030, …) and then only under
 * some collective agreements, including the central government's. date-holidays never types it
 * `public`, so a deadline that passes 5 May counts it as a working day, also in lustrum years. A
 * municipality that closes on 5 May in those years gets a deadline one day tighter than needed,
 * never a day too late.
 *
 * Every function here is pure. All arithmetic is done on UTC midnights so that the server's
 * own time zone and daylight saving time play no part.
 */
import Holidays from 'date-holidays';
import { isIsoDate, isoDateOfDay } from './dates.js';

/**
 * Days since 1970-01-01 of a `YYYY-MM-DD` date; throws a RangeError for anything else.
 * Counted with integer arithmetic on the proleptic Gregorian calendar (the days-from-civil
 * algorithm), without a Date or a regular expression: facts take several per household.
 */
export function toDayNumber(date: string): number {
  if (!isIsoDate(date)) throw new RangeError(`not an existing YYYY-MM-DD date: ${JSON.stringify(date)}`);
  const month = (date.charCodeAt(5) - 48) * 10 + (date.charCodeAt(6) - 48);
  const day = (date.charCodeAt(8) - 48) * 10 + (date.charCodeAt(9) - 48);
  // Years counted from March, so that the leap day is the last day of a year.
  const year = Number(date.slice(0, 4)) - (month <= 2 ? 1 : 0);
  const era = Math.floor(year / 400);
  const yearOfEra = year - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/** The `YYYY-MM-DD` date of a day number (see {@link toDayNumber}). */
export function fromDayNumber(dayNumber: number): string {
  return isoDateOfDay(dayNumber);
}


/** Calendar days from `a` to `b` (negative when `b` is before `a`). */
export function daysBetween(a: string, b: string): number {
  return toDayNumber(b) - toDayNumber(a);
}

/** `date` plus `days` calendar days. */
export function addDays(date: string, days: number): string {
  return fromDayNumber(toDayNumber(date) + days);
}

// One NL calendar for the whole process: constructing it parses the library's rule data.
let calendar: Holidays | undefined;
const publicHolidaysByYear = new Map<number, ReadonlySet<string>>();

/** The Dutch public holidays of one year as `YYYY-MM-DD` strings, computed once per year. */
export function publicHolidays(year: number): ReadonlySet<string> {
  let holidays = publicHolidaysByYear.get(year);
  if (!holidays) {
    calendar ??= new Holidays('NL');
    // `date` is the local date in the Netherlands ("2025-04-21 00:00:00"); its first ten
    // characters are the calendar date, whatever the time zone of this process.
    holidays = new Set(
      calendar
        .getHolidays(year)
        .filter((holiday) => holiday.type === 'public')
        .map((holiday) => holiday.date.slice(0, 10)),
    );
    publicHolidaysByYear.set(year, holidays);
  }
  return holidays;
}

// Weekdays already looked up, by day number → whether a public holiday. Every evaluated
// household asks for the same few weeks of days; writing each day out as a date to look it up
// cost more than the rest of the deadline. Bounded: a long-running process forgets old days.
const holidayByDayNumber = new Map<number, boolean>();
const REMEMBERED_DAYS = 20_000;

function isWorkingDayNumber(dayNumber: number): boolean {
  // 1970-01-01 was a Thursday: day 0 → weekday 4 (Sunday = 0).
  const weekday = (((dayNumber + 4) % 7) + 7) % 7;
  if (weekday === 0 || weekday === 6) return false;
  let holiday = holidayByDayNumber.get(dayNumber);
  if (holiday === undefined) {
    const date = fromDayNumber(dayNumber);
    holiday = publicHolidays(Number(date.slice(0, 4))).has(date);
    if (holidayByDayNumber.size >= REMEMBERED_DAYS) holidayByDayNumber.clear();
    holidayByDayNumber.set(dayNumber, holiday);
  }
  return !holiday;
}

/** Whether `date` is a working day: Monday to Friday and not a Dutch public holiday. */
export function isWorkingDay(date: string): boolean {
  return isWorkingDayNumber(toDayNumber(date));
}

/**
 * The date `days` working days after `from`; `from` itself never counts.
 *
 * - `addWorkingDays('2025-12-24', 1)` (Wednesday) is Monday 2025-12-29: both Christmas days and
 *   the weekend are skipped.
 * - `days = 0` gives `from` when it is a working day, otherwise the next working day, so that a
 *   deadline always lands on a working day.
 * - Negative `days` counts backwards (`-1` from a Monday is the Friday before).
 */
export function addWorkingDays(from: string, days: number): string {
  if (!Number.isInteger(days)) throw new RangeError(`days must be an integer, got ${days}`);
  let day = toDayNumber(from);
  if (days === 0) {
    while (!isWorkingDayNumber(day)) day += 1;
    return fromDayNumber(day);
  }
  const step = days > 0 ? 1 : -1;
  let remaining = Math.abs(days);
  while (remaining > 0) {
    day += step;
    if (isWorkingDayNumber(day)) remaining -= 1;
  }
  return fromDayNumber(day);
}

/**
 * Working days after `a` up to and including `b`; negative when `b` is before `a`.
 * It is the inverse of {@link addWorkingDays}: `workingDaysBetween(a, addWorkingDays(a, n)) === n`
 * for every `n >= 1` (and for `n = 0` when `a` is a working day).
 */
export function workingDaysBetween(a: string, b: string): number {
  const start = toDayNumber(a);
  const end = toDayNumber(b);
  if (end < start) return -workingDaysBetween(b, a);
  let count = 0;
  for (let day = start + 1; day <= end; day += 1) {
    if (isWorkingDayNumber(day)) count += 1;
  }
  return count;
}
