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
