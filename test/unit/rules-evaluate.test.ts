import { beforeAll, describe, expect, it } from 'vitest';
import { PARTNER_TYPE_CODES } from '../../src/domain/codes.js';
import { partnerFactPrefix, type HouseholdFacts } from '../../src/domain/facts.js';
import {
  CASE_BASELINE_FACTS,
  NotCompiledError,
  UndefinedFactError,
  compileRuleSet,
  createEngine,
  evaluate,
  evaluateAsync,
  evaluateWithEngine,
  formatExplanation,
  loadDefaultRuleSet,
  parseRuleSet,
  traceRules,
  traceWithEngine,
  type BooleanCondition,
  type Outcome,
  type RuleDefinition,
  type RuleSet,
} from '../../src/rules/index.js';

const always: BooleanCondition = { all: [{ fact: 'signalCount', operator: 'greaterThanInclusive', value: 0 }] };
const never: BooleanCondition = { all: [{ fact: 'signalCount', operator: 'lessThan', value: 0 }] };

function set(rules: Partial<RuleDefinition>[]): RuleSet {
  return parseRuleSet({
    name: 'test',
    description: 'test',
    rules: rules.map((rule, index) => ({ name: `rule ${index}`, conditions: always, event: { type: 'score', params: { points: 1, reason: 'r' } }, ...rule })),
  });
}

/** Both evaluators, asserted equal; returns the outcome. */
async function both(ruleSet: RuleSet, facts: Record<string, unknown>, options = {}): Promise<Outcome> {
  const compiled = evaluate(compileRuleSet(ruleSet), facts, options);
  expect(await evaluateWithEngine(ruleSet, facts, options)).toEqual(compiled);
  return compiled;
}

describe('combining fired rules into an outcome', () => {
  const facts = CASE_BASELINE_FACTS;

  it('sums score points, negative ones too, and lists fired rules in precedence order', async () => {
    const outcome = await both(
      set([
        { event: { type: 'score', params: { points: 10, reason: 'ten' } } },
        { event: { type: 'score', params: { points: -3, reason: 'minus three' } }, priority: 5 },
        { event: { type: 'score', params: { points: 100, reason: 'never' } }, conditions: never },
      ]),
      facts,
    );
    expect(outcome.priority).toBe(7);
    expect(outcome.fired.map((rule) => [rule.name, rule.points])).toEqual([
      ['rule 1', -3],
      ['rule 0', 10],
    ]);
    expect(outcome.suppressed).toBeNull();
  });

  it('the first suppress in precedence order sets the status', async () => {
    const suppress = (status: string, priority?: number) => ({ event: { type: 'suppress', params: { status, reason: status } }, priority }) as Partial<RuleDefinition>;
    expect((await both(set([suppress('deceased'), suppress('not_resident')]), facts)).suppressed).toEqual({
      status: 'deceased',
      reason: 'deceased',
      rule: 'rule 0',
    });
    expect((await both(set([suppress('deceased'), suppress('not_resident', 2)]), facts)).suppressed?.status).toBe('not_resident');
  });

  it('route and approach: the highest priority wins, ties go to the earlier rule', async () => {
    const outcome = await both(
      set([
        { event: { type: 'route', params: { team: 'noord' } } },
        { event: { type: 'route', params: { team: 'zuid' } }, priority: 3 },
        { event: { type: 'route', params: { team: 'west' } }, priority: 3 },
        { event: { type: 'approach', params: { channel: 'letter' } } },
        { event: { type: 'approach', params: { channel: 'phone' } } },
      ]),
      facts,
    );
    expect(outcome.team).toBe('zuid');
    expect(outcome.channel).toBe('letter');
  });

  it('due: the smallest number of working days wins, whatever the priority', async () => {
    const outcome = await both(
      set([
        { event: { type: 'due', params: { workingDays: 5 } }, priority: 9 },
        { event: { type: 'due', params: { workingDays: 3 } } },
        { event: { type: 'due', params: { workingDays: 1 } }, conditions: never },
      ]),
      facts,
    );
    expect(outcome.dueWorkingDays).toBe(3);
  });

  it('without a due rule the caller’s default applies (10 unless given)', async () => {
    const ruleSet = set([{}]);
    expect((await both(ruleSet, facts)).dueWorkingDays).toBe(10);
    expect((await both(ruleSet, facts, { defaultDueWorkingDays: 14 })).dueWorkingDays).toBe(14);
  });

  it('records the values of the facts each fired rule refers to', async () => {
    const outcome = await both(
      set([
        {
          conditions: {
            all: [
              { fact: 'signalCount', operator: 'equal', value: 1 },
              { any: [{ fact: 'crisis', operator: 'equal', value: false }, { fact: 'totalAmountCents', operator: 'lessThan', value: { fact: 'energyAmountCents' } }] },
            ],
          },
        },
      ]),
      facts,
    );
    expect(outcome.fired[0]?.facts).toEqual({ signalCount: 1, crisis: false, totalAmountCents: 12_000, energyAmountCents: 12_000 });
    expect(outcome.fired[0]?.params).toEqual({ points: 1, reason: 'r' });
  });
});

