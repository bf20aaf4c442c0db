import { buildV1 } from '../../src/api/v1.js';
import { revokeApiKey } from '../../src/db/apiKeys.js';
import { ensureDefaultRuleSets } from '../../src/db/ruleSets.js';
import type { Queryable } from '../../src/db/pool.js';
import type { Role } from '../../src/domain/apiKey.js';
import { dutchToday } from '../../src/domain/dates.js';
import { defaultRuleSet } from '../../src/services/evaluation.js';
import { takeMonitorSnapshot } from '../../src/services/monitorSnapshots.js';
import { buildWebPages } from '../../src/web/index.js';
import type { AppContext } from '../../src/context.js';
import { client, createTestContext, seedMunicipality, startTestServer, type TestContext, type TestServer } from './context.js';
import { createKeyWithId, seedTask } from './tasks.js';

/**
 * The security tests' shared world: two municipalities ("side A" = 1916, "side B" = 0363), two
 * teams in A, keys of every role on both sides, and side A's data full of recognisable personal
 * values. Plus the table of expectations per /v1 route (who may call it, how to build a valid
 * request on side A's data, who on the other side must get 404 and never A's data).
 *
 * A route registered in src/api/v1.ts without an entry here fails test/integration/access-matrix.
 */

// ---------------------------------------------------------------------------------------------
// Side A's personal data: none of it may reach the other side, the logs or the audit log.

export const A = { municipality: '1916', team: 'noord', otherTeam: 'zuid', areas: ['2261', '2262'] } as const;
export const B = { municipality: '0363', team: 'centrum', areas: ['1011'] } as const;

export const SECRET = {
  bsn: '123456782',
  initials: 'Q.X.',
  surname: 'Oosterwoldt',
  street: 'Geheimstraat',
  city: 'Geheimstad',
  phone: '0612345678',
  email: 'geheim.a@example.org',
  externalIdPrefix: 'A-GEHEIM-',
  note: 'Notitie-A-vertrouwelijk',
} as const;

/** Strings that must never appear in an answer to the other side. */
export const PERSONAL_SECRETS: readonly string[] = [
  SECRET.bsn,
  SECRET.surname,
  SECRET.street,
  SECRET.city,
  SECRET.phone,
  SECRET.email,
  SECRET.externalIdPrefix,
  SECRET.note,
];
/** Plus, for another municipality: side A's municipality code and team as JSON values. */
export const MUNICIPALITY_SECRETS: readonly string[] = [`"${A.municipality}"`, `"${A.municipality}/${A.team}"`, `"${A.team}"`, `"${A.otherTeam}"`];

// ---------------------------------------------------------------------------------------------
// Actors

export type ActorName =
  | 'admin'
  | 'adminA'
  | 'adminB'
  | 'coordinatorA'
  | 'coordinatorB'
  | 'consultantA'
  | 'consultantA2'
  | 'consultantB'
  | 'integratorA'
  | 'integratorB';

interface ActorSpec {
  role: Role;
  side: 'A' | 'B' | 'all';
  municipality?: string;
  teams?: string[];
  partnerTypes?: ('energy' | 'rent')[];
}

export const ACTORS: Record<ActorName, ActorSpec> = {
  admin: { role: 'admin', side: 'all' },
  adminA: { role: 'admin', side: 'A', municipality: A.municipality },
  adminB: { role: 'admin', side: 'B', municipality: B.municipality },
  coordinatorA: { role: 'coordinator', side: 'A', municipality: A.municipality },
  coordinatorB: { role: 'coordinator', side: 'B', municipality: B.municipality },
  consultantA: { role: 'consultant', side: 'A', municipality: A.municipality, teams: [A.team] },
  // Same municipality, another team: the "another team" intruder.
  consultantA2: { role: 'consultant', side: 'A', municipality: A.municipality, teams: [A.otherTeam] },
  consultantB: { role: 'consultant', side: 'B', municipality: B.municipality, teams: [B.team] },
  integratorA: { role: 'integrator', side: 'A', municipality: A.municipality, partnerTypes: ['energy'] },
  integratorB: { role: 'integrator', side: 'B', municipality: B.municipality, partnerTypes: ['rent'] },
};

/** The side-A key used for "a key of the wrong role". */
export const ROLE_REPRESENTATIVE: Record<Role, ActorName> = {
  integrator: 'integratorA',
  consultant: 'consultantA',
  coordinator: 'coordinatorA',
  admin: 'admin',
};

export interface Key {
  id: string;
  key: string;
}

