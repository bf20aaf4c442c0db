import type { Client, Queryable } from './pool.js';

/**
 * Planner statistics of the tables that bulk intake and evaluation grow fastest. Without
 * current statistics PostgreSQL estimates "1,000 households by id" as a sizeable part of a table
 * it believes small, and scans the whole table for every chunk: evaluation of a large first
 * import then slows down with every chunk. Autovacuum analyzes too late for a burst (it looks
 * once a minute, and may be switched off); these functions let intake and evaluation do it as
 * soon as a table has grown enough.
 */

export const FAST_GROWING_TABLES = ['signals', 'households', 'tasks', 'task_signals'] as const;

export interface AnalyzeThreshold {
  /** Changed rows since the last ANALYZE before a table qualifies at all. */
  minimumChanges: number;
  /** …and this fraction of the rows the statistics last counted. */
  fraction: number;
}

/**
 * Growth by half again is enough: the planner scales its row estimates with the table's
 * current size, and what it needs from ANALYZE (how selective household_id is) changes slowly.
 */
export const ANALYZE_THRESHOLD: AnalyzeThreshold = { minimumChanges: 10_000, fraction: 0.5 };

/**
 * The tables of the current schema whose statistics are out of date by the threshold: by the
 * changes counted since the last ANALYZE, or by the table's size on disk. The counters reach
 * pg_stat_user_tables only when a busy backend gets round to reporting them, seconds late in a
 * burst; the size is current. A table with rows that was never analyzed with rows in it
 * (relpages 0) is always out of date: the planner then knows nothing of its keys and takes a
 * join on one for a join on a handful of values, scanning the whole table every time.
 */
export async function staleStatistics(db: Queryable, tables: readonly string[], threshold: AnalyzeThreshold): Promise<string[]> {
  const { rows } = await db.query<{ relname: string }>(
    `select c.relname
       from pg_class c join pg_stat_user_tables s on s.relid = c.oid
            cross join lateral (select pg_relation_size(c.oid) / current_setting('block_size')::float8 as pages) size
      where c.relnamespace = current_schema()::regnamespace and c.relname = any($1)
        and (s.n_mod_since_analyze >= $2 + $3 * greatest(c.reltuples, 0)
             or (c.relpages = 0 and size.pages > 0)
             or (c.relpages > 0 and c.reltuples >= 0
                 and size.pages * (c.reltuples / c.relpages) - c.reltuples >= $2 + $3 * c.reltuples))
      order by c.relname`,
    [tables, threshold.minimumChanges, threshold.fraction],
  );
  return rows.map((r) => r.relname);
}

/** The statistics target of the ANALYZE runs during bursts (PostgreSQL samples 300 × target rows). */
export const BURST_STATISTICS_TARGET = 10;

/**
 * ANALYZE one table, giving up at once when another ANALYZE (autovacuum's, or another
 * process's) holds the table: that one brings the statistics up to date as well.
 */
export async function analyzeTable(client: Client, table: (typeof FAST_GROWING_TABLES)[number]): Promise<boolean> {
  await client.query('begin');
  try {
    await client.query(`set local lock_timeout = '50ms'`);
    // A sample of 3,000 rows (statistics target 10) instead of 30,000: what the plans need
    // mid-burst is the table's size and how selective its keys are, which the small sample
    // gives as well, at a twentieth of the cost (a full ANALYZE of 200,000 signals took ~400 ms
    // of database CPU, a fifth of what the intake of those rows costs). Autovacuum's own
    // ANALYZE, at the configured target, refines the statistics later.
    await client.query(`set local default_statistics_target = ${BURST_STATISTICS_TARGET}`);
    await client.query(`analyze ${table}`);
    await client.query('commit');
    return true;
  } catch (error) {
    await client.query('rollback').catch(() => {});
    if ((error as { code?: string }).code === '55P03') return false; // lock_not_available
    throw error;
  }
}
