import { createRoute, z } from '@hono/zod-openapi';
import { SIGNAL_STATUS_CODES, TASK_RESULT_CODES } from '../../domain/codes.js';
import { GROUP_BYS, MonitoringScopeError, monitoringSummary, summaryCsv } from '../../services/monitoring.js';
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

export function registerMonitoringRoutes(v1: ApiApp): void {
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
