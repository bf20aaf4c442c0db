import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Pool } from './pool.js';

const MIGRATIONS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');

/**
 * Applies the plain-SQL migrations in src/db/migrations in name order, each in its own
 * transaction, under an advisory lock so that several replicas starting at once apply each
 * migration exactly once. Returns the names applied by this call. `until` stops after the
 * migration of that name (an upgrade test starts from an older schema that way).
 */
export async function migrate(pool: Pool, schema: string, options: { until?: string } = {}): Promise<string[]> {
  const client = await pool.connect();
  const applied: string[] = [];
  try {
    await client.query(`create schema if not exists "${schema}"`);
    await client.query('select pg_advisory_lock(hashtext($1))', [`vroegsein:migrate:${schema}`]);
    try {
      await client.query(`create table if not exists "${schema}".schema_migrations (name text primary key, applied_at timestamptz not null default now())`);
      const done = new Set((await client.query<{ name: string }>(`select name from "${schema}".schema_migrations`)).rows.map((r) => r.name));
      const files = (await readdir(MIGRATIONS_DIR)).filter((f) => f.endsWith('.sql')).sort();
      for (const file of files) {
        if (options.until !== undefined && file > options.until) break;
        if (done.has(file)) continue;
        const sql = await readFile(path.join(MIGRATIONS_DIR, file), 'utf8');
        await client.query('begin');
        try {
          await client.query(`set local search_path to "${schema}", public`);
          await client.query(sql);
          await client.query(`insert into "${schema}".schema_migrations (name) values ($1)`, [file]);
          await client.query('commit');
          applied.push(file);
        } catch (error) {
          await client.query('rollback');
          throw new Error(`migration ${file} failed: ${(error as Error).message}`, { cause: error });
        }
      }
    } finally {
      await client.query('select pg_advisory_unlock(hashtext($1))', [`vroegsein:migrate:${schema}`]);
    }
  } finally {
    client.release();
  }
  return applied;
}
