import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addressKey, normaliseAddition, normalisePostcode, postcodeArea } from '../../src/domain/address.js';

/** Dutch postcodes and the address key that groups a household's signals. */

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'.split('');
const NEVER_ISSUED = new Set(['SA', 'SD', 'SS']);
const letterPair = fc.tuple(fc.constantFrom(...LETTERS), fc.constantFrom(...LETTERS)).map(([a, b]) => a + b);
const validPostcode = fc.tuple(fc.integer({ min: 1000, max: 9999 }), letterPair.filter((p) => !NEVER_ISSUED.has(p))).map(([n, l]) => `${n}${l}`);
/** The same postcode as people type it: lower case, spaces between and around. */
const spelled = (canonical: string) =>
  fc
    .tuple(fc.boolean(), fc.stringMatching(/^ {0,3}$/), fc.stringMatching(/^[ \t]{0,2}$/), fc.stringMatching(/^ {0,2}$/))
    .map(([lower, before, middle, after]) => {
      const text = `${before}${canonical.slice(0, 4)}${middle}${canonical.slice(4)}${after}`;
      return lower ? text.toLowerCase() : text;
    });

describe('normalisePostcode', () => {
  it.each([
    ['1234AB', '1234AB'],
    ['1234 ab', '1234AB'],
    ['  2261 Xy ', '2261XY'],
    ['9999ZZ', '9999ZZ'],
  ])('%j → %s', (input, expected) => {
    expect(normalisePostcode(input)).toBe(expected);
  });

  it.each(['0123AB', '123AB', '1234A', '1234ABC', '12345', 'AB1234', '1234-AB', '', '1234SA', '1234sd', '1234 SS', '1234ÄB'])('%j is not a postcode', (input) => {
    expect(normalisePostcode(input)).toBeNull();
  });

  it('normalises every spelling of a valid postcode to the canonical form', () => {
    fc.assert(
      fc.property(validPostcode.chain((p) => fc.tuple(fc.constant(p), spelled(p))), ([canonical, input]) => {
        expect(normalisePostcode(input)).toBe(canonical);
      }),
    );
  });

  it('reads postcodes already in stored form exactly as the pattern does', () => {
    // The stored form ('1234AB') skips the pattern; this is the pattern alone.
    const byPattern = (input: string): string | null => {
      const match = /^([1-9][0-9]{3})\s*([A-Za-z]{2})$/.exec(input.trim());
      if (!match) return null;
      const letters = match[2]!.toUpperCase();
      return NEVER_ISSUED.has(letters) ? null : `${match[1]}${letters}`;
    };
    const nearlyStored = fc.stringMatching(/^[0-9][0-9]{3}[A-Z]{2}$/);
    fc.assert(
      fc.property(fc.oneof(nearlyStored, fc.stringMatching(/^[0-9A-Za-z ]{6}$/), fc.constantFrom('1234SA', '1234SD', '1234SS', '1234SB', '0234AB')), (input) => {
        expect(normalisePostcode(input)).toBe(byPattern(input));
      }),
      { numRuns: 2_000 },
    );
  });

  it('never throws, answers null or a canonical postcode, and is idempotent', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.stringMatching(/^[0-9 ]{3,6}[a-zA-Z ]{0,4}$/)), (input) => {
        const result = normalisePostcode(input);
        if (result === null) return;
        expect(result).toMatch(/^[1-9][0-9]{3}[A-Z]{2}$/);
        expect(NEVER_ISSUED.has(result.slice(4))).toBe(false);
        expect(normalisePostcode(result)).toBe(result);
      }),
    );
  });

  it('postcodeArea is the four digits', () => {
    fc.assert(
      fc.property(validPostcode, (p) => {
        expect(postcodeArea(p)).toBe(p.slice(0, 4));
      }),
    );
  });
});

describe('normaliseAddition', () => {
  it.each([
    [undefined, ''],
    [null, ''],
    ['', ''],
    ['-bis ', 'BIS'],
    ['2 hoog', '2HOOG'],
    ['a.1/b', 'A1B'],
  ])('%j → %j', (input, expected) => {
    expect(normaliseAddition(input)).toBe(expected);
  });

  it('is idempotent and leaves no separators or lower case', () => {
    fc.assert(
      fc.property(fc.string(), (input) => {
        const once = normaliseAddition(input);
        expect(normaliseAddition(once)).toBe(once);
        expect(once).not.toMatch(/[\s.\-/]/);
        expect(once).toBe(once.toUpperCase());
      }),
    );
  });
});

describe('addressKey', () => {
  const address = fc.record({
    postcode: validPostcode,
    houseNumber: fc.integer({ min: 1, max: 99_999 }),
    houseLetter: fc.option(fc.constantFrom(...LETTERS), { nil: undefined }),
    houseNumberAddition: fc.option(fc.stringMatching(/^[A-Z0-9]{1,4}$/), { nil: undefined }),
  });

  it('gives one key for every spelling of one address', () => {
    expect(addressKey({ postcode: '1234 ab', houseNumber: 12, houseLetter: 'a', houseNumberAddition: '-2' })).toBe(
      addressKey({ postcode: '1234AB', houseNumber: 12, houseLetter: 'A', houseNumberAddition: '2' }),
    );
    fc.assert(
      fc.property(
        address.chain((a) =>
          fc.tuple(fc.constant(a), spelled(a.postcode), fc.boolean(), fc.stringMatching(/^[ \-.]{0,2}$/)).map(([original, postcode, lower, separator]) => ({
            original,
            respelled: {
              ...original,
              postcode,
              houseLetter: lower ? original.houseLetter?.toLowerCase() : original.houseLetter,
              houseNumberAddition: original.houseNumberAddition === undefined ? undefined : separator + original.houseNumberAddition.toLowerCase(),
            },
          })),
        ),
        ({ original, respelled }) => {
          expect(addressKey(respelled)).toBe(addressKey(original));
        },
      ),
    );
  });

  it('gives different addresses different keys', () => {
    fc.assert(
      fc.property(address, address, (a, b) => {
        const same =
          a.postcode === b.postcode &&
          a.houseNumber === b.houseNumber &&
          (a.houseLetter ?? '') === (b.houseLetter ?? '') &&
          (a.houseNumberAddition ?? '') === (b.houseNumberAddition ?? '');
        expect(addressKey(a) === addressKey(b)).toBe(same);
      }),
    );
  });

  it('keeps house letter and addition apart (12A is not 12-A)', () => {
    expect(addressKey({ postcode: '1234AB', houseNumber: 12, houseLetter: 'A' })).not.toBe(addressKey({ postcode: '1234AB', houseNumber: 12, houseNumberAddition: 'A' }));
  });
});