describe('json-rules-engine semantics the compiled evaluator reproduces', () => {
  it('an empty any and an empty all are both true', async () => {
    expect((await both(set([{ conditions: { any: [] } }, { conditions: { all: [] } }]), {})).priority).toBe(2);
  });

  it('evaluates conditions in priority sets and skips the rest once decided', async () => {
    const ruleSet = set([
      {
        conditions: {
          all: [
            { fact: 'signalCount', operator: 'equal', value: 99, priority: 5 },
            { fact: 'crisis', operator: 'equal', value: true },
            { fact: 'repeat', operator: 'equal', value: true },
          ],
        },
      },
    ]);
    const [trace] = traceRules(compileRuleSet(ruleSet), CASE_BASELINE_FACTS);
    expect(trace).toEqual({
      name: 'rule 0',
      result: false,
      conditions: {
        result: false,
        all: [
          { fact: 'signalCount', operator: 'equal', value: 99, factResult: 1, valueResult: 99, result: false },
          { fact: 'crisis', operator: 'equal', value: true }, // not evaluated
          { fact: 'repeat', operator: 'equal', value: true },
        ],
      },
    });
    expect(await traceWithEngine(ruleSet, CASE_BASELINE_FACTS)).toEqual([trace]);
  });

  it('a missing fact is an error in both, unless the condition is skipped', async () => {
    const ruleSet = set([{ conditions: { all: [{ fact: 'signalCount', operator: 'equal', value: 1 }] } }]);
    expect(() => evaluate(compileRuleSet(ruleSet), {})).toThrow(UndefinedFactError);
    await expect(evaluateWithEngine(ruleSet, {})).rejects.toThrow('Undefined fact: signalCount');

    const skipped = set([
      {
        conditions: {
          any: [
            { fact: 'crisis', operator: 'equal', value: true, priority: 2 },
            { fact: 'signalCount', operator: 'equal', value: 1 },
          ],
        },
      },
    ]);
    expect((await both(skipped, { crisis: true })).priority).toBe(1);
  });

  it('numeric operators accept number-like values and compare text as text', async () => {
    const greater = (value: unknown) =>
      set([{ conditions: { all: [{ fact: 'postcodeArea', operator: 'greaterThan', value }] } }]);
    expect((await both(greater('1000'), { postcodeArea: '1012' })).priority).toBe(1);
    expect((await both(greater(999), { postcodeArea: '1012' })).priority).toBe(1);
    expect((await both(greater(0), { postcodeArea: null })).priority).toBe(0);
    expect((await both(greater('9'), { postcodeArea: '10' })).priority).toBe(0); // "10" < "9" as text
  });

  it('compares with a copy of a list in the rule, as the engine does', async () => {
    // Found by the differential test: the engine clones conditions per run, so even the very
    // same array object as fact and as value is not `equal`.
    const list = ['rent'];
    const ruleSet = set([{ conditions: { all: [{ fact: 'partnerTypes', operator: 'equal', value: list }] } }]);
    expect((await both(ruleSet, { partnerTypes: list })).fired).toEqual([]);
  });

  it('compiles simple paths', async () => {
    const ruleSet = set([
      { conditions: { all: [{ fact: 'partnerTypes', path: '$[0]', operator: 'equal', value: 'energy' }] } },
      { conditions: { all: [{ fact: 'partnerTypes', path: '$.length', operator: 'greaterThan', value: 1 }] } },
    ]);
    const compiled = compileRuleSet(ruleSet);
    expect(compiled.compiled).toBe(true);
    expect((await both(ruleSet, { partnerTypes: ['energy', 'rent'] })).fired.map((rule) => rule.name)).toEqual(['rule 0', 'rule 1']);
    expect((await both(ruleSet, { partnerTypes: ['rent'] })).fired).toEqual([]);
  });

  it('falls back to json-rules-engine for what it cannot compile', async () => {
    // A quoted name is JSONPath the compiled evaluator leaves to jsonpath-plus.
    const ruleSet = set([{ conditions: { all: [{ fact: 'partnerTypes', path: "$['length']", operator: 'greaterThan', value: 1 }] } }]);
    const compiled = compileRuleSet(ruleSet);
    expect(compiled.compiled).toBe(false);
    expect(compiled.notCompiled).toEqual([{ pointer: '/rules/0/conditions/all/0/path', detail: expect.any(String) }]);
    expect(() => evaluate(compiled, { partnerTypes: ['rent'] })).toThrow(NotCompiledError);
    expect((await evaluateAsync(compiled, { partnerTypes: ['energy', 'rent'] })).priority).toBe(1);
    expect((await evaluateAsync(compiled, { partnerTypes: ['energy'] })).priority).toBe(0);
  });
});

