/**
 * Differential tests: the compiled evaluator against json-rules-engine, on generated rule sets
 * and fact records. Both must agree on whether evaluation fails, on the outcome (fired rules,
 * priority, suppression, team, channel, deadline, fact values) and on the result of every
 * single condition, including which conditions were skipped.
 *
 * The generated facts are deliberately not always well-typed ("2", null, [3], objects), and
 * the generated rules use every operator, fact comparisons, paths and condition priorities,
 * because that is where a re-implementation drifts from the original.
 *
 * DIFF_RUNS=30000 npx vitest run test/unit/rules-differential.test.ts runs a longer search.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { CONTACT_CHANNEL_CODES } from '../../src/domain/codes.js';
import { FACT_BY_NAME, type FactDefinition } from '../../src/domain/facts.js';
import {
  CASE_BASELINE_FACTS,
  OPERATORS,
  OPERATOR_NAMES,
  SUPPRESS_STATUS_CODES,
  compileRuleSet,
  evaluate,
  evaluateWithEngine,
  loadDefaultRuleSet,
  traceRules,
  traceWithEngine,
  type CompileOptions,
  type Condition,
  type RuleEvent,
  type RuleSet,
} from '../../src/rules/index.js';

// ---------------------------------------------------------------------------------------------
// Generators

const FACT_NAMES = [
  'signalCount',
  'totalAmountCents',
  'totalAmountEuros',
  'crisis',
  'repeat',
  'partnerTypes',
  'youngestAge',
  'childrenInHousehold',
  'postcodeArea',
  'previousResult',
  'newestSignalDate',
] as const;

const SCALARS = [-1, 0, 1, 2, 2.5, 3, 100, '2', '10', 'abc', '', 'rent', 'energy', '2025-01-01', null, true, false] as const;
const scalar = fc.constantFrom(...SCALARS);
/** Values of the wrong shape: lists, nested lists, objects. */
const oddValue = fc.constantFrom<unknown>([], ['rent'], ['energy', 'rent'], [2], [[1]], { a: 1 }, { a: { b: 'rent' } }, { length: 2 });

function typedValue(fact: FactDefinition): fc.Arbitrary<unknown> {
  const base: fc.Arbitrary<unknown> = (() => {
    switch (fact.type) {
      case 'integer':
        return fc.integer({ min: -2, max: 5 });
      case 'number':
        return fc.constantFrom(-1, 0, 1.5, 2, 2.5, 3, 100);
      case 'boolean':
        return fc.boolean();
      case 'string':
      case 'date':
        return fc.constantFrom('rent', 'energy', '1012', '2', '2025-01-01', '2025-06-30');
      case 'string[]':
        return fc.subarray(['energy', 'rent', 'water']);
    }
  })();
  return fact.nullable ? fc.oneof(base, fc.constant(null)) : base;
}

/** Marks a fact to leave out of the record. */
const MISSING = Symbol('missing');

/** A fact record over FACT_NAMES; now and then a fact is missing (an error in both evaluators). */
const factRecord: fc.Arbitrary<Record<string, unknown>> = fc
  .tuple(
    ...FACT_NAMES.map((name) =>
      fc.oneof(
        { weight: 12, arbitrary: typedValue(FACT_BY_NAME.get(name) as FactDefinition) },
        { weight: 4, arbitrary: fc.oneof(scalar, oddValue) },
        { weight: 1, arbitrary: fc.constant(MISSING) },
      ),
    ),
  )
  .map((values) => Object.fromEntries(FACT_NAMES.map((name, index) => [name, values[index]]).filter(([, value]) => value !== MISSING)));

const factName = fc.constantFrom(...FACT_NAMES);
const simplePath = fc.constantFrom('$[0]', '$[1]', '$.length', '$.a', '$.a.b');
const priority = fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined });

const conditionValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: scalar },
  { weight: 3, arbitrary: fc.array(scalar, { maxLength: 3 }) },
  { weight: 1, arbitrary: oddValue },
  { weight: 2, arbitrary: factName.map((fact) => ({ fact })) },
  { weight: 1, arbitrary: fc.record({ fact: factName, path: simplePath }) },
);

const leaf: fc.Arbitrary<Condition> = fc
  .record({
    fact: factName,
    operator: fc.constantFrom(...OPERATOR_NAMES),
    value: conditionValue,
    path: fc.option(simplePath, { freq: 6, nil: undefined }),
    priority,
  })
  .map(withoutUndefined);

function withoutUndefined<T extends object>(object: T): T {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as T;
}

