import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { municipalityExists } from '../../db/municipalities.js';
import { findVersion, listVersions } from '../../db/ruleSetVersions.js';
import { isIsoDate } from '../../domain/dates.js';
import { validateRuleSet } from '../../rules/validate.js';
import { InvalidRuleSetError, activateRuleSet, publishRuleSet, simulateRuleSet } from '../../services/ruleSets.js';
import type { ApiApp, ApiEnv } from '../env.js';
import { assertRole, audit, auditSource } from '../middleware/auth.js';
import { errorResponses, jsonResponse, security, integerParameter } from '../openapi.js';
import { problem } from '../problem.js';

const municipalityQuery = z
  .object({
    municipality: z.string().regex(/^[0-9]{4}$/).optional().openapi({ description: 'Admins without a municipality of their own name the municipality' }),
  })
  .strict();
const versionParam = z.object({ version: integerParameter(1, 1_000_000).openapi({ param: { name: 'version', in: 'path' }, example: 2 }) });
const isoDate = z.string().refine(isIsoDate, 'an ISO date (YYYY-MM-DD)');

const problemItem = z.object({ pointer: z.string(), detail: z.string() });
const versionSchema = z
  .object({ version: z.number().int(), name: z.string(), note: z.string().nullable(), authorLabel: z.string().nullable(), createdAt: z.string(), active: z.boolean() })
  .openapi('RuleSetVersion');
const ruleSetJson = z.record(z.string(), z.unknown()).openapi({ description: 'A rule set: { name, description, rules: [json-rules-engine rules] } (see rules/README.md)' });

const simulationSchema = z
  .object({
    activeVersion: z.number().int().nullable(),
    households: z.number().int(),
    changes: z.object({
      newlyApproached: z.number().int(),
      newlySuppressed: z.number().int(),
      priorityUp: z.number().int(),
      priorityDown: z.number().int(),
      prioritySame: z.number().int(),
      teamChanged: z.number().int(),
    }),
    biggestMovers: z.array(
      z.object({
        householdId: z.union([z.number(), z.string()]),
        priorityBefore: z.number().int(),
        priorityAfter: z.number().int(),
        suppressedBefore: z.string().nullable(),
        suppressedAfter: z.string().nullable(),
        rulesAdded: z.array(z.string()),
        rulesRemoved: z.array(z.string()),
      }),
    ),
    priorityDistribution: z.array(z.object({ bucket: z.string(), before: z.number().int(), after: z.number().int() })),
    rules: z.array(z.object({ name: z.string(), firedBefore: z.number().int(), firedAfter: z.number().int() })),
  })
  .openapi('Simulation');

/** The municipality a rule-set request is about: the key's own, or (admins) the one named. */
async function municipalityOf(c: Context<ApiEnv>, named: string | undefined): Promise<string> {
  const actor = c.get('actor');
  assertRole(actor, 'coordinator', 'admin');
  const code = actor.municipality ?? named;
  if (!code) throw problem.badRequest('Name the municipality', [{ pointer: '/query/municipality', detail: 'required for a key without a municipality' }]);
  if (named && named !== code) throw problem.notFound('No such municipality');
  if (!(await municipalityExists(c.get('ctx').pool, code))) throw problem.notFound('No such municipality');
  return code;
}

function invalid(error: unknown): never {
  if (error instanceof InvalidRuleSetError) {
    throw problem.badRequest('The rule set is not valid', error.validation.errors.map((e) => ({ pointer: `/ruleSet${e.pointer}`, detail: e.detail })));
  }
  throw error;
}

