/**
 * Burgerservicenummer: nine digits that pass the eleven-test
 * (9·d1 + 8·d2 + … + 2·d8 − 1·d9 is a multiple of 11, and not 0).
 */
export function isValidBsn(input: string): boolean {
  if (!/^[0-9]{9}$/.test(input)) return false;
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += (9 - i) * Number(input[i]);
  sum -= Number(input[8]);
  return sum !== 0 && sum % 11 === 0;
}

/** Eight-digit BSNs are written with a leading zero; other forms stay as they are for validation. */
export function normaliseBsn(input: string): string {
  const digits = input.trim();
  return /^[0-9]{8}$/.test(digits) ? `0${digits}` : digits;
}
