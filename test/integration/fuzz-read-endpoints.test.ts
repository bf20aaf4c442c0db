import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorld, changedTables, closeWorld, ROUTES, snapshot, webSignIn, WEB_ROUTES, type RouteSpec, type Snapshot, type World } from '../helpers/accessMatrix.js';

/**
 * Property-based fuzzing of every read endpoint of the route table (test/helpers/accessMatrix.ts)
 * and every web page that is read with GET: the query parameters each one declares in the
 * OpenAPI document (and some it does not) get odd values — forged cursors, numbers past every
 * range, dates that do not exist, unicode edge cases, repeated and empty parameters — and the path
 * ids odd ones. The answer is never a 5xx; a 4xx of the API is always problem+json; and a read
 * changes no data (row counts and checksums of every data table; the audit log aside).
 *
 * Seeded, so that a failure reproduces; FUZZ_RUNS scales it up for a longer hunt.
 */

const RUNS = Number(process.env.FUZZ_RUNS ?? 8);
const SEED = Number(process.env.FUZZ_SEED ?? 20_261_204);

interface QueryParameter {
  name: string;
  schema?: { type?: string; enum?: string[]; format?: string; items?: { enum?: string[] } };
}
interface OpenApi {
  paths: Record<string, Record<string, { parameters?: ({ in: string } & QueryParameter)[] }>>;
}

let w: World;
let openapi: OpenApi;
let current: Snapshot;

beforeAll(async () => {
  w = await buildWorld('fuzz_read');
  openapi = (await (await fetch(`${w.server.url}/openapi.json`)).json()) as OpenApi;
  current = await snapshot(w.t.ctx.pool);
});
afterAll(async () => {
  await closeWorld(w);
});

const READ_ROUTES = ROUTES.filter((r) => r.route.startsWith('GET '));
const WEB_READS = WEB_ROUTES.filter((r) => r.route.startsWith('GET ') && !r.public);

/** The query parameters the OpenAPI document declares for a route ('GET /tasks/:id' → /tasks/{id}). */
function declaredQuery(route: string): QueryParameter[] {
  const [method, path] = route.split(' ') as [string, string];
  const template = path.replace(/:([A-Za-z]+)/g, '{$1}');
  const operation = openapi.paths[template]?.[method.toLowerCase()];
  if (!operation) throw new Error(`${route} is not in the OpenAPI document as ${template}`);
  return (operation.parameters ?? []).filter((p) => p.in === 'query');
}

// ---------------------------------------------------------------------------------------------
// Arbitraries

/** Percent-encodes as UTF-8 bytes (a lone surrogate becomes U+FFFD, as a browser would send it). */
function encodeSegment(value: string): string {
  return [...Buffer.from(value, 'utf8')].map((byte) => `%${byte.toString(16).padStart(2, '0').toUpperCase()}`).join('');
}

const EDGE_CHARS = ['\u0000', '\ud800', '\u202e', '\u200b', '\ufeff', '\u2028', '\u001b', '\r', '\n', '"', "'", '\\', '%', '&', '=', '#', '+', ',', '[', ']', 'a', 'é', '𝕏'];
const edgeString = fc.string({ unit: fc.constantFrom(...EDGE_CHARS), minLength: 1, maxLength: 30 });

const oddNumber = fc.constantFrom('0', '-0', '-1', '1.5', '1e3', '1e308', '-1e308', '2147483648', '9007199254740993', '99999999999999999999', 'NaN', 'Infinity', '0x10', ' 1', '1 ', '١');
const oddDate = fc.constantFrom(
  '2025-02-30', '2025-13-01', '2025-00-10', '0000-01-01', '9999-12-31', '2025-1-1', '+275760-09-13', '-000001-01-01', '2025-01-01T00:00:00Z', '20250101', '2025-W01',
);
const oddBoolean = fc.constantFrom('true', 'false', 'TRUE', '1', '0', 'yes', 'null', '');

