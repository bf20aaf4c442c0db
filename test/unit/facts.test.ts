import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { PARTNER_TYPE_CODES, TASK_RESULT_CODES } from '../../src/domain/codes.js';
import {
  FACT_CATALOGUE,
  addMonths,
  amsterdamDate,
  computeHouseholdFacts,
  partnerFactPrefix,
  wholeMonthsBetween,
  type HouseholdFacts,
  type HouseholdSnapshot,
  type SignalSnapshot,
  type TaskSnapshot,
} from '../../src/domain/facts.js';
import { referenceHouseholdFacts } from '../helpers/factsReference.js';
import { compileRuleSet, evaluate, evaluateWithEngine, loadDefaultRuleSet, type CompiledRuleSet, type RuleSet } from '../../src/rules/index.js';

const TODAY = '2025-06-15';

let nextId = 1;
function signal(overrides: Partial<SignalSnapshot> = {}): SignalSnapshot {
  return {
    id: nextId++,
    partnerType: 'energy',
    amountCents: 15_000,
    signalDate: '2025-06-02',
    originDate: '2025-04-01',
    receivedAt: '2025-06-02T07:00:00Z',
    crisis: false,
    warmHandover: false,
    endOfSupply: false,
    childrenInHousehold: null,
    birthDate: '1980-01-01',
    status: 'not_yet_picked_up',
    taskId: null,
    ...overrides,
  };
}

function closedTask(overrides: Partial<TaskSnapshot> = {}): TaskSnapshot {
  return {
    id: 100,
    status: 'closed',
    result: 'no_help_needed',
    assigneeKeyId: 'key_consultant_a',
    createdAt: '2025-02-05T09:00:00Z',
    closedAt: '2025-02-20T14:00:00Z',
    ...overrides,
  };
}

function household(signals: SignalSnapshot[], tasks: TaskSnapshot[] = []): HouseholdSnapshot {
  return { householdId: 1, municipalityCode: '0363', postcode: '1012AB', signals, tasks, today: TODAY };
}

const facts = (signals: SignalSnapshot[], tasks: TaskSnapshot[] = []): HouseholdFacts => computeHouseholdFacts(household(signals, tasks));

