import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { findApiKey, listApiKeyPage, revokeApiKey } from '../../db/apiKeys.js';
import { changeRecord, recordAudit } from '../../db/audit.js';
import { withTransaction } from '../../db/pool.js';
import { ROLES } from '../../domain/apiKey.js';
import { PARTNER_TYPE_CODES } from '../../domain/codes.js';
import { ApiKeyInputError, createApiKey, rotateApiKey } from '../../services/apiKeys.js';
import type { ApiApp, ApiEnv } from '../env.js';
import { assertRole, auditSource, canSeeMunicipality } from '../middleware/auth.js';
import { decodeCursor, emptyResponse, encodeCursor, errorResponses, jsonResponse, pagingQuery, security } from '../openapi.js';
import { problem } from '../problem.js';

const apiKeyInput = z
  .object({
    role: z.enum(ROLES),
    label: z.string().trim().min(1).max(200),
    municipality: z.string().regex(/^[0-9]{4}$/).optional(),
    partnerTypes: z.array(z.enum(PARTNER_TYPE_CODES)).min(1).max(20).optional(),
    teams: z.array(z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/)).max(50).optional(),
  })
  .strict()
  .openapi('ApiKeyInput');

const createdKey = z
  .object({ id: z.string().uuid(), key: z.string().openapi({ description: 'The key itself; shown once, only its hash is stored' }) })
  .openapi('CreatedApiKey');

const keyListing = z
  .object({
    id: z.string().uuid(),
    prefix: z.string().openapi({ description: 'The first 8 characters of the key, to recognise it; the key itself is never shown again' }),
    role: z.enum(ROLES),
    municipality: z.string().nullable(),
    partnerTypes: z.array(z.enum(PARTNER_TYPE_CODES)).nullable(),
    teams: z.array(z.string()).nullable(),
    label: z.string(),
    createdAt: z.string().openapi({ format: 'date-time' }),
    lastUsedAt: z.string().nullable().openapi({ format: 'date-time', description: 'To the minute' }),
    revokedAt: z.string().nullable().openapi({ format: 'date-time' }),
  })
  .openapi('ApiKey');

const rotatedKey = createdKey.extend({ previousId: z.string().uuid().openapi({ description: 'The key that was revoked' }) }).openapi('RotatedApiKey');
const keyId = z.object({ id: z.string().uuid().openapi({ param: { name: 'id', in: 'path' } }) });

/** The active key `id` if this admin may manage it; 404 otherwise, also for another municipality's key. */
async function manageableKey(c: Context<ApiEnv>, id: string) {
  const key = await findApiKey(c.get('ctx').pool, id);
  if (!key || key.revoked_at || !canSeeMunicipality(c.get('actor'), key.municipality_code)) throw problem.notFound('No such active API key');
  return key;
}