export interface World {
  t: TestContext;
  server: TestServer;
  keys: Record<ActorName, Key>;
  /** A revoked twin of every actor (same role and scope). */
  revoked: Record<ActorName, Key>;
  api(actor: ActorName | null, key?: string): ReturnType<typeof client>;
  /** A signal batch integratorA sent (side A) and one integratorB sent (side B). */
  batchA: string;
  batchB: string;
  /** A rule-set version that exists in A only (B has version 1 only). */
  versionOnlyInA: number;
  /** A side-A household with its open task, personal data, a note and a reached attempt. */
  taskA: SeededA;
  /** A side-B task, claimed by consultantB (so nothing on side B is claimable). */
  taskB: SeededA;
  freshTaskA(options?: { status?: 'open' | 'claimed'; assignee?: ActorName | null; team?: string }): Promise<SeededA>;
  today: string;
}

export interface SeededA {
  taskId: number;
  householdId: number;
}

let externalSequence = 0;

/** A side-A task with recognisable personal data on its signals and household, a note and a reached attempt. */
export async function personalTask(
  db: Queryable,
  input: { municipality: string; team: string | null; status?: 'open' | 'claimed'; assignee?: string | null; marker?: string },
): Promise<SeededA> {
  const seeded = await seedTask(db, { municipality: input.municipality, team: input.team, status: input.status ?? 'open', assignee: input.assignee ?? null });
  const marker = input.marker ?? SECRET.externalIdPrefix;
  const personal = input.municipality === A.municipality;
  await db.query(
    `update signals set bsn = $2, initials = $3, surname = $4, phone = $5, email = $6, birth_date = '1961-04-05',
            external_id = $7 || id || '-' || $8
      where id in (select signal_id from task_signals where task_id = $1)`,
    personal
      ? [seeded.taskId, SECRET.bsn, SECRET.initials, SECRET.surname, SECRET.phone, SECRET.email, marker, ++externalSequence]
      : [seeded.taskId, '111222333', 'B.', 'Bewoner', '0687654321', 'b@example.org', 'B-', ++externalSequence],
  );
  await db.query(`update households set street = $2, city = $3 where id = $1`, [seeded.householdId, personal ? SECRET.street : 'Bstraat', personal ? SECRET.city : 'Bstad']);
  await db.query(`insert into task_notes (task_id, text) values ($1, $2)`, [seeded.taskId, personal ? SECRET.note : 'notitie B']);
  await db.query(`insert into contact_attempts (task_id, channel, reached, attempt_date) values ($1, 'phone', true, '2025-01-07')`, [seeded.taskId]);
  return { taskId: seeded.taskId, householdId: seeded.householdId };
}

function signalItem(n: number, overrides: Record<string, unknown> = {}) {
  return {
    externalId: `${SECRET.externalIdPrefix}intake-${n}`,
    partnerType: 'energy',
    signalDate: '2025-01-10',
    amountCents: 12_550,
    person: { bsn: SECRET.bsn, initials: SECRET.initials, surname: SECRET.surname, birthDate: '1961-04-05' },
    address: { postcode: '2261AB', houseNumber: 7, street: SECRET.street, city: SECRET.city },
    contact: { phone: SECRET.phone, email: SECRET.email },
    ...overrides,
  };
}

/** A valid side-A signal item (energy, in 1916), unique per call. */
export function signalA(overrides: Record<string, unknown> = {}) {
  return signalItem(++externalSequence, overrides);
}