describe('computeHouseholdFacts', () => {
  it('describes a single signal', () => {
    const f = facts([signal({ partnerType: 'rent', amountCents: 85_000, originDate: '2025-03-01', birthDate: '1990-06-16' })]);
    expect(f).toMatchObject({
      signalCount: 1,
      totalAmountCents: 85_000,
      totalAmountEuros: 850,
      partnerTypeCount: 1,
      partnerTypes: ['rent'],
      rentCount: 1,
      rentAmountCents: 85_000,
      rentMonthsInArrears: 3,
      energyCount: 0,
      energyMonthsInArrears: 0,
      maxMonthsInArrears: 3,
      multiple: false,
      repeat: false,
      amountRose: false,
      newPartnerType: true,
      earlierSignalCount: 0,
      crisis: false,
      youngestAge: 34, // turns 35 tomorrow
      oldestAge: 34,
      newestSignalDate: '2025-06-02',
      daysSinceOldestSignal: 13,
      closedTaskCount: 0,
      previousResult: null,
      previousAssigneeKeyId: null,
      daysSincePreviousTask: null,
      knownToDebtHelp: false,
      postcodeArea: '1012',
      municipality: '0363',
    });
  });

  it('sees multiple signals in one calendar month', () => {
    const f = facts([
      signal({ partnerType: 'water', signalDate: '2025-06-10', amountCents: 9_000 }),
      signal({ partnerType: 'energy', signalDate: '2025-06-02', amountCents: 21_000 }),
    ]);
    expect(f.multiple).toBe(true);
    expect(f.partnerTypes).toEqual(['energy', 'water']); // code-list order
    expect(f.partnerTypeCount).toBe(2);
    expect(f.totalAmountCents).toBe(30_000);
    expect(f.newestSignalDate).toBe('2025-06-10');
  });

  it('does not call signals in different months multiple', () => {
    const f = facts([signal({ signalDate: '2025-05-31' }), signal({ partnerType: 'water', signalDate: '2025-06-01' })]);
    expect(f.multiple).toBe(false);
  });

  it('counts two signals of one partner type once in partnerTypeCount', () => {
    const f = facts([signal({ amountCents: 100 }), signal({ amountCents: 200, signalDate: '2025-05-01', originDate: '2025-01-20' })]);
    expect(f.partnerTypeCount).toBe(1);
    expect(f.energyCount).toBe(2);
    expect(f.energyAmountCents).toBe(300);
    expect(f.energyMonthsInArrears).toBe(4); // from the oldest origin date: 20 Jan → 15 Jun
  });

  describe('repeat and amount rise', () => {
    const earlier = (amountCents: number, signalDate = '2025-02-01'): SignalSnapshot =>
      signal({ amountCents, signalDate, taskId: 100, status: 'picked_up' });

    it('repeat without amount rise', () => {
      const f = facts([earlier(20_000), signal({ amountCents: 18_000, signalDate: '2025-06-01' })], [closedTask()]);
      expect(f).toMatchObject({ signalCount: 1, repeat: true, amountRose: false, newPartnerType: false, earlierSignalCount: 1 });
      expect(f.totalAmountCents).toBe(18_000); // earlier signals are not in the window
    });

    it('repeat with amount rise', () => {
      const f = facts([earlier(20_000), signal({ amountCents: 25_000, signalDate: '2025-06-01' })], [closedTask()]);
      expect(f).toMatchObject({ repeat: true, amountRose: true, newPartnerType: false });
    });

    it('compares with the newest earlier signal of the same partner type', () => {
      const f = facts(
        [earlier(30_000, '2025-01-01'), earlier(20_000, '2025-03-01'), signal({ amountCents: 25_000, signalDate: '2025-06-01' })],
        [closedTask()],
      );
      expect(f.amountRose).toBe(true);
    });

    it('a new partner type is not an amount rise, but is new', () => {
      const f = facts([earlier(20_000), signal({ partnerType: 'water', amountCents: 50_000, signalDate: '2025-06-01' })], [closedTask()]);
      expect(f).toMatchObject({ repeat: true, amountRose: false, newPartnerType: true });
    });

    it('looks back 6 calendar months from the newest window signal', () => {
      const newest = signal({ signalDate: '2025-06-01' });
      expect(facts([earlier(1, '2024-12-01'), newest], [closedTask()]).repeat).toBe(true);
      expect(facts([earlier(1, '2024-11-30'), newest], [closedTask()]).repeat).toBe(false);
    });

    it('ignores signals of an open task: they are in the window', () => {
      const open = closedTask({ status: 'claimed', closedAt: null, result: null });
      const f = facts([signal({ taskId: 100 }), signal({ partnerType: 'water' })], [open]);
      expect(f).toMatchObject({ signalCount: 2, repeat: false, earlierSignalCount: 0, closedTaskCount: 0 });
    });

    it('treats a signal whose task is unknown as in the window', () => {
      expect(facts([signal({ taskId: 999 })]).signalCount).toBe(1);
    });
  });

  it('sees crisis, warm handover and end of supply in the window only', () => {
    const f = facts([signal({ crisis: true }), signal({ warmHandover: true, taskId: 100 })], [closedTask()]);
    expect(f).toMatchObject({ crisis: true, warmHandover: false, endOfSupply: false });
    expect(facts([signal({ endOfSupply: true })]).endOfSupply).toBe(true);
  });

  describe('earlier outreach', () => {
    it('takes result and consultant of the most recently closed task', () => {
      const f = facts(
        [signal()],
        [
          closedTask({ id: 1, result: 'no_contact_possible', assigneeKeyId: 'key_a', closedAt: '2024-10-01T10:00:00Z' }),
          closedTask({ id: 2, result: 'advice_or_quick_fix', assigneeKeyId: 'key_b', closedAt: '2025-03-01T10:00:00Z' }),
        ],
      );
      expect(f).toMatchObject({
        previousResult: 'advice_or_quick_fix',
        previousAssigneeKeyId: 'key_b',
        daysSincePreviousTask: 106,
        closedTaskCount: 2,
      });
    });

    it('counts days from the closing date in Europe/Amsterdam', () => {
      // 22:30 UTC on 14 June is 00:30 on 15 June in Amsterdam (summer time).
      expect(facts([signal()], [closedTask({ closedAt: '2025-06-14T22:30:00Z' })]).daysSincePreviousTask).toBe(0);
      expect(facts([signal()], [closedTask({ closedAt: '2025-06-14T21:30:00Z' })]).daysSincePreviousTask).toBe(1);
    });

    it('knows a resident known to debt help in the last 12 months', () => {
      const known = (result: TaskSnapshot['result'], closedAt: string) => facts([signal()], [closedTask({ result, closedAt })]).knownToDebtHelp;
      expect(known('already_known_debt_help', '2025-01-10T10:00:00Z')).toBe(true);
      expect(known('follow_up_or_referral_financial', '2024-06-15T10:00:00Z')).toBe(true); // exactly 12 months
      expect(known('already_known_debt_help', '2024-06-14T10:00:00Z')).toBe(false);
      expect(known('no_help_needed', '2025-05-01T10:00:00Z')).toBe(false);
    });
  });

  it('computes ages in whole years and null when unknown', () => {
    const f = facts([signal({ birthDate: '2000-06-15' }), signal({ birthDate: '1950-06-16' }), signal({ birthDate: null })]);
    expect(f.youngestAge).toBe(25);
    expect(f.oldestAge).toBe(74);
    expect(facts([signal({ birthDate: null })]).youngestAge).toBeNull();
  });

  it('describes a household without window signals', () => {
    const f = facts([]);
    expect(f).toMatchObject({ signalCount: 0, totalAmountCents: 0, partnerTypes: [], youngestAge: null, newestSignalDate: null, daysSinceOldestSignal: null });
  });

  it('normalises the postcode area', () => {
    expect(computeHouseholdFacts({ ...household([signal()]), postcode: '1012 ab' }).postcodeArea).toBe('1012');
  });

  it('rejects a malformed today', () => {
    expect(() => computeHouseholdFacts({ ...household([]), today: '15-06-2025' })).toThrow(RangeError);
  });
});

