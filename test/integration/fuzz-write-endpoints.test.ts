import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultRuleSet } from '../../src/services/evaluation.js';
import { client, createKey, createTestContext, seedMunicipality, startTestServer } from '../helpers/context.js';
import { buildWorld, changedTables, closeWorld, ROUTES, snapshot, type ApiRequest, type RouteSpec, type Snapshot, type World } from '../helpers/accessMatrix.js';

/**
 * Property-based fuzzing of every write endpoint of the route table (test/helpers/accessMatrix.ts):
 * malformed JSON, arbitrary bytes, wrong types, huge strings, deep nesting and unicode edge cases
 * (lone surrogates, RTL override, zero-width, NUL, BOM) at every place of a valid body, odd path
 * ids and content types, and CSV with broken quoting. The answer is never a 5xx; a 4xx is always
 * problem+json; and a refused request leaves the database as it was (row counts and checksums of
 * every data table; intake may record the refused batch itself, as documented).
 *
 * Seeded and moderate in size, so that a failure reproduces and the file stays well under a
 * minute on two cores. FUZZ_RUNS scales it up for a longer hunt.
 */

const RUNS = Number(process.env.FUZZ_RUNS ?? 8);
const SEED = Number(process.env.FUZZ_SEED ?? 20_260_302);

let w: World;
let current: Snapshot;

beforeAll(async () => {
  w = await buildWorld('fuzz_write');
  current = await snapshot(w.t.ctx.pool);
});
afterAll(async () => {
  await closeWorld(w);
});

const WRITE_ROUTES = ROUTES.filter((r) => /^(POST|PUT|DELETE) /.test(r.route));

// ---------------------------------------------------------------------------------------------
// Sending and checking

interface Raw {
  method: string;
  path: string;
  body?: string | Uint8Array;
  contentType?: string;
  headers?: Record<string, string>;
}

/** Sends as `actor` and checks the invariants; returns the status. */
async function sendAndCheck(spec: RouteSpec, raw: Raw): Promise<number> {
  const headers: Record<string, string> = { authorization: `Bearer ${w.keys[spec.control.actor].key}`, ...(raw.headers ?? {}) };
  if (raw.contentType !== undefined) headers['content-type'] = raw.contentType;
  const res = await fetch(w.server.url + raw.path, { method: raw.method, headers, body: raw.body as BodyInit | undefined });
  const text = await res.text();
  const what = `${raw.method} ${raw.path.slice(0, 120)} (${raw.contentType ?? 'no type'}) ${typeof raw.body === 'string' ? JSON.stringify(raw.body.slice(0, 200)) : ''} → ${res.status} ${text.slice(0, 300)}`;
  const before = current;
  const after = await snapshot(w.t.ctx.pool);
  current = after;
  if (res.status >= 500) {
    // The operator's side of it, for the failure message: the logged cause of this request.
    const requestId = res.headers.get('x-request-id') ?? '';
    const cause = w.t.logs.find((line) => requestId && line.includes(requestId) && line.includes('"level":50')) ?? '(no log line)';
    expect.fail(`${what}\ncause: ${cause.slice(0, 1_500)}`);
  }
  if (res.status >= 400) {
    expect(res.headers.get('content-type'), what).toBe('application/problem+json');
    const problem = JSON.parse(text) as { status: number; title: string; detail: string; batchId?: string };
    expect(problem.status, what).toBe(res.status);
    expect(typeof problem.title === 'string' && typeof problem.detail === 'string', what).toBe(true);
    // Intake records a refused batch and its rejections (readable with GET /signal-batches/{batchId}); nothing else may change.
    const recorded = problem.batchId ? ['signal_batches', 'signal_batch_rejections'] : [];
    expect(changedTables(before, after).filter((t) => !recorded.includes(t)), `database changed by a refused request: ${what}`).toEqual([]);
  }
  return res.status;
}

/** A valid request on side A's data; what preparing it stored is the new baseline. */
async function prepared(spec: RouteSpec): Promise<ApiRequest> {
  const request = await spec.prepare(w);
  current = await snapshot(w.t.ctx.pool);
  return request;
}

function jsonRaw(base: ApiRequest, body: string | Uint8Array, contentType = 'application/json'): Raw {
  return { method: base.method, path: base.path, body, contentType };
}