export async function buildWorld(name: string, env: Record<string, string> = {}): Promise<World> {
  const t = await createTestContext(name, { env: { RATE_LIMIT_PER_MINUTE: '0', INTAKE_RATE_LIMIT_PER_MINUTE: '0', ...env } });
  const server = await startTestServer(t.ctx);
  await seedMunicipality(t.ctx, A.municipality, [...A.areas], [
    { id: A.team, areas: ['2261'] },
    { id: A.otherTeam, areas: ['2262'] },
  ]);
  await seedMunicipality(t.ctx, B.municipality, [...B.areas], [{ id: B.team, areas: ['1011'] }]);
  await ensureDefaultRuleSets(t.ctx.pool, defaultRuleSet());

  const keys = {} as Record<ActorName, Key>;
  const revoked = {} as Record<ActorName, Key>;
  for (const [actor, spec] of Object.entries(ACTORS) as [ActorName, ActorSpec][]) {
    const input = { label: actor, role: spec.role, municipality: spec.municipality, teams: spec.teams, partnerTypes: spec.partnerTypes };
    keys[actor] = await createKeyWithId(t.ctx, input as Parameters<typeof createKeyWithId>[1]);
    revoked[actor] = await createKeyWithId(t.ctx, { ...input, label: `${actor} (revoked)` } as Parameters<typeof createKeyWithId>[1]);
    await revokeApiKey(t.ctx.pool, revoked[actor].id);
  }
  const api = (actor: ActorName | null, key?: string) => client(server.url, key ?? (actor ? keys[actor].key : undefined));

  const sentA = await api('integratorA').post('/v1/signals', { signals: [signalA(), signalA({ amountCents: -1 })] });
  if (sentA.status !== 202) throw new Error(`world: intake A answered ${sentA.status} ${sentA.text}`);
  const sentB = await api('integratorB').post('/v1/signals', {
    signals: [{ externalId: 'B-1', partnerType: 'rent', signalDate: '2025-01-10', amountCents: 50_000, person: {}, address: { postcode: '1011AB', houseNumber: 3 } }],
  });
  if (sentB.status !== 202) throw new Error(`world: intake B answered ${sentB.status} ${sentB.text}`);

  // Two more versions in A, so that version 3 exists in A and not in B.
  for (let i = 0; i < 2; i++) {
    const published = await api('coordinatorA').post(`/v1/rule-sets`, { ruleSet: defaultRuleSet(), activate: false, note: 'A only' });
    if (published.status !== 201) throw new Error(`world: publishing answered ${published.status} ${published.text}`);
  }

  const taskA = await personalTask(t.ctx.pool, { municipality: A.municipality, team: A.team });
  const taskB = await personalTask(t.ctx.pool, { municipality: B.municipality, team: B.team, status: 'claimed', assignee: keys.consultantB.id });

  return {
    t,
    server,
    keys,
    revoked,
    api,
    batchA: sentA.json.batchId,
    batchB: sentB.json.batchId,
    versionOnlyInA: 3,
    taskA,
    taskB,
    today: dutchToday(),
    freshTaskA: (options = {}) =>
      personalTask(t.ctx.pool, {
        municipality: A.municipality,
        team: options.team ?? A.team,
        status: options.status ?? 'open',
        assignee: options.assignee ? keys[options.assignee].id : null,
      }),
  };
}

export async function closeWorld(w: World | undefined): Promise<void> {
  if (!w) return;
  await w.server.close();
  await w.t.close();
}

// ---------------------------------------------------------------------------------------------
// The route table

export interface ApiRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Full path with query, e.g. /v1/tasks/42/notes?limit=5. */
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface Intruder {
  actor: ActorName;
  /** The documented answer; never 2xx with side A's data. */
  status: number;
  /** Another request than the control's (e.g. without a query that names A). */
  request?: (w: World, control: ApiRequest) => ApiRequest;
}

export interface RouteSpec {
  /** Method and path as registered in buildV1(): 'GET /tasks/:id'. */
  route: string;
  roles: readonly Role[];
  /** The answer to a key of a role not in `roles` (default 403). */
  wrongRoleStatus?: number;
  /** A valid request on side A's data, built fresh per call (mutating routes get fresh objects). */
  prepare(w: World): Promise<ApiRequest>;
  /** Who on side A succeeds with it. `reveals`: the answer carries side A's personal data (so the intruders' checks mean something). */
  control: { actor: ActorName; status: number; reveals?: boolean };
  /** Keys of another municipality / team / integrator, with the same real ids. */
  intruders: Intruder[];
  /** Why a route has no intruders. */
  noIntruders?: string;
}

const get = (path: string): ApiRequest => ({ method: 'GET', path });
const post = (path: string, body?: unknown): ApiRequest => ({ method: 'POST', path, body });
const period = (w: World) => `from=2025-01-01&to=${w.today}`;
const otherMunicipality = (...actors: ActorName[]): Intruder[] => actors.map((actor) => ({ actor, status: 404 }));
const TASK_INTRUDERS: Intruder[] = otherMunicipality('consultantA2', 'consultantB', 'coordinatorB', 'adminB');
const WORKER_INTRUDERS: Intruder[] = otherMunicipality('consultantA2', 'consultantB', 'coordinatorB');

