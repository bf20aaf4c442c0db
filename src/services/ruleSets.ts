import type { AppContext } from '../context.js';
import { changeRecord, recordAudit, type AuditSource } from '../db/audit.js';
import { teamsByMunicipality } from '../db/evaluation.js';
import { withTransaction } from '../db/pool.js';
import { activeRuleSets } from '../db/ruleSets.js';
import { insertVersion, markOpenTasksForRescoring, setActiveVersion, findVersion } from '../db/ruleSetVersions.js';
import { snapshotsForPeriod } from '../db/simulation.js';
import { postcodeArea } from '../domain/address.js';
import { computeHouseholdFacts } from '../domain/facts.js';
import { teamsByPostcodeArea } from '../domain/outreach.js';
import { compileRuleSet, evaluate, evaluateAsync, type CompiledRuleSet } from '../rules/compile.js';
import type { RuleSet } from '../rules/schema.js';
import { SimulationAccumulator, type SimulationResult } from '../rules/simulate.js';
import { validateRuleSet, type ValidationResult } from '../rules/validate.js';
import { defaultRuleSet, evaluateHouseholds } from './evaluation.js';

/** Publishing, activating and simulating rule sets of one municipality. */

export class InvalidRuleSetError extends Error {
  constructor(readonly validation: ValidationResult) {
    super('the rule set is not valid');
  }
}

function compileValid(json: unknown): CompiledRuleSet {
  const validation = validateRuleSet(json);
  if (!validation.valid || !validation.ruleSet) throw new InvalidRuleSetError(validation);
  return compileRuleSet(validation.ruleSet);
}

/** Evaluate the candidate and the active set on every household with signals in the period. Changes nothing. */
export async function simulateRuleSet(ctx: AppContext, municipality: string, candidate: unknown, from: string, to: string): Promise<SimulationResult & { activeVersion: number | null }> {
  const after = compileValid(candidate);
  const active = (await activeRuleSets(ctx.pool, [municipality])).get(municipality);
  const beforeSet = (active?.definition as RuleSet | undefined) ?? defaultRuleSet();
  const before = compileRuleSet(beforeSet);
  const teams = teamsByPostcodeArea((await teamsByMunicipality(ctx.pool, [municipality])).get(municipality) ?? []);
  const accumulator = new SimulationAccumulator({ before: beforeSet.rules.map((r) => r.name), after: after.ruleSet.rules.map((r) => r.name) });
  const options = { defaultDueWorkingDays: ctx.config.DEFAULT_DUE_WORKING_DAYS };
  for await (const chunk of snapshotsForPeriod(ctx.pool, municipality, from, to)) {
    for (const snapshot of chunk) {
      const facts = computeHouseholdFacts(snapshot);
      // Compiled sets evaluate synchronously (no promise per household); others fall back.
      const outcomeBefore = before.compiled ? evaluate(before, facts, options) : await evaluateAsync(before, facts, options);
      const outcomeAfter = after.compiled ? evaluate(after, facts, options) : await evaluateAsync(after, facts, options);
      const postcodeTeam = teams.get(postcodeArea(snapshot.postcode)) ?? null;
      accumulator.add({
        householdId: snapshot.householdId,
        before: outcomeBefore,
        after: outcomeAfter,
        teamBefore: outcomeBefore.team ?? postcodeTeam,
        teamAfter: outcomeAfter.team ?? postcodeTeam,
      });
    }
  }
  return { activeVersion: active?.version ?? null, ...accumulator.result() };
}

/**
 * Stores a valid rule set as the next version; with `activate` it becomes the active one at once.
 * The audit record is written in the same transaction.
 */
export async function publishRuleSet(
  ctx: AppContext,
  municipality: string,
  json: unknown,
  note: string | null,
  author: { keyId: string; label: string },
  activate: boolean,
  audit: AuditSource,
): Promise<{ version: number; rescored: number }> {
  const compiled = compileValid(json);
  const { version, households } = await withTransaction(ctx.pool, async (tx) => {
    const version = await insertVersion(tx, municipality, compiled.ruleSet, note, author);
    await recordAudit(tx, changeRecord(audit, { action: 'rule-set.publish', objectType: 'rule-set', objectId: String(version), municipality }));
    if (!activate) return { version, households: [] };
    await setActiveVersion(tx, municipality, version);
    return { version, households: await markOpenTasksForRescoring(tx, municipality) };
  });
  return { version, rescored: await rescore(ctx, households) };
}

/**
 * Makes an existing version active again (roll back or forward) and re-scores open, unclaimed
 * tasks. The audit record is written in the same transaction.
 */
export async function activateRuleSet(ctx: AppContext, municipality: string, version: number, audit: AuditSource): Promise<{ rescored: number } | null> {
  const households = await withTransaction(ctx.pool, async (tx) => {
    if (!(await findVersion(tx, municipality, version))) return null;
    await setActiveVersion(tx, municipality, version);
    await recordAudit(tx, changeRecord(audit, { action: 'rule-set.activate', objectType: 'rule-set', objectId: String(version), municipality }));
    return markOpenTasksForRescoring(tx, municipality);
  });
  if (households === null) return null;
  return { rescored: await rescore(ctx, households) };
}

/**
 * Re-scores right away, in chunks, so the answer reflects the new version. Households another
 * transaction holds stay marked and are picked up by the queue or the sweeper.
 */
async function rescore(ctx: AppContext, households: number[]): Promise<number> {
  let tasks = 0;
  for (let i = 0; i < households.length; i += 500) {
    const summary = await evaluateHouseholds(ctx, households.slice(i, i + 500));
    tasks += summary.tasksUpdated;
  }
  return tasks;
}
