import { createHash } from 'node:crypto';
import type { Context } from 'hono';
import { createRoute, z } from '@hono/zod-openapi';
import { CONTACT_CHANNELS, DAY_PARTS, PARTNER_TYPES, SIGNAL_STATUSES, TASK_RESULTS } from '../../domain/codes.js';
import { DDAS_DEFAULT_PAGE_SIZE, DDAS_MAX_PAGE_SIZE, DdasRequestError, exportDdas, type DdasExport, type DdasExportRequest } from '../../services/ddas.js';
import type { ApiApp, ApiEnv } from '../env.js';
import { assertRole, audit } from '../middleware/auth.js';
import { apiVersionHeader, errorResponses, jsonResponse, security, integerParameter } from '../openapi.js';
import { ProblemError, problem } from '../problem.js';

/**
 * The DDAS v1.2 delivery to CBS, twice over the same service: `GET /exports/ddas` for people
 * and scripts, and `POST /ddas/gegevens`, DDAS-VS's pull operation with its request and
 * response shapes, for CBS's collector. Field names inside the delivery are the national
 * model's own (Dutch camelCase, `ID`, `kvk-nummer`); everything around it follows the API's
 * conventions. Every delivered page is audited per municipality: who pulled which period.
 */

const tags = ['DDAS'];

function values<T extends Record<string, string>>(map: T): [T[keyof T], ...T[keyof T][]] {
  return Object.values(map) as [T[keyof T], ...T[keyof T][]];
}

// ---------------------------------------------------------------------------------------------
// The national model, for the OpenAPI document (json_schema_Uitwisselmodel.json is normative;
// the tests validate real deliveries against it).

const datum = z.iso.date();
const clientSchema = z
  .union([
    z.object({ burgerservicenummer: z.string().length(9) }).strict(),
    z.object({ postcode: z.string(), huisnummer: z.string(), huisnummertoevoeging: z.string().optional() }).strict(),
  ])
  .openapi('DdasClient', { description: 'Only the BSN when known; otherwise postcode and house number. Never names.' });

const vroegsignaalSchema = z
  .object({
    ID: z.string().openapi({ description: "vroegsein's signal id" }),
    crisissignaal: z.boolean(),
    warmeOverdracht: z.boolean(),
    bedrag: z.number().int().openapi({ description: 'Whole euros, rounded half up from the amount in cents' }),
    ontstaansdatum: datum.optional(),
    signaaldatum: datum,
    status: z.enum(values(SIGNAL_STATUSES)),
    signaalpartner: z.object({ type: z.enum(values(PARTNER_TYPES)) }),
    client: clientSchema,
  })
  .openapi('DdasVroegsignaal');

const contactpogingSchema = z
  .object({ soort: z.enum(values(CONTACT_CHANNELS)), bereikt: z.boolean(), datum, dagdeel: z.enum(values(DAY_PARTS)).optional() })
  .openapi('DdasContactpoging');

const vroegsignaalzaakSchema = z
  .object({
    resultaat: z.enum(values(TASK_RESULTS)).optional().openapi({ description: 'Closed tasks only' }),
    matchingsdatum: datum.openapi({ description: 'The day the task was created by matching' }),
    startdatumMatchingperiode: datum.openapi({ description: 'The day the first signal of the task was received' }),
    einddatumMatchingperiode: datum.openapi({ description: 'The day the last signal of the task was received' }),
    datumOpgepakt: datum.optional().openapi({ description: 'The date of the first contact attempt' }),
    vroegsignalen: z.array(z.object({ ID: z.string() })).optional(),
    contactpogingen: z.array(contactpogingSchema),
  })
  .openapi('DdasVroegsignaalzaak');

const leveringSchema = z
  .object({
    teller: z.number().int().openapi({ description: 'The place of this municipality in the delivery, the same on every page' }),
    gemeentecode: z.string().openapi({ example: '1916' }),
    aanleverendeOrganisatie: z.object({ naam: z.string(), 'kvk-nummer': z.string().optional() }),
    vroegsignalen: z.array(vroegsignaalSchema),
    vroegsignaalzaken: z.array(vroegsignaalzaakSchema),
  })
  .openapi('DdasLevering');

