import { createRoute, z } from '@hono/zod-openapi';
import { SIGNAL_STATUS_CODES, TASK_RESULT_CODES } from '../../domain/codes.js';
import { GROUP_BYS, MonitoringScopeError, monitoringSummary, summaryCsv } from '../../services/monitoring.js';
import { MAX_WORK_STOCK_DAYS, workStock } from '../../services/monitorSnapshots.js';
import type { ApiApp } from '../env.js';
import { assertRole, audit } from '../middleware/auth.js';
import { apiVersionHeader, errorResponses, jsonResponse, security } from '../openapi.js';
import { problem } from '../problem.js';

/**
 * Monitoring of reach and results (coordinator: own municipality; admin: all, or one). The
 * definitions of every figure live with the SQL in db/monitoring.ts and services/monitoring.ts.
 */

const tags = ['Monitoring'];

const summaryQuery = z
  .object({
    from: z.iso.date().openapi({ description: 'First day of the period (Europe/Amsterdam)', example: '2025-01-01' }),
    to: z.iso.date().openapi({ description: 'Last day of the period, inclusive', example: '2025-06-30' }),
    groupBy: z.enum(GROUP_BYS).openapi({
      description:
        'partnerType; team; rule (every rule in the task explanation); month (of each event); channel (of the first contact attempt)',
    }),
    municipality: z.string().regex(/^[0-9]{4}$/, 'a municipality is its 4-digit CBS code').optional().openapi({ description: 'Only this municipality (for keys that see several)' }),
  })
  .strict()
  .superRefine((q, ctx) => {
    if (q.from > q.to) ctx.addIssue({ code: 'custom', path: ['to'], message: 'to must not be before from' });
  });

const rate = (description: string) => z.number().min(0).max(1).nullable().openapi({ description: `${description}; null when the denominator is 0` });
const days = (description: string) => z.number().nullable().openapi({ description: `${description}; null without first attempts` });

const rowSchema = z
  .object({
    group: z.string().nullable().openapi({ description: 'The group; null = no team / no rule fired / no contact attempt yet' }),
    signals: z.number().int().openapi({ description: 'Signals received in the period' }),
    households: z.number().int().openapi({ description: 'Distinct households with a signal received in the period' }),
    householdsSingle: z.number().int().openapi({ description: 'Households with exactly one signal in the period' }),
    householdsMultiple: z.number().int().openapi({ description: 'Households with two or more signals in one calendar month' }),
    householdsRepeat: z.number().int().openapi({ description: 'Households with an earlier signal in the 6 months before (earlier calendar month)' }),
    signalsSuppressed: z.number().int().openapi({ description: 'Signals received in the period that were not approached (any status but not_yet_picked_up / picked_up)' }),
    suppressedByStatus: z.array(z.object({ status: z.enum(SIGNAL_STATUS_CODES), signals: z.number().int() })),
    tasksOpened: z.number().int().openapi({ description: 'Outreach tasks created in the period (suppressed tasks excluded)' }),
    tasksClosed: z.number().int().openapi({ description: 'Outreach tasks closed in the period' }),
    tasksOpen: z.number().int().openapi({ description: 'Outreach tasks not closed at the end of the period (of the month, for groupBy=month)' }),
    tasksClosedReached: z.number().int().openapi({ description: 'Closed tasks with at least one contact attempt that reached the resident' }),
    reachRate: rate('tasksClosedReached ÷ tasksClosed'),
    results: z.array(z.object({ result: z.enum(TASK_RESULT_CODES), tasks: z.number().int() })).openapi({ description: 'Results of the tasks closed in the period' }),
    tasksAcceptedHelp: z.number().int().openapi({ description: 'Closed with advice_or_quick_fix or a follow_up_or_referral result' }),
    acceptedHelpRate: rate('tasksAcceptedHelp ÷ tasksClosed'),
    firstAttempts: z.number().int().openapi({ description: 'Tasks whose first contact attempt falls in the period' }),
    medianWorkingDaysToFirstAttempt: days('Median working days from the day the first signal was received to the first attempt'),
    p90WorkingDaysToFirstAttempt: days('90th percentile of the same'),
    firstAttemptsWithDue: z.number().int().openapi({ description: 'Of firstAttempts, those whose task has a due day' }),
    firstAttemptsOnTime: z.number().int().openapi({ description: 'Of those, first attempts on or before the due day' }),
    onTimeRate: rate('firstAttemptsOnTime ÷ firstAttemptsWithDue'),
    timesFired: z.number().int().optional().openapi({ description: 'groupBy=rule: tasks created in the period (suppressed ones included) whose explanation lists the rule' }),
  })
  .openapi('MonitoringRow');

const summarySchema = z
  .object({
    from: z.iso.date(),
    to: z.iso.date(),
    groupBy: z.enum(GROUP_BYS),
    municipalities: z.array(z.string()),
    rows: z.array(rowSchema),
    total: rowSchema,
  })
  .openapi('MonitoringSummary');

