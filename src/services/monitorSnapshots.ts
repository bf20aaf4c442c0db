import type { AppContext } from '../context.js';
import { listSnapshots, takeSnapshot } from '../db/monitorSnapshots.js';
import type { Actor } from '../domain/apiKey.js';
import { dutchToday } from '../domain/dates.js';
import { scopeOf } from './monitoring.js';

/**
 * The work stock over time: a daily snapshot (maintenance job `monitor-snapshot`,
 * MONITOR_SNAPSHOT_CRON) of the open, claimed and overdue tasks per municipality and team,
 * and its read for coordinators. Live monitoring counts events in a period; which tasks were
 * claimed or overdue on a past day it cannot rebuild, hence the snapshot.
 */

/** Takes today's snapshot (Europe/Amsterdam), replacing one taken earlier today. Idempotent. */
export async function takeMonitorSnapshot(ctx: AppContext): Promise<number> {
  const at = ctx.now();
  const takenOn = dutchToday(at);
  const rows = await takeSnapshot(ctx.pool, takenOn, at);
  ctx.logger.info({ takenOn, rows }, 'monitor snapshot');
  return rows;
}

/** At most this many days per work-stock read (a year and a leap day). */
export const MAX_WORK_STOCK_DAYS = 366;

export interface WorkStockDay {
  date: string;
  municipality: string;
  team: string | null;
  tasksOpen: number;
  tasksClaimed: number;
  tasksOverdue: number;
  oldestOpenSince: string | null;
}

export interface WorkStock {
  from: string;
  to: string;
  municipalities: string[];
  days: WorkStockDay[];
}

/** The snapshots in the period, for the municipalities the actor may see (MonitoringScopeError otherwise). */
export async function workStock(ctx: AppContext, actor: Actor, query: { from: string; to: string; municipality?: string | undefined }): Promise<WorkStock> {
  const municipalities = await scopeOf(ctx, actor, query);
  const rows = await listSnapshots(ctx.pool, municipalities, query.from, query.to);
  return {
    from: query.from,
    to: query.to,
    municipalities,
    days: rows.map((r) => ({
      date: r.takenOn,
      municipality: r.municipality,
      team: r.team,
      tasksOpen: r.tasksOpen,
      tasksClaimed: r.tasksClaimed,
      tasksOverdue: r.tasksOverdue,
      oldestOpenSince: r.oldestOpenSince?.toISOString() ?? null,
    })),
  };
}
