import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiDocument } from '../../src/api/openapiDocument.js';
import { ROLES, type Role } from '../../src/domain/apiKey.js';
import {
  A,
  ACTORS,
  buildWorld,
  changedTables,
  closeWorld,
  leakedIn,
  MUNICIPALITY_SECRETS,
  PERSONAL_SECRETS,
  registeredV1Routes,
  registeredWebRoutes,
  ROLE_REPRESENTATIVE,
  ROUTES,
  secretsFor,
  send,
  snapshot,
  webCsrf,
  webSignIn,
  WEB_ROUTES,
  type ApiRequest,
  type RouteSpec,
  type WebRouteSpec,
  type World,
} from '../helpers/accessMatrix.js';
import { createKeyWithId } from '../helpers/tasks.js';

/**
 * The access matrix, generated from the route table of the running /v1 app: every route answers
 * 401 without a key and with a revoked key, 403 (as documented) to a key of the wrong role, and
 * to keys of another municipality, team or integrator — with real ids of the other side — the
 * documented status and never the other side's data. A route without an entry in ROUTES
 * (test/helpers/accessMatrix.ts) fails this file.
 */

let w: World;

/** Writes that change nothing stored (checks and what-ifs) need no audit record. */
const NOT_AUDITED_WRITES = new Set(['POST /rule-sets/validate']);

beforeAll(async () => {
  w = await buildWorld('access_matrix');
});
afterAll(async () => {
  await closeWorld(w);
});

function expectProblem(res: { status: number; headers: Headers; json: unknown }, status: number, what: string): void {
  expect(res.status, what).toBe(status);
  expect(res.headers.get('content-type'), what).toContain('application/problem+json');
  expect(res.json, what).toMatchObject({ status, title: expect.any(String), detail: expect.any(String), type: expect.any(String) });
}

describe('the route table', () => {
  it('has an entry for every /v1 route registered at runtime, and none for a route that is gone', () => {
    const registered = registeredV1Routes();
    const covered = ROUTES.map((r) => r.route);
    expect(registered.length).toBeGreaterThan(25);
    expect(registered.filter((r) => !covered.includes(r)), 'routes without an entry in ROUTES').toEqual([]);
    expect(covered.filter((r) => !registered.includes(r)), 'entries for routes that are not registered').toEqual([]);
    expect(new Set(covered).size, 'one entry per route').toBe(covered.length);
  });

  it('covers every operation of the OpenAPI document too', () => {
    const document = openApiDocument() as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(document.paths).flatMap(([path, operations]) =>
      Object.keys(operations)
        .filter((m) => ['get', 'post', 'put', 'patch', 'delete'].includes(m))
        .map((m) => `${m.toUpperCase()} ${path.replace(/\{([^}]+)\}/g, ':$1')}`),
    );
    const covered = ROUTES.map((r) => r.route);
    expect(documented.filter((r) => !covered.includes(r)), 'documented operations without an entry').toEqual([]);
  });

  it('gives every route its roles and, unless it reads nothing of anyone, intruders from the other side', () => {
    for (const spec of ROUTES) {
      expect(spec.roles.length, spec.route).toBeGreaterThan(0);
      expect(spec.roles, spec.route).toContain(ACTORS[spec.control.actor].role);
      if (spec.intruders.length === 0) expect(spec.noIntruders, `${spec.route} needs intruders or a reason`).toBeTruthy();
    }
  });

  it('the unauthenticated checks cannot pass by accident: a malformed and an unknown well-formed key are refused alike', async () => {
    for (const header of ['Bearer', 'Bearer nonsense', 'Basic dXNlcjpwYXNz', `Bearer vs_${'A'.repeat(43)}`, `Bearer ${w.keys.admin.key} extra`]) {
      const res = await send(w, null, { method: 'GET', path: '/v1/municipalities', headers: { authorization: header } });
      expectProblem(res, 401, header);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
    }
  });
});