describe('the reference path and concurrency', () => {
  let ruleSet: RuleSet;
  let households: HouseholdFacts[];

  beforeAll(async () => {
    ruleSet = await loadDefaultRuleSet();
    // 200 varied households from a seeded generator (mulberry32), so every run sees the same ones.
    let seed = 42;
    const random = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
    };
    const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)] as T;
    households = Array.from({ length: 200 }, () => {
      const types = PARTNER_TYPE_CODES.filter(() => random() < 0.2);
      const facts: Record<string, unknown> = { ...CASE_BASELINE_FACTS, energyCount: 0, energyAmountCents: 0, energyMonthsInArrears: 0 };
      let total = 0;
      for (const type of types) {
        const amount = pick([2_000, 4_900, 12_000, 80_000, 150_000]);
        total += amount;
        facts[`${partnerFactPrefix(type)}Count`] = 1;
        facts[`${partnerFactPrefix(type)}AmountCents`] = amount;
        facts[`${partnerFactPrefix(type)}MonthsInArrears`] = pick([0, 1, 2, 3, 5]);
      }
      return {
        ...facts,
        signalCount: types.length,
        partnerTypeCount: types.length,
        partnerTypes: types,
        totalAmountCents: total,
        totalAmountEuros: total / 100,
        crisis: random() < 0.1,
        endOfSupply: random() < 0.05,
        warmHandover: random() < 0.1,
        repeat: random() < 0.3,
        amountRose: random() < 0.3,
        newPartnerType: random() < 0.5,
        knownToDebtHelp: random() < 0.1,
        youngestAge: pick([null, 19, 26, 27, 45, 70]),
      } as HouseholdFacts;
    });
  });

  it('concurrent evaluations equal sequential ones (an Engine per evaluation)', async () => {
    const sequential: Outcome[] = [];
    for (const facts of households) sequential.push(await evaluateWithEngine(ruleSet, facts));
    const concurrent = await Promise.all(households.map((facts) => evaluateWithEngine(ruleSet, facts)));
    expect(concurrent).toEqual(sequential);
    // Staggered starts, the pattern that breaks a shared Engine (see below).
    const staggered = await Promise.all(
      households.map(async (facts, index) => {
        for (let tick = 0; tick < index % 40; tick += 1) await Promise.resolve();
        return evaluateWithEngine(ruleSet, facts);
      }),
    );
    expect(staggered).toEqual(sequential);
    // And the compiled evaluator agrees with all of them.
    const compiled = compileRuleSet(ruleSet);
    expect(households.map((facts) => evaluate(compiled, facts))).toEqual(sequential);
    // The households are varied enough to mean something.
    expect(new Set(sequential.map((outcome) => outcome.priority)).size).toBeGreaterThan(5);
    expect(sequential.some((outcome) => outcome.suppressed !== null)).toBe(true);
  });

  it('documents the pitfall: one shared Engine run concurrently skips rules', async () => {
    const engine = createEngine(ruleSet);
    const facts = { ...CASE_BASELINE_FACTS, crisis: true };
    const alone = (await engine.run({ ...facts })).results.length;
    const runs = await Promise.all(
      Array.from({ length: 20 }, async (_, index) => {
        for (let tick = 0; tick < index * 3; tick += 1) await Promise.resolve();
        return engine.run({ ...facts });
      }),
    );
    // A run that started while another finished lost the rules of its later priority sets.
    expect(runs.some((run) => run.results.length < alone)).toBe(true);
  });
});

describe('formatExplanation', () => {
  it('explains an outcome in lines', async () => {
    const ruleSet = await loadDefaultRuleSet();
    const text = formatExplanation(evaluate(compileRuleSet(ruleSet), { ...CASE_BASELINE_FACTS, crisis: true, knownToDebtHelp: true }));
    expect(text.split('\n')[0]).toBe('priority 100, due in 3 working days, first contact by home_visit');
    expect(text).toContain('+100      Urgent: crisis, dreigende uitzetting of afsluiting');
    expect(text).toContain('crisis = true');

    const suppressed = formatExplanation(evaluate(compileRuleSet(ruleSet), { ...CASE_BASELINE_FACTS, knownToDebtHelp: true }));
    expect(suppressed.split('\n')[0]).toBe('suppressed (already_known_debt_help) by "Al bekend bij schuldhulpverlening"');
  });
});