export const ROUTES: RouteSpec[] = [
  // ---- municipalities and teams
  {
    route: 'PUT /municipalities/:code',
    roles: ['admin'],
    prepare: async () => ({ method: 'PUT', path: `/v1/municipalities/${A.municipality}`, body: { name: `Gemeente ${A.municipality}`, postcodeAreas: [...A.areas] } }),
    control: { actor: 'admin', status: 200, reveals: true },
    intruders: otherMunicipality('adminB'),
  },
  {
    route: 'GET /municipalities',
    roles: ['integrator', 'consultant', 'coordinator', 'admin'],
    prepare: async () => get('/v1/municipalities'),
    control: { actor: 'coordinatorA', status: 200, reveals: true },
    intruders: [
      { actor: 'coordinatorB', status: 200 },
      { actor: 'consultantB', status: 200 },
      { actor: 'integratorB', status: 200 },
      { actor: 'adminB', status: 200 },
    ],
  },
  {
    route: 'PUT /municipalities/:code/teams/:teamId',
    roles: ['coordinator', 'admin'],
    prepare: async () => ({ method: 'PUT', path: `/v1/municipalities/${A.municipality}/teams/${A.team}`, body: { name: 'Team noord', postcodeAreas: ['2261'] } }),
    control: { actor: 'coordinatorA', status: 200, reveals: true },
    intruders: otherMunicipality('coordinatorB', 'adminB'),
  },
  {
    route: 'PUT /municipalities/:code/retention',
    roles: ['admin'],
    prepare: async () => ({ method: 'PUT', path: `/v1/municipalities/${A.municipality}/retention`, body: { untaskedMonths: 6, closedTaskMonths: 18 } }),
    control: { actor: 'adminA', status: 200, reveals: true },
    intruders: otherMunicipality('adminB'),
  },
  {
    route: 'GET /municipalities/:code/retention',
    roles: ['admin'],
    prepare: async () => get(`/v1/municipalities/${A.municipality}/retention`),
    control: { actor: 'adminA', status: 200, reveals: true },
    intruders: otherMunicipality('adminB'),
  },
  {
    route: 'GET /municipalities/:code/teams',
    roles: ['consultant', 'coordinator', 'admin'],
    prepare: async () => get(`/v1/municipalities/${A.municipality}/teams`),
    control: { actor: 'consultantA', status: 200, reveals: true },
    intruders: otherMunicipality('consultantB', 'coordinatorB', 'adminB'),
  },
  // ---- API keys
  {
    route: 'POST /api-keys',
    roles: ['admin'],
    prepare: async () => post('/v1/api-keys', { role: 'consultant', municipality: A.municipality, teams: [A.team], label: 'new consultant A' }),
    control: { actor: 'adminA', status: 201 },
    // Documented: a municipality-bound admin creates keys for its own municipality only (400 with a pointer).
    intruders: [{ actor: 'adminB', status: 400 }],
  },
  {
    route: 'DELETE /api-keys/:id',
    roles: ['admin'],
    prepare: async (w) => {
      const key = await createKeyWithId(w.t.ctx, { role: 'consultant', municipality: A.municipality, teams: [A.team], label: 'to revoke' });
      return { method: 'DELETE', path: `/v1/api-keys/${key.id}` };
    },
    control: { actor: 'adminA', status: 204 },
    intruders: otherMunicipality('adminB'),
  },
  {
    route: 'GET /api-keys',
    roles: ['admin'],
    prepare: async () => get('/v1/api-keys?limit=500'),
    control: { actor: 'adminA', status: 200, reveals: true },
    // An admin of another municipality gets its own keys only.
    intruders: [{ actor: 'adminB', status: 200 }],
  },
  {
    route: 'POST /api-keys/:id/rotate',
    roles: ['admin'],
    prepare: async (w) => {
      const key = await createKeyWithId(w.t.ctx, { role: 'consultant', municipality: A.municipality, teams: [A.team], label: 'to rotate' });
      return { method: 'POST', path: `/v1/api-keys/${key.id}/rotate` };
    },
    control: { actor: 'adminA', status: 201 },
    intruders: otherMunicipality('adminB'),
  },
  // ---- signals
  {
    route: 'POST /signals',
    roles: ['integrator', 'admin'],
    prepare: async () => post('/v1/signals', { signals: [signalA()] }),
    control: { actor: 'integratorA', status: 202 },
    // Another integrator (other partner type, other municipality): every item refused, nothing stored.
    intruders: [{ actor: 'integratorB', status: 400 }],
  },
  {
    route: 'GET /signal-batches/:batchId',
    roles: ['integrator', 'admin'],
    // Not even the existence of another key's batch is disclosed: other roles get 404 too.
    wrongRoleStatus: 404,
    prepare: async (w) => get(`/v1/signal-batches/${w.batchA}`),
    control: { actor: 'integratorA', status: 200 },
    intruders: otherMunicipality('integratorB', 'adminB'),
  },
  {
    route: 'GET /signal-batches/:batchId/duplicates',
    roles: ['integrator', 'admin'],
    wrongRoleStatus: 404,
    prepare: async (w) => get(`/v1/signal-batches/${w.batchA}/duplicates`),
    control: { actor: 'integratorA', status: 200 },
    intruders: otherMunicipality('integratorB', 'adminB'),
  },
  // ---- tasks and households
  {
    route: 'GET /tasks',
    roles: ['consultant', 'coordinator', 'admin'],
    prepare: async () => get('/v1/tasks?limit=500'),
    control: { actor: 'coordinatorA', status: 200, reveals: true },
    intruders: [
      { actor: 'consultantA2', status: 200 },
      { actor: 'consultantB', status: 200 },
      { actor: 'coordinatorB', status: 200 },
      { actor: 'adminB', status: 200 },
    ],
  },
  {
    route: 'GET /tasks/:id',
    roles: ['consultant', 'coordinator', 'admin'],
    prepare: async (w) => get(`/v1/tasks/${(await w.freshTaskA()).taskId}`),
    control: { actor: 'consultantA', status: 200, reveals: true },
    intruders: TASK_INTRUDERS,
  },
  {
    route: 'GET /households/:id',
    roles: ['consultant', 'coordinator', 'admin'],
    prepare: async (w) => get(`/v1/households/${(await w.freshTaskA()).householdId}`),
    control: { actor: 'consultantA', status: 200, reveals: true },
    intruders: TASK_INTRUDERS,
  },
  {
    route: 'GET /tasks/queue',
    roles: ['consultant', 'coordinator'],
    prepare: async (w) => {
      await w.freshTaskA();
      return get('/v1/tasks/queue?limit=500');
    },
    control: { actor: 'consultantA', status: 200, reveals: true },
    intruders: [
      { actor: 'consultantA2', status: 200 },
      { actor: 'consultantB', status: 200 },
      { actor: 'coordinatorB', status: 200 },
    ],
  },
  {
    route: 'POST /tasks/claim',
    roles: ['consultant', 'coordinator'],
    prepare: async (w) => {
      await w.freshTaskA();
      return post('/v1/tasks/claim');
    },
    control: { actor: 'consultantA', status: 200, reveals: true },
    // Nothing is claimable on side B or in team zuid: they get 204, never one of A's tasks.
    intruders: [
      { actor: 'consultantA2', status: 204 },
      { actor: 'consultantB', status: 204 },
      { actor: 'coordinatorB', status: 204 },
    ],
  },
  {
    route: 'POST /tasks/:id/claim',
    roles: ['consultant', 'coordinator'],
    prepare: async (w) => post(`/v1/tasks/${(await w.freshTaskA()).taskId}/claim`),
    control: { actor: 'consultantA', status: 200, reveals: true },
    intruders: WORKER_INTRUDERS,
  },
  {
    route: 'POST /tasks/:id/release',
    roles: ['consultant', 'coordinator'],
    prepare: async (w) => post(`/v1/tasks/${(await w.freshTaskA({ status: 'claimed', assignee: 'consultantA' })).taskId}/release`),
    control: { actor: 'consultantA', status: 200, reveals: true },
    intruders: WORKER_INTRUDERS,
  },
  {
    route: 'POST /tasks/:id/assign',
    roles: ['coordinator'],
    prepare: async (w) => post(`/v1/tasks/${(await w.freshTaskA()).taskId}/assign`, { consultantKeyId: w.keys.consultantA.id }),
    control: { actor: 'coordinatorA', status: 200, reveals: true },
    intruders: otherMunicipality('coordinatorB'),
  },
  {
    route: 'POST /tasks/:id/contact-attempts',
    roles: ['consultant', 'coordinator'],
    prepare: async (w) =>
      post(`/v1/tasks/${(await w.freshTaskA({ status: 'claimed', assignee: 'consultantA' })).taskId}/contact-attempts`, {
        channel: 'phone',
        reached: false,
        date: '2025-01-08',
        dayPart: 'morning',
      }),
    control: { actor: 'consultantA', status: 201 },
    intruders: WORKER_INTRUDERS,
  },
  {
    route: 'GET /tasks/:id/contact-attempts',
    roles: ['consultant', 'coordinator'],
    prepare: async (w) => get(`/v1/tasks/${(await w.freshTaskA()).taskId}/contact-attempts`),
    control: { actor: 'consultantA', status: 200 },
    intruders: WORKER_INTRUDERS,
  },
  {
    route: 'POST /tasks/:id/notes',
    roles: ['consultant', 'coordinator'],
    prepare: async (w) => post(`/v1/tasks/${(await w.freshTaskA()).taskId}/notes`, { text: 'Brief gestuurd.' }),
    control: { actor: 'consultantA', status: 201 },
    intruders: WORKER_INTRUDERS,
  },
  {
    route: 'GET /tasks/:id/notes',
    roles: ['consultant', 'coordinator'],
    prepare: async (w) => get(`/v1/tasks/${(await w.freshTaskA()).taskId}/notes`),
    control: { actor: 'consultantA', status: 200, reveals: true },
    intruders: WORKER_INTRUDERS,
  },
  {
    route: 'POST /tasks/:id/close',
    roles: ['consultant', 'coordinator'],
    prepare: async (w) =>
      post(`/v1/tasks/${(await w.freshTaskA({ status: 'claimed', assignee: 'consultantA' })).taskId}/close`, { result: 'advice_or_quick_fix', note: 'Afgerond.' }),
    control: { actor: 'consultantA', status: 200, reveals: true },
    intruders: WORKER_INTRUDERS,
  },
  {
    route: 'GET /tasks/:id/history',
    roles: ['consultant', 'coordinator'],
    prepare: async (w) => get(`/v1/tasks/${(await w.freshTaskA()).taskId}/history`),
    control: { actor: 'consultantA', status: 200 },
    intruders: WORKER_INTRUDERS,
  },
  // ---- monitoring and DDAS
  {
    route: 'GET /monitoring/summary',
    roles: ['coordinator', 'admin'],
    prepare: async (w) => get(`/v1/monitoring/summary?${period(w)}&groupBy=team&municipality=${A.municipality}`),
    control: { actor: 'coordinatorA', status: 200, reveals: true },
    intruders: [
      ...otherMunicipality('coordinatorB', 'adminB'),
      { actor: 'coordinatorB', status: 200, request: (w) => get(`/v1/monitoring/summary?${period(w)}&groupBy=team`) },
    ],
  },
  {
    route: 'GET /monitoring/work-stock',
    roles: ['coordinator', 'admin'],
    prepare: async (w) => {
      await takeMonitorSnapshot(w.t.ctx);
      return get(`/v1/monitoring/work-stock?from=${w.today}&to=${w.today}&municipality=${A.municipality}`);
    },
    control: { actor: 'coordinatorA', status: 200, reveals: true },
    intruders: [
      ...otherMunicipality('coordinatorB', 'adminB'),
      { actor: 'coordinatorB', status: 200, request: (w) => get(`/v1/monitoring/work-stock?from=${w.today}&to=${w.today}`) },
    ],
  },
  {
    route: 'GET /exports/ddas',
    roles: ['coordinator', 'admin'],
    prepare: async (w) => get(`/v1/exports/ddas?${period(w)}&municipality=${A.municipality}`),
    control: { actor: 'coordinatorA', status: 200, reveals: true },
    intruders: [
      ...otherMunicipality('coordinatorB', 'adminB'),
      { actor: 'coordinatorB', status: 200, request: (w) => get(`/v1/exports/ddas?${period(w)}`) },
      { actor: 'adminB', status: 200, request: (w) => get(`/v1/exports/ddas?${period(w)}`) },
    ],
  },
  {
    route: 'POST /ddas/gegevens',
    roles: ['coordinator', 'admin'],
    prepare: async (w) => post('/v1/ddas/gegevens', { aanleverperiodeStartdatum: '2025-01-01', aanleverperiodeEinddatum: w.today, aanleverendeOrganisatie: A.municipality }),
    control: { actor: 'coordinatorA', status: 200, reveals: true },
    // Documented: an organisation outside the key's scope is 422 (DDAS-VS), never its data.
    intruders: [
      { actor: 'coordinatorB', status: 422 },
      { actor: 'adminB', status: 422 },
      { actor: 'coordinatorB', status: 200, request: (w) => post('/v1/ddas/gegevens', { aanleverperiodeStartdatum: '2025-01-01', aanleverperiodeEinddatum: w.today }) },
    ],
  },
  {
    route: 'GET /audit-events',
    roles: ['coordinator', 'admin'],
    prepare: async () => get(`/v1/audit-events?municipality=${A.municipality}&limit=1000`),
    control: { actor: 'coordinatorA', status: 200, reveals: true },
    intruders: [
      ...otherMunicipality('coordinatorB', 'adminB'),
      { actor: 'coordinatorB', status: 200, request: () => get('/v1/audit-events?limit=1000') },
      { actor: 'adminB', status: 200, request: () => get('/v1/audit-events?limit=1000') },
    ],
  },
  // ---- rule sets
  {
    route: 'GET /rule-sets',
    roles: ['coordinator', 'admin'],
    prepare: async () => get(`/v1/rule-sets?municipality=${A.municipality}`),
    control: { actor: 'coordinatorA', status: 200 },
    intruders: otherMunicipality('coordinatorB', 'adminB'),
  },
  {
    route: 'GET /rule-sets/:version',
    roles: ['coordinator', 'admin'],
    prepare: async (w) => get(`/v1/rule-sets/${w.versionOnlyInA}?municipality=${A.municipality}`),
    control: { actor: 'coordinatorA', status: 200 },
    intruders: [
      ...otherMunicipality('coordinatorB', 'adminB'),
      // The bare version number: B has no version 3 of its own.
      { actor: 'coordinatorB', status: 404, request: (w) => get(`/v1/rule-sets/${w.versionOnlyInA}`) },
      { actor: 'adminB', status: 404, request: (w) => get(`/v1/rule-sets/${w.versionOnlyInA}`) },
    ],
  },
  {
    route: 'POST /rule-sets/validate',
    roles: ['coordinator', 'admin'],
    prepare: async () => post('/v1/rule-sets/validate', { ruleSet: defaultRuleSet() }),
    control: { actor: 'coordinatorA', status: 200 },
    intruders: [],
    noIntruders: 'stateless: validates the rule set in the body, reads nothing of any municipality',
  },
  {
    route: 'POST /rule-sets/simulate',
    roles: ['coordinator', 'admin'],
    prepare: async (w) => post(`/v1/rule-sets/simulate?municipality=${A.municipality}`, { ruleSet: defaultRuleSet(), from: '2025-01-01', to: w.today }),
    control: { actor: 'coordinatorA', status: 200 },
    intruders: otherMunicipality('coordinatorB', 'adminB'),
  },
  {
    route: 'POST /rule-sets',
    roles: ['coordinator', 'admin'],
    prepare: async () => post(`/v1/rule-sets?municipality=${A.municipality}`, { ruleSet: defaultRuleSet(), activate: false, note: 'matrix' }),
    control: { actor: 'coordinatorA', status: 201 },
    intruders: otherMunicipality('coordinatorB', 'adminB'),
  },
  {
    route: 'POST /rule-sets/:version/activate',
    roles: ['coordinator', 'admin'],
    prepare: async (w) => post(`/v1/rule-sets/${w.versionOnlyInA}/activate?municipality=${A.municipality}`),
    control: { actor: 'coordinatorA', status: 200 },
    intruders: [
      ...otherMunicipality('coordinatorB', 'adminB'),
      { actor: 'coordinatorB', status: 404, request: (w) => post(`/v1/rule-sets/${w.versionOnlyInA}/activate`) },
    ],
  },
];

