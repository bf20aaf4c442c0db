import { createRoute, z } from '@hono/zod-openapi';
import { listMunicipalities, listTeams, municipalityExists } from '../../db/municipalities.js';
import { findRetention, type MunicipalityRetention } from '../../db/retention.js';
import type { Config } from '../../config.js';
import { saveMunicipality, saveRetention, saveTeam } from '../../services/municipalities.js';
import type { ApiApp } from '../env.js';
import { assertRole, auditSource, canSeeMunicipality } from '../middleware/auth.js';
import { errorResponses, jsonResponse, security } from '../openapi.js';
import { problem } from '../problem.js';

const code = z.string().regex(/^[0-9]{4}$/, 'a municipality is its 4-digit CBS code').openapi({ param: { name: 'code', in: 'path' }, example: '1916' });
const pc4 = z.string().regex(/^[1-9][0-9]{3}$/, 'a postcode area is 4 digits (PC4)');

const municipalitySchema = z
  .object({ code: z.string(), name: z.string(), postcodeAreas: z.array(z.string()), activeRuleSetVersion: z.number().int().nullable() })
  .openapi('Municipality');
const municipalityInput = z
  .object({ name: z.string().trim().min(1).max(200), postcodeAreas: z.array(pc4).max(2_000) })
  .strict()
  .openapi('MunicipalityInput');
const teamSchema = z.object({ id: z.string(), municipality: z.string(), name: z.string(), postcodeAreas: z.array(z.string()) }).openapi('Team');
const teamInput = z.object({ name: z.string().trim().min(1).max(200), postcodeAreas: z.array(pc4).max(2_000) }).strict().openapi('TeamInput');
const teamId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a team id is lower-case letters, digits and dashes')
  .openapi({ param: { name: 'teamId', in: 'path' }, example: 'noord' });

const months = z.number().int().min(1).max(120).nullable();
const retentionInput = z
  .object({
    untaskedMonths: months.openapi({ description: 'Signals of households that got no outreach (suppressed, not resident): months after the signal; null = the installation default' }),
    closedTaskMonths: months.openapi({ description: 'Closed tasks and their signals and notes: months after closing; null = the installation default' }),
  })
  .strict()
  .openapi('RetentionInput');
const retentionSchema = retentionInput
  .extend({
    municipality: z.string(),
    effective: z
      .object({ untaskedMonths: z.number().int(), closedTaskMonths: z.number().int() })
      .openapi({ description: 'The terms the daily retention run applies: the own ones, else the installation defaults' }),
  })
  .openapi('Retention');

function retentionView(retention: MunicipalityRetention, config: Config) {
  return {
    untaskedMonths: retention.untaskedMonths,
    closedTaskMonths: retention.closedTaskMonths,
    municipality: retention.municipality,
    effective: {
      untaskedMonths: retention.untaskedMonths ?? config.RETENTION_UNTASKED_MONTHS,
      closedTaskMonths: retention.closedTaskMonths ?? config.RETENTION_CLOSED_TASK_MONTHS,
    },
  };
}