/** Whether the client asked for CSV: text/csv listed with a weight above that of JSON. */
function wantsCsv(accept: string | undefined): boolean {
  if (!accept) return false;
  const weight = (type: string) => {
    for (const part of accept.split(',')) {
      const [media, ...params] = part.trim().split(';').map((s) => s.trim().toLowerCase());
      if (media !== type) continue;
      const q = params.find((p) => p.startsWith('q='));
      return q ? Number(q.slice(2)) || 0 : 1;
    }
    return 0;
  };
  const csv = weight('text/csv');
  return csv > 0 && csv >= weight('application/json');
}

const workStockQuery = z
  .object({
    from: z.iso.date().openapi({ description: 'First day', example: '2025-01-01' }),
    to: z.iso.date().openapi({ description: `Last day, inclusive; at most ${MAX_WORK_STOCK_DAYS} days after from`, example: '2025-06-30' }),
    municipality: z.string().regex(/^[0-9]{4}$/, 'a municipality is its 4-digit CBS code').optional().openapi({ description: 'Only this municipality (for keys that see several)' }),
  })
  .strict()
  .superRefine((q, ctx) => {
    if (q.from > q.to) ctx.addIssue({ code: 'custom', path: ['to'], message: 'to must not be before from' });
    else if ((Date.parse(q.to) - Date.parse(q.from)) / 86_400_000 >= MAX_WORK_STOCK_DAYS) {
      ctx.addIssue({ code: 'custom', path: ['to'], message: `the period is at most ${MAX_WORK_STOCK_DAYS} days` });
    }
  });

const workStockSchema = z
  .object({
    from: z.iso.date(),
    to: z.iso.date(),
    municipalities: z.array(z.string()),
    days: z.array(
      z
        .object({
          date: z.iso.date().openapi({ description: 'The day the snapshot describes (taken at its end, MONITOR_SNAPSHOT_CRON)' }),
          municipality: z.string(),
          team: z.string().nullable().openapi({ description: 'null = tasks without a team' }),
          tasksOpen: z.number().int().openapi({ description: 'Open tasks (not claimed)' }),
          tasksClaimed: z.number().int(),
          tasksOverdue: z.number().int().openapi({ description: 'Open or claimed tasks without a first contact attempt by their due day' }),
          oldestOpenSince: z.string().nullable().openapi({ format: 'date-time', description: 'When the oldest open task was created; null without open tasks' }),
        })
        .openapi('WorkStockDay'),
    ).openapi({ description: 'By municipality, day and team (no team last); days without a snapshot are absent' }),
  })
  .openapi('WorkStock');

export function registerMonitoringRoutes(v1: ApiApp): void {
  v1.openapi(
    createRoute({
      method: 'get',
      path: '/monitoring/work-stock',
      tags,
      summary: 'The work stock at the end of each day: open, claimed and overdue tasks per team (coordinator: own municipality; admin: all)',
      security,
      request: { query: workStockQuery },
      responses: { 200: jsonResponse('The daily snapshots in the period', workStockSchema), ...errorResponses(403, 404) },
    }),
    async (c) => {
      const actor = c.get('actor');
      assertRole(actor, 'coordinator', 'admin');
      const query = c.req.valid('query');
      let stock;
      try {
        stock = await workStock(c.get('ctx'), actor, query);
      } catch (error) {
        if (error instanceof MonitoringScopeError) throw problem.notFound(error.message);
        throw error;
      }
      await audit(c, { action: 'monitoring.read', objectType: 'work-stock', objectId: `${query.from}..${query.to}`, municipality: query.municipality ?? actor.municipality });
      return c.json(stock, 200);
    },
  );

  const ok = jsonResponse('The figures per group and in total', summarySchema);
  v1.openapi(
    createRoute({
      method: 'get',
      path: '/monitoring/summary',
      tags,
      summary: 'Reach and results per partner type, team, rule, month or channel (coordinator: own municipality; admin: all)',
      description:
        'Every figure counts its own event in the period (signal received, task created, task closed, first contact attempt). `Accept: text/csv` returns the same table as CSV, with a last row `(total)`.',
      security,
      request: { query: summaryQuery },
      responses: {
        200: { ...ok, headers: apiVersionHeader, content: { ...ok.content, 'text/csv': { schema: z.string().openapi({ description: 'The rows, then (total)' }) } } },
        ...errorResponses(403, 404),
      },
    }),
    async (c) => {
      const actor = c.get('actor');
      assertRole(actor, 'coordinator', 'admin');
      const query = c.req.valid('query');
      let summary;
      try {
        summary = await monitoringSummary(c.get('ctx'), actor, query);
      } catch (error) {
        if (error instanceof MonitoringScopeError) throw problem.notFound(error.message);
        throw error;
      }
      const csv = wantsCsv(c.req.header('accept'));
      await audit(c, {
        action: csv ? 'monitoring.export' : 'monitoring.read',
        objectType: 'monitoring-summary',
        objectId: `${query.from}..${query.to} by ${query.groupBy}`,
        municipality: query.municipality ?? actor.municipality,
      });
      if (csv) {
        const filename = `monitoring-${query.groupBy}-${query.from}-${query.to}.csv`;
        return c.body(summaryCsv(summary), 200, {
          'Content-Type': 'text/csv; charset=utf-8',
          'Content-Disposition': `attachment; filename="${filename}"`,
          Vary: 'Accept',
        });
      }
      return c.json(summary, 200, { Vary: 'Accept' });
    },
  );
}
