import { createRoute, z } from '@hono/zod-openapi';
import { findApiKey, revokeApiKey } from '../../db/apiKeys.js';
import { changeRecord, recordAudit } from '../../db/audit.js';
import { withTransaction } from '../../db/pool.js';
import { ROLES } from '../../domain/apiKey.js';
import { PARTNER_TYPE_CODES } from '../../domain/codes.js';
import { ApiKeyInputError, createApiKey } from '../../services/apiKeys.js';
import type { ApiApp } from '../env.js';
import { assertRole, auditSource, canSeeMunicipality } from '../middleware/auth.js';
import { emptyResponse, errorResponses, jsonResponse, security } from '../openapi.js';
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

export function registerApiKeyRoutes(v1: ApiApp): void {
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
      request: { params: z.object({ id: z.string().uuid().openapi({ param: { name: 'id', in: 'path' } }) }) },
      responses: { 204: emptyResponse('Revoked'), ...errorResponses(403, 404) },
    }),
    async (c) => {
      const actor = c.get('actor');
      assertRole(actor, 'admin');
      const { id } = c.req.valid('param');
      const pool = c.get('ctx').pool;
      const key = await findApiKey(pool, id);
      if (!key || key.revoked_at || !canSeeMunicipality(actor, key.municipality_code)) throw problem.notFound('No such active API key');
      const source = auditSource(c);
      const revoked = await withTransaction(pool, async (tx) => {
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