const uitwisselmodelSchema = z
  .object({
    startdatumLevering: datum,
    einddatumLevering: datum,
    aanleverdatumEnTijd: z.string().openapi({ format: 'date-time', example: '2026-01-05T09:30:00Z' }),
    codeGegevensleverancier: z.string(),
    leveringen: z.array(leveringSchema).optional(),
  })
  .openapi('DdasUitwisselmodel', {
    description: 'DDAS v1.2 Uitwisselmodel (https://raw.githubusercontent.com/VNG-Realisatie/ddas-vroegsignalering/main/v1.2/json_schema_Uitwisselmodel.json)',
  });

const pagineringSchema = z
  .object({
    pageSize: z.number().int().min(1),
    currentPage: z.number().int().min(1),
    totalPages: z.number().int().min(1),
    totalRecords: z.number().int().min(0).openapi({ description: 'Signals plus cases of the whole delivery' }),
  })
  .openapi('DdasPaginering');

const gegevensResponse = z.object({ gegevens: uitwisselmodelSchema, paginering: pagineringSchema }).openapi('DdasGegevensResponse');

const digestHeader = {
  Digest: { description: 'SHA-256 digest of the body (RFC 3230), as DDAS-VS asks', schema: { type: 'string' as const, example: 'SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=' } },
};

function deliveryResponse(description: string) {
  const base = jsonResponse(description, gegevensResponse);
  return { ...base, headers: { ...apiVersionHeader, ...digestHeader } };
}

const unprocessable = {
  422: { ...errorResponses(422)[422]!, description: 'aanleverendeOrganisatie names no organisation in the scope of this key' },
};

// ---------------------------------------------------------------------------------------------
// Requests

const pageSizeDescription = `Records (signals plus cases) per page, at most ${DDAS_MAX_PAGE_SIZE.toLocaleString('en')}`;

const exportQuery = z
  .object({
    from: datum.openapi({ description: 'First day of the period (signals received, cases matched)', example: '2025-01-01' }),
    to: datum.openapi({ description: 'Last day of the period, inclusive', example: '2025-03-31' }),
    page: integerParameter(1, Number.MAX_SAFE_INTEGER).default(1).openapi({ description: 'Page number, from 1' }),
    pageSize: integerParameter(1, DDAS_MAX_PAGE_SIZE).default(DDAS_DEFAULT_PAGE_SIZE).openapi({ description: pageSizeDescription }),
    municipality: z.string().regex(/^[0-9]{4}$/, 'a municipality is its 4-digit CBS code').optional().openapi({ description: 'Only this municipality (for keys that see several)' }),
  })
  .strict()
  .superRefine((q, ctx) => {
    if (q.from > q.to) ctx.addIssue({ code: 'custom', path: ['to'], message: 'to must not be before from' });
  });

const gegevensRequest = z
  .object({
    aanleverperiodeStartdatum: datum.openapi({ description: 'First day of the period (required here)', example: '2025-01-01' }),
    aanleverperiodeEinddatum: datum.openapi({ description: 'Last day of the period, inclusive (required here)', example: '2025-12-31' }),
    aanleverendeOrganisatie: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .optional()
      .openapi({ description: 'A municipality (code, "GM" + code, name or "Gemeente" + name) or the configured delivering organisation; all in scope when absent' }),
    page: z.number().int().min(1).default(1),
    pageSize: z.number().int().min(1).max(DDAS_MAX_PAGE_SIZE).default(DDAS_DEFAULT_PAGE_SIZE).openapi({ description: pageSizeDescription }),
  })
  .strict()
  .superRefine((q, ctx) => {
    if (q.aanleverperiodeStartdatum > q.aanleverperiodeEinddatum) {
      ctx.addIssue({ code: 'custom', path: ['aanleverperiodeEinddatum'], message: 'aanleverperiodeEinddatum must not be before aanleverperiodeStartdatum' });
    }
  })
  .openapi('DdasGegevensRequest');

