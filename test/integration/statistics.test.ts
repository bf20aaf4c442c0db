import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANALYZE_THRESHOLD, BURST_STATISTICS_TARGET, FAST_GROWING_TABLES, staleStatistics } from '../../src/db/statistics.js';
import { keepStatistics } from '../../src/services/statistics.js';
import { createTestContext, seedMunicipality, type TestContext } from '../helpers/context.js';

/**
 * Planner statistics during bursts: a table that grew past the threshold is analyzed, one that
 * did not is left alone, and evaluation's lookups by household then use the indexes.
 */

let t: TestContext;
beforeAll(async () => {
  t = await createTestContext('statistics');
  await seedMunicipality(t.ctx, '1916', ['2261']);
});
afterAll(async () => {
  await t.close();
});

const SMALL = { minimumChanges: 1_000, fraction: 0.5 };

async function lastAnalyzed(table: string): Promise<Date | null> {
  const { rows } = await t.ctx.pool.query<{ at: Date | null }>(
    `select coalesce(last_analyze, last_autoanalyze) as at from pg_stat_user_tables where relid = $1::regclass`,
    [table],
  );
  return rows[0]!.at;
}

async function addHouseholds(from: number, count: number): Promise<void> {
  const client = await t.ctx.pool.connect();
  try {
    await client.query(
      `insert into households (address_key, municipality_code, postcode, house_number)
       select '2261AA|' || g || '||', '1916', '2261AA', g from generate_series($1::int, $1::int + $2::int - 1) g`,
      [from, count],
    );
    // Counters reach pg_stat_user_tables when a session flushes them (at most once a second).
    await client.query('select pg_stat_force_next_flush()');
  } finally {
    client.release();
  }
  await new Promise((resolve) => setTimeout(resolve, 50));
}

describe('planner statistics', () => {
  it('analyzes a table as soon as it has rows, then again once it grew past the threshold, and leaves it alone below', async () => {
    expect(FAST_GROWING_TABLES).toContain('households');
    expect(ANALYZE_THRESHOLD.minimumChanges).toBeGreaterThan(SMALL.minimumChanges);

    // Rows in a table never analyzed with rows: the planner knows nothing of its keys yet.
    await addHouseholds(1, 500);
    expect(await staleStatistics(t.ctx.pool, FAST_GROWING_TABLES, SMALL)).toEqual(['households']);
    await keepStatistics(t.ctx, SMALL);
    const first = await lastAnalyzed('households');
    expect(first).not.toBeNull();

    // Below the threshold (1,000 + half of 500): left alone.
    await addHouseholds(501, 400);
    expect(await staleStatistics(t.ctx.pool, FAST_GROWING_TABLES, SMALL)).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 1_050)); // it looks at most once a second
    await keepStatistics(t.ctx, SMALL);
    expect(await lastAnalyzed('households')).toEqual(first);

    await addHouseholds(1_001, 2_000);
    expect(await staleStatistics(t.ctx.pool, FAST_GROWING_TABLES, SMALL)).toEqual(['households']);
    await new Promise((resolve) => setTimeout(resolve, 1_050));
    await keepStatistics(t.ctx, SMALL);
    expect((await lastAnalyzed('households'))!.getTime()).toBeGreaterThan(first!.getTime());
    expect(await staleStatistics(t.ctx.pool, FAST_GROWING_TABLES, SMALL)).toEqual([]);

    // With statistics, a chunk of households by id is an index lookup, not a scan of the table.
    const { rows } = await t.ctx.pool.query<{ 'QUERY PLAN': string }>(
      `explain select id, municipality_code, postcode from households where id = any($1)`,
      [Array.from({ length: 20 }, (_, i) => i + 1)],
    );
    expect(rows.map((r) => r['QUERY PLAN']).join('\n')).toMatch(/Index|Bitmap/);
  });

  it('samples a small part of a large table, still counts its rows right, and leaves the connection as it was', async () => {
    await addHouseholds(10_001, 30_000);
    await new Promise((resolve) => setTimeout(resolve, 1_050));
    await keepStatistics(t.ctx, SMALL);
    const { rows } = await t.ctx.pool.query<{ reltuples: number; bounds: number | null }>(
      `select c.reltuples::float8 as reltuples,
              (select array_length(histogram_bounds::text::text[], 1) from pg_stats
                where schemaname = current_schema() and tablename = 'households' and attname = 'id') as bounds
         from pg_class c where c.oid = 'households'::regclass`,
    );
    // 32,900 rows, counted from a sample of 300 × target rows.
    expect(rows[0]!.reltuples).toBeGreaterThan(32_900 * 0.95);
    expect(rows[0]!.reltuples).toBeLessThan(32_900 * 1.05);
    // A histogram of at most target + 1 bounds: the small sample was used.
    expect(rows[0]!.bounds).toBeLessThanOrEqual(BURST_STATISTICS_TARGET + 1);
    // `set local`: no pooled connection keeps the small target for its own ANALYZE.
    const clients = await Promise.all(Array.from({ length: 3 }, () => t.ctx.pool.connect()));
    try {
      for (const client of clients) {
        const { rows: shown } = await client.query<{ default_statistics_target: string }>('show default_statistics_target');
        expect(shown[0]!.default_statistics_target).not.toBe(String(BURST_STATISTICS_TARGET));
      }
    } finally {
      for (const client of clients) client.release();
    }
  });

  it('sees a table grow by its size on disk before the change counters report it', async () => {
    const writer = await t.ctx.pool.connect();
    try {
      // Rows of a transaction still open: the table is larger at once, the counters say nothing yet.
      await writer.query('begin');
      await writer.query(
        `insert into households (address_key, municipality_code, postcode, house_number)
         select '2262AA|' || g || '||', '1916', '2262AA', g from generate_series(1, 40000) g`,
      );
      const { rows } = await t.ctx.pool.query<{ n: number }>(`select n_mod_since_analyze::int as n from pg_stat_user_tables where relid = 'households'::regclass`);
      expect(rows[0]!.n).toBeLessThan(SMALL.minimumChanges);
      expect(await staleStatistics(t.ctx.pool, FAST_GROWING_TABLES, SMALL)).toEqual(['households']);
    } finally {
      await writer.query('rollback');
      writer.release();
    }
  });
});
