import fc from 'fast-check';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CopyTextRows, copyTextValue, type CopyFields } from '../../src/db/copyText.js';
import { isoTimestamp } from '../../src/db/simulation.js';

/** A value as PostgreSQL's COPY TO writes it in text format. */
function encode(value: string | null): string {
  if (value === null) return '\\N';
  return value.replace(/[\\\n\r\t\b\f\v]/g, (c) => ({ '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f', '\v': '\\v' })[c]!);
}

const field = fc.option(fc.string({ unit: fc.constantFrom('a', 'é', '€', '😀', '\\', '\t', '\n', '\r', 'N', 'x', '7', ' ') , maxLength: 8 }), { freq: 4 });

describe('COPY text format', () => {
  it('decodes every value COPY writes, null included', () => {
    fc.assert(fc.property(field, (value) => copyTextValue(encode(value)) === value));
    expect(copyTextValue('\\101\\x42\\7')).toBe('AB\u0007'); // octal and hex, as COPY FROM reads them
    expect(copyTextValue('')).toBe('');
  });

  it('reads rows back however the stream is cut, through multi-byte characters', async () => {
    const rows = fc.array(fc.array(field, { minLength: 2, maxLength: 4 }), { maxLength: 12 });
    const cuts = fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 50 });
    await fc.assert(
      fc.asyncProperty(rows, cuts, async (input, sizes) => {
        const bytes = Buffer.from(input.map((row) => row.map(encode).join('\t') + '\n').join(''), 'utf8');
        const pieces: Buffer[] = [];
        for (let at = 0, i = 0; at < bytes.length; i++) {
          const size = sizes[i % sizes.length]!;
          pieces.push(bytes.subarray(at, at + size));
          at += size;
        }
        const reader = new CopyTextRows(Readable.from(pieces));
        const read: CopyFields[] = [];
        for (let row = await reader.peek(); row; row = await reader.peek()) {
          read.push(row);
          reader.advance();
        }
        return reader.exhausted && JSON.stringify(read) === JSON.stringify(input);
      }),
      { numRuns: 300 },
    );
  });

  it('turns PostgreSQL UTC timestamps into ISO timestamps to the millisecond', () => {
    const instant = fc.record({ ms: fc.integer({ min: Date.UTC(1970, 0, 1), max: Date.UTC(2200, 0, 1) }), micro: fc.integer({ min: 0, max: 999 }) });
    fc.assert(
      fc.property(instant, ({ ms, micro }) => {
        const iso = new Date(ms).toISOString();
        // PostgreSQL writes the fraction only when there is one, without trailing zeros.
        const fraction = `${iso.slice(20, 23)}${String(micro).padStart(3, '0')}`.replace(/0+$/, '');
        const text = `${iso.slice(0, 10)} ${iso.slice(11, 19)}${fraction ? `.${fraction}` : ''}+00`;
        return isoTimestamp(text) === iso;
      }),
      { numRuns: 2_000 },
    );
  });
});
