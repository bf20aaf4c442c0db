import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Outcome } from '../../src/rules/outcome.js';
import { SimulationAccumulator } from '../../src/rules/simulate.js';

/**
 * The biggest movers of a simulation: kept in a short list while households stream through,
 * they must be exactly the top of the full list — by size of the move, then by household id in
 * natural order — whatever order the households come in.
 */

const outcome = (priority: number, suppressed: boolean): Outcome => ({
  suppressed: suppressed ? { status: 'not_resident' as never, reason: null, rule: 'r' } : null,
  priority,
  team: null,
  channel: null,
  dueWorkingDays: 5,
  fired: [],
});

describe('SimulationAccumulator movers', () => {
  it('keeps exactly the top movers of the whole stream', () => {
    const household = fc.record({
      id: fc.oneof(fc.integer({ min: 1, max: 500 }), fc.integer({ min: 1, max: 500 }).map((n) => `hh-${n}`)),
      before: fc.integer({ min: 0, max: 30 }),
      after: fc.integer({ min: 0, max: 30 }),
      suppressedBefore: fc.boolean(),
      suppressedAfter: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(household, { maxLength: 400 }), fc.integer({ min: 1, max: 20 }), (households, limit) => {
        // One kind of id per run, unique: as the database and the CLI give them.
        const seen = new Set<string>();
        const kind = typeof households[0]?.id;
        const unique = households.filter((h) => typeof h.id === kind && !seen.has(String(h.id)) && seen.add(String(h.id)));
        const accumulator = new SimulationAccumulator({ before: [], after: [] }, limit);
        for (const h of unique) {
          accumulator.add({
            householdId: h.id,
            before: outcome(h.before, h.suppressedBefore),
            after: outcome(h.after, h.suppressedAfter),
            teamBefore: null,
            teamAfter: null,
          });
        }
        const size = (h: (typeof unique)[number]) => (h.suppressedBefore !== h.suppressedAfter ? 1_000_000 : 0) + Math.abs(h.after - h.before);
        const collator = new Intl.Collator('en', { numeric: true });
        const expected = unique
          .filter((h) => size(h) > 0)
          .sort((a, b) => size(b) - size(a) || (typeof a.id === 'number' ? a.id - (b.id as number) : collator.compare(String(a.id), String(b.id))))
          .slice(0, limit)
          .map((h) => h.id);
        expect(accumulator.result().biggestMovers.map((m) => m.householdId)).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });
});