describe.each(ROUTES.map((spec) => [spec.route, spec] as [string, RouteSpec]))('%s', (_route, spec) => {
  it('answers 401 without a key and with a revoked key of an allowed role', async () => {
    const request = await spec.prepare(w);
    expectProblem(await send(w, null, request), 401, 'no key');
    const revoked = w.revoked[spec.control.actor];
    expectProblem(await send(w, null, request, revoked.key), 401, 'revoked key');
  });

  const wrongRoles = ROLES.filter((role) => !spec.roles.includes(role));
  if (wrongRoles.length > 0) {
    it.each(wrongRoles)(`answers ${spec.wrongRoleStatus ?? 403} to a key of role %s`, async (role: Role) => {
      const actor = ROLE_REPRESENTATIVE[role];
      const res = await send(w, actor, await spec.prepare(w));
      expectProblem(res, spec.wrongRoleStatus ?? 403, `${actor} (${role})`);
      expect(leakedIn(res.text, PERSONAL_SECRETS)).toEqual([]);
    });
  }

  it(`the other side gets ${[...new Set(spec.intruders.map((i) => i.status))].join('/') || 'nothing to get'} and none of side A's data; side A's own key succeeds afterwards`, async () => {
    const request = await spec.prepare(w);
    for (const intruder of spec.intruders) {
      const asked: ApiRequest = intruder.request ? intruder.request(w, request) : request;
      const res = await send(w, intruder.actor, asked);
      const what = `${intruder.actor} ${asked.method} ${asked.path}`;
      if (intruder.status >= 400) expectProblem(res, intruder.status, what);
      else expect(res.status, `${what}: ${res.text.slice(0, 300)}`).toBe(intruder.status);
      expect(leakedIn(res.text, secretsFor(intruder.actor)), `${what} leaks`).toEqual([]);
    }
    // The control: the same request with side A's key works (so the ids were real, and no
    // intruder changed the object on the way: a claim or close by them would make this 409).
    const res = await send(w, spec.control.actor, request);
    expect(res.status, `${spec.control.actor}: ${res.text.slice(0, 500)}`).toBe(spec.control.status);
    if (spec.control.reveals) {
      expect(leakedIn(res.text, [...PERSONAL_SECRETS, ...MUNICIPALITY_SECRETS]).length, 'the control answer carries side A data').toBeGreaterThan(0);
    }
    // Who saw personal data, and who changed anything, is in the audit log (with this request's id).
    const showsPersonalData = leakedIn(res.text, PERSONAL_SECRETS).length > 0;
    const changes = request.method !== 'GET' && !NOT_AUDITED_WRITES.has(spec.route);
    if (showsPersonalData || changes) {
      const { rows } = await w.t.ctx.pool.query(`select action, result, actor_key_id from audit_events where request_id = $1`, [res.headers.get('x-request-id')]);
      expect(rows.length, `${spec.route}: an audit record for the control request`).toBeGreaterThan(0);
      expect(rows[0].actor_key_id).toBe(w.keys[spec.control.actor].id);
    }
  });
});

describe('scoping beyond the route table', () => {
  it('a coordinator cannot route a task to a consultant of another municipality', async () => {
    const { taskId } = await w.freshTaskA();
    const res = await w.api('coordinatorA').post(`/v1/tasks/${taskId}/assign`, { consultantKeyId: w.keys.consultantB.id });
    expectProblem(res, 400, 'assign to consultantB');
    const { rows } = await w.t.ctx.pool.query(`select assignee_key_id from tasks where id = $1`, [taskId]);
    expect(rows[0].assignee_key_id).toBeNull();
  });

  it('an admin bound to a municipality creates no other municipality and no key of another municipality', async () => {
    const adminB = w.api('adminB');
    const created = await adminB.put('/v1/municipalities/1680', { name: 'Aa en Hunze', postcodeAreas: ['9451'] });
    expect(created.status).toBe(404);
    const { rows } = await w.t.ctx.pool.query(`select code from municipalities where code = '1680'`);
    expect(rows).toEqual([]);
    const global = await adminB.post('/v1/api-keys', { role: 'admin', label: 'escalate' });
    expectProblem(global, 400, 'a global admin key');
    const hub = await adminB.post('/v1/api-keys', { role: 'integrator', label: 'hub' });
    expectProblem(hub, 400, 'an integrator key for all municipalities');
  });

  it('a municipality-bound admin cannot revoke a global admin key', async () => {
    const res = await w.api('adminB').delete(`/v1/api-keys/${w.keys.admin.id}`);
    expectProblem(res, 404, 'revoke the global admin');
    expect((await w.api('admin').get('/v1/municipalities')).status).toBe(200);
  });

  it('an integrator bound to a municipality sees only that municipality in the list', async () => {
    const res = await w.api('integratorB').get('/v1/municipalities');
    expect(res.json.municipalities.map((m: { code: string }) => m.code)).toEqual(['0363']);
  });

  it('a consultant of another team of the same municipality sees the teams but no task or household of team noord', async () => {
    const teams = await w.api('consultantA2').get(`/v1/municipalities/${A.municipality}/teams`);
    expect(teams.status).toBe(200);
    const list = await w.api('consultantA2').get('/v1/tasks');
    expect(list.json.tasks).toEqual([]);
  });
});