describe('date helpers', () => {
  it('counts whole months, with the end of a shorter month completing a month', () => {
    expect(wholeMonthsBetween('2025-01-31', '2025-02-28')).toBe(1);
    expect(wholeMonthsBetween('2025-01-31', '2025-02-27')).toBe(0);
    expect(wholeMonthsBetween('2025-03-15', '2025-06-15')).toBe(3);
    expect(wholeMonthsBetween('2025-03-16', '2025-06-15')).toBe(2);
    expect(wholeMonthsBetween('2025-07-01', '2025-06-15')).toBe(0);
  });

  it('adds months, clamped to the end of the month', () => {
    expect(addMonths('2025-08-31', -6)).toBe('2025-02-28');
    expect(addMonths('2025-06-01', -6)).toBe('2024-12-01');
    expect(addMonths('2024-02-29', 12)).toBe('2025-02-28');
  });

  it('dates timestamps in Europe/Amsterdam', () => {
    expect(amsterdamDate('2025-01-01T23:30:00Z')).toBe('2025-01-02');
    expect(amsterdamDate('2025-01-01T22:30:00Z')).toBe('2025-01-01');
  });
});

describe('facts catalogue', () => {
  const date = fc.integer({ min: 0, max: 800 }).map((n) => new Date(Date.UTC(2023, 5, 1) + n * 86_400_000).toISOString().slice(0, 10));
  const snapshot = fc
    .record({
      tasks: fc.array(
        fc.record({
          status: fc.constantFrom('open', 'claimed', 'closed'),
          result: fc.option(fc.constantFrom(...TASK_RESULT_CODES)),
          assigneeKeyId: fc.option(fc.constantFrom('key_a', 'key_b')),
          closedOn: date,
        }),
        { maxLength: 3 },
      ),
      signals: fc.array(
        fc.record({
          partnerType: fc.constantFrom(...PARTNER_TYPE_CODES),
          amountCents: fc.integer({ min: 1, max: 1_000_000 }),
          signalDate: date,
          originDate: fc.option(date),
          crisis: fc.boolean(),
          warmHandover: fc.boolean(),
          endOfSupply: fc.boolean(),
          childrenInHousehold: fc.option(fc.integer({ min: 0, max: 30 })),
          birthDate: fc.option(fc.constantFrom('1950-02-28', '1990-07-31', '2004-12-01')),
          task: fc.option(fc.integer({ min: 0, max: 3 })),
        }),
        { maxLength: 8 },
      ),
    })
    .map(({ tasks, signals }): HouseholdSnapshot => ({
      householdId: 1,
      municipalityCode: null,
      postcode: '9999ZZ',
      today: '2025-09-01',
      tasks: tasks.map((task, index) => ({
        id: index,
        status: task.status,
        result: task.status === 'closed' ? task.result : null,
        assigneeKeyId: task.assigneeKeyId,
        createdAt: `${task.closedOn}T08:00:00Z`,
        closedAt: task.status === 'closed' ? `${task.closedOn}T12:00:00Z` : null,
      })),
      signals: signals.map(({ task, ...rest }, index) => ({
        ...rest,
        id: index,
        receivedAt: `${rest.signalDate}T09:00:00Z`,
        status: 'not_yet_picked_up',
        taskId: task,
      })),
    }));

  it('every computed fact is in the catalogue with its declared type, and the other way round', () => {
    fc.assert(
      fc.property(snapshot, (s) => {
        const f = computeHouseholdFacts(s) as Record<string, unknown>;
        expect(Object.keys(f).sort()).toEqual(FACT_CATALOGUE.map((fact) => fact.name).sort());
        for (const fact of FACT_CATALOGUE) {
          const value = f[fact.name];
          if (value === null) {
            expect(fact.nullable, fact.name).toBe(true);
            continue;
          }
          if (fact.type === 'integer') expect(Number.isInteger(value), fact.name).toBe(true);
          else if (fact.type === 'number') expect(typeof value, fact.name).toBe('number');
          else if (fact.type === 'boolean') expect(typeof value, fact.name).toBe('boolean');
          else if (fact.type === 'string[]') expect(Array.isArray(value), fact.name).toBe(true);
          else expect(typeof value, fact.name).toBe('string');
          if (fact.codes && typeof value === 'string') expect(fact.codes).toContain(value);
        }
        // JSON round trip: facts are stored with the task's explanation.
        expect(JSON.parse(JSON.stringify(f))).toEqual(f);
      }),
    );
  });

  it('per-type facts add up to the totals', () => {
    fc.assert(
      fc.property(snapshot, (s) => {
        const f = computeHouseholdFacts(s) as Record<string, number> & HouseholdFacts;
        const prefixes = PARTNER_TYPE_CODES.map(partnerFactPrefix);
        expect(prefixes.reduce((sum, p) => sum + (f[`${p}Count`] as number), 0)).toBe(f.signalCount);
        expect(prefixes.reduce((sum, p) => sum + (f[`${p}AmountCents`] as number), 0)).toBe(f.totalAmountCents);
        expect(Math.max(0, ...prefixes.map((p) => f[`${p}MonthsInArrears`] as number))).toBe(f.maxMonthsInArrears);
        expect(f.partnerTypeCount).toBe(f.partnerTypes.length);
        if (f.amountRose) expect(f.earlierSignalCount).toBeGreaterThan(0);
        if (f.repeat) expect(f.earlierSignalCount).toBeGreaterThan(0);
      }),
    );
  });

  it('equals the plain reference computation on any household, key order included', () => {
    const varied = fc
      .tuple(
        snapshot,
        fc.constantFrom('9999ZZ', '1012 AB', ' 1012AB', '10 12AB', '1012'),
        fc.constantFrom('2025-09-01', '2024-02-29', '2026-01-31'),
        fc.array(fc.constantFrom('T09:00:00Z', 'T23:30:00Z', 'T00:15:00+02:00'), { minLength: 8, maxLength: 8 }),
      )
      .map(([s, postcode, today, times]): HouseholdSnapshot => ({
        ...s,
        postcode,
        today,
        municipalityCode: postcode === '1012' ? '0363' : null,
        // Same-day intake times (ties and not) exercise every step of the ordering.
        signals: s.signals.map((signal, index) => ({ ...signal, receivedAt: `${signal.signalDate}${times[index % 8]}`, id: (index * 7) % 5 })),
      }));
    fc.assert(
      fc.property(varied, (s) => {
        const fast = computeHouseholdFacts(s);
        const plain = referenceHouseholdFacts(s);
        return JSON.stringify(Object.entries(fast)) === JSON.stringify(Object.entries(plain));
      }),
      { numRuns: 2_000 },
    );
  });

  it('is documented in rules/README.md, every fact', () => {
    const readme = readFileSync(new URL('../../rules/README.md', import.meta.url), 'utf8');
    for (const fact of FACT_CATALOGUE) expect(readme, fact.name).toContain(`\`${fact.name}\``);
  });
});

