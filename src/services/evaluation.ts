import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AppContext } from '../context.js';
import {
  attachSignals,
  insertTasks,
  loadSnapshots,
  takePendingHouseholds,
  teamsByMunicipality,
  updateTasks,
  type NewTask,
  type TaskUpdate,
} from '../db/evaluation.js';
import { withTransaction } from '../db/pool.js';
import { keepStatistics } from './statistics.js';
import { activeRuleSetVersions, ensureDefaultRuleSets } from '../db/ruleSets.js';
import { findVersion } from '../db/ruleSetVersions.js';
import type { Queryable } from '../db/pool.js';
import { postcodeArea } from '../domain/address.js';
import type { SignalStatus } from '../domain/codes.js';
import { computeHouseholdFacts } from '../domain/facts.js';
import { decideOutreach, teamsByPostcodeArea } from '../domain/outreach.js';
import { compileRuleSet, evaluateAsync, type CompiledRuleSet } from '../rules/compile.js';
import type { RuleSet } from '../rules/schema.js';

/**
 * The evaluate step: households on the evaluation queue get their facts computed from
 * PostgreSQL, the municipality's active rule set decides, and in one transaction per chunk they
 * leave the queue and their tasks are opened, re-scored or closed as suppressed.
 *
 * Idempotent: a household no longer queued is skipped, the queue row's lock (SKIP LOCKED)
 * keeps two evaluations of one household from overlapping, and the database's unique index
 * refuses a second open task. A job delivered twice changes nothing the second time.
 */

const DEFAULT_RULE_SET_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'rules', 'default.json');

let defaultRuleSetCache: RuleSet | undefined;
export function defaultRuleSet(): RuleSet {
  defaultRuleSetCache ??= JSON.parse(readFileSync(DEFAULT_RULE_SET_FILE, 'utf8')) as RuleSet;
  return defaultRuleSetCache;
}

// Rule-set versions are immutable, so a compiled version can be kept for the process's life;
// its definition is read once, when a version is first met.
const compiledCache = new Map<string, CompiledRuleSet>();
async function compiledVersion(db: Queryable, schema: string, municipality: string, version: number): Promise<CompiledRuleSet> {
  const key = `${schema}:${municipality}:${version}`;
  let compiled = compiledCache.get(key);
  if (!compiled) {
    const stored = await findVersion(db, municipality, version);
    if (!stored) throw new Error(`rule set ${version} of municipality ${municipality} does not exist`);
    compiled = compileRuleSet(stored.definition as RuleSet);
    compiledCache.set(key, compiled);
  }
  return compiled;
}

export interface EvaluationSummary {
  evaluated: number;
  tasksOpened: number;
  tasksUpdated: number;
  suppressed: number;
  skipped: number;
}

