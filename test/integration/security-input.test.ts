import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorld, changedTables, closeWorld, ROUTES, send, snapshot, webCsrf, webSignIn, type ApiRequest, type RouteSpec, type World } from '../helpers/accessMatrix.js';

/**
 * Mass assignment and string lengths, for every JSON write endpoint of the route table: an
 * unknown property anywhere in a valid body is a 400 that names it (nothing is stored, nothing
 * silently dropped), and every string field of the body has a length limit (a 100,000-character
 * value is refused).
 */

let w: World;

beforeAll(async () => {
  w = await buildWorld('security_input');
});
afterAll(async () => {
  await closeWorld(w);
});

const JSON_WRITES = ROUTES.filter((r) => /^(POST|PUT) /.test(r.route) && r.route !== 'POST /tasks/claim' && !/\/(claim|release|activate|rotate)$/.test(r.route));

type Path = (string | number)[];

function walk(value: unknown, at: Path = []): { objects: Path[]; strings: Path[] } {
  const out = { objects: [] as Path[], strings: [] as Path[] };
  if (typeof value === 'string') out.strings.push(at);
  else if (Array.isArray(value)) value.forEach((v, i) => merge(out, walk(v, [...at, i])));
  else if (value && typeof value === 'object') {
    out.objects.push(at);
    for (const [k, v] of Object.entries(value)) merge(out, walk(v, [...at, k]));
  }
  return out;
}
function merge(a: { objects: Path[]; strings: Path[] }, b: { objects: Path[]; strings: Path[] }) {
  a.objects.push(...b.objects);
  a.strings.push(...b.strings);
}

function update(value: unknown, at: Path, change: (old: unknown) => unknown): unknown {
  if (at.length === 0) return change(value);
  const copy = Array.isArray(value) ? [...value] : { ...(value as Record<string, unknown>) };
  const [head, ...rest] = at as [string | number, ...Path];
  (copy as Record<string | number, unknown>)[head] = update((value as Record<string | number, unknown>)[head], rest, change);
  return copy;
}

/** The rule set itself is free-form JSON checked by the rule validator (its own limits); its strings are not API fields. */
const insideRuleSet = (at: Path) => at[0] === 'ruleSet';

const pointerOf = (at: Path) => at.map((p) => `/${p}`).join('');

async function expectRefused(spec: RouteSpec, request: ApiRequest, what: string) {
  const before = await snapshot(w.t.ctx.pool);
  const res = await send(w, spec.control.actor, request);
  expect(res.status, `${what}: ${res.text.slice(0, 300)}`).toBe(400);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  const recorded = res.json.batchId ? ['signal_batches', 'signal_batch_rejections'] : [];
  expect(changedTables(before, await snapshot(w.t.ctx.pool)).filter((t) => !recorded.includes(t)), `${what} changed the database`).toEqual([]);
  return res;
}

describe('the JSON write endpoints', () => {
  it('are all in this file (every POST/PUT with a JSON body)', () => {
    expect(JSON_WRITES.map((r) => r.route).sort()).toEqual(
      [
        'POST /api-keys',
        'POST /ddas/gegevens',
        'POST /rule-sets',
        'POST /rule-sets/simulate',
        'POST /rule-sets/validate',
        'POST /signals',
        'POST /tasks/:id/assign',
        'POST /tasks/:id/close',
        'POST /tasks/:id/contact-attempts',
        'POST /tasks/:id/notes',
        'PUT /municipalities/:code',
        'PUT /municipalities/:code/retention',
        'PUT /municipalities/:code/teams/:teamId',
      ].sort(),
    );
  });
});

describe.each(JSON_WRITES.map((spec) => [spec.route, spec] as [string, RouteSpec]))('%s', (_route, spec) => {
  it('refuses an unknown property in every object of the body with 400 naming it; stores nothing', async () => {
    const base = await spec.prepare(w);
    const { objects } = walk(base.body);
    const checked = objects.filter((at) => !insideRuleSet(at));
    expect(checked.length).toBeGreaterThan(0);
    for (const at of checked) {
      for (const [key, value] of [
        ['isAdmin', true],
        ['role', 'admin'],
        ['municipality', '0363'],
      ] as const) {
        if (at.length === 0 && key === 'role' && spec.route === 'POST /api-keys') continue; // a real field there
        if (at.length === 0 && key === 'municipality' && spec.route === 'POST /api-keys') continue;
        const body = update(base.body, at, (o) => ({ ...(o as object), [key]: value }));
        const res = await expectRefused(spec, { ...base, body }, `${key} at ${pointerOf(at) || '/'}`);
        // The problem names the property: intake points at it, the other endpoints at its object with the key in the detail.
        const named = (res.json.errors as { pointer: string; detail: string }[]).some(
          (e) => e.pointer === `${pointerOf(at)}/${key}` || (e.pointer === pointerOf(at) && e.detail.includes(`"${key}"`)),
        );
        expect(named, `${spec.route}: ${res.text}`).toBe(true);
      }
    }
  });

  it('limits the length of every string field (100,000 characters are refused)', async () => {
    const base = await spec.prepare(w);
    const { strings } = walk(base.body);
    const fields = strings.filter((at) => !insideRuleSet(at));
    for (const at of fields) {
      const body = update(base.body, at, (old) => `${String(old)}${'x'.repeat(100_000)}`);
      await expectRefused(spec, { ...base, body }, `long ${pointerOf(at)}`);
    }
  });
});

