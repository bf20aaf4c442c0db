import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dutchToday } from '../../src/domain/dates.js';
import { addDays } from '../../src/domain/workingDays.js';
import { evaluateHouseholds } from '../../src/services/evaluation.js';
import { client, createKey, createTestContext, seedMunicipality, startTestServer, type TestContext, type TestServer } from '../helpers/context.js';
import { seedSignals } from '../helpers/signals.js';

const score = (name: string, fact: string, operator: string, value: unknown, points: number) => ({
  name,
  conditions: { all: [{ fact, operator, value }] },
  event: { type: 'score', params: { points, reason: name } },
});

const ACTIVE = {
  name: 'active',
  description: 'amount only',
  rules: [score('large amount', 'totalAmountCents', 'greaterThanInclusive', 50000, 10)],
};
const CANDIDATE = {
  name: 'candidate',
  description: 'amount, energy and no small rent',
  rules: [
    score('large amount', 'totalAmountCents', 'greaterThanInclusive', 50000, 10),
    score('energy', 'energyCount', 'greaterThanInclusive', 1, 25),
    { name: 'small rent', conditions: { all: [{ fact: 'rentAmountCents', operator: 'lessThan', value: 10000 }, { fact: 'rentCount', operator: 'equal', value: 1 }] }, event: { type: 'suppress', params: { status: 'not_picked_up_other_reason', reason: 'small rent arrears' } } },
  ],
};

let t: TestContext;
let server: TestServer;
let coordinator: ReturnType<typeof client>;
// Dates in the Netherlands: the service counts in Dutch calendar days.
const day = (offset: number) => addDays(dutchToday(), offset);

beforeAll(async () => {
  t = await createTestContext('rule_sets');
  server = await startTestServer(t.ctx);
  await seedMunicipality(t.ctx, '1916', ['2261']);
  await seedMunicipality(t.ctx, '0363', ['1011']);
  await t.ctx.pool.query(`insert into rule_sets (municipality_code, version, name, definition) values ('1916', 1, 'active', $1)`, [JSON.stringify(ACTIVE)]);
  await t.ctx.pool.query(`update municipalities set active_rule_set_version = 1 where code = '1916'`);
  // Fixed history: a large rent household, an energy household, a small rent household.
  const ids = [
    ...(await seedSignals(t.ctx, [{ postcode: '2261AA', houseNumber: 1, partnerType: 'rent', amountCents: 80000, signalDate: day(-3) }])),
    ...(await seedSignals(t.ctx, [{ postcode: '2261AA', houseNumber: 2, partnerType: 'energy', amountCents: 20000, signalDate: day(-3) }])),
    ...(await seedSignals(t.ctx, [{ postcode: '2261AA', houseNumber: 3, partnerType: 'rent', amountCents: 5000, signalDate: day(-3) }])),
  ];
  await evaluateHouseholds(t.ctx, ids);
  coordinator = client(server.url, await createKey(t.ctx, { role: 'coordinator', municipality: '1916', label: 'coordinator' }));
});
afterAll(async () => {
  await server.close();
  await t.close();
});

const snapshot = async () =>
  JSON.stringify(
    (await t.ctx.pool.query(`select (select json_agg(t order by id) from tasks t) as tasks, (select json_agg(s order by id) from signals s) as signals,
                                    (select json_agg(r order by version) from rule_sets r) as rule_sets`)).rows[0],
  );