export async function evaluateHouseholds(ctx: AppContext, householdIds: readonly number[]): Promise<EvaluationSummary> {
  const summary: EvaluationSummary = { evaluated: 0, tasksOpened: 0, tasksUpdated: 0, suppressed: 0, skipped: 0 };
  if (householdIds.length === 0) return summary;
  void keepStatistics(ctx);
  // Committed without waiting for the WAL flush. An evaluation lost in a crash right after its
  // commit leaves its households on the queue (the whole transaction is lost, never a part), so
  // the sweeper evaluates them again; anything that builds on its tasks — a claim, a contact
  // attempt — commits durably, and flushing that flushes the evaluation before it.
  await withTransaction(ctx.pool, async (tx) => {
    const households = await takePendingHouseholds(tx, householdIds);
    summary.skipped = householdIds.length - households.length;
    if (households.length === 0) return;

    const municipalities = [...new Set(households.map((h) => h.municipalityCode).filter((m): m is string => m !== null))];
    let versions = await activeRuleSetVersions(tx, municipalities);
    if (versions.size < municipalities.length) {
      // A municipality registered after start-up gets the default rule set on first use.
      await ensureDefaultRuleSets(tx, defaultRuleSet(), municipalities.filter((m) => !versions.has(m)));
      versions = await activeRuleSetVersions(tx, municipalities);
    }
    const ruleSets = new Map<string, { version: number; compiled: CompiledRuleSet }>();
    for (const [code, version] of versions) ruleSets.set(code, { version, compiled: await compiledVersion(tx, ctx.schema, code, version) });
    const teams = new Map([...(await teamsByMunicipality(tx, municipalities))].map(([code, list]) => [code, teamsByPostcodeArea(list)]));
    const now = ctx.now();
    const { snapshots, signals, tasks } = await loadSnapshots(tx, households, now);

    const newTasks: NewTask[] = [];
    // Signals of the tasks still to be inserted, by household (their task ids come from the insert).
    const newTaskSignals = new Map<number, { ids: number[]; status: SignalStatus | null }>();
    const updates: TaskUpdate[] = [];
    const links: { signalId: number; taskId: number; status: SignalStatus | null }[] = [];

    for (const snapshot of snapshots) {
      const municipality = snapshot.municipalityCode;
      const ruleSet = municipality ? ruleSets.get(municipality) : undefined;
      if (!municipality || !ruleSet) continue; // not resident: nothing to evaluate
      const facts = computeHouseholdFacts(snapshot);
      const outcome = await evaluateAsync(ruleSet.compiled, facts, { defaultDueWorkingDays: ctx.config.DEFAULT_DUE_WORKING_DAYS });
      const decision = decideOutreach({
        signals: signals.get(snapshot.householdId) ?? [],
        tasks: tasks.get(snapshot.householdId) ?? [],
        outcome,
        ruleSetVersion: ruleSet.version,
        postcodeTeam: teams.get(municipality)?.get(postcodeArea(snapshot.postcode)) ?? null,
        today: snapshot.today,
      });
      summary.evaluated++;
      if (decision.kind === 'nothing') continue;
      if (decision.kind === 'suppress') {
        summary.suppressed++;
        newTasks.push({
          householdId: snapshot.householdId, municipality, status: 'closed', priority: outcome.priority, dueDate: null, team: null,
          assigneeKeyId: null, channel: null, result: decision.result, suppressed: true, explanation: decision.explanation,
          ruleSetVersion: ruleSet.version, matchedOn: snapshot.today,
        });
        newTaskSignals.set(snapshot.householdId, { ids: decision.signalIds, status: decision.status });
      } else if (decision.taskId === null) {
        summary.tasksOpened++;
        newTasks.push({
          householdId: snapshot.householdId, municipality, status: 'open', priority: decision.priority, dueDate: decision.dueDate,
          team: decision.team, assigneeKeyId: decision.assigneeKeyId, channel: decision.channel, result: null, suppressed: false,
          explanation: decision.explanation, ruleSetVersion: ruleSet.version, matchedOn: snapshot.today,
        });
        newTaskSignals.set(snapshot.householdId, { ids: decision.signalIds, status: null });
      } else {
        summary.tasksUpdated++;
        updates.push({
          taskId: decision.taskId, priority: decision.priority, dueDate: decision.dueDate, team: decision.team, channel: decision.channel,
          explanation: decision.explanation, ruleSetVersion: ruleSet.version,
        });
        for (const signalId of decision.signalIds) links.push({ signalId, taskId: decision.taskId, status: null });
      }
    }

    const inserted = await insertTasks(tx, newTasks);
    for (const [householdId, { ids, status }] of newTaskSignals) {
      const taskId = inserted.get(householdId)!;
      for (const signalId of ids) links.push({ signalId, taskId, status });
    }
    await updateTasks(tx, updates);
    await attachSignals(tx, links);
  }, { synchronousCommit: false });
  ctx.metrics.evaluations.inc({ outcome: 'task' }, summary.tasksOpened + summary.tasksUpdated);
  ctx.metrics.evaluations.inc({ outcome: 'suppressed' }, summary.suppressed);
  ctx.metrics.evaluations.inc({ outcome: 'skipped' }, summary.skipped);
  return summary;
}