/** Every route of the /v1 app as registered at runtime: 'GET /tasks/:id', once each. */
export function registeredV1Routes(): string[] {
  const seen = new Set<string>();
  for (const r of buildV1().routes) if (r.method !== 'ALL') seen.add(`${r.method} ${r.path}`);
  return [...seen].sort();
}

/** Every route of the web pages as registered at runtime, without the catch-all middleware entries. */
export function registeredWebRoutes(ctx: AppContext): string[] {
  const seen = new Set<string>();
  for (const r of buildWebPages(ctx).routes) if (!(r.method === 'ALL' && r.path === '/*')) seen.add(`${r.method} ${r.path}`);
  return [...seen].sort();
}

export async function send(w: World, actor: ActorName | null, request: ApiRequest, key?: string) {
  const api = w.api(actor, key);
  switch (request.method) {
    case 'GET':
      return api.get(request.path, request.headers);
    case 'DELETE':
      return api.delete(request.path, request.headers);
    case 'PUT':
      return api.put(request.path, request.body, request.headers);
    case 'POST':
      return api.post(request.path, request.body, request.headers);
  }
}

/** The tokens an answer to `actor` must not contain. */
export function secretsFor(actor: ActorName): string[] {
  return ACTORS[actor].side === 'B' ? [...PERSONAL_SECRETS, ...MUNICIPALITY_SECRETS] : [...PERSONAL_SECRETS];
}

