import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RuleSetError, parseRuleSet, validateRuleSet } from '../../src/rules/index.js';

const defaultJson = (): Record<string, unknown> => JSON.parse(readFileSync(new URL('../../rules/default.json', import.meta.url), 'utf8'));

/** A rule set around one rule; `rule` overrides parts of a valid score rule. */
function setWith(...rules: Record<string, unknown>[]): Record<string, unknown> {
  return { name: 'test', description: 'test set', rules };
}
function rule(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'r',
    conditions: { all: [{ fact: 'signalCount', operator: 'greaterThanInclusive', value: 1 }] },
    event: { type: 'score', params: { points: 1, reason: 'test' } },
    ...overrides,
  };
}
const leaf = (fact: string, operator: string, value: unknown): Record<string, unknown> => ({ fact, operator, value });
const withConditions = (conditions: unknown) => setWith(rule({ conditions }));

const pointers = (problems: { pointer: string }[]) => problems.map((problem) => problem.pointer);

describe('validateRuleSet', () => {
  it('accepts the default rule set without warnings', () => {
    const result = validateRuleSet(defaultJson());
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([]);
    expect(result.valid).toBe(true);
    expect(result.ruleSet?.rules.length).toBeGreaterThanOrEqual(10);
  });

  describe('shape errors, with pointers', () => {
    it('a rule set is an object', () => {
      expect(validateRuleSet([]).errors).toEqual([{ pointer: '', detail: expect.any(String) }]);
      expect(validateRuleSet(null).valid).toBe(false);
    });

    it('reports missing and unknown top-level properties', () => {
      const result = validateRuleSet({ rules: [], extra: 1 });
      expect(pointers(result.errors).sort()).toEqual(['/description', '/extra', '/name']);
      expect(result.errors.find((error) => error.pointer === '/name')?.detail).toBe('is required');
    });

    it('catches a typo in a property name', () => {
      const result = validateRuleSet(setWith(rule({ priorty: 2 })));
      expect(result.errors).toEqual([{ pointer: '/rules/0/priorty', detail: 'unknown property "priorty"' }]);
    });

    it('checks rule priority, name, conditions and event are present and well-formed', () => {
      const result = validateRuleSet(setWith({ name: '', priority: 0 }));
      expect(pointers(result.errors).sort()).toEqual(['/rules/0/conditions', '/rules/0/event', '/rules/0/name', '/rules/0/priority']);
    });

    it('checks event params per type', () => {
      const cases: [Record<string, unknown>, string][] = [
        [{ type: 'suppress', params: { status: 'picked_up', reason: 'x' } }, '/rules/0/event/params/status'],
        [{ type: 'suppress', params: { status: 'not_yet_picked_up' } }, '/rules/0/event/params/status'],
        [{ type: 'score', params: { points: 1.5 } }, '/rules/0/event/params/points'],
        [{ type: 'score', params: { points: 1, colour: 'red' } }, '/rules/0/event/params/colour'],
        [{ type: 'due', params: { workingDays: 0 } }, '/rules/0/event/params/workingDays'],
        [{ type: 'due', params: { workingDays: 61 } }, '/rules/0/event/params/workingDays'],
        [{ type: 'approach', params: { channel: 'visit' } }, '/rules/0/event/params/channel'],
        [{ type: 'route', params: { team: '' } }, '/rules/0/event/params/team'],
        [{ type: 'route', params: {} }, '/rules/0/event/params/team'],
        [{ type: 'notify', params: {} }, '/rules/0/event/type'],
        [{ type: 'score' }, '/rules/0/event/params'],
      ];
      for (const [event, at] of cases) {
        expect(pointers(validateRuleSet(setWith(rule({ event }))).errors), JSON.stringify(event)).toEqual([at]);
      }
    });

    it('accepts every event type with valid params', () => {
      const events = [
        { type: 'suppress', params: { status: 'deceased', reason: 'Overleden' } },
        { type: 'route', params: { team: 'wijkteam-noord' } },
        { type: 'approach', params: { channel: 'sms_whatsapp' } },
        { type: 'due', params: { workingDays: 60 } },
        { type: 'score', params: { points: -5, reason: 'lager' } },
      ];
      const result = validateRuleSet(setWith(...events.map((event, index) => rule({ name: `r${index}`, event }))));
      expect(result.errors).toEqual([]);
    });

    it('points into nested conditions', () => {
      const result = validateRuleSet(
        withConditions({ all: [{ any: [leaf('crisis', 'equal', true), { not: { fact: 'repeat', operator: 'equal' } }] }] }),
      );
      expect(result.errors).toEqual([{ pointer: '/rules/0/conditions/all/0/any/1/not/value', detail: 'is required' }]);
    });

    it('rejects a leaf at the root, two boolean operators in one node, references and a list under not', () => {
      expect(pointers(validateRuleSet(withConditions(leaf('crisis', 'equal', true))).errors)).toEqual(['/rules/0/conditions']);
      expect(pointers(validateRuleSet(withConditions({ all: [], any: [] })).errors)).toEqual(['/rules/0/conditions']);
      expect(pointers(validateRuleSet(withConditions({ all: [{ condition: 'shared' }] })).errors)).toEqual(['/rules/0/conditions/all/0/condition']);
      expect(pointers(validateRuleSet(withConditions({ not: [leaf('crisis', 'equal', true)] })).errors)).toEqual(['/rules/0/conditions/not']);
      expect(pointers(validateRuleSet(withConditions({ all: ['crisis'] })).errors)).toEqual(['/rules/0/conditions/all/0']);
    });

    it('escapes pointer segments', () => {
      const result = validateRuleSet(setWith(rule({ 'a/b~c': 1 })));
      expect(pointers(result.errors)).toEqual(['/rules/0/a~1b~0c']);
    });
  });

  describe('facts and operators', () => {
    it('rejects an unknown fact, with a suggestion', () => {
      const result = validateRuleSet(withConditions({ all: [leaf('totalAmountCent', 'greaterThan', 1)] }));
      expect(result.errors).toEqual([{ pointer: '/rules/0/conditions/all/0/fact', detail: expect.stringContaining('did you mean "totalAmountCents"') }]);
    });

    it('rejects an unknown fact in a fact comparison', () => {
      const result = validateRuleSet(withConditions({ all: [leaf('signalCount', 'greaterThan', { fact: 'nope' })] }));
      expect(pointers(result.errors)).toEqual(['/rules/0/conditions/all/0/value/fact']);
    });

    it('rejects an unknown operator and decorators', () => {
      expect(pointers(validateRuleSet(withConditions({ all: [leaf('signalCount', 'greaterThanOrEqual', 1)] })).errors)).toEqual([
        '/rules/0/conditions/all/0/operator',
      ]);
      expect(pointers(validateRuleSet(withConditions({ all: [leaf('partnerTypes', 'someFact:equal', 'rent')] })).errors)).toEqual([
        '/rules/0/conditions/all/0/operator',
      ]);
    });

    it('requires a list for in / notIn', () => {
      expect(pointers(validateRuleSet(withConditions({ all: [leaf('postcodeArea', 'in', '1012')] })).errors)).toEqual(['/rules/0/conditions/all/0/value']);
      expect(validateRuleSet(withConditions({ all: [leaf('postcodeArea', 'in', ['1011', '1012'])] })).valid).toBe(true);
      expect(pointers(validateRuleSet(withConditions({ all: [leaf('postcodeArea', 'notIn', { fact: 'signalCount' })] })).errors)).toEqual([
        '/rules/0/conditions/all/0/value',
      ]);
      expect(validateRuleSet(withConditions({ all: [leaf('municipality', 'in', { fact: 'partnerTypes' })] })).errors).toEqual([]);
    });

    it('rejects duplicate rule names', () => {
      const result = validateRuleSet(setWith(rule({ name: 'same' }), rule({ name: 'other' }), rule({ name: 'same' })));
      expect(result.errors).toEqual([{ pointer: '/rules/2/name', detail: expect.stringContaining('/rules/0/name') }]);
    });
  });

  describe('warnings', () => {
    const warningsOf = (conditions: unknown) => {
      const result = validateRuleSet(withConditions(conditions));
      expect(result.errors).toEqual([]);
      return result.warnings;
    };

    it('warns about contradictory conditions inside one all', () => {
      const contradictions = [
        [leaf('totalAmountCents', 'greaterThan', 5), leaf('totalAmountCents', 'lessThan', 3)],
        [leaf('signalCount', 'equal', 1), leaf('signalCount', 'equal', 2)],
        [leaf('signalCount', 'greaterThan', 2), leaf('signalCount', 'lessThan', 3)], // whole numbers
        [leaf('crisis', 'equal', true), leaf('crisis', 'equal', false)],
        [leaf('crisis', 'notEqual', true), leaf('crisis', 'notEqual', false)],
        [leaf('partnerTypes', 'contains', 'rent'), leaf('partnerTypes', 'doesNotContain', 'rent')],
        [leaf('previousResult', 'in', ['deceased', 'not_resident']), leaf('previousResult', 'equal', 'no_help_needed')],
        [leaf('youngestAge', 'lessThan', 18), leaf('youngestAge', 'greaterThanInclusive', 67)],
        [leaf('totalAmountEuros', 'greaterThan', 2), leaf('totalAmountEuros', 'lessThan', 3), leaf('totalAmountEuros', 'equal', 2)],
      ];
      for (const all of contradictions) {
        expect(warningsOf({ all }), JSON.stringify(all)).toEqual([{ pointer: '/rules/0/conditions', detail: expect.stringContaining('can never fire') }]);
      }
    });

    it('reports a contradiction in a nested all at that all', () => {
      const warnings = warningsOf({
        any: [leaf('crisis', 'equal', true), { all: [leaf('signalCount', 'lessThan', 1), leaf('signalCount', 'greaterThan', 1)] }],
      });
      expect(warnings).toEqual([{ pointer: '/rules/0/conditions/any/1', detail: expect.stringContaining('this all can never be true') }]);
    });

    it('does not warn about conditions that can hold together', () => {
      const satisfiable = [
        [leaf('totalAmountCents', 'greaterThanInclusive', 3), leaf('totalAmountCents', 'lessThanInclusive', 3)],
        [leaf('totalAmountEuros', 'greaterThan', 2), leaf('totalAmountEuros', 'lessThan', 3)], // 2.5
        [leaf('signalCount', 'greaterThan', 2), leaf('signalCount', 'lessThan', 4), leaf('signalCount', 'notEqual', 5)],
        [leaf('youngestAge', 'notEqual', 30), leaf('youngestAge', 'equal', null)],
        [leaf('partnerTypes', 'contains', 'rent'), leaf('partnerTypes', 'contains', 'energy')],
        [leaf('postcodeArea', 'greaterThanInclusive', '1000'), leaf('postcodeArea', 'lessThan', '1100')],
      ];
      for (const all of satisfiable) expect(warningsOf({ all }), JSON.stringify(all)).toEqual([]);
      // In an any, two exclusive conditions are normal.
      expect(warningsOf({ any: [leaf('signalCount', 'equal', 1), leaf('signalCount', 'equal', 2)] })).toEqual([]);
    });

    it('warns about a value of the wrong type', () => {
      const cases: [unknown, string][] = [
        [leaf('totalAmountCents', 'greaterThan', '5000'), '/rules/0/conditions/all/0/value'],
        [leaf('signalCount', 'equal', '1'), '/rules/0/conditions/all/0/value'],
        [leaf('crisis', 'equal', 'true'), '/rules/0/conditions/all/0/value'],
        [leaf('crisis', 'greaterThan', 0), '/rules/0/conditions/all/0'],
        [leaf('signalCount', 'contains', 1), '/rules/0/conditions/all/0'],
        [leaf('partnerTypes', 'equal', ['rent']), '/rules/0/conditions/all/0'],
        [leaf('previousResult', 'equal', 'paid'), '/rules/0/conditions/all/0/value'],
        [leaf('partnerTypes', 'contains', 'huur'), '/rules/0/conditions/all/0/value'],
        [leaf('postcodeArea', 'in', ['1012', 1013]), '/rules/0/conditions/all/0/value/1'],
        [leaf('crisis', 'equal', null), '/rules/0/conditions/all/0/value'],
        [leaf('newestSignalDate', 'greaterThan', 20250101), '/rules/0/conditions/all/0/value'],
        [leaf('signalCount', 'greaterThan', { fact: 'crisis' }), '/rules/0/conditions/all/0/value/fact'],
      ];
      for (const [condition, at] of cases) {
        expect(pointers(warningsOf({ all: [condition] })), JSON.stringify(condition)).toEqual([at]);
      }
      expect(warningsOf({ all: [leaf('newestSignalDate', 'greaterThan', '2025-01-01')] })).toEqual([]);
      expect(warningsOf({ all: [leaf('youngestAge', 'equal', null)] })).toEqual([]);
      expect(warningsOf({ all: [leaf('totalAmountCents', 'greaterThan', { fact: 'rentAmountCents' })] })).toEqual([]);
    });

    it('warns about an empty any, which json-rules-engine treats as true', () => {
      expect(pointers(warningsOf({ all: [{ any: [] }] }))).toEqual(['/rules/0/conditions/all/0/any']);
    });

    it('warns about score and suppress rules without a reason', () => {
      const result = validateRuleSet(
        setWith(
          rule({ name: 'a', event: { type: 'suppress', params: { status: 'not_picked_up_other_reason' } } }),
          rule({ name: 'b', event: { type: 'score', params: { points: 3 } } }),
          rule({ name: 'c', event: { type: 'due', params: { workingDays: 5 } } }),
        ),
      );
      expect(result.valid).toBe(true);
      expect(pointers(result.warnings)).toEqual(['/rules/0/event/params', '/rules/1/event/params']);
    });

    it('warns about paths that are ignored or not compiled', () => {
      expect(pointers(warningsOf({ all: [{ ...leaf('signalCount', 'equal', 1), path: '$.a' }] }))).toEqual(['/rules/0/conditions/all/0/path']);
      expect(warningsOf({ all: [{ ...leaf('partnerTypes', 'equal', 'rent'), path: '$[0]' }] })).toEqual([]);
      const notCompiled = warningsOf({ all: [{ ...leaf('partnerTypes', 'equal', 'rent'), path: '$[?(@ == "rent")]' }] });
      expect(notCompiled.map((warning) => warning.detail).join('\n')).toContain('json-rules-engine instead of the compiled evaluator');
    });

    it('warns about params on facts', () => {
      expect(pointers(warningsOf({ all: [{ ...leaf('signalCount', 'equal', 1), params: { x: 1 } }] }))).toEqual(['/rules/0/conditions/all/0/params']);
    });
  });
});

describe('parseRuleSet', () => {
  it('returns the typed rule set', () => {
    expect(parseRuleSet(defaultJson()).name).toBe('vroegsein-standaard');
  });

  it('throws a RuleSetError with the errors', () => {
    try {
      parseRuleSet(setWith(rule({ event: { type: 'due', params: { workingDays: 100 } } })));
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(RuleSetError);
      expect((error as RuleSetError).errors[0]?.pointer).toBe('/rules/0/event/params/workingDays');
    }
  });
});
