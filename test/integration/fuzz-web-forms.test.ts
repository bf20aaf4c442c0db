import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorld, closeWorld, webCsrf, webSignIn, WEB_ROUTES, type World } from '../helpers/accessMatrix.js';

/**
 * Property-based fuzzing of every web form (POST of a signed-in page, the file upload included),
 * with a valid session and CSRF token: the fields the pages read — and unknown ones, repeated
 * ones, `name[]` arrays — get odd values (unicode edge cases, NUL, huge text, dates that do not
 * exist, JSON that is no rule set), and bodies come in odd encodings. The answer is never a 5xx
 * and always an HTML page or a redirect.
 */

const RUNS = Number(process.env.FUZZ_RUNS ?? 8);
const SEED = Number(process.env.FUZZ_SEED ?? 20_261_204);

const FIELDS = ['channel', 'reached', 'date', 'text', 'result', 'team', 'ruleSet', 'note', 'action', 'areas', 'consultantKeyId', 'from', 'to', 'id', 'municipality', 'name', 'next', 'apiKey', 'file', 'unknown'];

let w: World;
let cookie: string;
let csrf: string;
beforeAll(async () => {
  w = await buildWorld('fuzz_web_forms');
  cookie = await webSignIn(w, w.keys.coordinatorA.key);
  csrf = await webCsrf(w, cookie, '/web/teams');
});
afterAll(async () => {
  await closeWorld(w);
});

const EDGE_CHARS = ['\u0000', '\ud800', '\u202e', '\u200b', '\ufeff', '\u2028', '\r', '\n', '"', "'", '\\', '%', '&', '=', '+', ',', '<', '>', '{', '}', '[', ']', 'a', '1', 'é', '𝕏'];
const edgeString = fc.string({ unit: fc.constantFrom(...EDGE_CHARS), maxLength: 40 });
const oddValue = fc.oneof(
  edgeString,
  fc.constantFrom('', ' ', 'true', 'false', 'on', '0', '-1', '1e308', '2025-02-30', '9999-12-31', '0000-01-01', 'phone', 'deceased', 'noord', '1916', 'null', '{}', '[]', '{"rules":[]}', '{"rules":[{"name":"x"}]}'),
  // Long, not huge: a form the handler answers before reading it all would make the client fail, not the server.
  fc.integer({ min: 3_000, max: 20_000 }).map((n) => 'x'.repeat(n)),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
);

/** Percent-encodes as UTF-8 bytes (a lone surrogate becomes U+FFFD, as a browser would send it). */
const encode = (value: string) => [...Buffer.from(value, 'utf8')].map((byte) => `%${byte.toString(16).padStart(2, '0').toUpperCase()}`).join('');

const formBody = fc
  .array(fc.tuple(fc.constantFrom(...FIELDS).chain((f) => fc.constantFrom(f, `${f}[]`)), oddValue), { maxLength: 6 })
  .map((pairs) => [['_csrf', csrf], ...pairs].map(([k, v]) => `${encode(k!)}=${encode(v!)}`).join('&'));
const oddType = fc.constantFrom('application/x-www-form-urlencoded', 'application/x-www-form-urlencoded; charset=latin1', 'multipart/form-data; boundary=x', 'multipart/form-data', 'text/plain', 'application/json');

const POSTS = WEB_ROUTES.filter((r) => r.route.startsWith('POST ') && !r.public && r.route !== 'POST /sign-out');

describe.each(POSTS.map((spec) => [spec.route, spec] as const))('fuzzing the web form %s', (_route, spec) => {
  it('odd fields and bodies: never a 5xx, always a page or a redirect', async () => {
    await fc.assert(
      fc.asyncProperty(formBody, fc.option(oddType, { freq: 3 }), async (body, type) => {
        const res = await fetch(w.server.url + spec.path(w), {
          method: 'POST',
          redirect: 'manual',
          headers: { cookie, origin: w.server.url, 'x-csrf-token': csrf, 'content-type': type ?? 'application/x-www-form-urlencoded' },
          body,
        });
        const text = await res.text();
        const what = `${spec.route} (${type ?? 'form'}) ${body.slice(0, 200)} → ${res.status} ${text.slice(0, 300)}`;
        if (res.status >= 500) {
          // The operator's side of it, for the failure message: the logged cause of this request.
          const requestId = res.headers.get('x-request-id') ?? '';
          const cause = w.t.logs.find((line) => requestId && line.includes(requestId) && line.includes('"level":50')) ?? '(no log line)';
          expect.fail(`${what}\ncause: ${cause.slice(0, 1_500)}`);
        }
        if (res.status >= 300 && res.status < 400) expect(res.headers.get('location'), what).toBeTruthy();
        else expect(res.headers.get('content-type') ?? '', what).toMatch(/^text\/(html|csv)/);
      }),
      { numRuns: RUNS * 4, seed: SEED, endOnFailure: true },
    );
  });
});
