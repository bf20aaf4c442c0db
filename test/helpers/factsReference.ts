/**
 * The straightforward computation of household facts that src/domain/facts.ts replaced with a
 * faster one: kept as the oracle of a differential property test (test/unit/facts.test.ts).
 * Written for clarity, not speed; never used by the application.
 */
import { PARTNER_TYPE_CODES, type PartnerType } from '../../src/domain/codes.js';
import {
  KNOWN_TO_DEBT_HELP_MONTHS,
  KNOWN_TO_DEBT_HELP_RESULTS,
  REPEAT_MONTHS,
  addMonths,
  amsterdamDate,
  partnerFactPrefix,
  wholeMonthsBetween,
  type HouseholdFacts,
  type HouseholdSnapshot,
  type PartnerTypeFacts,
  type SignalSnapshot,
  type TaskSnapshot,
} from '../../src/domain/facts.js';
import { daysBetween, toDayNumber } from '../../src/domain/workingDays.js';

/** Newest first: signal date, then intake time, then id (so ties resolve the same way every time). */
function newestSignalFirst(a: SignalSnapshot, b: SignalSnapshot): number {
  if (a.signalDate !== b.signalDate) return a.signalDate < b.signalDate ? 1 : -1;
  const received = Date.parse(b.receivedAt) - Date.parse(a.receivedAt);
  if (received !== 0 && !Number.isNaN(received)) return received;
  return b.id - a.id;
}

/** Most recently closed first: closing time (creation time when missing), then id. */
function latestClosedFirst(a: TaskSnapshot, b: TaskSnapshot): number {
  const time = Date.parse(b.closedAt ?? b.createdAt) - Date.parse(a.closedAt ?? a.createdAt);
  if (time !== 0 && !Number.isNaN(time)) return time;
  return b.id - a.id;
}

const PARTNER_KEYS = new Map(
  PARTNER_TYPE_CODES.map((type) => {
    const prefix = partnerFactPrefix(type);
    return [type, { count: `${prefix}Count`, amount: `${prefix}AmountCents`, months: `${prefix}MonthsInArrears` }] as const;
  }),
);

const EMPTY_PARTNER_FACTS: Readonly<Record<string, number>> = (() => {
  const facts: Record<string, number> = {};
  for (const keys of PARTNER_KEYS.values()) {
    facts[keys.count] = 0;
    facts[keys.amount] = 0;
    facts[keys.months] = 0;
  }
  return facts;
})();