/** Cursors as clients could forge them: base64url of any JSON, of positions with odd members, and not base64 at all. */
const base64url = (text: string) => Buffer.from(text, 'utf8').toString('base64url');
const oddMember = fc.oneof(fc.constantFrom<unknown>(null, true, '', 'infinity', '2025-02-30', 1e300, -1, 1.5, 2 ** 63, 'x'.repeat(300)), fc.integer(), fc.string({ maxLength: 12 }));
const forgedCursor = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }).map((v) => base64url(JSON.stringify(v))),
  fc.array(oddMember, { maxLength: 7 }).map((v) => base64url(JSON.stringify(v))),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: fc.constantFrom('A', 'z', '0', '-', '_', '=', '+', '/'), maxLength: 40 }),
);

/** A value for one declared parameter: mostly odd, sometimes one of its own enum values in another case. */
function valueFor(parameter: QueryParameter): fc.Arbitrary<string> {
  const enumValues = parameter.schema?.enum ?? parameter.schema?.items?.enum ?? [];
  const options: fc.Arbitrary<string>[] = [edgeString, oddNumber, oddDate, oddBoolean, forgedCursor, fc.integer({ min: 300, max: 3_000 }).map((n) => 'x'.repeat(n))];
  if (enumValues.length > 0) options.push(fc.constantFrom(...enumValues).chain((v) => fc.constantFrom(v, v.toUpperCase(), ` ${v}`, `${v},${v}`)));
  return fc.oneof(...options);
}

/** A query string over the declared parameters (each absent, once or repeated) and an unknown one. */
function queryString(parameters: readonly QueryParameter[]): fc.Arbitrary<string> {
  const names = [...parameters.map((p) => p.name), 'unknown', 'cursor', 'limit', ''];
  const byName = new Map(parameters.map((p) => [p.name, p]));
  const pair = fc.constantFrom(...names).chain((name) => valueFor(byName.get(name) ?? { name }).map((value) => [name, value] as const));
  return fc.array(pair, { minLength: 1, maxLength: 5 }).map((pairs) => pairs.map(([n, v]) => `${encodeSegment(n)}=${encodeSegment(v)}`).join('&'));
}

const oddSegment = fc.oneof(edgeString, oddNumber, oddDate, fc.uuid(), fc.constantFrom('0', '00000000-0000-0000-0000-000000000000', '..', '%2e%2e', 'x'.repeat(500)));

// ---------------------------------------------------------------------------------------------
// Sending and checking

async function readAndCheck(path: string, headers: Record<string, string>, problemJson: boolean): Promise<number> {
  const res = await fetch(w.server.url + path, { headers });
  const text = await res.text();
  const what = `GET ${path.slice(0, 300)} → ${res.status} ${text.slice(0, 300)}`;
  const before = current;
  current = await snapshot(w.t.ctx.pool);
  if (res.status >= 500) {
    const requestId = res.headers.get('x-request-id') ?? '';
    const cause = w.t.logs.find((line) => requestId && line.includes(requestId) && line.includes('"level":50')) ?? '(no log line)';
    expect.fail(`${what}\ncause: ${cause.slice(0, 1_500)}`);
  }
  if (problemJson && res.status >= 400) {
    expect(res.headers.get('content-type'), what).toBe('application/problem+json');
    const problem = JSON.parse(text) as { status: number; title: string; detail: string };
    expect(problem.status, what).toBe(res.status);
    expect(typeof problem.title === 'string' && typeof problem.detail === 'string', what).toBe(true);
  }
  expect(changedTables(before, current), `data changed by a read: ${what}`).toEqual([]);
  return res.status;
}

/** A valid request on side A's data; what preparing it stored is the new baseline. */
async function prepared(spec: RouteSpec): Promise<{ path: string; headers: Record<string, string> }> {
  const request = await spec.prepare(w);
  current = await snapshot(w.t.ctx.pool);
  return { path: request.path, headers: { authorization: `Bearer ${w.keys[spec.control.actor].key}` } };
}