// ---------------------------------------------------------------------------------------------
// Handlers

async function deliver(c: Context<ApiEnv>, request: DdasExportRequest, pointers: { page: string; organisation: string }) {
  const actor = c.get('actor');
  assertRole(actor, 'coordinator', 'admin');
  let result: DdasExport;
  try {
    result = await exportDdas(c.get('ctx'), actor, request);
  } catch (error) {
    if (!(error instanceof DdasRequestError)) throw error;
    if (error.kind === 'unknown_municipality') throw problem.notFound(error.message);
    if (error.kind === 'page_out_of_range') throw problem.badRequest(error.message, [{ pointer: pointers.page, detail: 'beyond the last page' }]);
    throw new ProblemError(422, error.message, { type: 'unknown-organisation', errors: [{ pointer: pointers.organisation, detail: error.message }] });
  }
  // Who pulled which period and page, per municipality delivered: the delivery holds BSNs.
  const objectId = `${request.from}..${request.to} page ${request.page}/${result.paginering.totalPages} size ${request.pageSize}`;
  for (const municipality of result.delivered) await audit(c, { action: 'ddas.export', objectType: 'ddas-delivery', objectId, municipality });
  if (result.delivered.length === 0) await audit(c, { action: 'ddas.export', objectType: 'ddas-delivery', objectId, municipality: actor.municipality });

  const body = { gegevens: result.gegevens, paginering: result.paginering };
  // c.json serialises with JSON.stringify as well, so the digest is over the exact bytes sent.
  const digest = `SHA-256=${createHash('sha256').update(JSON.stringify(body)).digest('base64')}`;
  return { body, headers: { Digest: digest, 'Cache-Control': 'no-store' } };
}

export function registerDdasRoutes(v1: ApiApp): void {
  v1.openapi(
    createRoute({
      method: 'get',
      path: '/exports/ddas',
      tags,
      summary: 'The DDAS v1.2 delivery for a period, paged (coordinator: own municipality; admin: all)',
      description:
        'One levering per municipality: every signal received in the period with its DDAS status and partner type, and every case (task) matched in the period with its signals, matching period, pick-up date, contact attempts and result. Records are numbered per municipality, signals first, then cases.',
      security,
      request: { query: exportQuery },
      responses: { 200: deliveryResponse('One page of the delivery'), ...errorResponses(403, 404) },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const { body, headers } = await deliver(
        c,
        { from: q.from, to: q.to, page: q.page, pageSize: q.pageSize, municipality: q.municipality },
        { page: '/query/page', organisation: '/query/municipality' },
      );
      return c.json(body, 200, headers);
    },
  );

  v1.openapi(
    createRoute({
      method: 'post',
      path: '/ddas/gegevens',
      tags,
      summary: "DDAS-VS pull operation (postGegevens): CBS's collector pulls the delivery page by page (coordinator, admin)",
      description:
        'Accepts DDAS-VS `GegevensRequest` and answers `{gegevens, paginering}` with the same content as GET /exports/ddas. The period is required here. Payload signing (nlgov-adr-payload-sig) is not done by vroegsein; the Digest header is.',
      security,
      request: { body: { required: true, content: { 'application/json': { schema: gegevensRequest } } } },
      responses: { 200: deliveryResponse('One page of the delivery'), ...errorResponses(403, 415), ...unprocessable },
    }),
    async (c) => {
      const b = c.req.valid('json');
      const { body, headers } = await deliver(
        c,
        { from: b.aanleverperiodeStartdatum, to: b.aanleverperiodeEinddatum, page: b.page, pageSize: b.pageSize, organisation: b.aanleverendeOrganisatie },
        { page: '/page', organisation: '/aanleverendeOrganisatie' },
      );
      return c.json(body, 200, headers);
    },
  );
}