/** The tokens found in a response text (its problem `instance`, which echoes the request path, left out). */
export function leakedIn(text: string, tokens: readonly string[]): string[] {
  let scanned = text;
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed) && 'instance' in parsed) {
      const { instance: _instance, ...rest } = parsed as Record<string, unknown>;
      scanned = JSON.stringify(rest);
    }
  } catch {
    // not JSON: scan as it is
  }
  return tokens.filter((token) => scanned.includes(token));
}

// ---------------------------------------------------------------------------------------------
// The database before and after a rejected request

const SNAPSHOT_TABLES: Record<string, string> = {
  municipalities: 'select code, name, active_rule_set_version from municipalities',
  municipality_areas: 'select * from municipality_areas',
  teams: 'select municipality_code, id, name, postcode_areas from teams',
  // last_used_at moves on use; everything else of a key must not.
  api_keys: 'select id, key_hash, role, municipality_code, partner_types, teams, label, revoked_at from api_keys',
  households: 'select * from households',
  signals: 'select * from signals',
  tasks: 'select * from tasks',
  contact_attempts: 'select * from contact_attempts',
  task_notes: 'select * from task_notes',
  task_history: 'select * from task_history',
  rule_sets: 'select * from rule_sets',
  signal_batches: 'select * from signal_batches',
  signal_batch_rejections: 'select * from signal_batch_rejections',
  web_sessions: 'select id, token_hash, api_key_id, csrf_secret, created_at, expires_at from web_sessions',
};

