import { connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildWorld, closeWorld, ROUTES, webSignIn, WEB_ROUTES, type World } from '../helpers/accessMatrix.js';

/**
 * Property-based fuzzing of request headers, for every route of the route table and every web
 * page: odd values (any Latin-1 text, empty, whitespace, huge, wrong schemes, repeated) for the
 * headers the server reads or a proxy sets — Authorization, Cookie, Idempotency-Key,
 * X-Forwarded-For (with TRUST_PROXY on), Content-Type, Accept, Origin, Host and more — sent over
 * a plain socket, so bytes a fetch client would refuse get through. The answer is never a 5xx
 * and never missing.
 */

const RUNS = Number(process.env.FUZZ_RUNS ?? 8);
const SEED = Number(process.env.FUZZ_SEED ?? 20_261_204);

let w: World;
let cookie: string;
beforeAll(async () => {
  w = await buildWorld('fuzz_headers', { TRUST_PROXY: 'true' });
  cookie = await webSignIn(w, w.keys.coordinatorA.key);
});
afterAll(async () => {
  await closeWorld(w);
});

/** One request as raw bytes (Connection: close); the whole answer as Latin-1 text. */
function exchange(request: Buffer): Promise<string> {
  const url = new URL(w.server.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => socket.write(request));
    let answer = '';
    const timer = setTimeout(() => socket.destroy(new Error(`no answer within 5 s: ${answer.slice(0, 200)}`)), 5_000);
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('end', () => {
      clearTimeout(timer);
      resolve(answer);
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

const latin1 = fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).filter((c) => c !== 0x7f).map((c) => String.fromCharCode(c)), maxLength: 80 });
const oddValue = fc.oneof(
  latin1,
  fc.constantFrom(
    '', ' ', '\t', 'Bearer', 'Bearer ', 'Bearer  x', `bearer ${'a'.repeat(43)}`, 'Basic dXNlcjpwYXNz', `Bearer ${'x'.repeat(5_000)}`, 'vs_session=;',
    `vs_session=${'a'.repeat(300)}`, 'vs_session=a; vs_session=b', '1.2.3.4, 5.6.7.8', '::1', 'not-an-ip', '*', 'application/json; charset=ebcdic', 'text/csv; boundary=',
  ),
);
const headerName = fc.constantFrom(
  'Authorization', 'Cookie', 'Idempotency-Key', 'X-Forwarded-For', 'X-Forwarded-Proto', 'Forwarded', 'Accept', 'Accept-Encoding', 'Accept-Language',
  'If-None-Match', 'Origin', 'Referer', 'Content-Type', 'X-Request-Id', 'Range', 'Host', 'HX-Request',
);

const TARGETS = [...ROUTES.map((r) => `API ${r.route}`), ...WEB_ROUTES.map((r) => `WEB ${r.route}`)];

it('odd header values on every route: an answer, never a 5xx', async () => {
  const statuses = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...TARGETS), fc.array(fc.tuple(headerName, oddValue), { minLength: 1, maxLength: 4 }), fc.boolean(), async (target, headers, signedIn) => {
      let method: string;
      let path: string;
      let body = '{}';
      if (target.startsWith('WEB ')) {
        const spec = WEB_ROUTES.find((r) => `WEB ${r.route}` === target)!;
        [method, path] = [spec.route.split(' ')[0]!, spec.path(w)];
      } else {
        const spec = ROUTES.find((r) => `API ${r.route}` === target)!;
        const request = await spec.prepare(w);
        [method, path] = [request.method, request.path];
        if (request.body !== undefined) body = JSON.stringify(request.body);
      }
      const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1'];
      if (signedIn) lines.push(`Authorization: Bearer ${w.keys.coordinatorA.key}`, `Cookie: ${cookie}`);
      for (const [name, value] of headers) lines.push(`${name}: ${value}`);
      lines.push('Connection: close', `Content-Length: ${Buffer.byteLength(body)}`);
      const answer = await exchange(Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'), Buffer.from(body, 'utf8')]));
      const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(answer)?.[1] ?? 0);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      expect(status, `${target} ${JSON.stringify(headers).slice(0, 300)} → ${answer.slice(0, 300)}`).toBeGreaterThanOrEqual(200);
      expect(status, `${target} ${JSON.stringify(headers).slice(0, 300)} → ${answer.slice(0, 600)}`).toBeLessThan(500);
    }),
    { numRuns: RUNS * 40, seed: SEED, endOnFailure: true },
  );
  // The requests reached the handlers: some were answered with success, not only refused.
  expect([...statuses.keys()].some((s) => s < 300), JSON.stringify([...statuses])).toBe(true);
});