describe('mass assignment that would matter', () => {
  it('a team cannot be moved to another municipality, nor a key widened, through an extra property', async () => {
    const coordinator = w.api('coordinatorA');
    const team = await coordinator.put('/v1/municipalities/1916/teams/noord', { name: 'Noord', postcodeAreas: ['2261'], municipality: '0363' });
    expect(team.status).toBe(400);
    const key = await w.api('adminA').post('/v1/api-keys', { role: 'consultant', municipality: '1916', teams: ['noord'], label: 'x', id: '00000000-0000-4000-8000-000000000000', revokedAt: null });
    expect(key.status).toBe(400);
    const pointers = key.json.errors.map((e: { pointer: string }) => e.pointer);
    expect(pointers).toContain('/id');
    expect(pointers).toContain('/revokedAt');
    const signal = await w.api('integratorA').post('/v1/signals', { signals: [{ externalId: 'mass-1', partnerType: 'energy', signalDate: '2025-01-10', amountCents: 1, person: {}, address: { postcode: '2261AB', houseNumber: 1 }, status: 'deceased', municipality: '0363' }] });
    expect(signal.status).toBe(400);
    expect(signal.json.errors.map((e: { pointer: string }) => e.pointer).sort()).toEqual(['/signals/0/municipality', '/signals/0/status']);
  });

  it('prototype pollution keys are refused like any unknown property and pollute nothing', async () => {
    const res = await w.api('coordinatorA').post(`/v1/tasks/${w.taskA.taskId}/notes`, '{"text":"x","__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}', {
      'content-type': 'application/json',
    });
    expect(res.status).toBe(400);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('text PostgreSQL cannot store', () => {
  it('a NUL in any API text field is a 400 and stores nothing', async () => {
    const cases: [string, (w: World) => Promise<ApiRequest>][] = [
      ['note', async (w) => ({ method: 'POST', path: `/v1/tasks/${(await w.freshTaskA()).taskId}/notes`, body: { text: 'a\u0000b' } })],
      ['closing note', async (w) => ({ method: 'POST', path: `/v1/tasks/${(await w.freshTaskA({ status: 'claimed', assignee: 'consultantA' })).taskId}/close`, body: { result: 'deceased', note: '\u0000' } })],
      ['team name', async () => ({ method: 'PUT', path: '/v1/municipalities/1916/teams/noord', body: { name: 'No\u0000ord', postcodeAreas: ['2261'] } })],
      ['municipality name', async () => ({ method: 'PUT', path: '/v1/municipalities/1916', body: { name: 'G\u0000', postcodeAreas: ['2261', '2262'] } })],
      ['key label', async () => ({ method: 'POST', path: '/v1/api-keys', body: { role: 'integrator', label: 'i\u0000' } })],
      [
        'rule-set note',
        async (w) => {
          const base = await ROUTES.find((r) => r.route === 'POST /rule-sets')!.prepare(w);
          return { ...base, body: { ...(base.body as object), note: 'n\u0000' } };
        },
      ],
    ];
    for (const [what, build] of cases) {
      const request = await build(w);
      const actor = what === 'key label' || what === 'municipality name' ? 'admin' : request.path.includes('/tasks/') ? 'consultantA' : 'coordinatorA';
      const before = await snapshot(w.t.ctx.pool);
      const res = await send(w, actor, request);
      expect(res.status, `${what}: ${res.text}`).toBe(400);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(changedTables(before, await snapshot(w.t.ctx.pool)), what).toEqual([]);
    }
  });

  it('a NUL in a signal is rejected with that item and its pointer, the other items are stored', async () => {
    const intake = ROUTES.find((r) => r.route === 'POST /signals')!;
    const good = ((await intake.prepare(w)).body as { signals: Record<string, unknown>[] }).signals[0]!;
    const res = await w.api('integratorA').post('/v1/signals', { signals: [good, { ...good, externalId: 'nul-1', person: { surname: 'Jan\u0000sen' } }, { ...good, externalId: 'nul\u0000' }] });
    expect(res.status, res.text).toBe(202);
    expect(res.json).toMatchObject({ accepted: 1, rejectedCount: 2 });
    const pointers = res.json.rejected.flatMap((r: { errors: { pointer: string }[] }) => r.errors.map((e) => e.pointer));
    expect(pointers).toEqual(['/signals/1/person/surname', '/signals/2/externalId']);
    const csv = await w.api('integratorA').post('/v1/signals', 'externalId,partnerType,signalDate,amountCents,postcode,houseNumber,street\nnul-csv,energy,2025-01-10,100,2261AB,3,Dorps\u0000straat\n', { 'content-type': 'text/csv' });
    expect(csv.status, csv.text).toBe(400);
    expect(csv.json.errors[0]).toMatchObject({ row: 2, column: 'street' });
  });

  it('a NUL in a web form is a 400 page, not a 500, and stores nothing', async () => {
    const cookie = await webSignIn(w, w.keys.coordinatorA.key);
    const { taskId, householdId } = await w.freshTaskA();
    const csrf = await webCsrf(w, cookie, `/web/households/${householdId}`);
    for (const [path, form] of [
      [`/web/tasks/${taskId}/notes`, { text: 'a\u0000b' }],
      ['/web/teams', { id: 'nul', name: 'T\u0000', postcodeAreas: '2262' }],
    ] as [string, Record<string, string>][]) {
      const before = await snapshot(w.t.ctx.pool);
      const res = await fetch(w.server.url + path, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ ...form, _csrf: csrf }).toString(),
      });
      expect(res.status, path).toBe(400);
      expect(await res.text()).not.toMatch(/invalid byte sequence|UTF8/);
      expect(changedTables(before, await snapshot(w.t.ctx.pool)).filter((t) => t !== 'web_sessions'), path).toEqual([]);
    }
  });
});

describe('web forms that are no form', () => {
  it('a body that does not match its multipart Content-Type is a 400 page, not a 500, and stores nothing', async () => {
    const cookie = await webSignIn(w, w.keys.coordinatorA.key);
    const { taskId, householdId } = await w.freshTaskA();
    const csrf = await webCsrf(w, cookie, `/web/households/${householdId}`);
    // With the token in a header the handler reads the form; without it the CSRF check does.
    for (const headers of [{ 'x-csrf-token': csrf }, {}] as Record<string, string>[]) {
      const before = await snapshot(w.t.ctx.pool);
      const res = await fetch(`${w.server.url}/web/tasks/${taskId}/notes`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie, origin: w.server.url, 'content-type': 'multipart/form-data; boundary=x', ...headers },
        body: new URLSearchParams({ text: 'no parts here', _csrf: csrf }).toString(),
      });
      expect(res.status, JSON.stringify(headers)).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await res.text()).toContain('Het formulier kon niet worden gelezen');
      expect(changedTables(before, await snapshot(w.t.ctx.pool)).filter((t) => t !== 'web_sessions')).toEqual([]);
    }
  });
});