const { node } = fc.letrec<{ node: Condition; all: Condition; any: Condition; not: Condition }>((tie) => ({
  node: fc.oneof({ maxDepth: 3, depthIdentifier: 'condition' }, leaf, tie('all'), tie('any'), tie('not')),
  all: fc.record({ all: fc.array(tie('node'), { maxLength: 4 }), priority }).map(withoutUndefined),
  any: fc.record({ any: fc.array(tie('node'), { maxLength: 4 }), priority }).map(withoutUndefined),
  not: fc.record({ not: tie('node'), priority }).map(withoutUndefined),
}));
const root = node.filter((condition) => !('fact' in condition));

const event: fc.Arbitrary<RuleEvent> = fc.oneof(
  fc.record({ type: fc.constant('score' as const), params: fc.record({ points: fc.integer({ min: -5, max: 10 }), reason: fc.constant('r') }) }),
  fc.record({ type: fc.constant('suppress' as const), params: fc.record({ status: fc.constantFrom(...SUPPRESS_STATUS_CODES) }) }),
  fc.record({ type: fc.constant('route' as const), params: fc.record({ team: fc.constantFrom('noord', 'zuid') }) }),
  fc.record({ type: fc.constant('approach' as const), params: fc.record({ channel: fc.constantFrom(...CONTACT_CHANNEL_CODES) }) }),
  fc.record({ type: fc.constant('due' as const), params: fc.record({ workingDays: fc.integer({ min: 1, max: 60 }) }) }),
);

const ruleSet: fc.Arbitrary<RuleSet> = fc
  .array(fc.record({ conditions: root, event, priority }), { minLength: 1, maxLength: 5 })
  .map((rules) => ({
    name: 'generated',
    description: 'generated',
    rules: rules.map((rule, index) => withoutUndefined({ name: `r${index}`, ...rule }) as RuleSet['rules'][number]),
  }));

// ---------------------------------------------------------------------------------------------
// The comparison

type Settled<T> = { ok: true; value: T } | { ok: false };

async function settle<T>(run: () => T | Promise<T>): Promise<Settled<T>> {
  try {
    return { ok: true, value: await run() };
  } catch {
    // Which error surfaces first may differ (the engine runs conditions concurrently); that
    // both fail is what must agree.
    return { ok: false };
  }
}

async function agree(rules: RuleSet, facts: Record<string, unknown>, options: CompileOptions = {}): Promise<void> {
  const compiled = compileRuleSet(rules, options);
  expect(compiled.compiled).toBe(true);
  const viaCompiled = await settle(() => ({ outcome: evaluate(compiled, facts), trace: traceRules(compiled, facts) }));
  const viaEngine = await settle(async () => ({
    outcome: await evaluateWithEngine(rules, facts),
    trace: await traceWithEngine(rules, facts),
  }));
  expect(viaCompiled).toEqual(viaEngine);
}

describe('compiled evaluator = json-rules-engine', () => {
  it('on generated rule sets and facts', async () => {
    await fc.assert(
      fc.asyncProperty(ruleSet, factRecord, (rules, facts) => agree(rules, facts)),
      { numRuns: Number(process.env.DIFF_RUNS ?? 600) },
    );
  });

  it('generates interesting cases: rules that fire, rules that do not, and failures', async () => {
    // Guards the generators: a differential test over cases that all fail, or never fire,
    // would prove nothing.
    const samples = fc.sample(fc.tuple(ruleSet, factRecord), { numRuns: 400, seed: 7 });
    let fired = 0;
    let notFired = 0;
    let failed = 0;
    for (const [rules, facts] of samples) {
      try {
        const outcome = evaluate(compileRuleSet(rules), facts);
        fired += outcome.fired.length;
        notFired += rules.rules.length - outcome.fired.length;
      } catch {
        failed += 1;
      }
    }
    expect(fired).toBeGreaterThan(100);
    expect(notFired).toBeGreaterThan(100);
    expect(failed).toBeGreaterThan(5);
    expect(failed).toBeLessThan(samples.length / 2);
  });

  describe('would catch a wrong operator', () => {
    const isNumberLike = (value: unknown) => Number.parseFloat(value as string).toString() !== 'NaN';
    const mutants: Record<string, CompileOptions['operators']> = {
      'lessThanInclusive as <': { ...OPERATORS, lessThanInclusive: (a, b) => isNumberLike(a) && (a as number) < (b as number) },
      'contains without the list check': { ...OPERATORS, contains: (a, b) => (a as { indexOf(x: unknown): number })?.indexOf?.(b) > -1 },
      'numeric operators without the number check': { ...OPERATORS, greaterThan: (a, b) => (a as number) > (b as number) },
    };
    for (const [mutation, operators] of Object.entries(mutants)) {
      it(mutation, async () => {
        const result = await fc.check(
          fc.asyncProperty(ruleSet, factRecord, (rules, facts) => agree(rules, facts, { operators })),
          { numRuns: 3000 },
        );
        expect(result.failed).toBe(true);
      });
    }
  });
});

