import { parseArgs } from 'node:util';
import { DEFAULT_RULE_SET_URL, loadCases, loadRuleSet, readJsonFile } from '../rules/load.js';
import { runCases } from '../rules/cases.js';
import { RuleSetError, validateRuleSet } from '../rules/validate.js';
import type { SimulationResult } from '../rules/simulate.js';
import { simulateOnFeed } from '../services/feedSimulation.js';

/**
 * `vroegsein rules …`: work on rule-set files fully offline — no server, no database.
 * Returns the exit code: 0 fine, 1 invalid rules or failing cases, 2 wrong usage.
 */
export async function rulesCommand(argv: string[], out: (line: string) => void = console.log): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'validate':
      return validateCommand(rest, out);
    case 'simulate':
      return simulateCommand(rest, out);
    case 'test':
      return testCommand(rest, out);
    default:
      out('usage: vroegsein rules validate FILE | rules simulate FILE --signals FEED.csv [--against FILE] [--json] | rules test FILE --cases CASES.json');
      return 2;
  }
}

async function validateCommand(args: string[], out: (line: string) => void): Promise<number> {
  const { positionals, values } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean' } } });
  if (positionals.length !== 1) return usage(out, 'rules validate FILE');
  let json: unknown;
  try {
    json = await readJsonFile(positionals[0]!);
  } catch (error) {
    return reportLoadError(error, out);
  }
  const result = validateRuleSet(json);
  if (values.json) {
    out(JSON.stringify({ valid: result.valid, errors: result.errors, warnings: result.warnings }, null, 2));
    return result.valid ? 0 : 1;
  }
  for (const e of result.errors) out(`error   ${e.pointer || '/'}: ${e.detail}`);
  for (const w of result.warnings) out(`warning ${w.pointer || '/'}: ${w.detail}`);
  out(result.valid ? `${positionals[0]}: valid (${result.warnings.length} warnings)` : `${positionals[0]}: invalid (${result.errors.length} errors)`);
  return result.valid ? 0 : 1;
}

async function simulateCommand(args: string[], out: (line: string) => void): Promise<number> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: { signals: { type: 'string' }, against: { type: 'string' }, json: { type: 'boolean' }, today: { type: 'string' } },
  });
  if (positionals.length !== 1 || !values.signals) return usage(out, 'rules simulate FILE --signals FEED.csv [--against rules/default.json] [--json]');
  try {
    const candidate = await loadRuleSet(positionals[0]!);
    const against = await loadRuleSet(values.against ?? DEFAULT_RULE_SET_URL);
    const result = await simulateOnFeed(values.signals, candidate, against, { today: values.today });
    if (values.json) out(JSON.stringify(result, null, 2));
    else printSimulation(result, out);
    return 0;
  } catch (error) {
    return reportLoadError(error, out);
  }
}

async function testCommand(args: string[], out: (line: string) => void): Promise<number> {
  const { positionals, values } = parseArgs({ args, allowPositionals: true, options: { cases: { type: 'string' } } });
  if (positionals.length !== 1 || !values.cases) return usage(out, 'rules test FILE --cases CASES.json');
  try {
    const ruleSet = await loadRuleSet(positionals[0]!);
    const results = await runCases(ruleSet, await loadCases(values.cases));
    for (const r of results) {
      out(`${r.pass ? 'pass' : 'FAIL'}  ${r.name}`);
      for (const f of r.failures) out(`      ${f.field}: expected ${JSON.stringify(f.expected)}, got ${JSON.stringify(f.actual)}`);
    }
    const failed = results.filter((r) => !r.pass).length;
    out(`${results.length - failed} passed, ${failed} failed`);
    return failed === 0 ? 0 : 1;
  } catch (error) {
    return reportLoadError(error, out);
  }
}

function printSimulation(result: SimulationResult & { rows: number; rejectedRows: number }, out: (line: string) => void): void {
  const c = result.changes;
  out(`${result.rows} rows (${result.rejectedRows} rejected), ${result.households} households`);
  out('');
  out('change              households');
  for (const [label, n] of [
    ['newly approached', c.newlyApproached],
    ['newly suppressed', c.newlySuppressed],
    ['priority up', c.priorityUp],
    ['priority down', c.priorityDown],
    ['priority same', c.prioritySame],
    ['team changed', c.teamChanged],
  ] as const) out(`${label.padEnd(20)}${String(n).padStart(10)}`);
  out('');
  out('priority            before     after');
  for (const d of result.priorityDistribution) out(`${d.bucket.padEnd(20)}${String(d.before).padStart(6)}${String(d.after).padStart(10)}`);
  out('');
  out('rule                                      fired before  fired after');
  for (const r of result.rules) out(`${r.name.slice(0, 40).padEnd(42)}${String(r.firedBefore).padStart(12)}${String(r.firedAfter).padStart(13)}`);
  if (result.biggestMovers.length > 0) {
    out('');
    out('biggest movers');
    for (const m of result.biggestMovers.slice(0, 20)) {
      const before = m.suppressedBefore ? `suppressed (${m.suppressedBefore})` : String(m.priorityBefore);
      const after = m.suppressedAfter ? `suppressed (${m.suppressedAfter})` : String(m.priorityAfter);
      const why = [...m.rulesAdded.map((r) => `+${r}`), ...m.rulesRemoved.map((r) => `-${r}`)].join(', ');
      out(`  ${String(m.householdId).padEnd(12)} ${before} → ${after}  ${why}`);
    }
  }
}

function reportLoadError(error: unknown, out: (line: string) => void): number {
  if (error instanceof RuleSetError) {
    for (const e of error.errors) out(`error   ${e.pointer || '/'}: ${e.detail}`);
    return 1;
  }
  const code = (error as { code?: string }).code;
  if (code === 'ENOENT') {
    out(`error: file not found: ${(error as { path?: string }).path ?? ''}`);
    return 1;
  }
  throw error;
}

function usage(out: (line: string) => void, text: string): number {
  out(`usage: vroegsein ${text}`);
  return 2;
}
