/** Dates in vroegsein are calendar dates in the Netherlands, written YYYY-MM-DD. */

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

export function isIsoDate(input: string): boolean {
  const match = ISO_DATE.exec(input);
  if (!match) return false;
  const [, y, m, d] = match.map(Number) as [number, number, number, number];
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

const dutchDate = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Amsterdam', year: 'numeric', month: '2-digit', day: '2-digit' });

/** Today's date in the Netherlands (en-CA formats as YYYY-MM-DD). */
export function dutchToday(now: Date = new Date()): string {
  return dutchDate.format(now);
}
