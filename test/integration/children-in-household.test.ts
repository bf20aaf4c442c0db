import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDefaultRuleSets } from '../../src/db/ruleSets.js';
import { defaultRuleSet, evaluateHouseholds } from '../../src/services/evaluation.js';
import { client, createKey, createTestContext, seedMunicipality, startTestServer, type TestContext, type TestServer } from '../helpers/context.js';

/**
 * Children in the household, from intake to the decision: a signal may report them
 * (`childrenInHousehold`, JSON or CSV); the newest report in the window is the household's
 * `childrenInHousehold` fact, and the default rule set scores a family with children higher,
 * which the task's explanation shows with the fact's value.
 */

let t: TestContext;
let server: TestServer;
let integrator: ReturnType<typeof client>;
let coordinator: ReturnType<typeof client>;
const recent = (daysAgo: number) => new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10);
let sequence = 0;

const item = (overrides: Record<string, unknown> = {}) => ({
  externalId: `kids-${++sequence}`,
  partnerType: 'rent',
  signalDate: recent(3),
  amountCents: 60_000,
  person: {},
  address: { postcode: '2261AB', houseNumber: 100 + sequence },
  ...overrides,
});

beforeAll(async () => {
  t = await createTestContext('children_in_household');
  server = await startTestServer(t.ctx);
  await seedMunicipality(t.ctx, '1916', ['2261']);
  await ensureDefaultRuleSets(t.ctx.pool, defaultRuleSet());
  integrator = client(server.url, await createKey(t.ctx, { role: 'integrator', label: 'woningcorporatie' }));
  coordinator = client(server.url, await createKey(t.ctx, { role: 'coordinator', municipality: '1916', label: 'coordinator' }));
});
afterAll(async () => {
  await server.close();
  await t.close();
});

async function householdOf(externalId: string): Promise<number> {
  const { rows } = await t.ctx.pool.query<{ household_id: number }>(`select household_id from signals where external_id = $1`, [externalId]);
  return rows[0]!.household_id;
}

async function explainedTask(householdId: number) {
  await evaluateHouseholds(t.ctx, [householdId]);
  const { rows } = await t.ctx.pool.query<{ id: number }>(`select id from tasks where household_id = $1 and status <> 'closed'`, [householdId]);
  const res = await coordinator.get(`/v1/tasks/${rows[0]!.id}`);
  expect(res.status).toBe(200);
  return res.json as { priority: number; explanation: { rules: { name: string; facts: Record<string, unknown> }[] } };
}

describe('children in the household', () => {
  it('are taken from JSON (0 to 30), refused otherwise with a pointer, and stored with the signal', async () => {
    const family = item({ childrenInHousehold: 2 });
    const res = await integrator.post('/v1/signals', {
      signals: [family, item({ childrenInHousehold: 31 }), item({ childrenInHousehold: '2' }), item({ childrenInHousehold: -1 }), item()],
    });
    expect(res.status).toBe(202);
    expect(res.json).toMatchObject({ accepted: 2, rejectedCount: 3 });
    expect(res.json.rejected.map((r: { errors: { pointer: string }[] }) => r.errors[0]!.pointer)).toEqual([
      '/signals/1/childrenInHousehold',
      '/signals/2/childrenInHousehold',
      '/signals/3/childrenInHousehold',
    ]);
    const { rows } = await t.ctx.pool.query(`select external_id, children_in_household from signals where external_id like 'kids-%' order by id`);
    expect(rows).toEqual([
      { external_id: family.externalId, children_in_household: 2 },
      { external_id: `kids-${sequence}`, children_in_household: null },
    ]);

    const household = await householdOf(family.externalId);
    const task = await explainedTask(household);
    const rule = task.explanation.rules.find((r) => r.name === 'Gezin met kinderen');
    expect(rule?.facts).toEqual({ childrenInHousehold: 2 });
    const view = await coordinator.get(`/v1/households/${household}`);
    expect(view.json.signals[0].childrenInHousehold).toBe(2);
  });

  it('are taken from a CSV column, an empty cell meaning unknown and a word refused by row and column', async () => {
    const header = 'externalId;partnerType;signalDate;amountCents;postcode;houseNumber;childrenInHousehold';
    const rows = [`kids-csv-1;rent;${recent(2)};60000;2261AC;1;3`, `kids-csv-2;rent;${recent(2)};60000;2261AC;2;`, `kids-csv-3;rent;${recent(2)};60000;2261AC;3;drie`];
    const res = await integrator.post('/v1/signals', [header, ...rows].join('\n'), { 'content-type': 'text/csv' });
    expect(res.status).toBe(202);
    expect(res.json).toMatchObject({ accepted: 2, rejectedCount: 1 });
    expect(res.json.rejected).toEqual([{ row: 4, errors: [{ column: 'childrenInHousehold', detail: expect.any(String) }] }]);

    const withChildren = await explainedTask(await householdOf('kids-csv-1'));
    expect(withChildren.explanation.rules.find((r) => r.name === 'Gezin met kinderen')?.facts).toEqual({ childrenInHousehold: 3 });
    const unknown = await explainedTask(await householdOf('kids-csv-2'));
    expect(unknown.explanation.rules.map((r) => r.name)).not.toContain('Gezin met kinderen');
    expect(withChildren.priority - unknown.priority).toBe(15);
  });

  it('follow the newest report in the window: a later signal saying none outweighs an earlier one saying two', async () => {
    const earlier = item({ childrenInHousehold: 2, signalDate: recent(20), address: { postcode: '2261AD', houseNumber: 7 } });
    const later = item({ childrenInHousehold: 0, signalDate: recent(2), partnerType: 'energy', address: { postcode: '2261AD', houseNumber: 7 } });
    const silent = item({ signalDate: recent(1), partnerType: 'water', address: { postcode: '2261AD', houseNumber: 7 } });
    expect((await integrator.post('/v1/signals', { signals: [earlier, later, silent] })).json.accepted).toBe(3);
    const task = await explainedTask(await householdOf(earlier.externalId));
    expect(task.explanation.rules.map((r) => r.name)).not.toContain('Gezin met kinderen');
  });
});