// ---------------------------------------------------------------------------------------------
// Arbitraries

const EDGE_CHARS = [
  '\u0000', // NUL: PostgreSQL text cannot hold it
  '\ud800', // lone high surrogate
  '\udfff', // lone low surrogate
  '\u202e', // right-to-left override
  '\u200f', // right-to-left mark
  '\u200b', // zero-width space
  '\u200d', // zero-width joiner
  '\ufeff', // byte order mark
  '\u0301', // combining acute accent
  '\u2028', // line separator
  '\uffff', // non-character
  '\u001b', // escape
  '\r',
  '\n',
  '\t',
  '"',
  "'",
  '\\',
  '%',
  ';',
  ',',
  '<',
  'a',
  'é',
  'ש',
  '𝕏',
  '👩‍👩‍👧',
];

const edgeString = fc.string({ unit: fc.constantFrom(...EDGE_CHARS), minLength: 1, maxLength: 40 });
const hugeString = fc.integer({ min: 5_000, max: 400_000 }).map((n) => 'x'.repeat(n));
const deepValue = fc.integer({ min: 1, max: 3_000 }).map((depth) => {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { a: value };
  return value;
});
const oddNumber = fc.constantFrom(0, -1, -0, 1.5, 1e-7, 1e308, -1e308, 2 ** 31, 2 ** 53 + 1, Number.MAX_SAFE_INTEGER);

/** A value to put where a valid one was. */
const evilValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(null, true, false, '', [], {}, '1', 'null', 'true'),
  oddNumber,
  edgeString,
  hugeString,
  deepValue,
  fc.jsonValue({ maxDepth: 3 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
);

type Path = (string | number)[];

/** Every place in a JSON value: the root, every property and array element, recursively. */
function places(value: unknown, at: Path = []): Path[] {
  const out: Path[] = [at];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...places(v, [...at, i])));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) out.push(...places(v, [...at, k]));
  return out;
}

function replaceAt(value: unknown, at: Path, replacement: unknown): unknown {
  if (at.length === 0) return replacement;
  const copy = Array.isArray(value) ? [...value] : { ...(value as Record<string, unknown>) };
  const [head, ...rest] = at as [string | number, ...Path];
  (copy as Record<string | number, unknown>)[head] = replaceAt((value as Record<string | number, unknown>)[head], rest, replacement);
  return copy;
}

/** Percent-encodes a path segment as UTF-8 bytes (a lone surrogate becomes U+FFFD, as a browser would send it). */
function encodeSegment(value: string): string {
  return [...Buffer.from(value, 'utf8')].map((byte) => `%${byte.toString(16).padStart(2, '0').toUpperCase()}`).join('');
}

/** Inserts a property next to the existing ones of the object at `at` (mass assignment at any depth). */
function addPropertyAt(value: unknown, at: Path, key: string, extra: unknown): unknown {
  const target = at.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)[k], value);
  if (!target || typeof target !== 'object' || Array.isArray(target)) return value;
  return replaceAt(value, at, { ...(target as Record<string, unknown>), [key]: extra });
}

const PLACEHOLDER = '"__fuzz_deep__"';

/** A JSON text nested `depth` levels deep, for raw insertion (deeper than JSON.stringify would go). */
function deepText(depth: number, kind: 'array' | 'object' | 'conditions'): string {
  if (kind === 'array') return '['.repeat(depth) + ']'.repeat(depth);
  if (kind === 'object') return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
  return '{"all":['.repeat(depth) + '{"fact":"householdSignals","operator":"greaterThan","value":0}' + ']}'.repeat(depth);
}

// ---------------------------------------------------------------------------------------------
// The properties, per write route