describe('web pages', () => {
  const fetchWeb = (path: string, init: RequestInit = {}) => fetch(`${w.server.url}${path}`, { redirect: 'manual', ...init });
  const formInit = (spec: WebRouteSpec, headers: Record<string, string> = {}): RequestInit =>
    spec.route.startsWith('POST ')
      ? { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(spec.form ?? {}).toString() }
      : { headers };

  it('the web table has an entry for every page route registered at runtime', () => {
    const registered = registeredWebRoutes(w.t.ctx);
    const covered = WEB_ROUTES.map((r) => r.route);
    expect(registered.length).toBeGreaterThan(15);
    expect(registered.filter((r) => !covered.includes(r)), 'web routes without an entry in WEB_ROUTES').toEqual([]);
    expect(covered.filter((r) => !registered.includes(r)), 'entries for web routes that are not registered').toEqual([]);
  });

  const guarded = WEB_ROUTES.filter((r) => !r.public);
  it.each(guarded.map((spec) => [spec.route, spec] as [string, WebRouteSpec]))('%s: signed out → the sign-in page, no data, nothing changed', async (_route, spec) => {
    const before = await snapshot(w.t.ctx.pool);
    const path = spec.path(w);
    for (const cookie of [undefined, 'vs_session=not-a-token', `vs_session=${'A'.repeat(43)}`]) {
      const res = await fetchWeb(path, formInit(spec, cookie ? { cookie } : {}));
      const body = await res.text();
      expect(res.status, `${path} with ${cookie ?? 'no cookie'}`).toBe(303);
      expect(res.headers.get('location')).toMatch(/^\/web\/sign-in(\?next=%2Fweb%2F.*)?$/);
      expect(leakedIn(body, [...PERSONAL_SECRETS, ...MUNICIPALITY_SECRETS])).toEqual([]);
    }
    // htmx asks for a redirect header instead of following a redirect into a fragment.
    const hx = await fetchWeb(path, formInit(spec, { 'hx-request': 'true' }));
    expect(hx.headers.get('hx-redirect')).toMatch(/^\/web\/sign-in/);
    expect(leakedIn(await hx.text(), PERSONAL_SECRETS)).toEqual([]);
    expect(changedTables(before, await snapshot(w.t.ctx.pool))).toEqual([]);
  });

  it('the public pages answer without a session, and the sign-in form refuses a post without its token', async () => {
    for (const spec of WEB_ROUTES.filter((r) => r.public)) {
      const res = await fetchWeb(spec.path(w), formInit(spec));
      expect(res.status, spec.route).toBe(spec.public!.status);
      expect(res.headers.get('set-cookie') ?? '', spec.route).not.toContain('vs_session=');
    }
  });

  it("a session of a key revoked since sign-in is over at once", async () => {
    const key = await createKeyWithId(w.t.ctx, { role: 'consultant', municipality: A.municipality, teams: [A.team] });
    const cookie = await webSignIn(w, key.key);
    expect((await fetchWeb('/web/queue', { headers: { cookie } })).status).toBe(200);
    expect((await w.api('admin').delete(`/v1/api-keys/${key.id}`)).status).toBe(204);
    const res = await fetchWeb(`/web/households/${w.taskA.householdId}`, { headers: { cookie } });
    expect(res.status).toBe(303);
    expect(leakedIn(await res.text(), PERSONAL_SECRETS)).toEqual([]);
  });

  it("signed in on the other side: side A's household, task forms and upload batch are 404 pages without A's data", async () => {
    const consultantB = await webSignIn(w, w.keys.consultantB.key);
    const csrf = await webCsrf(w, consultantB, '/web/queue');
    const before = await snapshot(w.t.ctx.pool);
    const page = await fetchWeb(`/web/households/${w.taskA.householdId}`, { headers: { cookie: consultantB } });
    expect(page.status).toBe(404);
    expect(leakedIn(await page.text(), [...PERSONAL_SECRETS, ...MUNICIPALITY_SECRETS])).toEqual([]);
    for (const spec of WEB_ROUTES.filter((r) => r.route.startsWith('POST /tasks/:id/'))) {
      const res = await fetchWeb(spec.path(w), {
        method: 'POST',
        headers: { cookie: consultantB, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ ...(spec.form ?? {}), _csrf: csrf }).toString(),
      });
      expect(res.status, spec.route).toBe(404);
      expect(leakedIn(await res.text(), [...PERSONAL_SECRETS, ...MUNICIPALITY_SECRETS]), spec.route).toEqual([]);
    }
    const otherTeam = await webSignIn(w, w.keys.consultantA2.key);
    const sameMunicipality = await fetchWeb(`/web/households/${w.taskA.householdId}`, { headers: { cookie: otherTeam } });
    expect(sameMunicipality.status).toBe(404);
    expect(leakedIn(await sameMunicipality.text(), PERSONAL_SECRETS)).toEqual([]);

    const integratorB = await webSignIn(w, w.keys.integratorB.key);
    const batch = await fetchWeb(`/web/upload/batches/${w.batchA}`, { headers: { cookie: integratorB } });
    expect(batch.status).toBe(404);
    expect(changedTables(before, await snapshot(w.t.ctx.pool)).filter((t) => t !== 'web_sessions')).toEqual([]);
  });
});