describe('the default rule set, compiled = json-rules-engine', () => {
  let defaults: RuleSet;
  beforeAll(async () => {
    defaults = await loadDefaultRuleSet();
  });

  const householdFacts = fc
    .record({
      crisis: fc.boolean(),
      endOfSupply: fc.boolean(),
      warmHandover: fc.boolean(),
      repeat: fc.boolean(),
      amountRose: fc.boolean(),
      newPartnerType: fc.boolean(),
      knownToDebtHelp: fc.boolean(),
      signalCount: fc.integer({ min: 1, max: 4 }),
      partnerTypeCount: fc.integer({ min: 1, max: 4 }),
      totalAmountCents: fc.oneof(fc.integer({ min: 1, max: 400_000 }), fc.constantFrom(4_999, 5_000, 99_999, 100_000, 249_999, 250_000)),
      rentCount: fc.integer({ min: 0, max: 2 }),
      rentMonthsInArrears: fc.integer({ min: 0, max: 6 }),
      mortgageCount: fc.integer({ min: 0, max: 1 }),
      mortgageMonthsInArrears: fc.integer({ min: 0, max: 6 }),
      youngestAge: fc.option(fc.integer({ min: 18, max: 90 }), { nil: null }),
      childrenInHousehold: fc.option(fc.integer({ min: 0, max: 4 }), { nil: null }),
    })
    .map((overrides) => ({ ...CASE_BASELINE_FACTS, ...overrides }));

  it('on generated households', async () => {
    await fc.assert(fc.asyncProperty(householdFacts, (facts) => agree(defaults, facts)), { numRuns: 300 });
  });
});

describe('generated rule tests = the traced conditions', () => {
  // evaluate() decides with generated code (src/rules/generate.ts), traceRules() with the
  // closures: every rule's test must pass, fail and throw exactly when its trace does.
  async function sameDecision(rules: RuleSet, facts: Record<string, unknown>): Promise<void> {
    for (const rule of compileRuleSet(rules).rules) {
      const tested = await settle(() => rule.test(facts) === true);
      const traced = await settle(() => rule.trace(facts).result === true);
      expect(tested).toEqual(traced);
    }
  }

  it('on generated rule sets and facts', async () => {
    await fc.assert(fc.asyncProperty(ruleSet, factRecord, sameDecision), { numRuns: Number(process.env.DIFF_RUNS ?? 600) });
  });

  it('reads facts of any name, and no name becomes code', async () => {
    const names = ['a"b', 'back\\slash', "it's", 'line\u2028break', 'toString', 'constructor', '__proto__', '"]); globalThis.injected = 1; (["', '${1}', ''];
    const rules: RuleSet = {
      name: 'odd names',
      description: 'odd names',
      rules: names.map((fact, index) => ({
        name: `r${index}`,
        conditions: { all: [{ fact, operator: 'equal', value: index }, { fact: names[(index + 1) % names.length]!, operator: 'notEqual', value: { fact } }] },
        event: { type: 'score', params: { points: 1, reason: 'r' } },
      })),
    };
    // Rule sets that pass validation name catalogue facts only; the evaluator itself takes any
    // name (json-rules-engine does not: it fails on some of these, so this compares the two
    // compiled paths).
    const complete = Object.fromEntries(names.map((fact, index) => [fact, index]));
    await sameDecision(rules, complete);
    expect(evaluate(compileRuleSet(rules), complete).fired).toHaveLength(names.length);
    await sameDecision(rules, { ...complete, toString: 'not a number' });
    expect(evaluate(compileRuleSet(rules), { ...complete, toString: 'not a number' }).fired.map((fired) => fired.name).sort()).toEqual(
      names.map((_, index) => `r${index}`).filter((name) => name !== `r${names.indexOf('toString')}`).sort(),
    );
    const withoutOne = Object.fromEntries(Object.entries(complete).filter(([fact]) => fact !== "it's"));
    expect(() => evaluate(compileRuleSet(rules), withoutOne)).toThrow("Undefined fact: it's");
    // An inherited name is no fact of a record that lacks it.
    const withoutToString = Object.fromEntries(Object.entries(complete).filter(([fact]) => fact !== 'toString'));
    expect(() => evaluate(compileRuleSet(rules), withoutToString)).toThrow('Undefined fact: toString');
    expect((globalThis as { injected?: unknown }).injected).toBeUndefined();
  });
});
