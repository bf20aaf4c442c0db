/**
 * Reading rule sets and case files from disk: the only I/O of the rules layer. Everything
 * else in src/rules works on parsed JSON.
 */
import { readFile } from 'node:fs/promises';
import { validateCases, type RuleCase } from './cases.js';
import type { RuleSet } from './schema.js';
import { RuleSetError, validateRuleSet, type ValidationResult } from './validate.js';

/** rules/default.json, the rule set that ships with vroegsein. */
export const DEFAULT_RULE_SET_URL = new URL('../../rules/default.json', import.meta.url);
/** rules/default.cases.json, its regression cases. */
export const DEFAULT_CASES_URL = new URL('../../rules/default.cases.json', import.meta.url);

/** Read and parse a JSON file; a syntax error becomes a RuleSetError at the root pointer. */
export async function readJsonFile(path: string | URL): Promise<unknown> {
  const text = await readFile(path, 'utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new RuleSetError([{ pointer: '', detail: `not valid JSON: ${(error as Error).message}` }]);
  }
}

/** Read and validate a rule set file without throwing on rule errors. */
export async function validateRuleSetFile(path: string | URL): Promise<ValidationResult> {
  return validateRuleSet(await readJsonFile(path));
}

/** Read a rule set file; throws a RuleSetError (errors with JSON pointers) when it is invalid. */
export async function loadRuleSet(path: string | URL): Promise<RuleSet> {
  const result = await validateRuleSetFile(path);
  if (!result.valid || !result.ruleSet) throw new RuleSetError(result.errors, result.warnings);
  return result.ruleSet;
}

export function loadDefaultRuleSet(): Promise<RuleSet> {
  return loadRuleSet(DEFAULT_RULE_SET_URL);
}

/** Read a cases file; throws a RuleSetError when it is invalid. */
export async function loadCases(path: string | URL = DEFAULT_CASES_URL): Promise<RuleCase[]> {
  const result = validateCases(await readJsonFile(path));
  if (!result.valid) throw new RuleSetError(result.errors);
  return result.cases;
}