export type Snapshot = Record<string, string>;

/** Row count and checksum of every table that holds data (the audit log, which records refusals too, aside). */
export async function snapshot(db: Queryable): Promise<Snapshot> {
  const parts = Object.entries(SNAPSHOT_TABLES).map(
    ([table, sql]) => `select '${table}' as t, count(*)::text || ':' || coalesce(md5(string_agg(x::text, '|' order by x::text)), '-') as v from (${sql}) x`,
  );
  const { rows } = await db.query<{ t: string; v: string }>(parts.join(' union all '));
  return Object.fromEntries(rows.map((r) => [r.t, r.v]));
}

/** The tables whose checksum changed. */
export function changedTables(before: Snapshot, after: Snapshot): string[] {
  return Object.keys(before).filter((table) => before[table] !== after[table]);
}

// ---------------------------------------------------------------------------------------------
// The web pages

/** Signs in on the web pages with a key over plain HTTP; returns the session cookie. */
export async function webSignIn(w: World, key: string): Promise<string> {
  const form = await fetch(`${w.server.url}/web/sign-in`);
  const signIn = /vs_signin=([A-Za-z0-9_-]{43})/.exec(form.headers.get('set-cookie') ?? '')?.[1];
  if (!signIn) throw new Error('no sign-in cookie');
  const res = await fetch(`${w.server.url}/web/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `vs_signin=${signIn}` },
    body: new URLSearchParams({ _csrf: signIn, apiKey: key }).toString(),
  });
  const session = /vs_session=([A-Za-z0-9_-]{43})/.exec(res.headers.get('set-cookie') ?? '')?.[1];
  if (res.status !== 303 || !session) throw new Error(`web sign-in answered ${res.status}`);
  return `vs_session=${session}`;
}

/** The session's CSRF secret, read from a form on a page it may see. */
export async function webCsrf(w: World, cookie: string, page: string): Promise<string> {
  const res = await fetch(`${w.server.url}${page}`, { headers: { cookie } });
  const token = /name="_csrf"[^>]*value="([^"]+)"/.exec(await res.text())?.[1];
  if (!token) throw new Error(`no _csrf field on ${page} (${res.status})`);
  return token;
}

export interface WebRouteSpec {
  /** Method and path as registered in buildWebPages(): 'GET /households/:id'. */
  route: string;
  /** Reachable signed out (the sign-in page and static assets). */
  public?: { status: number };
  /** The path on side A's data, under /web. */
  path(w: World): string;
  /** A form body for POSTs (urlencoded), when it matters. */
  form?: Record<string, string>;
}

export const WEB_ROUTES: WebRouteSpec[] = [
  { route: 'GET /assets/:file', public: { status: 200 }, path: () => '/web/assets/app.css' },
  { route: 'GET /sign-in', public: { status: 200 }, path: () => '/web/sign-in' },
  // Without the double-submit token: refused, and no session.
  { route: 'POST /sign-in', public: { status: 403 }, path: () => '/web/sign-in' },
  { route: 'GET /', path: () => '/web/' },
  { route: 'POST /sign-out', path: () => '/web/sign-out' },
  { route: 'GET /queue', path: () => '/web/queue' },
  { route: 'POST /queue/claim-next', path: () => '/web/queue/claim-next' },
  { route: 'GET /households/:id', path: (w) => `/web/households/${w.taskA.householdId}` },
  { route: 'POST /tasks/:id/claim', path: (w) => `/web/tasks/${w.taskA.taskId}/claim` },
  { route: 'POST /tasks/:id/attempts', path: (w) => `/web/tasks/${w.taskA.taskId}/attempts`, form: { channel: 'phone', reached: 'false', date: '2025-01-08' } },
  { route: 'POST /tasks/:id/notes', path: (w) => `/web/tasks/${w.taskA.taskId}/notes`, form: { text: 'via het web' } },
  { route: 'POST /tasks/:id/close', path: (w) => `/web/tasks/${w.taskA.taskId}/close`, form: { result: 'deceased' } },
  { route: 'POST /tasks/:id/release', path: (w) => `/web/tasks/${w.taskA.taskId}/release` },
  { route: 'POST /tasks/:id/assign', path: (w) => `/web/tasks/${w.taskA.taskId}/assign` },
  { route: 'GET /overview', path: () => '/web/overview' },
  { route: 'GET /overview/csv/:table', path: () => '/web/overview/csv/partnerType' },
  { route: 'GET /rules', path: () => '/web/rules' },
  { route: 'POST /rules/candidate', path: () => '/web/rules/candidate' },
  { route: 'POST /rules/:version/activate', path: (w) => `/web/rules/${w.versionOnlyInA}/activate` },
  { route: 'GET /teams', path: () => '/web/teams' },
  { route: 'POST /teams', path: () => '/web/teams' },
  { route: 'GET /upload', path: () => '/web/upload' },
  { route: 'POST /upload', path: () => '/web/upload' },
  { route: 'GET /upload/batches/:id', path: (w) => `/web/upload/batches/${w.batchA}` },
];
