import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { booleanArray, integerArray, textArray } from '../../src/db/arrayLiterals.js';
import { TEST_DATABASE_URL } from '../helpers/context.js';

/**
 * The array literals of the bulk statements, read back by PostgreSQL itself: whatever the
 * values, the array it parses is the one that was written.
 */

// Characters that matter to the array syntax, and some that do not; PostgreSQL text holds no NUL.
const awkward = fc.constantFrom('"', '\\', ',', '{', '}', ' ', '\t', '\n', 'N', 'U', 'L', 'a', 'é', '😀', "'", '(', ')');
const text = fc.oneof(
  fc.string({ unit: awkward, maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 12 }).filter((s) => !s.includes('\u0000')),
  fc.constantFrom('', 'NULL', 'null', ' NULL ', '{}', '""'),
);

describe('array literals', () => {
  let client: pg.Client;
  beforeAll(async () => {
    client = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await client.connect();
  });
  afterAll(async () => {
    await client.end();
  });

  it('text arrays: PostgreSQL reads back every string, empty, blank and NULL-looking ones included', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.option(text, { freq: 5 }), { maxLength: 20 }), async (values) => {
        const { rows } = await client.query<{ v: (string | null)[] }>('select $1::text[] as v', [textArray(values)]);
        expect(rows[0]!.v).toEqual(values);
      }),
      { numRuns: 300 },
    );
  });

  it('integer arrays: bigint and int, negative and null', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.option(fc.maxSafeInteger(), { freq: 6 }), { maxLength: 20 }), async (values) => {
        const { rows } = await client.query<{ v: (string | null)[] }>('select $1::bigint[]::text[] as v', [integerArray(values)]);
        expect(rows[0]!.v).toEqual(values.map((v) => (v === null ? null : String(v))));
      }),
      { numRuns: 200 },
    );
    const { rows } = await client.query<{ v: number[] }>('select $1::int[] as v', [integerArray([1, -2, 2_147_483_647])]);
    expect(rows[0]!.v).toEqual([1, -2, 2_147_483_647]);
    expect(() => integerArray([1.5])).toThrow(TypeError);
    expect(() => integerArray([Number.NaN])).toThrow(TypeError);
  });

  it('boolean arrays', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.boolean(), { maxLength: 20 }), async (values) => {
        const { rows } = await client.query<{ v: boolean[] }>('select $1::boolean[] as v', [booleanArray(values)]);
        expect(rows[0]!.v).toEqual(values);
      }),
      { numRuns: 50 },
    );
  });

  it('empty arrays are empty, not null', async () => {
    const { rows } = await client.query<{ t: string[]; i: string[]; b: boolean[] }>('select $1::text[] as t, $2::bigint[] as i, $3::boolean[] as b', [
      textArray([]),
      integerArray([]),
      booleanArray([]),
    ]);
    expect(rows[0]).toEqual({ t: [], i: [], b: [] });
  });
});