describe.each(WRITE_ROUTES.map((spec) => [spec.route, spec] as [string, RouteSpec]))('fuzzing %s', (_route, spec) => {
  it('malformed JSON, arbitrary bytes and odd content types: never a 5xx, a problem for every 4xx, nothing stored', async () => {
    const base = await prepared(spec);
    const valid = base.body === undefined ? '{}' : JSON.stringify(base.body);
    const body = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.string({ unit: fc.constantFrom('{', '}', '[', ']', '"', ':', ',', '\\', 'u', '0', 'e', '-', 'n', ' ', '\u0000'), maxLength: 60 }),
      // A valid body cut short, or with garbage inside it.
      fc.nat({ max: valid.length }).map((n) => valid.slice(0, n)),
      fc.tuple(fc.nat({ max: valid.length }), edgeString).map(([n, s]) => valid.slice(0, n) + s + valid.slice(n)),
      fc.constantFrom('', 'null', '[]', '""', '0', 'true', '{"__proto__": {"admin": true}}', '{"constructor": {"prototype": {"x": 1}}}', valid + valid, `${valid}\u0000`),
    );
    const bytes = fc.uint8Array({ maxLength: 200 });
    const contentType = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'application/json; charset=latin1', 'text/plain', 'text/csv', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', '', 'application/json;;;', 'APPLICATION/JSON');
    await fc.assert(
      fc.asyncProperty(fc.oneof(body, bytes), contentType, async (payload, type) => {
        await sendAndCheck(spec, jsonRaw(base, payload, type));
      }),
      { numRuns: RUNS * 2, seed: SEED, endOnFailure: true },
    );
  });

  if (spec.route.includes('/:') || spec.route.startsWith('DELETE')) {
    it('odd path ids: never a 5xx', async () => {
      const base = await prepared(spec);
      const template = spec.route.split(' ')[1]!;
      // Already percent-encoded: invalid UTF-8 (a lone byte, an encoded surrogate, an overlong NUL) among them.
      const segment = fc.oneof(
        fc.constantFrom('0', '-1', '1.5', '1e3', '0x10', '9007199254740993', '99999999999999999999', '%201', '%00', '..', '%2e%2e', '%2F', 'null', '00000000-0000-0000-0000-000000000000', '%FF', '%ED%A0%80', '%C0%80', '%E2%80%AE'),
        fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }).map(encodeSegment),
        edgeString.map(encodeSegment),
      );
      await fc.assert(
        fc.asyncProperty(segment, async (value) => {
          // Replace the last parameter of the template with the odd value, keep the others real.
          const params = [...template.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1]!);
          const realSegments = base.path.split('?')[0]!.split('/');
          const templateSegments = `/v1${template}`.split('/');
          const index = templateSegments.lastIndexOf(`:${params.at(-1)}`);
          const segments = [...realSegments];
          segments[index] = value;
          const query = base.path.includes('?') ? `?${base.path.split('?')[1]}` : '';
          await sendAndCheck(spec, { ...jsonRaw(base, base.body === undefined ? '' : JSON.stringify(base.body)), path: segments.join('/') + query });
        }),
        { numRuns: RUNS, seed: SEED, endOnFailure: true },
      );
    });
  }

  if (spec.route.startsWith('DELETE') || (spec.route.startsWith('POST') && !spec.route.endsWith('/signals') && (spec.route.endsWith('/claim') || spec.route.endsWith('/release') || spec.route.endsWith('/activate') || spec.route.endsWith('/rotate')))) return;

  it('wrong types, huge strings, deep nesting, unicode edge cases and extra properties at every place of a valid body', async () => {
    const base = await prepared(spec);
    const validBody = base.body as Record<string, unknown>;
    const all = places(validBody);
    const objects = all.filter((p) => {
      const v = p.reduce<unknown>((x, k) => (x as Record<string | number, unknown>)[k], validBody);
      return v !== null && typeof v === 'object' && !Array.isArray(v);
    });
    const mutation = fc.oneof(
      fc.tuple(fc.constantFrom(...all), evilValue).map(([at, value]) => JSON.stringify(replaceAt(validBody, at, value))),
      fc.tuple(fc.constantFrom(...objects), fc.oneof(fc.constantFrom('isAdmin', 'role', 'municipality', 'id', '__proto__', 'constructor'), edgeString), evilValue).map(([at, key, value]) =>
        JSON.stringify(addPropertyAt(validBody, at, key, value)),
      ),
      fc.tuple(fc.constantFrom(...all.filter((p) => p.length > 0)), fc.integer({ min: 1_000, max: 150_000 }), fc.constantFrom<'array' | 'object' | 'conditions'>('array', 'object', 'conditions')).map(
        ([at, depth, kind]) => JSON.stringify(replaceAt(validBody, at, '__fuzz_deep__')).replace(PLACEHOLDER, deepText(depth, kind)),
      ),
    );
    await fc.assert(
      fc.asyncProperty(mutation, async (text) => {
        await sendAndCheck(spec, jsonRaw(base, text));
      }),
      { numRuns: RUNS * 3, seed: SEED, endOnFailure: true },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// CSV intake

describe('fuzzing POST /signals with CSV', () => {
  const intake = ROUTES.find((r) => r.route === 'POST /signals')!;
  const HEADER = 'externalId,partnerType,signalDate,amountCents,postcode,houseNumber,surname,street';
  const cell = fc.string({ unit: fc.constantFrom('"', '"', ',', ';', '\n', '\r', '\r\n', '\u0000', '\ufeff', '\u202e', '\ud800', 'a', 'b', ' ', '\\', "'", '='), maxLength: 12 });

  it('broken quoting, stray separators and control characters: never a 5xx, nothing stored from rows that are all invalid', async () => {
    const row = fc.array(cell, { minLength: 1, maxLength: 9 }).map((cells) => {
      // amountCents and postcode are never valid, wherever quoting shifts the cells.
      const fixed = [...cells];
      fixed[3] = `x${fixed[3] ?? ''}`;
      return fixed.join(',');
    });
    const file = fc.tuple(fc.constantFrom('', '\ufeff'), fc.constantFrom(HEADER, HEADER.replace(/,/g, ';'), `"${HEADER}`, `${HEADER},extra`, HEADER.toUpperCase()), fc.array(row, { minLength: 1, maxLength: 6 }), fc.constantFrom('\n', '\r\n', '\r'));
    await fc.assert(
      fc.asyncProperty(file, async ([bom, header, rows, eol]) => {
        const text = bom + [header, ...rows].join(eol);
        const status = await sendAndCheck(intake, { method: 'POST', path: '/v1/signals', body: text, contentType: 'text/csv' });
        expect(status).not.toBe(202);
      }),
      { numRuns: RUNS * 5, seed: SEED, endOnFailure: true },
    );
  });

  it('a CSV that is not UTF-8, or binary: a problem, nothing stored', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.constantFrom('text/csv', 'text/csv; charset=utf-8', 'text/csv; charset=windows-1252'), async (bytes, type) => {
        const body = new Uint8Array([...new TextEncoder().encode(`${HEADER}\n`), ...bytes]);
        await sendAndCheck(intake, { method: 'POST', path: '/v1/signals', body, contentType: type });
      }),
      { numRuns: RUNS * 2, seed: SEED, endOnFailure: true },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Findings of this fuzzing, kept as plain regression tests

describe('regressions found by fuzzing', () => {
  const validate = ROUTES.find((r) => r.route === 'POST /rule-sets/validate')!;

  it('a NUL character in a stored text is refused with 400, not a database error', async () => {
    const note = ROUTES.find((r) => r.route === 'POST /tasks/:id/notes')!;
    for (const [spec, patch] of [
      [note, { text: 'a\u0000b' }],
      [ROUTES.find((r) => r.route === 'PUT /municipalities/:code/teams/:teamId')!, { name: 'Team\u0000' }],
      [ROUTES.find((r) => r.route === 'POST /api-keys')!, { label: '\u0000' }],
      [ROUTES.find((r) => r.route === 'POST /rule-sets')!, { note: 'n\u0000' }],
      [ROUTES.find((r) => r.route === 'POST /tasks/:id/close')!, { note: '\u0000' }],
    ] as [RouteSpec, Record<string, unknown>][]) {
      const base = await prepared(spec);
      const status = await sendAndCheck(spec, jsonRaw(base, JSON.stringify({ ...(base.body as object), ...patch })));
      expect(status, spec.route).toBe(400);
    }
    const intake = ROUTES.find((r) => r.route === 'POST /signals')!;
    const signal = (await prepared(intake)).body as { signals: Record<string, unknown>[] };
    const status = await sendAndCheck(intake, jsonRaw({ method: 'POST', path: '/v1/signals' }, JSON.stringify({ signals: [{ ...signal.signals[0], person: { surname: 'Jan\u0000sen' } }] })));
    expect(status).toBe(400);
  });

  it('a batch of invalid items only, on a connection that never wrote a valid one, is a 400 with its rejections (not a 500)', async () => {
    const fresh = await createTestContext('fuzz_fresh');
    const server = await startTestServer(fresh.ctx);
    try {
      await seedMunicipality(fresh.ctx, '1916', ['2261']);
      const key = await createKey(fresh.ctx, { role: 'integrator', label: 'first' });
      const invalid = { externalId: 'x', partnerType: 'energy', signalDate: '2025-01-10', amountCents: -1, person: {}, address: { postcode: '2261AB', houseNumber: 1 } };
      const json = await client(server.url, key).post('/v1/signals', { signals: [invalid] });
      expect(json.status, json.text).toBe(400);
      expect(json.json.errors[0].pointer).toBe('/signals/0/amountCents');
      const csv = await client(server.url, key).post('/v1/signals', 'externalId,partnerType,signalDate,amountCents,postcode,houseNumber\nx,energy,2025-01-10,-1,2261AB,1\n', {
        'content-type': 'text/csv',
      });
      expect(csv.status, csv.text).toBe(400);
    } finally {
      await server.close();
      await fresh.close();
    }
  });

  it('property names with NUL or a lone surrogate in a signal are rejected with the item, and stored as U+FFFD in its pointer', async () => {
    const intake = ROUTES.find((r) => r.route === 'POST /signals')!;
    const signal = ((await prepared(intake)).body as { signals: Record<string, unknown>[] }).signals[0]!;
    const text = JSON.stringify({ signals: [signal, { ...signal, externalId: 'other', 'a\u0000': 1, b: { '\ud800': 1 } }] });
    const res = await sendAndCheck(intake, jsonRaw({ method: 'POST', path: '/v1/signals' }, text));
    expect(res).toBe(202);
    const { rows } = await w.t.ctx.pool.query(`select count(*)::int as n from signal_batch_rejections where errors::text like $1`, ['%/signals/1/a\ufffd%']);
    expect(rows[0].n).toBe(1);
  });

  it('a rule set with a NUL character or a lone surrogate in it is refused or stored, never a 500', async () => {
    const publish = ROUTES.find((r) => r.route === 'POST /rule-sets')!;
    const base = await publish.prepare(w);
    for (const text of ['\u0000', '\ud800']) {
      const ruleSet = structuredClone(defaultRuleSet()) as unknown as { description?: string; rules: { name: string }[] };
      ruleSet.rules[0]!.name = `regel${text}`;
      await sendAndCheck(publish, jsonRaw(base, JSON.stringify({ ...(base.body as object), ruleSet })));
    }
  });

  it('a rule set nested 100,000 conditions deep is refused, not a stack overflow', async () => {
    const text = `{"ruleSet":{"name":"deep","rules":[{"name":"r","conditions":${deepText(100_000, 'conditions')},"event":{"type":"score","params":{"points":1,"reason":"x"}}}]}}`;
    const status = await sendAndCheck(validate, jsonRaw({ method: 'POST', path: '/v1/rule-sets/validate' }, text));
    expect(status).toBeLessThan(500);
  });

  // The test's timeout is the hang detector: the quadratic search took minutes on this input.
  it('an unknown fact name of 4 MB is answered without a suggestion (no edit distance over the input)', { timeout: 30_000 }, async () => {
    const check = async (fact: string) => {
      const ruleSet = structuredClone(defaultRuleSet()) as unknown as { rules: { conditions: unknown }[] };
      ruleSet.rules[0]!.conditions = { all: [{ fact, operator: 'equal', value: 1 }] };
      const res = await fetch(`${w.server.url}/v1/rule-sets/validate`, {
        method: 'POST',
        headers: { authorization: `Bearer ${w.keys.coordinatorA.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ruleSet }),
      });
      expect(res.status).toBe(200);
      return ((await res.json()) as { errors: { detail: string }[] }).errors.map((e) => e.detail).join('\n');
    };
    const huge = await check('f'.repeat(4_000_000));
    expect(huge).toContain('unknown fact');
    expect(huge).not.toContain('did you mean');
    // A near miss still gets one.
    expect(await check('totalAmountCent')).toContain('did you mean "totalAmountCents"');
  });
});