export function registerRuleSetRoutes(v1: ApiApp): void {
  v1.openapi(
    createRoute({
      method: 'get',
      path: '/rule-sets',
      tags: ['Rule sets'],
      summary: "The municipality's rule-set versions, newest first",
      security,
      request: { query: municipalityQuery },
      responses: { 200: jsonResponse('The versions', z.object({ versions: z.array(versionSchema) })), ...errorResponses(403, 404) },
    }),
    async (c) => {
      const code = await municipalityOf(c, c.req.valid('query').municipality);
      return c.json({ versions: await listVersions(c.get('ctx').pool, code) }, 200);
    },
  );

  v1.openapi(
    createRoute({
      method: 'get',
      path: '/rule-sets/{version}',
      tags: ['Rule sets'],
      summary: 'One rule-set version with its rules',
      security,
      request: { params: versionParam, query: municipalityQuery },
      responses: { 200: jsonResponse('The version', versionSchema.extend({ ruleSet: ruleSetJson }).openapi('RuleSetVersionDetail')), ...errorResponses(403, 404) },
    }),
    async (c) => {
      const code = await municipalityOf(c, c.req.valid('query').municipality);
      const found = await findVersion(c.get('ctx').pool, code, c.req.valid('param').version);
      if (!found) throw problem.notFound('No such rule-set version');
      const { definition, ...version } = found;
      return c.json({ ...version, ruleSet: definition as Record<string, unknown> }, 200);
    },
  );

  v1.openapi(
    createRoute({
      method: 'post',
      path: '/rule-sets/validate',
      tags: ['Rule sets'],
      summary: 'Validate a rule set: errors and warnings with JSON pointers into it',
      security,
      request: { body: { required: true, content: { 'application/json': { schema: z.object({ ruleSet: z.unknown() }).strict() } } } },
      responses: {
        200: jsonResponse('The validation', z.object({ valid: z.boolean(), errors: z.array(problemItem), warnings: z.array(problemItem) }).openapi('RuleSetValidation')),
        ...errorResponses(403),
      },
    }),
    async (c) => {
      assertRole(c.get('actor'), 'coordinator', 'admin');
      const result = validateRuleSet(c.req.valid('json').ruleSet);
      return c.json({ valid: result.valid, errors: result.errors, warnings: result.warnings }, 200);
    },
  );

  v1.openapi(
    createRoute({
      method: 'post',
      path: '/rule-sets/simulate',
      tags: ['Rule sets'],
      summary: 'What a candidate rule set would change on the households with signals in a period (changes nothing)',
      security,
      request: {
        query: municipalityQuery,
        body: { required: true, content: { 'application/json': { schema: z.object({ ruleSet: z.unknown(), from: isoDate, to: isoDate }).strict() } } },
      },
      responses: { 200: jsonResponse('The simulation', simulationSchema), ...errorResponses(403, 404) },
    }),
    async (c) => {
      const code = await municipalityOf(c, c.req.valid('query').municipality);
      const body = c.req.valid('json');
      if (body.from > body.to) throw problem.badRequest('from lies after to', [{ pointer: '/from', detail: 'must not be after to' }]);
      const result = await simulateRuleSet(c.get('ctx'), code, body.ruleSet, body.from, body.to).catch(invalid);
      await audit(c, { action: 'rule-set.simulate', objectType: 'rule-set', objectId: `${body.from}/${body.to}`, municipality: code });
      return c.json(result, 200);
    },
  );

  v1.openapi(
    createRoute({
      method: 'post',
      path: '/rule-sets',
      tags: ['Rule sets'],
      summary: 'Publish a rule set as the next version (active at once unless activate is false)',
      security,
      request: {
        query: municipalityQuery,
        body: {
          required: true,
          content: {
            'application/json': {
              schema: z.object({ ruleSet: z.unknown(), note: z.string().trim().max(2_000).optional(), activate: z.boolean().default(true) }).strict(),
            },
          },
        },
      },
      responses: { 201: jsonResponse('Published', z.object({ version: z.number().int(), active: z.boolean(), rescored: z.number().int() })), ...errorResponses(403, 404) },
    }),
    async (c) => {
      const code = await municipalityOf(c, c.req.valid('query').municipality);
      const body = c.req.valid('json');
      const actor = c.get('actor');
      const result = await publishRuleSet(c.get('ctx'), code, body.ruleSet, body.note ?? null, actor, body.activate, auditSource(c)).catch(invalid);
      return c.json({ version: result.version, active: body.activate, rescored: result.rescored }, 201);
    },
  );

  v1.openapi(
    createRoute({
      method: 'post',
      path: '/rule-sets/{version}/activate',
      tags: ['Rule sets'],
      summary: 'Make a version active (roll back); re-scores the open, unclaimed tasks',
      security,
      request: { params: versionParam, query: municipalityQuery },
      responses: { 200: jsonResponse('Activated', z.object({ version: z.number().int(), rescored: z.number().int() })), ...errorResponses(403, 404) },
    }),
    async (c) => {
      const code = await municipalityOf(c, c.req.valid('query').municipality);
      const { version } = c.req.valid('param');
      const result = await activateRuleSet(c.get('ctx'), code, version, auditSource(c));
      if (!result) throw problem.notFound('No such rule-set version');
      return c.json({ version, rescored: result.rescored }, 200);
    },
  );
}
