/**
 * The diff between two rule sets over the same households: what publishing a candidate would
 * change. Pure: the caller feeds one household at a time (from PostgreSQL, or from a CSV feed
 * in the offline CLI) and reads the result at the end, so memory stays flat however many
 * households pass through — only the biggest movers are kept.
 */
import type { Outcome } from './outcome.js';

export interface HouseholdComparison {
  householdId: number | string;
  before: Outcome;
  after: Outcome;
  /** The team each outcome leads to (a route rule, else the postcode team). */
  teamBefore: string | null;
  teamAfter: string | null;
}

export interface Mover {
  householdId: number | string;
  priorityBefore: number;
  priorityAfter: number;
  suppressedBefore: string | null;
  suppressedAfter: string | null;
  /** Rules that fire with the candidate but not with the active set, and the other way round. */
  rulesAdded: string[];
  rulesRemoved: string[];
}

export interface SimulationResult {
  households: number;
  changes: {
    newlyApproached: number;
    newlySuppressed: number;
    priorityUp: number;
    priorityDown: number;
    prioritySame: number;
    teamChanged: number;
  };
  biggestMovers: Mover[];
  priorityDistribution: { bucket: string; before: number; after: number }[];
  rules: { name: string; firedBefore: number; firedAfter: number }[];
}

/** Priority buckets of the distribution; suppressed households are counted apart. */
export const PRIORITY_BUCKETS: readonly { label: string; min: number; max: number }[] = [
  { label: '< 0', min: -Infinity, max: -1 },
  { label: '0', min: 0, max: 0 },
  { label: '1–24', min: 1, max: 24 },
  { label: '25–49', min: 25, max: 49 },
  { label: '50–99', min: 50, max: 99 },
  { label: '100–199', min: 100, max: 199 },
  { label: '≥ 200', min: 200, max: Infinity },
];
const SUPPRESSED_BUCKET = 'suppressed';

function bucketOf(outcome: Outcome): string {
  if (outcome.suppressed) return SUPPRESSED_BUCKET;
  return PRIORITY_BUCKETS.find((b) => outcome.priority >= b.min && outcome.priority <= b.max)!.label;
}

// Ids in natural order ('hh-9' before 'hh-10'); one collator, made once: a collator per
// comparison costs more than the whole evaluation of a household.
const ID_ORDER = new Intl.Collator('en', { numeric: true });
function compareIds(a: number | string, b: number | string): number {
  return typeof a === 'number' && typeof b === 'number' ? a - b : ID_ORDER.compare(String(a), String(b));
}

/** Movers first by size (largest first), then by household id. */
function moverOrder(a: { size: number; comparison: HouseholdComparison }, b: { size: number; comparison: HouseholdComparison }): number {
  return b.size - a.size || compareIds(a.comparison.householdId, b.comparison.householdId);
}

/** How far a household moved: a change of approach outweighs any change of points. */
function moveSize(c: HouseholdComparison): number {
  const approachChanged = (c.before.suppressed === null) !== (c.after.suppressed === null);
  return (approachChanged ? 1_000_000 : 0) + Math.abs(c.after.priority - c.before.priority);
}

export class SimulationAccumulator {
  private households = 0;
  private readonly changes = { newlyApproached: 0, newlySuppressed: 0, priorityUp: 0, priorityDown: 0, prioritySame: 0, teamChanged: 0 };
  private readonly distribution = new Map<string, { before: number; after: number }>();
  private readonly fired = new Map<string, { firedBefore: number; firedAfter: number }>();
  private movers: { size: number; comparison: HouseholdComparison }[] = [];
  /** The last of the kept movers once the list is full: whoever ranks below it cannot get in. */
  private lastKept: { size: number; comparison: HouseholdComparison } | null = null;

  constructor(
    ruleNames: { before: readonly string[]; after: readonly string[] },
    private readonly moverLimit = 50,
  ) {
    for (const b of [...PRIORITY_BUCKETS.map((x) => x.label), SUPPRESSED_BUCKET]) this.distribution.set(b, { before: 0, after: 0 });
    for (const name of [...ruleNames.before, ...ruleNames.after]) this.fired.set(name, { firedBefore: 0, firedAfter: 0 });
  }

  add(c: HouseholdComparison): void {
    this.households++;
    const wasSuppressed = c.before.suppressed !== null;
    const isSuppressed = c.after.suppressed !== null;
    if (wasSuppressed && !isSuppressed) this.changes.newlyApproached++;
    else if (!wasSuppressed && isSuppressed) this.changes.newlySuppressed++;
    else if (!isSuppressed) {
      if (c.after.priority > c.before.priority) this.changes.priorityUp++;
      else if (c.after.priority < c.before.priority) this.changes.priorityDown++;
      else this.changes.prioritySame++;
      if (c.teamBefore !== c.teamAfter) this.changes.teamChanged++;
    }
    this.distribution.get(bucketOf(c.before))!.before++;
    this.distribution.get(bucketOf(c.after))!.after++;
    for (const rule of c.before.fired) this.counter(rule.name).firedBefore++;
    for (const rule of c.after.fired) this.counter(rule.name).firedAfter++;

    const size = moveSize(c);
    if (size > 0) {
      const mover = { size, comparison: c };
      if (this.lastKept && moverOrder(mover, this.lastKept) > 0) return;
      this.movers.push(mover);
      // Keep the list short: trim to the limit whenever it doubles.
      if (this.movers.length >= this.moverLimit * 2) this.trimMovers();
    }
  }

  private counter(name: string) {
    let counter = this.fired.get(name);
    if (!counter) {
      counter = { firedBefore: 0, firedAfter: 0 };
      this.fired.set(name, counter);
    }
    return counter;
  }

  private trimMovers(): void {
    this.movers.sort(moverOrder);
    this.movers.length = Math.min(this.movers.length, this.moverLimit);
    if (this.movers.length === this.moverLimit) this.lastKept = this.movers[this.moverLimit - 1]!;
  }

  result(): SimulationResult {
    this.trimMovers();
    return {
      households: this.households,
      changes: { ...this.changes },
      biggestMovers: this.movers.map(({ comparison: c }) => {
        const before = new Set(c.before.fired.map((r) => r.name));
        const after = new Set(c.after.fired.map((r) => r.name));
        return {
          householdId: c.householdId,
          priorityBefore: c.before.priority,
          priorityAfter: c.after.priority,
          suppressedBefore: c.before.suppressed?.status ?? null,
          suppressedAfter: c.after.suppressed?.status ?? null,
          rulesAdded: [...after].filter((n) => !before.has(n)),
          rulesRemoved: [...before].filter((n) => !after.has(n)),
        };
      }),
      priorityDistribution: [...this.distribution].map(([bucket, counts]) => ({ bucket, ...counts })),
      rules: [...this.fired].map(([name, counts]) => ({ name, ...counts })),
    };
  }
}