describe('the default rule set on hand-made households', () => {
  let ruleSet: RuleSet;
  let compiled: CompiledRuleSet;
  beforeAll(async () => {
    ruleSet = await loadDefaultRuleSet();
    compiled = compileRuleSet(ruleSet);
  });

  const outcomeOf = async (f: HouseholdFacts) => {
    const outcome = evaluate(compiled, f);
    // The reference path agrees on every household here.
    expect(await evaluateWithEngine(ruleSet, f)).toEqual(outcome);
    return outcome;
  };

  it('single ordinary signal: phone, priority 0, the default deadline', async () => {
    const outcome = await outcomeOf(facts([signal()]));
    expect(outcome).toMatchObject({ suppressed: null, priority: 0, channel: 'phone', dueWorkingDays: 10, team: null });
    expect(outcome.fired.map((rule) => rule.name)).toEqual(['Standaard: eerst bellen']);
  });

  it('multiple creditors with a high total', async () => {
    const outcome = await outcomeOf(
      facts([signal({ partnerType: 'health_insurance', amountCents: 180_000 }), signal({ partnerType: 'water', amountCents: 90_000 })]),
    );
    expect(outcome.priority).toBe(20 + 15 + 15);
    expect(outcome.fired.find((rule) => rule.name === 'Meerdere schuldeisers')?.facts).toEqual({ partnerTypeCount: 2 });
  });

  it('crisis: top priority, home visit within 3 working days', async () => {
    const outcome = await outcomeOf(facts([signal({ crisis: true })]));
    expect(outcome).toMatchObject({ suppressed: null, priority: 100, channel: 'home_visit', dueWorkingDays: 3 });
  });

  it('threatened eviction: rent three months in arrears', async () => {
    const outcome = await outcomeOf(facts([signal({ partnerType: 'rent', amountCents: 240_000, originDate: '2025-03-01' })]));
    expect(outcome).toMatchObject({ priority: 100 + 15 + 10, channel: 'home_visit', dueWorkingDays: 3 });
  });

  it('repeat without amount rise is suppressed as a repeat signal', async () => {
    const f = facts(
      [signal({ amountCents: 20_000, signalDate: '2025-02-01', taskId: 100 }), signal({ amountCents: 18_000, signalDate: '2025-06-01' })],
      [closedTask()],
    );
    const outcome = await outcomeOf(f);
    expect(outcome.suppressed).toEqual({
      status: 'not_picked_up_repeat_signal',
      reason: expect.stringContaining('Herhaalde melding'),
      rule: 'Herhaalde melding zonder nieuwe informatie',
    });
  });

  it('repeat with amount rise is picked up', async () => {
    const f = facts(
      [signal({ amountCents: 20_000, signalDate: '2025-02-01', taskId: 100 }), signal({ amountCents: 25_000, signalDate: '2025-06-01' })],
      [closedTask()],
    );
    expect((await outcomeOf(f)).suppressed).toBeNull();
  });

  it('a known client is not approached again', async () => {
    const f = facts([signal()], [closedTask({ result: 'already_known_debt_help', closedAt: '2025-01-10T10:00:00Z' })]);
    expect((await outcomeOf(f)).suppressed?.status).toBe('already_known_debt_help');
  });

  it('a single signal below € 50: low priority, by letter', async () => {
    const outcome = await outcomeOf(facts([signal({ amountCents: 4_999 })]));
    expect(outcome).toMatchObject({ priority: -10, channel: 'letter' });
    expect((await outcomeOf(facts([signal({ amountCents: 5_000 })]))).channel).toBe('phone');
  });
});
