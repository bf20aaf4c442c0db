import type { AppContext } from '../context.js';
import { withTransaction } from '../db/pool.js';
import { escalate, overdueCounts } from '../db/taskWork.js';
import { dutchToday } from '../domain/dates.js';

/**
 * Marks open tasks whose first contact attempt is overdue. Returns how many were newly marked.
 *
 * A task is overdue when it is open or claimed, has no contact attempt yet, and its due date
 * lies before today in the Netherlands (ctx.now(), Europe/Amsterdam): the due date itself is
 * the last day on time. Due dates already count working days (the evaluation sets them with
 * addWorkingDays), so this only compares calendar dates. `overdue` raises a task to the top of
 * the queue; a task that no longer qualifies (its due date moved on re-evaluation) is cleared.
 * Each change gets a history record with no actor. Running it twice changes nothing more, and
 * the maintenance worker runs it on one replica at a time under an advisory lock.
 */
export async function escalateOverdueTasks(ctx: AppContext): Promise<number> {
  const at = ctx.now();
  const today = dutchToday(at);
  const { marked, cleared } = await withTransaction(ctx.pool, (tx) => escalate(tx, today, at));
  const counts = await overdueCounts(ctx.pool);
  for (const { municipality, overdue } of counts) ctx.metrics.tasksOverdue.set({ municipality }, overdue);
  ctx.logger.info({ today, marked, cleared, overdue: counts.reduce((sum, c) => sum + c.overdue, 0) }, 'escalation run');
  return marked;
}
