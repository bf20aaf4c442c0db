import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isValidBsn, normaliseBsn } from '../../src/domain/bsn.js';

/** The burgerservicenummer and its eleven-test. */

const WEIGHTS = [9, 8, 7, 6, 5, 4, 3, 2, -1];
const elevenSum = (digits: readonly number[]) => digits.reduce((sum, d, i) => sum + d * WEIGHTS[i]!, 0);

/** Eight digits and the ninth that makes them pass (when there is one). */
const validBsn = fc
  .array(fc.integer({ min: 0, max: 9 }), { minLength: 8, maxLength: 8 })
  .map((eight) => {
    const check = elevenSum([...eight, 0]) % 11;
    return check < 10 ? [...eight, check] : null;
  })
  .filter((digits): digits is number[] => digits !== null && elevenSum(digits) !== 0)
  .map((digits) => digits.join(''));

describe('isValidBsn', () => {
  it.each(['111222333', '123456782', '012345672'])('%s passes', (bsn) => expect(isValidBsn(bsn)).toBe(true));

  it.each(['123456789', '000000000', '12345678', '1234567820', '12345678a', ' 111222333', '111-222-333', ''])('%j fails', (bsn) =>
    expect(isValidBsn(bsn)).toBe(false),
  );

  it('agrees with the eleven-test on any nine digits', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 9, maxLength: 9 }), (digits) => {
        const sum = elevenSum(digits);
        expect(isValidBsn(digits.join(''))).toBe(sum !== 0 && sum % 11 === 0);
      }),
    );
  });

  it('catches every changed digit and every swap of two neighbouring digits', () => {
    fc.assert(
      fc.property(validBsn, fc.integer({ min: 0, max: 8 }), fc.integer({ min: 1, max: 9 }), (bsn, position, delta) => {
        const digits = bsn.split('').map(Number);
        const changed = [...digits];
        changed[position] = (digits[position]! + delta) % 10;
        expect(isValidBsn(changed.join(''))).toBe(false);
        if (position < 8 && digits[position] !== digits[position + 1]) {
          const swapped = [...digits];
          [swapped[position], swapped[position + 1]] = [swapped[position + 1]!, swapped[position]!];
          expect(isValidBsn(swapped.join(''))).toBe(false);
        }
      }),
    );
  });
});

describe('normaliseBsn', () => {
  it('writes an eight-digit BSN with its leading zero, trims, and leaves other input for validation', () => {
    expect(normaliseBsn('12345672')).toBe('012345672');
    expect(normaliseBsn(' 111222333 ')).toBe('111222333');
    expect(normaliseBsn('1234567')).toBe('1234567');
    expect(normaliseBsn('abc')).toBe('abc');
  });

  it('keeps a valid BSN valid and its eight-digit form equal to it', () => {
    fc.assert(
      fc.property(validBsn, (bsn) => {
        expect(normaliseBsn(bsn)).toBe(bsn);
        if (bsn.startsWith('0')) expect(normaliseBsn(bsn.slice(1))).toBe(bsn);
      }),
    );
  });
});
