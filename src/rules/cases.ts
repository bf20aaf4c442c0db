/**
 * Regression cases for a rule set: named fact records with the outcome the rules should give.
 * rules/default.cases.json holds the cases of the default set; a coordinator who changes rules
 * runs them to see what the change does.
 *
 * A case lists only the facts that matter to it; they are merged over CASE_BASELINE_FACTS (one
 * ordinary energy signal of € 120), so a case is short and stays valid when facts are added.
 * Derived facts are not recomputed: a case that sets `rentCount` sets `partnerTypes` too if a
 * rule looks at that.
 */
import { z } from 'zod';
import { CONTACT_CHANNEL_CODES } from '../domain/codes.js';
import { computeHouseholdFacts, type HouseholdFacts } from '../domain/facts.js';
import { compileRuleSet, evaluateAsync, type CompiledRuleSet } from './compile.js';
import type { EvaluateOptions, Outcome } from './outcome.js';
import { SUPPRESS_STATUS_CODES, pointer, type RuleSet } from './schema.js';
import type { Problem } from './validate.js';

/**
 * The neutral household the cases start from: one energy signal of € 120, two months in
 * arrears, one adult of 45, no earlier signals or tasks. It fires no rule of the default set
 * but "first contact by phone".
 */
export const CASE_BASELINE_FACTS: HouseholdFacts = computeHouseholdFacts({
  householdId: 0,
  municipalityCode: '0363',
  postcode: '1012AB',
  today: '2025-03-14',
  tasks: [],
  signals: [
    {
      id: 1,
      partnerType: 'energy',
      amountCents: 12_000,
      signalDate: '2025-03-10',
      originDate: '2025-01-10',
      receivedAt: '2025-03-10T08:00:00Z',
      crisis: false,
      warmHandover: false,
      endOfSupply: false,
      childrenInHousehold: null,
      birthDate: '1979-06-01',
      status: 'not_yet_picked_up',
      taskId: null,
    },
  ],
});

const expectShape = z.strictObject({
  suppressed: z.union([z.enum(SUPPRESS_STATUS_CODES), z.literal(false)]).optional(),
  priority: z.int().optional(),
  team: z.string().nullable().optional(),
  channel: z.enum(CONTACT_CHANNEL_CODES).nullable().optional(),
  dueWorkingDays: z.int().min(1).optional(),
});

const caseShape = z.strictObject({
  name: z.string().min(1),
  description: z.string().optional(),
  facts: z.record(z.string(), z.unknown()),
  expect: expectShape,
});

export type RuleCase = z.infer<typeof caseShape>;
export type CaseExpectation = z.infer<typeof expectShape>;

export interface CaseResult {
  name: string;
  pass: boolean;
  /** Every expected field that differs. */
  failures: { field: keyof CaseExpectation; expected: unknown; actual: unknown }[];
  outcome: Outcome;
}

/** Validate a parsed cases file (an array of cases), with JSON pointers. */
export function validateCases(json: unknown): { valid: boolean; errors: Problem[]; cases: RuleCase[] } {
  const result = z.array(caseShape).safeParse(json);
  if (result.success) return { valid: true, errors: [], cases: result.data };
  const errors = result.error.issues.map((issue) => ({
    pointer: pointer(...issue.path.map((segment) => (typeof segment === 'symbol' ? String(segment) : segment))),
    detail: issue.message,
  }));
  return { valid: false, errors, cases: [] };
}

/** The facts of a case: its facts over the baseline. */
export function caseFacts(ruleCase: RuleCase): Record<string, unknown> {
  return { ...CASE_BASELINE_FACTS, ...ruleCase.facts };
}

/** Compare an outcome with what a case expects. */
export function checkOutcome(expect: CaseExpectation, outcome: Outcome): CaseResult['failures'] {
  const actual: Required<CaseExpectation> = {
    suppressed: outcome.suppressed ? outcome.suppressed.status : false,
    priority: outcome.priority,
    team: outcome.team,
    channel: outcome.channel,
    dueWorkingDays: outcome.dueWorkingDays,
  };
  const failures: CaseResult['failures'] = [];
  for (const field of Object.keys(expect) as (keyof CaseExpectation)[]) {
    if (expect[field] !== undefined && expect[field] !== actual[field]) {
      failures.push({ field, expected: expect[field], actual: actual[field] });
    }
  }
  return failures;
}

/** Run the cases against a rule set; one result per case, in order. */
export async function runCases(
  ruleSet: RuleSet | CompiledRuleSet,
  cases: readonly RuleCase[],
  options: EvaluateOptions = {},
): Promise<CaseResult[]> {
  const compiled = 'compiled' in ruleSet ? ruleSet : compileRuleSet(ruleSet);
  const results: CaseResult[] = [];
  for (const ruleCase of cases) {
    const outcome = await evaluateAsync(compiled, caseFacts(ruleCase), options);
    const failures = checkOutcome(ruleCase.expect, outcome);
    results.push({ name: ruleCase.name, pass: failures.length === 0, failures, outcome });
  }
  return results;
}