/** The path of a route's valid request with its `:param` segments (in order) replaced. */
function withSegments(route: string, validPath: string, segments: readonly string[]): string {
  const template = route.split(' ')[1]!.split('/');
  const actual = validPath.split('?')[0]!.split('/');
  // validPath has a prefix (/v1 or /web) the template lacks.
  const offset = actual.length - template.length;
  let next = 0;
  return actual.map((part, i) => (template[i - offset]?.startsWith(':') ? encodeSegment(segments[next++] ?? part) : part)).join('/');
}

// ---------------------------------------------------------------------------------------------
// The properties

describe.each(READ_ROUTES.map((spec) => [spec.route, spec] as [string, RouteSpec]))('fuzzing %s', (route, spec) => {
  it('odd query parameters: never a 5xx, a problem for every 4xx, no data changed', async () => {
    const request = await prepared(spec);
    const headers = request.headers;
    const [path, validQuery] = request.path.split('?') as [string, string | undefined];
    const statuses = new Set<number>();
    await fc.assert(
      fc.asyncProperty(queryString(declaredQuery(route)), fc.boolean(), async (query, keepValid) => {
        // Half the time next to the valid parameters, so the odd one is not the first thing refused.
        const full = keepValid && validQuery ? `${validQuery}&${query}` : query;
        statuses.add(await readAndCheck(`${path}?${full}`, headers, true));
      }),
      { numRuns: RUNS * 4, seed: SEED, endOnFailure: true },
    );
    // The requests did reach the handlers: not every one was turned away at the door.
    expect([...statuses].some((s) => s !== 401 && s !== 403), [...statuses].join(', ')).toBe(true);
  });

  if (route.includes(':')) {
    it('odd path ids: never a 5xx, a problem for every 4xx, no data changed', async () => {
      const request = await prepared(spec);
      const headers = request.headers;
      const count = route.split(':').length - 1;
      await fc.assert(
        fc.asyncProperty(fc.array(oddSegment, { minLength: count, maxLength: count }), async (segments) => {
          const status = await readAndCheck(withSegments(route, request.path, segments), headers, true);
          expect(status, 'an odd id is not found or refused').toBeGreaterThanOrEqual(400);
        }),
        { numRuns: RUNS * 2, seed: SEED, endOnFailure: true },
      );
    });
  }
});

describe('fuzzing the web pages read with GET', () => {
  let cookie: string;
  beforeAll(async () => {
    cookie = await webSignIn(w, w.keys.coordinatorA.key);
    current = await snapshot(w.t.ctx.pool);
  });

  it.each(WEB_READS.map((spec) => [spec.route, spec] as const))('%s: odd query parameters and ids never give a 5xx, change no data', async (route, spec) => {
    const valid = spec.path(w);
    const names = ['cursor', 'status', 'team', 'from', 'to', 'period', 'overdue', 'page', 'version', 'unknown'];
    const pair = fc.tuple(fc.constantFrom(...names), fc.oneof(edgeString, oddNumber, oddDate, oddBoolean, forgedCursor));
    const query = fc.array(pair, { minLength: 1, maxLength: 4 }).map((pairs) => pairs.map(([n, v]) => `${n}=${encodeSegment(v)}`).join('&'));
    const count = route.split(':').length - 1;
    await fc.assert(
      fc.asyncProperty(query, fc.array(oddSegment, { minLength: count, maxLength: count }), fc.boolean(), async (q, segments, oddIds) => {
        const path = oddIds && count > 0 ? withSegments(route, valid, segments) : valid.split('?')[0]!;
        await readAndCheck(`${path}?${q}`, { cookie }, false);
      }),
      { numRuns: RUNS * 2, seed: SEED, endOnFailure: true },
    );
  });
});
