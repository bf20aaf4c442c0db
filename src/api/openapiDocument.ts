import { API_VERSION } from './env.js';
import { apiVersionHeader } from './openapi.js';
import { buildV1 } from './v1.js';

let cached: Record<string, unknown> | undefined;

/**
 * The OpenAPI document, generated from the routes' zod schemas. Paths are relative to the
 * server URL `/v1` (the NL API Design Rules want the major version in the server URL).
 *
 * The generated document then passes through `applyApiConventions`, which writes down what
 * the application guarantees for every operation whatever its route file declares, so that
 * `npm run lint:api` (the NL API Design Rules linter) holds by construction. See that function.
 */
export function openApiDocument(): Record<string, unknown> {
  cached ??= applyApiConventions(
    buildV1().getOpenAPI31Document({
      openapi: '3.1.0',
      info: {
        title: 'vroegsein',
        version: API_VERSION,
        description:
          "Early signals of payment arrears: intake from creditors, households, rules and outreach tasks for municipalities' vroegsignalering schulden. " +
          'Every request needs `Authorization: Bearer <api key>`; every response carries the `API-Version` header; every error is `application/problem+json` (RFC 9457).',
        contact: { name: 'vroegsein maintainers', email: 'maintainers@vroegsein.example', url: 'https://github.com/vroegsein/vroegsein' },
        license: { name: 'EUPL-1.2', url: 'https://interoperable-europe.ec.europa.eu/collection/eupl/eupl-text-eupl-12' },
      },
      servers: [{ url: '/v1', description: 'This server' }],
    }) as unknown as Record<string, unknown>,
  );
  return cached;
}

type Json = Record<string, unknown>;

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace'] as const;
const PROBLEM_REF = { $ref: '#/components/schemas/Problem' };
/** The NL API Design Rules' notion of a date property (rule nlgov:specify-format-for-date-and-time). */
const DATE_PROPERTY = /^(date|datum)$|((\w+D)|(_[dD]))((ate)|(atum))/;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * What the application does for every operation, written into the document:
 *
 * - every response carries the `API-Version` header (app.ts sets it on every response);
 * - every operation can answer 400: the validation hook turns any invalid parameter, query or
 *   body into a 400 problem, so it is added where a route did not list it;
 * - every error response is `application/problem+json` with the Problem schema (the app's one
 *   error path renders every error that way), so error responses without that content get it;
 * - properties named like dates (`signalDate`, `dueDate`, `date`, …) are calendar dates
 *   `YYYY-MM-DD` throughout the API (timestamps are named `…At`), so a string date property
 *   without a format gets `format: date`.
 *
 * What it cannot decide for a route author (kebab-case paths, camelCase query keys and
 * properties, timestamps named `…At` with `format: date-time`) is in the README's rules for
 * route authors, and `npm run lint:api` checks it.
 */
export function applyApiConventions(document: Json): Json {
  const paths = isObject(document.paths) ? document.paths : {};
  for (const pathItem of Object.values(paths)) {
    if (!isObject(pathItem)) continue;
    for (const method of METHODS) {
      const operation = pathItem[method];
      if (!isObject(operation)) continue;
      const responses = (operation.responses = isObject(operation.responses) ? operation.responses : {});
      responses['400'] ??= { description: 'Invalid input (problem+json with a pointer per error)' };
      for (const [status, response] of Object.entries(responses)) {
        if (!isObject(response) || '$ref' in response) continue;
        response.headers = { ...apiVersionHeader, ...(isObject(response.headers) ? response.headers : {}) };
        if (/^[45]\d\d$/.test(status)) {
          const content = isObject(response.content) ? response.content : {};
          if (!('application/problem+json' in content) && !('application/problem+xml' in content)) {
            response.content = { 'application/problem+json': { schema: PROBLEM_REF } };
          }
        }
      }
    }
  }
  const components = isObject(document.components) ? document.components : {};
  for (const schema of Object.values(isObject(components.schemas) ? components.schemas : {})) markDates(schema);
  for (const pathItem of Object.values(paths)) markDates(pathItem);
  return document;
}

function isStringSchema(schema: Json): boolean {
  return schema.type === 'string' || (Array.isArray(schema.type) && schema.type.includes('string'));
}

/** Walks a schema (or any part of the document) and gives date-named string properties `format: date`. */
function markDates(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) markDates(item);
    return;
  }
  if (!isObject(node)) return;
  if (isObject(node.properties)) {
    for (const [name, property] of Object.entries(node.properties)) {
      if (isObject(property) && DATE_PROPERTY.test(name) && isStringSchema(property) && property.format === undefined) property.format = 'date';
    }
  }
  for (const value of Object.values(node)) markDates(value);
}