/** The facts of one household, computed the plain way. */
export function referenceHouseholdFacts(snapshot: HouseholdSnapshot): HouseholdFacts {
  const { today } = snapshot;
  toDayNumber(today); // fail early on a malformed date

  const closedTaskIds = new Set(snapshot.tasks.filter((task) => task.status === 'closed').map((task) => task.id));
  const inWindow: SignalSnapshot[] = [];
  const earlier: SignalSnapshot[] = [];
  for (const signal of snapshot.signals) {
    if (signal.taskId !== null && closedTaskIds.has(signal.taskId)) earlier.push(signal);
    else inWindow.push(signal);
  }
  inWindow.sort(newestSignalFirst);
  earlier.sort(newestSignalFirst);

  // Per partner type: count, amount, months in arrears.
  const partner: Record<string, number> = { ...EMPTY_PARTNER_FACTS };
  const oldestOrigin = new Map<PartnerType, string>();
  for (const signal of inWindow) {
    const keys = PARTNER_KEYS.get(signal.partnerType)!;
    partner[keys.count] = (partner[keys.count] ?? 0) + 1;
    partner[keys.amount] = (partner[keys.amount] ?? 0) + signal.amountCents;
    const known = oldestOrigin.get(signal.partnerType);
    if (signal.originDate !== null && (known === undefined || signal.originDate < known)) {
      oldestOrigin.set(signal.partnerType, signal.originDate);
    }
  }
  let maxMonthsInArrears = 0;
  for (const [type, origin] of oldestOrigin) {
    const months = wholeMonthsBetween(origin, today);
    partner[PARTNER_KEYS.get(type)!.months] = months;
    maxMonthsInArrears = Math.max(maxMonthsInArrears, months);
  }

  const windowTypes = new Set(inWindow.map((signal) => signal.partnerType));
  const partnerTypes = PARTNER_TYPE_CODES.filter((type) => windowTypes.has(type));
  const totalAmountCents = inWindow.reduce((sum, signal) => sum + signal.amountCents, 0);

  // Multiple: two window signals in one calendar month.
  const months = new Set<string>();
  let multiple = false;
  for (const signal of inWindow) {
    const month = signal.signalDate.slice(0, 7);
    if (months.has(month)) multiple = true;
    months.add(month);
  }

  // Repeat: an earlier signal in the REPEAT_MONTHS months up to the newest window signal.
  const newest = inWindow[0];
  const oldest = inWindow[inWindow.length - 1];
  let repeat = false;
  if (newest) {
    const from = addMonths(newest.signalDate, -REPEAT_MONTHS);
    repeat = earlier.some((signal) => signal.signalDate >= from && signal.signalDate <= newest.signalDate);
  }

  // Amount rose / new partner type: compare the newest window signal of each type with the
  // newest earlier signal of that type (both lists are sorted newest first).
  let amountRose = false;
  let newPartnerType = false;
  for (const type of partnerTypes) {
    const current = inWindow.find((signal) => signal.partnerType === type);
    const previous = earlier.find((signal) => signal.partnerType === type);
    if (!previous) newPartnerType = true;
    else if (current && current.amountCents > previous.amountCents) amountRose = true;
  }

  // The newest window signal that reports the household's children (the list is newest first).
  const childrenInHousehold = inWindow.find((signal) => signal.childrenInHousehold !== null)?.childrenInHousehold ?? null;

  const ages = inWindow
    .filter((signal) => signal.birthDate !== null)
    .map((signal) => Math.floor(wholeMonthsBetween(signal.birthDate as string, today) / 12));

  // Earlier outreach.
  const closedTasks = snapshot.tasks.filter((task) => task.status === 'closed').sort(latestClosedFirst);
  const previous = closedTasks[0];
  const previousClosedOn = previous ? amsterdamDate(previous.closedAt ?? previous.createdAt) : null;
  const knownSince = addMonths(today, -KNOWN_TO_DEBT_HELP_MONTHS);
  const knownToDebtHelp = closedTasks.some(
    (task) =>
      task.result !== null &&
      KNOWN_TO_DEBT_HELP_RESULTS.includes(task.result) &&
      amsterdamDate(task.closedAt ?? task.createdAt) >= knownSince,
  );

  return Object.assign(partner as PartnerTypeFacts, {
    signalCount: inWindow.length,
    totalAmountCents,
    totalAmountEuros: totalAmountCents / 100,
    partnerTypeCount: partnerTypes.length,
    partnerTypes,
    maxMonthsInArrears,
    multiple,
    repeat,
    amountRose,
    newPartnerType,
    earlierSignalCount: earlier.length,
    crisis: inWindow.some((signal) => signal.crisis),
    warmHandover: inWindow.some((signal) => signal.warmHandover),
    endOfSupply: inWindow.some((signal) => signal.endOfSupply),
    childrenInHousehold,
    youngestAge: ages.length > 0 ? Math.min(...ages) : null,
    oldestAge: ages.length > 0 ? Math.max(...ages) : null,
    newestSignalDate: newest ? newest.signalDate : null,
    daysSinceOldestSignal: oldest ? daysBetween(oldest.signalDate, today) : null,
    closedTaskCount: closedTasks.length,
    previousResult: previous ? previous.result : null,
    previousAssigneeKeyId: previous ? previous.assigneeKeyId : null,
    daysSincePreviousTask: previousClosedOn !== null ? daysBetween(previousClosedOn, today) : null,
    knownToDebtHelp,
    postcodeArea: snapshot.postcode.replace(/\s+/g, '').slice(0, 4),
    municipality: snapshot.municipalityCode,
  });
}
