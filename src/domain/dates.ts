/** Dates in vroegsein are calendar dates in the Netherlands, written YYYY-MM-DD. */

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const ZERO = 48;

/** The digits input[from .. from + count) as a number, or -1 when one is not an ASCII digit. */
function digitsAt(input: string, from: number, count: number): number {
  let n = 0;
  for (let k = from; k < from + count; k++) {
    const d = input.charCodeAt(k) - ZERO;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/**
 * A real calendar date written YYYY-MM-DD, years 0100–9999 (a two-digit-century year is a
 * typing error, not a date anyone has debts from). Checked on the characters, without a
 * regular expression or a Date: intake checks three dates per signal.
 */
export function isIsoDate(input: string): boolean {
  if (input.length !== 10 || input.charCodeAt(4) !== 45 || input.charCodeAt(7) !== 45) return false;
  const y = digitsAt(input, 0, 4);
  const m = digitsAt(input, 5, 2);
  const d = digitsAt(input, 8, 2);
  if (y < 100 || m < 1 || m > 12 || d < 1) return false;
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  return d <= (m === 2 && leap ? 29 : DAYS_IN_MONTH[m - 1]!);
}

const dutchDate = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Amsterdam', year: 'numeric', month: '2-digit', day: '2-digit' });

const HOUR_MS = 3_600_000;
// The Netherlands' offsets from UTC are whole hours and change on the hour, so every instant of
// one UTC hour falls on the same Dutch date. The last hour's date is kept: evaluation asks for
// the date of every signal it loads, nearly all of them received in the same hour, and the
// formatter took a tenth of the loading's time.
let cachedHour = Number.NaN;
let cachedDate = '';

/** Today's date in the Netherlands (en-CA formats as YYYY-MM-DD). */
export function dutchToday(now: Date = new Date()): string {
  const hour = Math.floor(now.getTime() / HOUR_MS);
  if (hour !== cachedHour) {
    cachedDate = dutchDate.format(now); // an invalid date (NaN) throws here, never cached
    cachedHour = hour;
  }
  return cachedDate;
}

const DAY_MS = 86_400_000;
// 1 Jan 0000 and 31 Dec 9999 as day numbers: the years toISOString writes with four digits.
const FIRST_FOUR_DIGIT_DAY = -719_528;
const LAST_FOUR_DIGIT_DAY = 2_932_896;
const TWO_DIGITS = Array.from({ length: 100 }, (_, n) => String(n).padStart(2, '0'));
const THREE_DIGITS = Array.from({ length: 1000 }, (_, n) => String(n).padStart(3, '0'));

/**
 * The YYYY-MM-DD of a day number (days since 1970-01-01), counted with integers (the
 * civil-from-days algorithm). `Date#toISOString` took 1.5 µs a call; evaluation writes out a
 * date or an instant for every signal it loads and every deadline it sets.
 */
export function isoDateOfDay(dayNumber: number): string {
  if (!Number.isInteger(dayNumber) || dayNumber < FIRST_FOUR_DIGIT_DAY || dayNumber > LAST_FOUR_DIGIT_DAY) {
    return new Date(dayNumber * DAY_MS).toISOString().slice(0, 10); // throws for an impossible day, as before
  }
  // Years counted from March, so that the leap day is the last day of a year.
  const z = dayNumber + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1_460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const monthFromMarch = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * monthFromMarch + 2) / 5) + 1;
  const month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  return `${TWO_DIGITS[Math.floor(year / 100)]}${TWO_DIGITS[year % 100]}-${TWO_DIGITS[month]}-${TWO_DIGITS[day]}`;
}

/** `date.toISOString()` (YYYY-MM-DDTHH:mm:ss.sssZ), written with integers; see {@link isoDateOfDay}. */
export function isoInstant(date: Date): string {
  const ms = date.getTime();
  const day = Math.floor(ms / DAY_MS);
  if (day < FIRST_FOUR_DIGIT_DAY || day > LAST_FOUR_DIGIT_DAY) return date.toISOString(); // also throws for an invalid date
  let rest = ms - day * DAY_MS;
  const millis = rest % 1000;
  rest = (rest - millis) / 1000;
  const seconds = rest % 60;
  rest = (rest - seconds) / 60;
  const minutes = rest % 60;
  const hours = (rest - minutes) / 60;
  return `${isoDateOfDay(day)}T${TWO_DIGITS[hours]}:${TWO_DIGITS[minutes]}:${TWO_DIGITS[seconds]}.${THREE_DIGITS[millis]}Z`;
}