describe('rule authoring', () => {
  it('validates with pointers and warnings', async () => {
    const broken = { name: 'x', description: 'y', rules: [{ name: 'a', conditions: { all: [{ fact: 'noSuchFact', operator: 'equal', value: 1 }] }, event: { type: 'score', params: { points: 1, reason: 'r' } } }] };
    const res = await coordinator.post('/v1/rule-sets/validate', { ruleSet: broken });
    expect(res.status).toBe(200);
    expect(res.json.valid).toBe(false);
    expect(res.json.errors[0].pointer).toBe('/rules/0/conditions/all/0/fact');
    const ok = await coordinator.post('/v1/rule-sets/validate', { ruleSet: CANDIDATE });
    expect(ok.json).toMatchObject({ valid: true, errors: [] });
  });

  it('simulates a candidate on the stored households and changes nothing', async () => {
    const before = await snapshot();
    const res = await coordinator.post('/v1/rule-sets/simulate', { ruleSet: CANDIDATE, from: day(-7), to: day(0) });
    expect(res.status).toBe(200);
    expect(res.json.households).toBe(3);
    expect(res.json.changes).toEqual({ newlyApproached: 0, newlySuppressed: 1, priorityUp: 1, priorityDown: 0, prioritySame: 1, teamChanged: 0 });
    expect(res.json.biggestMovers[0]).toMatchObject({ priorityBefore: 0, suppressedAfter: 'not_picked_up_other_reason', rulesAdded: ['small rent'] });
    expect(res.json.biggestMovers[1]).toMatchObject({ priorityBefore: 0, priorityAfter: 25, rulesAdded: ['energy'] });
    const rules = Object.fromEntries(res.json.rules.map((r: { name: string; firedBefore: number; firedAfter: number }) => [r.name, [r.firedBefore, r.firedAfter]]));
    expect(rules).toEqual({ 'large amount': [1, 1], energy: [0, 1], 'small rent': [0, 1] });
    const distribution = Object.fromEntries(res.json.priorityDistribution.map((d: { bucket: string; before: number; after: number }) => [d.bucket, [d.before, d.after]]));
    expect(distribution['0']).toEqual([2, 0]);
    expect(distribution.suppressed).toEqual([0, 1]);
    expect(await snapshot()).toBe(before);
    const empty = await coordinator.post('/v1/rule-sets/simulate', { ruleSet: CANDIDATE, from: day(-30), to: day(-20) });
    expect(empty.json.households).toBe(0);
  });

  it('publishes a new version that re-scores open tasks, and rolls back', async () => {
    const invalid = await coordinator.post('/v1/rule-sets', { ruleSet: { name: 'x' }, note: 'broken' });
    expect(invalid.status).toBe(400);
    expect(invalid.json.errors[0].pointer).toMatch(/^\/ruleSet/);

    const published = await coordinator.post('/v1/rule-sets', { ruleSet: CANDIDATE, note: 'energy first' });
    expect(published.status).toBe(201);
    expect(published.json).toMatchObject({ version: 2, active: true, rescored: 3 });
    const energyTask = (await t.ctx.pool.query(`select priority, rule_set_version, explanation from tasks t join households h on h.id = t.household_id where h.house_number = 2`)).rows[0];
    expect(energyTask).toMatchObject({ priority: 25, rule_set_version: 2 });
    expect(energyTask.explanation.ruleSetVersion).toBe(2);

    // A claimed task keeps its score and version.
    await t.ctx.pool.query(`update tasks set status = 'claimed' from households h where h.id = tasks.household_id and h.house_number = 1`);
    const versions = await coordinator.get('/v1/rule-sets');
    expect(versions.json.versions.map((v: { version: number; active: boolean; note: string | null }) => [v.version, v.active, v.note])).toEqual([
      [2, true, 'energy first'],
      [1, false, null],
    ]);
    const rollback = await coordinator.post('/v1/rule-sets/1/activate');
    expect(rollback.status).toBe(200);
    expect(rollback.json.rescored).toBe(2);
    const after = (await t.ctx.pool.query(`select h.house_number, t.priority, t.rule_set_version from tasks t join households h on h.id = t.household_id order by 1`)).rows;
    expect(after).toEqual([
      { house_number: 1, priority: 10, rule_set_version: 2 },
      { house_number: 2, priority: 0, rule_set_version: 1 },
      { house_number: 3, priority: 0, rule_set_version: 1 },
    ]);
    const version2 = await coordinator.get('/v1/rule-sets/2');
    expect(version2.json.ruleSet.name).toBe('candidate');
    expect((await coordinator.post('/v1/rule-sets/9/activate')).status).toBe(404);
  });

  it('scopes versions to the municipality', async () => {
    const other = client(server.url, await createKey(t.ctx, { role: 'coordinator', municipality: '0363', label: 'other' }));
    expect((await other.get('/v1/rule-sets?municipality=1916')).status).toBe(404);
    expect((await other.post('/v1/rule-sets/2/activate')).status).toBe(404);
    const consultant = client(server.url, await createKey(t.ctx, { role: 'consultant', municipality: '1916', label: 'c' }));
    expect((await consultant.get('/v1/rule-sets')).status).toBe(403);
  });
});