export function registerMunicipalityRoutes(v1: ApiApp): void {
  v1.openapi(
    createRoute({
      method: 'put',
      path: '/municipalities/{code}',
      tags: ['Municipalities'],
      summary: 'Register or update a municipality and the postcode areas it serves (admin; an admin bound to a municipality: that one only)',
      security,
      request: { params: z.object({ code }), body: { required: true, content: { 'application/json': { schema: municipalityInput } } } },
      responses: {
        200: jsonResponse('Updated', municipalitySchema),
        201: jsonResponse('Created', municipalitySchema),
        ...errorResponses(403, 404, 409),
      },
    }),
    async (c) => {
      const actor = c.get('actor');
      assertRole(actor, 'admin');
      const { code } = c.req.valid('param');
      // An admin bound to one municipality manages that one only: it neither changes nor creates
      // another (404, as for every other municipality's object).
      if (!canSeeMunicipality(actor, code)) throw problem.notFound('No such municipality');
      const body = c.req.valid('json');
      const areas = [...new Set(body.postcodeAreas)].sort();
      const result = await saveMunicipality(c.get('ctx').pool, { code, name: body.name, postcodeAreas: areas }, auditSource(c));
      if (result.takenAreas.length > 0) {
        throw problem.conflict(`Postcode areas already served by another municipality: ${result.takenAreas.join(', ')}`);
      }
      const [saved] = await listMunicipalities(c.get('ctx').pool, code);
      return c.json(saved!, result.created ? 201 : 200);
    },
  );

  v1.openapi(
    createRoute({
      method: 'get',
      path: '/municipalities',
      tags: ['Municipalities'],
      summary: 'The municipalities this key may see',
      security,
      responses: { 200: jsonResponse('The municipalities', z.object({ municipalities: z.array(municipalitySchema) })), ...errorResponses() },
    }),
    async (c) => {
      const actor = c.get('actor');
      return c.json({ municipalities: await listMunicipalities(c.get('ctx').pool, actor.municipality) }, 200);
    },
  );

  v1.openapi(
    createRoute({
      method: 'put',
      path: '/municipalities/{code}/teams/{teamId}',
      tags: ['Municipalities'],
      summary: 'Create or update a team and the postcode areas whose households it serves (coordinator, admin)',
      security,
      request: { params: z.object({ code, teamId }), body: { required: true, content: { 'application/json': { schema: teamInput } } } },
      responses: { 200: jsonResponse('Updated', teamSchema), 201: jsonResponse('Created', teamSchema), ...errorResponses(403, 404) },
    }),
    async (c) => {
      const actor = c.get('actor');
      assertRole(actor, 'coordinator', 'admin');
      const { code, teamId } = c.req.valid('param');
      const pool = c.get('ctx').pool;
      if (!canSeeMunicipality(actor, code) || !(await municipalityExists(pool, code))) throw problem.notFound('No such municipality');
      const body = c.req.valid('json');
      const team = { id: teamId, municipality: code, name: body.name, postcodeAreas: [...new Set(body.postcodeAreas)].sort() };
      const { created } = await saveTeam(pool, team, auditSource(c));
      return c.json(team, created ? 201 : 200);
    },
  );

  v1.openapi(
    createRoute({
      method: 'get',
      path: '/municipalities/{code}/teams',
      tags: ['Municipalities'],
      summary: "A municipality's teams",
      security,
      request: { params: z.object({ code }) },
      responses: { 200: jsonResponse('The teams', z.object({ teams: z.array(teamSchema) })), ...errorResponses(403, 404) },
    }),
    async (c) => {
      const actor = c.get('actor');
      assertRole(actor, 'consultant', 'coordinator', 'admin');
      const { code } = c.req.valid('param');
      const pool = c.get('ctx').pool;
      if (!canSeeMunicipality(actor, code) || !(await municipalityExists(pool, code))) throw problem.notFound('No such municipality');
      return c.json({ teams: await listTeams(pool, code) }, 200);
    },
  );

  v1.openapi(
    createRoute({
      method: 'get',
      path: '/municipalities/{code}/retention',
      tags: ['Municipalities'],
      summary: "The municipality's retention terms and the ones the retention run applies (admin)",
      security,
      request: { params: z.object({ code }) },
      responses: { 200: jsonResponse('The terms', retentionSchema), ...errorResponses(403, 404) },
    }),
    async (c) => {
      const actor = c.get('actor');
      assertRole(actor, 'admin');
      const { code: municipality } = c.req.valid('param');
      const retention = canSeeMunicipality(actor, municipality) ? await findRetention(c.get('ctx').pool, municipality) : null;
      if (!retention) throw problem.notFound('No such municipality');
      return c.json(retentionView(retention, c.get('ctx').config), 200);
    },
  );

  v1.openapi(
    createRoute({
      method: 'put',
      path: '/municipalities/{code}/retention',
      tags: ['Municipalities'],
      summary: "Set the municipality's own retention terms, or null for the installation's (admin)",
      description: 'Applies from the next daily retention run (RETENTION_CRON). Shorter terms purge more at that run; the purge cannot be undone.',
      security,
      request: { params: z.object({ code }), body: { required: true, content: { 'application/json': { schema: retentionInput } } } },
      responses: { 200: jsonResponse('The terms now', retentionSchema), ...errorResponses(403, 404) },
    }),
    async (c) => {
      const actor = c.get('actor');
      assertRole(actor, 'admin');
      const { code: municipality } = c.req.valid('param');
      if (!canSeeMunicipality(actor, municipality)) throw problem.notFound('No such municipality');
      const body = c.req.valid('json');
      const retention = { municipality, untaskedMonths: body.untaskedMonths, closedTaskMonths: body.closedTaskMonths };
      if (!(await saveRetention(c.get('ctx').pool, retention, auditSource(c)))) throw problem.notFound('No such municipality');
      return c.json(retentionView(retention, c.get('ctx').config), 200);
    },
  );
}
