/**
 * Evaluations per second of the default rule set: json-rules-engine against the compiled
 * evaluator. Run with `npx tsx bench/evaluator.ts`.
 *
 * Three ways to evaluate:
 * - engine (shared): one Engine, runs strictly one after another (the fastest safe use of it);
 * - engine (per evaluation): evaluateWithEngine, a new Engine per evaluation (safe when
 *   concurrent, the reference path);
 * - compiled: compileRuleSet once, then evaluate() per household.
 */
import { performance } from 'node:perf_hooks';
import {
  CASE_BASELINE_FACTS,
  caseFacts,
  compileRuleSet,
  createEngine,
  evaluate,
  evaluateWithEngine,
  loadCases,
  loadDefaultRuleSet,
} from '../src/rules/index.js';

const ruleSet = await loadDefaultRuleSet();
const cases = await loadCases();
const households = [CASE_BASELINE_FACTS, ...cases.map(caseFacts)];

type Facts = Record<string, unknown>;

async function measure(name: string, minMs: number, run: (facts: Facts) => unknown): Promise<number> {
  // Warm up, then count evaluations for at least minMs. Only promises are awaited, so a
  // synchronous evaluator is not charged for a microtask per call.
  for (let i = 0; i < 2_000; i += 1) {
    const result = run(households[i % households.length] as Facts);
    if (result instanceof Promise) await result;
  }
  let count = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < minMs) {
    for (let i = 0; i < 1_000; i += 1) {
      const result = run(households[(count + i) % households.length] as Facts);
      if (result instanceof Promise) await result;
    }
    count += 1_000;
    elapsed = performance.now() - start;
  }
  const perSecond = (count / elapsed) * 1_000;
  console.log(`${name.padEnd(32)} ${Math.round(perSecond).toLocaleString('en-US').padStart(12)} evaluations/s  ${((elapsed * 1_000) / count).toFixed(2).padStart(8)} µs each`);
  return perSecond;
}

console.log(`rule set "${ruleSet.name}": ${ruleSet.rules.length} rules, ${households.length} households in rotation\n`);

const engine = createEngine(ruleSet);
const shared = await measure('json-rules-engine (shared)', 2_000, (facts) => engine.run({ ...facts }));
const perEvaluation = await measure('json-rules-engine (per eval)', 2_000, (facts) => evaluateWithEngine(ruleSet, facts));
const compiled = compileRuleSet(ruleSet);
const compiledRate = await measure('compiled', 2_000, (facts) => evaluate(compiled, facts));

console.log(`\ncompiled / engine (shared):   ${(compiledRate / shared).toFixed(0)}×`);
console.log(`compiled / engine (per eval): ${(compiledRate / perEvaluation).toFixed(0)}×`);
