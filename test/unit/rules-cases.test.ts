import { beforeAll, describe, expect, it } from 'vitest';
import {
  CASE_BASELINE_FACTS,
  caseFacts,
  compileRuleSet,
  evaluate,
  evaluateWithEngine,
  loadCases,
  loadDefaultRuleSet,
  runCases,
  validateCases,
  type RuleCase,
  type RuleSet,
} from '../../src/rules/index.js';

describe('rules/default.cases.json', () => {
  let ruleSet: RuleSet;
  let cases: RuleCase[];
  beforeAll(async () => {
    ruleSet = await loadDefaultRuleSet();
    cases = await loadCases();
  });

  it('has at least 10 cases with unique names', () => {
    expect(cases.length).toBeGreaterThanOrEqual(10);
    expect(new Set(cases.map((ruleCase) => ruleCase.name)).size).toBe(cases.length);
  });

  it('all pass on the default rule set', async () => {
    const results = await runCases(ruleSet, cases);
    expect(results.filter((result) => !result.pass).map(({ name, failures }) => ({ name, failures }))).toEqual([]);
  });

  it('give the same outcome on json-rules-engine', async () => {
    const compiled = compileRuleSet(ruleSet);
    for (const ruleCase of cases) {
      const facts = caseFacts(ruleCase);
      expect(await evaluateWithEngine(ruleSet, facts), ruleCase.name).toEqual(evaluate(compiled, facts));
    }
  });

  it('only use facts of the catalogue', () => {
    for (const ruleCase of cases) {
      for (const name of Object.keys(ruleCase.facts)) expect(Object.keys(CASE_BASELINE_FACTS), ruleCase.name).toContain(name);
    }
  });
});

describe('runCases', () => {
  it('reports every field that differs', async () => {
    const ruleSet = await loadDefaultRuleSet();
    const [result] = await runCases(ruleSet, [
      { name: 'wrong on purpose', facts: { crisis: true }, expect: { priority: 50, channel: 'phone', dueWorkingDays: 3, suppressed: false } },
    ]);
    expect(result?.pass).toBe(false);
    expect(result?.failures).toEqual([
      { field: 'priority', expected: 50, actual: 100 },
      { field: 'channel', expected: 'phone', actual: 'home_visit' },
    ]);
  });

  it('passes the default deadline option through', async () => {
    const ruleSet = await loadDefaultRuleSet();
    const [result] = await runCases(ruleSet, [{ name: 'term', facts: {}, expect: { dueWorkingDays: 15 } }], { defaultDueWorkingDays: 15 });
    expect(result?.pass).toBe(true);
  });
});

describe('validateCases', () => {
  it('points at what is wrong', () => {
    const result = validateCases([{ name: 'x', facts: {}, expect: { suppressed: 'picked_up', channel: 'visit' } }, { facts: [] }]);
    expect(result.valid).toBe(false);
    expect(result.errors.map((error) => error.pointer).sort()).toEqual(['/0/expect/channel', '/0/expect/suppressed', '/1/expect', '/1/facts', '/1/name']);
  });
});
