import { createRoute, z } from '@hono/zod-openapi';
import { listAuditEvents, type AuditEventView } from '../../db/auditEvents.js';
import { isIsoDate } from '../../domain/dates.js';
import type { ApiApp } from '../env.js';
import { assertRole, audit } from '../middleware/auth.js';
import { apiVersionHeader, decodeCursor, encodeCursor, errorResponses, security, integerParameter } from '../openapi.js';
import { problem } from '../problem.js';

const auditEventSchema = z
  .object({
    id: z.number().int(),
    at: z.string(),
    actorKeyId: z.string().nullable(),
    actorLabel: z.string().nullable(),
    action: z.string(),
    objectType: z.string(),
    objectId: z.string().nullable(),
    municipality: z.string().nullable(),
    result: z.string(),
    origin: z.string().nullable(),
    requestId: z.string().nullable(),
  })
  .openapi('AuditEvent');

const isoDate = z.string().refine(isIsoDate, 'an ISO date (YYYY-MM-DD)');

const query = z
  .object({
    actor: z.string().uuid().optional().openapi({ description: 'Key id of the actor' }),
    object: z
      .string()
      .regex(/^[a-z-]+(:[^\s]+)?$/, 'objectType or objectType:objectId, e.g. task:42')
      .optional()
      .openapi({ description: 'objectType or objectType:objectId, e.g. `household:7`' }),
    from: isoDate.optional(),
    to: isoDate.optional(),
    municipality: z.string().regex(/^[0-9]{4}$/).optional().openapi({ description: 'Admins only: one municipality' }),
    limit: integerParameter(1, 10_000).default(100),
    cursor: z.string().max(200).optional(),
  })
  .strict();

const CSV_COLUMNS: (keyof AuditEventView)[] = ['id', 'at', 'actorKeyId', 'actorLabel', 'action', 'objectType', 'objectId', 'municipality', 'result', 'origin', 'requestId'];

function csvCell(value: unknown): string {
  const text = value === null || value === undefined ? '' : String(value);
  // Quote when needed; a leading formula character is neutralised against CSV injection.
  const safe = /^[=+\-@]/.test(text) ? `'${text}` : text;
  return /[",\n\r;]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function registerAuditRoutes(v1: ApiApp): void {
  v1.openapi(
    createRoute({
      method: 'get',
      path: '/audit-events',
      tags: ['Audit'],
      summary: 'The audit log, newest first (admin; coordinator for their municipality); Accept: text/csv for CSV',
      security,
      request: { query },
      responses: {
        200: {
          description: 'A page of audit events',
          headers: apiVersionHeader,
          content: {
            'application/json': { schema: z.object({ events: z.array(auditEventSchema), nextCursor: z.string().nullable() }).openapi('AuditEventPage') },
            'text/csv': { schema: z.string() },
          },
        },
        ...errorResponses(403),
      },
    }),
    async (c) => {
      const actor = c.get('actor');
      assertRole(actor, 'admin', 'coordinator');
      const q = c.req.valid('query');
      if (q.from && q.to && q.from > q.to) throw problem.badRequest('from lies after to', [{ pointer: '/query/from', detail: 'must not be after to' }]);
      if (q.municipality && actor.municipality && q.municipality !== actor.municipality) throw problem.notFound('No such municipality');
      // The cursor is the id of the last event of the previous page: a positive integer, else it
      // is no cursor of this list (and the statement could not take it).
      const cursor = decodeCursor(q.cursor);
      const beforeId = cursor?.length === 1 && Number.isSafeInteger(cursor[0]) && (cursor[0] as number) > 0 ? (cursor[0] as number) : undefined;
      if (q.cursor && beforeId === undefined) throw problem.badRequest('Invalid cursor', [{ pointer: '/query/cursor', detail: 'not a cursor of this list' }]);
      const [objectType, objectId] = q.object ? (q.object.split(/:(.*)/s) as [string, string | undefined]) : [undefined, undefined];
      const events = await listAuditEvents(c.get('ctx').pool, {
        municipality: actor.municipality ?? q.municipality ?? null,
        actor: q.actor,
        objectType,
        objectId: objectId || undefined,
        from: q.from,
        to: q.to,
        beforeId,
        limit: q.limit,
      });
      const nextCursor = events.length === q.limit ? encodeCursor([events[events.length - 1]!.id]) : null;
      // Reading the audit log is itself audited: who looked at whose actions.
      await audit(c, { action: 'audit.read', objectType: 'audit-events', objectId: q.object ?? q.actor ?? null, municipality: actor.municipality ?? q.municipality ?? null });
      if ((c.req.header('accept') ?? '').includes('text/csv')) {
        const lines = [CSV_COLUMNS.join(','), ...events.map((e) => CSV_COLUMNS.map((k) => csvCell(e[k])).join(','))];
        return c.body(lines.join('\r\n') + '\r\n', 200, { 'Content-Type': 'text/csv; charset=utf-8', ...(nextCursor ? { 'X-Next-Cursor': nextCursor } : {}) });
      }
      return c.json({ events, nextCursor }, 200);
    },
  );
}