export function registerApiKeyRoutes(v1: ApiApp): void {
  v1.openapi(
    createRoute({
      method: 'get',
      path: '/api-keys',
      tags: ['API keys'],
      summary: "The API keys, newest first (admin: an admin of one municipality sees that municipality's keys)",
      security,
      request: { query: z.object(pagingQuery).strict() },
      responses: { 200: jsonResponse('One page of keys', z.object({ apiKeys: z.array(keyListing), nextCursor: z.string().nullable() }).openapi('ApiKeyPage')), ...errorResponses(403) },
    }),
    async (c) => {
      const actor = c.get('actor');
      assertRole(actor, 'admin');
      const { limit, cursor } = c.req.valid('query');
      const decoded = decodeCursor(cursor);
      const afterId = decoded?.length === 1 && typeof decoded[0] === 'string' && z.string().uuid().safeParse(decoded[0]).success ? decoded[0] : null;
      if (cursor !== undefined && afterId === null) throw problem.badRequest('Invalid cursor', [{ pointer: '/query/cursor', detail: 'not a cursor of this list' }]);
      const rows = await listApiKeyPage(c.get('ctx').pool, { municipality: actor.municipality, afterId, limit: limit + 1 });
      const shown = rows.slice(0, limit);
      return c.json(
        {
          apiKeys: shown.map((k) => ({
            ...k,
            createdAt: k.createdAt.toISOString(),
            lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
            revokedAt: k.revokedAt?.toISOString() ?? null,
          })),
          nextCursor: rows.length > limit ? encodeCursor([shown[shown.length - 1]!.id]) : null,
        },
        200,
      );
    },
  );

  v1.openapi(
    createRoute({
      method: 'post',
      path: '/api-keys/{id}/rotate',
      tags: ['API keys'],
      summary: 'Replace an active key by a new one with the same role, scope and label, and revoke it (admin); the new key is in the answer once',
      security,
      request: { params: keyId },
      responses: { 201: jsonResponse('Rotated', rotatedKey), ...errorResponses(403, 404) },
    }),
    async (c) => {
      assertRole(c.get('actor'), 'admin');
      const { id } = c.req.valid('param');
      const key = await manageableKey(c, id);
      const source = auditSource(c);
      const rotated = await withTransaction(c.get('ctx').pool, async (tx) => {
        const result = await rotateApiKey(tx, id);
        if (result) {
          await recordAudit(tx, changeRecord(source, { action: 'api-key.create', objectType: 'api-key', objectId: result.id, municipality: key.municipality_code }));
          await recordAudit(tx, changeRecord(source, { action: 'api-key.revoke', objectType: 'api-key', objectId: id, municipality: key.municipality_code }));
        }
        return result;
      });
      // Revoked meanwhile by another request.
      if (!rotated) throw problem.notFound('No such active API key');
      return c.json(rotated, 201);
    },
  );

  v1.openapi(
    createRoute({
      method: 'post',
      path: '/api-keys',
      tags: ['API keys'],
      summary: 'Create an API key (admin); the key is in the answer once',
      security,
      request: { body: { required: true, content: { 'application/json': { schema: apiKeyInput } } } },
      responses: { 201: jsonResponse('Created', createdKey), ...errorResponses(403) },
    }),
    async (c) => {
      const actor = c.get('actor');
      assertRole(actor, 'admin');
      const body = c.req.valid('json');
      // An admin bound to one municipality creates keys for that municipality only.
      if (actor.municipality && body.municipality !== actor.municipality) {
        throw problem.badRequest('The key must belong to your municipality', [{ pointer: '/municipality', detail: `must be ${actor.municipality}` }]);
      }
      try {
        const source = auditSource(c);
        const created = await withTransaction(c.get('ctx').pool, async (tx) => {
          const key = await createApiKey(tx, body);
          await recordAudit(tx, changeRecord(source, { action: 'api-key.create', objectType: 'api-key', objectId: key.id, municipality: body.municipality ?? null }));
          return key;
        });
        return c.json(created, 201);
      } catch (error) {
        if (error instanceof ApiKeyInputError) throw problem.badRequest(error.message, [{ pointer: error.pointer, detail: error.message }]);
        throw error;
      }
    },
  );

  v1.openapi(
    createRoute({
      method: 'delete',
      path: '/api-keys/{id}',
      tags: ['API keys'],
      summary: 'Revoke an API key (admin)',
      security,
      request: { params: keyId },
      responses: { 204: emptyResponse('Revoked'), ...errorResponses(403, 404) },
    }),
    async (c) => {
      assertRole(c.get('actor'), 'admin');
      const { id } = c.req.valid('param');
      const key = await manageableKey(c, id);
      const source = auditSource(c);
      const revoked = await withTransaction(c.get('ctx').pool, async (tx) => {
        const done = await revokeApiKey(tx, id);
        if (done) await recordAudit(tx, changeRecord(source, { action: 'api-key.revoke', objectType: 'api-key', objectId: id, municipality: key.municipality_code }));
        return done;
      });
      // Revoked meanwhile by another request: that request's record stands, this one finds nothing.
      if (!revoked) throw problem.notFound('No such active API key');
      return c.body(null, 204);
    },
  );
}
