import type { Queryable } from './pool.js';

/**
 * Daily snapshots of the work stock (migration 170): open, claimed and overdue tasks per
 * municipality and team, and since when the oldest open task waits.
 */

export interface SnapshotRow {
  takenOn: string;
  municipality: string;
  /** null: tasks without a team. */
  team: string | null;
  tasksOpen: number;
  tasksClaimed: number;
  tasksOverdue: number;
  oldestOpenSince: Date | null;
}

/**
 * Takes the snapshot of `takenOn` for every municipality: a row for each of its teams and one
 * for tasks without a team, zeros included, so a series has no gaps. Replaces an earlier
 * snapshot of the same day. Returns the number of rows written.
 */
export async function takeSnapshot(db: Queryable, takenOn: string, at: Date): Promise<number> {
  const { rowCount } = await db.query(
    `insert into monitor_snapshots as s (taken_on, municipality_code, team, tasks_open, tasks_claimed, tasks_overdue, oldest_open_since, taken_at)
     select $1::date, g.municipality_code, g.team,
            count(t.id) filter (where t.status = 'open'),
            count(t.id) filter (where t.status = 'claimed'),
            count(t.id) filter (where t.overdue),
            min(t.created_at) filter (where t.status = 'open'),
            $2::timestamptz
       from (select code as municipality_code, '' as team from municipalities
             union select municipality_code, id from teams
             -- a team that is no longer registered but still has tasks
             union select municipality_code, coalesce(team, '') from tasks where status <> 'closed') g
       left join tasks t on t.municipality_code = g.municipality_code and coalesce(t.team, '') = g.team and t.status <> 'closed'
      group by g.municipality_code, g.team
     on conflict (municipality_code, taken_on, team) do update set
        tasks_open = excluded.tasks_open, tasks_claimed = excluded.tasks_claimed, tasks_overdue = excluded.tasks_overdue,
        oldest_open_since = excluded.oldest_open_since, taken_at = excluded.taken_at`,
    [takenOn, at],
  );
  return rowCount ?? 0;
}

/** The snapshots of the municipalities from `from` to `to` (inclusive), by municipality, day and team (no team last). */
export async function listSnapshots(db: Queryable, municipalities: readonly string[], from: string, to: string): Promise<SnapshotRow[]> {
  const { rows } = await db.query<SnapshotRow>(
    `select to_char(taken_on, 'YYYY-MM-DD') as "takenOn", municipality_code as municipality, nullif(team, '') as team,
            tasks_open as "tasksOpen", tasks_claimed as "tasksClaimed", tasks_overdue as "tasksOverdue", oldest_open_since as "oldestOpenSince"
       from monitor_snapshots
      where municipality_code = any($1) and taken_on between $2::date and $3::date
      order by municipality_code, taken_on, team = '', team`,
    [municipalities, from, to],
  );
  return rows;
}