describe('numbers in paths and queries', () => {
  it('are digits only: a task has one address, a page size one spelling', async () => {
    const headers = { authorization: `Bearer ${w.keys.coordinatorA.key}` };
    const valid = await fetch(`${w.server.url}/v1/tasks/${w.taskA.taskId}`, { headers });
    expect(valid.status).toBe(200);
    const odd = [
      [`/v1/tasks/%20${w.taskA.taskId}`, '/param/id'],
      [`/v1/tasks/${w.taskA.taskId}%20`, '/param/id'],
      [`/v1/tasks/${w.taskA.taskId}.0`, '/param/id'],
      [`/v1/tasks/0x${w.taskA.taskId.toString(16)}`, '/param/id'],
      [`/v1/tasks/${w.taskA.taskId}e0`, '/param/id'],
      ['/v1/tasks?limit=1e1', '/query/limit'],
      ['/v1/tasks?limit=%2010', '/query/limit'],
      ['/v1/tasks?limit=', '/query/limit'],
      ['/v1/rule-sets/%2B1', '/param/version'],
    ] as const;
    for (const [path, pointer] of odd) {
      const res = await fetch(w.server.url + path, { headers });
      const body = (await res.json()) as { errors?: { pointer: string; detail: string }[] };
      expect(res.status, path).toBe(400);
      expect(res.headers.get('content-type'), path).toBe('application/problem+json');
      expect(body.errors?.map((e) => e.pointer), path).toContain(pointer);
    }
    const page = await fetch(`${w.server.url}/v1/tasks?limit=1`, { headers });
    expect(page.status).toBe(200);
  });
});

describe('requests refused before the app sees them', () => {
  it('a URL over 16 KiB is a 431 problem, not a bare status line', async () => {
    const res = await fetch(`${w.server.url}/v1/tasks?cursor=${'x'.repeat(20_000)}`, { headers: { authorization: `Bearer ${w.keys.coordinatorA.key}` } });
    expect(res.status).toBe(431);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.headers.get('api-version')).toBe('1.0.0');
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(await res.json()).toMatchObject({ status: 431, title: 'Request header fields too large', type: 'urn:vroegsein:problem:too-large' });
  });

  it('bytes that are no HTTP get a 400 problem and the connection closed', async () => {
    const { connect } = await import('node:net');
    const url = new URL(w.server.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () => socket.write('HELLO \u0001\r\n\r\n'));
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString('utf8')));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    const [head, body] = answer.split('\r\n\r\n') as [string, string];
    expect(head).toMatch(/^HTTP\/1\.1 400 /);
    expect(head).toContain('Content-Type: application/problem+json');
    expect(head).toContain('X-Content-Type-Options: nosniff');
    expect(JSON.parse(body)).toMatchObject({ status: 400, type: 'urn:vroegsein:problem:malformed-request' });
  });
});
