import type { AppContext } from '../context.js';
import { recordAudit } from '../db/audit.js';
import { withTransaction } from '../db/pool.js';
import { purgeExpired, type PurgeCounts } from '../db/retention.js';

/**
 * The daily retention run: purges personal data past its term and records what it purged in
 * the audit log, in one transaction (a purge without its audit record never happens).
 */
export async function runRetention(ctx: AppContext): Promise<PurgeCounts> {
  const now = ctx.now();
  const counts = await withTransaction(ctx.pool, async (tx) => {
    const purged = await purgeExpired(tx, { untaskedMonths: ctx.config.RETENTION_UNTASKED_MONTHS, closedTaskMonths: ctx.config.RETENTION_CLOSED_TASK_MONTHS }, now);
    await recordAudit(tx, {
      actorKeyId: null,
      actorLabel: 'retention',
      action: 'retention.purge',
      objectType: 'retention',
      objectId: `signals=${purged.signals};notes=${purged.notes};households=${purged.households};asOf=${now.toISOString()}`,
      result: 'success',
    });
    return purged;
  });
  ctx.logger.info({ ...counts }, 'retention run');
  return counts;
}
