/**
 * Household facts: the flat record that the rules of a rule set test.
 *
 * `computeHouseholdFacts` turns a snapshot of one household (all its signals and tasks, and
 * the date of today) into facts. It is pure: no clock, no database; the caller passes `today`.
 * `FACT_CATALOGUE` documents every fact (name, type, meaning, example); the rule validator
 * checks rules against it and rules/README.md shows it to the people who write rules.
 *
 * The two groups of signals:
 * - the *window*: signals not attached to a task, or attached to a task that is not closed
 *   (a taskId that points at no known task counts as open). This is what the current or next
 *   outreach task groups, and almost every fact describes it.
 * - *earlier* signals: attached to a closed task. They feed `repeat`, `amountRose`,
 *   `newPartnerType` and `earlierSignalCount`.
 */
import {
  PARTNER_TYPE_CODES,
  TASK_RESULT_CODES,
  type PartnerType,
  type SignalStatus,
  type TaskResult,
} from './codes.js';
import { isIsoDate } from './dates.js';
import { toDayNumber } from './workingDays.js';

// ---------------------------------------------------------------------------------------------
// Input

export interface SignalSnapshot {
  id: number;
  partnerType: PartnerType;
  amountCents: number;
  /** Date the creditor signalled (YYYY-MM-DD). */
  signalDate: string;
  /** Date the arrears began (YYYY-MM-DD), when the creditor knows it. */
  originDate: string | null;
  /** ISO timestamp of intake. */
  receivedAt: string;
  crisis: boolean;
  warmHandover: boolean;
  endOfSupply: boolean;
  /** Children in the household as the creditor reported them; null when it did not. */
  childrenInHousehold: number | null;
  birthDate: string | null;
  status: SignalStatus;
  taskId: number | null;
}

export interface TaskSnapshot {
  id: number;
  status: 'open' | 'claimed' | 'closed';
  result: TaskResult | null;
  assigneeKeyId: string | null;
  /** ISO timestamp. */
  createdAt: string;
  /** ISO timestamp. */
  closedAt: string | null;
}

export interface HouseholdSnapshot {
  householdId: number;
  municipalityCode: string | null;
  /** '1234AB' */
  postcode: string;
  /** All signals ever received at the address. */
  signals: SignalSnapshot[];
  /** All tasks of the household. */
  tasks: TaskSnapshot[];
  /** Today in Europe/Amsterdam, YYYY-MM-DD. */
  today: string;
}

// ---------------------------------------------------------------------------------------------
// Output

/** `health_insurance_cak` → `healthInsuranceCak` */
type Camel<S extends string> = S extends `${infer Head}_${infer Tail}` ? `${Head}${Capitalize<Camel<Tail>>}` : S;
export type PartnerFactPrefix = Camel<PartnerType>;

/** The three facts per partner type: `energyCount`, `energyAmountCents`, `energyMonthsInArrears`, … */
export type PartnerTypeFacts = {
  [P in PartnerFactPrefix as `${P}Count` | `${P}AmountCents` | `${P}MonthsInArrears`]: number;
};

/**
 * The facts of one household. A type alias (not an interface) so that it is assignable to
 * `Record<string, unknown>`, which is what the rule evaluators take.
 */
export type HouseholdFacts = PartnerTypeFacts & {
  signalCount: number;
  totalAmountCents: number;
  totalAmountEuros: number;
  partnerTypeCount: number;
  partnerTypes: PartnerType[];
  maxMonthsInArrears: number;
  multiple: boolean;
  repeat: boolean;
  amountRose: boolean;
  newPartnerType: boolean;
  earlierSignalCount: number;
  crisis: boolean;
  warmHandover: boolean;
  endOfSupply: boolean;
  childrenInHousehold: number | null;
  youngestAge: number | null;
  oldestAge: number | null;
  newestSignalDate: string | null;
  daysSinceOldestSignal: number | null;
  closedTaskCount: number;
  previousResult: TaskResult | null;
  previousAssigneeKeyId: string | null;
  daysSincePreviousTask: number | null;
  knownToDebtHelp: boolean;
  postcodeArea: string;
  municipality: string | null;
};

export type FactName = keyof HouseholdFacts & string;

/** Results of a closed task that mean "this resident is already in debt help". */
export const KNOWN_TO_DEBT_HELP_RESULTS: readonly TaskResult[] = ['already_known_debt_help', 'follow_up_or_referral_financial'];
/** How far back a closed task counts for `knownToDebtHelp`. */
export const KNOWN_TO_DEBT_HELP_MONTHS = 12;
/** How far back before the newest window signal an earlier signal makes a `repeat`. */
export const REPEAT_MONTHS = 6;

// ---------------------------------------------------------------------------------------------
// Catalogue

export type FactType = 'integer' | 'number' | 'boolean' | 'string' | 'date' | 'string[]';

export interface FactDefinition {
  name: FactName;
  type: FactType;
  /** Whether the fact can be null (unknown / not applicable). */
  nullable: boolean;
  meaning: string;
  example: HouseholdFacts[FactName];
  /** For code-valued facts: the allowed codes (the validator warns about other values). */
  codes?: readonly string[];
}

export function partnerFactPrefix(type: PartnerType): PartnerFactPrefix {
  return type.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase()) as PartnerFactPrefix;
}

const GENERAL_FACTS: FactDefinition[] = [
  { name: 'signalCount', type: 'integer', nullable: false, example: 2, meaning: 'Number of signals in the window (not yet grouped in a closed task).' },
  { name: 'totalAmountCents', type: 'integer', nullable: false, example: 134_500, meaning: 'Sum of the amounts of the window signals, in euro cents.' },
  { name: 'totalAmountEuros', type: 'number', nullable: false, example: 1345, meaning: 'totalAmountCents / 100 (for readable rules; prefer cents for exact thresholds).' },
  { name: 'partnerTypeCount', type: 'integer', nullable: false, example: 2, meaning: 'Number of distinct partner types (kinds of creditor) in the window.' },
  { name: 'partnerTypes', type: 'string[]', nullable: false, example: ['energy', 'rent'], codes: PARTNER_TYPE_CODES, meaning: 'The distinct partner types in the window, in code-list order. Test with `contains` / `doesNotContain`.' },
  { name: 'maxMonthsInArrears', type: 'integer', nullable: false, example: 4, meaning: 'Largest `<type>MonthsInArrears` over all partner types.' },
  { name: 'multiple', type: 'boolean', nullable: false, example: true, meaning: 'Two or more window signals with a signal date in the same calendar month ("meervoudig signaal").' },
  { name: 'repeat', type: 'boolean', nullable: false, example: false, meaning: `An earlier signal (already grouped in a closed task) has a signal date in the ${REPEAT_MONTHS} months up to the newest window signal ("herhaalde melding").` },
  { name: 'amountRose', type: 'boolean', nullable: false, example: false, meaning: 'For some partner type, the newest window signal has a higher amount than the newest earlier signal of that partner type. False when no partner type has an earlier signal.' },
  { name: 'newPartnerType', type: 'boolean', nullable: false, example: true, meaning: 'Some partner type in the window never signalled at this address before (no earlier signal of that type).' },
  { name: 'earlierSignalCount', type: 'integer', nullable: false, example: 1, meaning: 'Number of earlier signals (grouped in closed tasks), of any age.' },
  { name: 'crisis', type: 'boolean', nullable: false, example: false, meaning: 'Some window signal is a crisis signal ("crisissignaal": threatened eviction, disconnection, …).' },
  { name: 'warmHandover', type: 'boolean', nullable: false, example: false, meaning: 'Some window signal comes with a warm handover: the creditor has spoken to the resident ("warme overdracht").' },
  { name: 'endOfSupply', type: 'boolean', nullable: false, example: false, meaning: 'Some window signal announces the end of energy or water supply (signalled about 20 working days ahead).' },
  { name: 'childrenInHousehold', type: 'integer', nullable: true, example: 2, meaning: 'Children (under 18) in the household as reported by the newest window signal that reports it (a creditor that knows the household: tenancy, insurance policy); null when no window signal does. Test with `greaterThan` 0 for "a family with children".' },
  { name: 'youngestAge', type: 'integer', nullable: true, example: 23, meaning: 'Age today, in whole years, of the youngest person named on a window signal; null when no window signal has a birth date.' },
  { name: 'oldestAge', type: 'integer', nullable: true, example: 67, meaning: 'Age today, in whole years, of the oldest person named on a window signal; null when unknown.' },
  { name: 'newestSignalDate', type: 'date', nullable: true, example: '2025-03-14', meaning: 'Signal date (YYYY-MM-DD) of the newest window signal; null without window signals. ISO dates compare correctly with lessThan / greaterThan.' },
  { name: 'daysSinceOldestSignal', type: 'integer', nullable: true, example: 12, meaning: 'Calendar days from the signal date of the oldest window signal to today; null without window signals.' },
  { name: 'closedTaskCount', type: 'integer', nullable: false, example: 1, meaning: 'Number of closed tasks of the household (earlier outreach).' },
  { name: 'previousResult', type: 'string', nullable: true, example: 'no_help_needed', codes: TASK_RESULT_CODES, meaning: 'Result code of the most recently closed task; null when there is none.' },
  { name: 'previousAssigneeKeyId', type: 'string', nullable: true, example: 'key_7f3a', meaning: 'Consultant (API key id) of the most recently closed task: one household, one contact person. Null when none.' },
  { name: 'daysSincePreviousTask', type: 'integer', nullable: true, example: 95, meaning: 'Calendar days since the most recently closed task was closed (date in Europe/Amsterdam); null when none.' },
  { name: 'knownToDebtHelp', type: 'boolean', nullable: false, example: false, meaning: `A task closed in the last ${KNOWN_TO_DEBT_HELP_MONTHS} months with result ${KNOWN_TO_DEBT_HELP_RESULTS.join(' or ')}.` },
  { name: 'postcodeArea', type: 'string', nullable: false, example: '1012', meaning: 'The four digits of the postcode.' },
  { name: 'municipality', type: 'string', nullable: true, example: '0363', meaning: 'CBS municipality code of the address; null when unknown.' },
];

const PARTNER_FACTS: FactDefinition[] = PARTNER_TYPE_CODES.flatMap((type): FactDefinition[] => {
  const prefix = partnerFactPrefix(type);
  return [
    { name: `${prefix}Count`, type: 'integer', nullable: false, example: 1, meaning: `Number of window signals of partner type ${type}.` },
    { name: `${prefix}AmountCents`, type: 'integer', nullable: false, example: 45_000, meaning: `Sum of the amounts of the window signals of partner type ${type}, in euro cents.` },
    {
      name: `${prefix}MonthsInArrears`,
      type: 'integer',
      nullable: false,
      example: 3,
      meaning: `Whole months from the oldest origin date ("ontstaansdatum") of the ${type} window signals to today; 0 without such signals or origin dates.`,
    },
  ];
});

/** Every fact, in documentation order: general facts first, then three per partner type. */
export const FACT_CATALOGUE: readonly FactDefinition[] = [...GENERAL_FACTS, ...PARTNER_FACTS];
export const FACT_BY_NAME: ReadonlyMap<string, FactDefinition> = new Map(FACT_CATALOGUE.map((fact) => [fact.name, fact]));

// ---------------------------------------------------------------------------------------------
// Dates

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Year, month and day of a YYYY-MM-DD date; throws a RangeError for anything else. */
function parts(date: string): [number, number, number] {
  if (!isIsoDate(date)) throw new RangeError(`not an existing YYYY-MM-DD date: ${JSON.stringify(date)}`);
  return [Number(date.slice(0, 4)), Number(date.slice(5, 7)), Number(date.slice(8, 10))];
}

function daysInMonth(year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!;
}

/**
 * Whole months from `from` to `to` (0 when `to` is before `from`). A month is complete on the
 * same day of the month, or on the last day of a shorter month: 31 Jan → 28 Feb is one month.
 */
export function wholeMonthsBetween(from: string, to: string): number {
  const [y1, m1, d1] = parts(from);
  const [y2, m2, d2] = parts(to);
  let months = (y2 - y1) * 12 + (m2 - m1);
  if (d2 < Math.min(d1, daysInMonth(y2, m2))) months -= 1;
  return Math.max(0, months);
}

/** `date` plus `months` calendar months, clamped to the end of a shorter month. */
export function addMonths(date: string, months: number): string {
  const [year, month, day] = parts(date);
  const index = year * 12 + (month - 1) + months;
  const y = Math.floor(index / 12);
  const m = (index % 12) + 1;
  const d = Math.min(day, daysInMonth(y, m));
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

const amsterdamDateFormat = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Europe/Amsterdam',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});

/** The calendar date in Europe/Amsterdam of an ISO timestamp (`en-CA` formats as YYYY-MM-DD). */
export function amsterdamDate(timestamp: string): string {
  const ms = Date.parse(timestamp);
  if (Number.isNaN(ms)) throw new RangeError(`not a timestamp: ${JSON.stringify(timestamp)}`);
  return amsterdamDateFormat.format(new Date(ms));
}

// ---------------------------------------------------------------------------------------------
// Computation

/** Newest first: signal date, then intake time, then id (so ties resolve the same way every time). */
function newestSignalFirst(a: SignalSnapshot, b: SignalSnapshot): number {
  if (a.signalDate !== b.signalDate) return a.signalDate < b.signalDate ? 1 : -1;
  if (a.receivedAt === b.receivedAt) return b.id - a.id; // one upload: no need to parse the times
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

const PARTNER_INDEX: ReadonlyMap<PartnerType, number> = new Map(PARTNER_TYPE_CODES.map((type, index) => [type, index]));
const NO_TASKS: ReadonlySet<number> = new Set();

/** Whether the first four characters are digits: then they are the postcode area as they stand. */
function startsWithFourDigits(postcode: string): boolean {
  for (let i = 0; i < 4; i++) {
    const c = postcode.charCodeAt(i);
    if (!(c >= 48 && c <= 57)) return false;
  }
  return true;
}

/**
 * Compute the facts of one household. Pure; `snapshot.today` is the only clock.
 *
 * This runs for every household of every evaluation and simulation, so it is written for speed
 * (test/helpers/factsReference.ts is the plain version it is tested against): tallies in
 * arrays indexed by partner type instead of maps and sets, and the result built as one object
 * literal. That literal matters most: an object assembled key by key from a spread and
 * `Object.assign` has some sixty properties and falls back to a slow dictionary, costing
 * tens of times more to build and to read in every rule.
 */
export function computeHouseholdFacts(snapshot: HouseholdSnapshot): HouseholdFacts {
  const { today } = snapshot;
  const todayNumber = toDayNumber(today); // also fails early on a malformed date

  let closedTaskIds = NO_TASKS;
  const closedTasks: TaskSnapshot[] = [];
  for (const task of snapshot.tasks) if (task.status === 'closed') closedTasks.push(task);
  if (closedTasks.length > 0) closedTaskIds = new Set(closedTasks.map((task) => task.id));

  const inWindow: SignalSnapshot[] = [];
  const earlier: SignalSnapshot[] = [];
  for (const signal of snapshot.signals) {
    if (signal.taskId !== null && closedTaskIds.has(signal.taskId)) earlier.push(signal);
    else inWindow.push(signal);
  }
  if (inWindow.length > 1) inWindow.sort(newestSignalFirst);
  if (earlier.length > 1) earlier.sort(newestSignalFirst);

  // Per partner type: count, amount and the oldest origin date of the window signals.
  const typeCount = PARTNER_TYPE_CODES.length;
  const counts = new Array<number>(typeCount).fill(0);
  const amounts = new Array<number>(typeCount).fill(0);
  const months = new Array<number>(typeCount).fill(0);
  const oldestOrigin = new Array<string | null>(typeCount).fill(null);
  let totalAmountCents = 0;
  let crisis = false;
  let warmHandover = false;
  let endOfSupply = false;
  // inWindow is sorted newest first: the first report is the newest.
  let childrenInHousehold: number | null = null;
  let youngestAge: number | null = null;
  let oldestAge: number | null = null;
  for (const signal of inWindow) {
    const index = PARTNER_INDEX.get(signal.partnerType)!;
    counts[index]! += 1;
    amounts[index]! += signal.amountCents;
    totalAmountCents += signal.amountCents;
    const known = oldestOrigin[index];
    if (signal.originDate !== null && (known === null || signal.originDate < known!)) oldestOrigin[index] = signal.originDate;
    if (signal.crisis) crisis = true;
    if (signal.warmHandover) warmHandover = true;
    if (signal.endOfSupply) endOfSupply = true;
    if (childrenInHousehold === null && signal.childrenInHousehold !== null) childrenInHousehold = signal.childrenInHousehold;
    if (signal.birthDate !== null) {
      const age = Math.floor(wholeMonthsBetween(signal.birthDate, today) / 12);
      if (youngestAge === null || age < youngestAge) youngestAge = age;
      if (oldestAge === null || age > oldestAge) oldestAge = age;
    }
  }
  let maxMonthsInArrears = 0;
  const partnerTypes: PartnerType[] = [];
  for (let index = 0; index < typeCount; index++) {
    const origin = oldestOrigin[index];
    if (origin !== null && origin !== undefined) {
      months[index] = wholeMonthsBetween(origin, today);
      if (months[index]! > maxMonthsInArrears) maxMonthsInArrears = months[index]!;
    }
    if (counts[index]! > 0) partnerTypes.push(PARTNER_TYPE_CODES[index]!);
  }

  // Multiple: two window signals in one calendar month. Sorted by signal date, those are
  // neighbours.
  let multiple = false;
  for (let i = 1; i < inWindow.length && !multiple; i++) {
    multiple = inWindow[i - 1]!.signalDate.slice(0, 7) === inWindow[i]!.signalDate.slice(0, 7);
  }

  // Repeat: an earlier signal in the REPEAT_MONTHS months up to the newest window signal.
  const newest = inWindow[0];
  const oldest = inWindow[inWindow.length - 1];
  let repeat = false;
  if (newest && earlier.length > 0) {
    const from = addMonths(newest.signalDate, -REPEAT_MONTHS);
    repeat = earlier.some((signal) => signal.signalDate >= from && signal.signalDate <= newest.signalDate);
  }

  // Amount rose / new partner type: compare the newest window signal of each type with the
  // newest earlier signal of that type (both lists are sorted newest first).
  let amountRose = false;
  let newPartnerType = false;
  for (const type of partnerTypes) {
    const previous = earlier.find((signal) => signal.partnerType === type);
    if (!previous) {
      newPartnerType = true;
      continue;
    }
    const current = inWindow.find((signal) => signal.partnerType === type);
    if (current && current.amountCents > previous.amountCents) amountRose = true;
  }

  // Earlier outreach.
  if (closedTasks.length > 1) closedTasks.sort(latestClosedFirst);
  const previous = closedTasks[0];
  let knownToDebtHelp = false;
  if (closedTasks.length > 0) {
    const knownSince = addMonths(today, -KNOWN_TO_DEBT_HELP_MONTHS);
    knownToDebtHelp = closedTasks.some(
      (task) =>
        task.result !== null &&
        KNOWN_TO_DEBT_HELP_RESULTS.includes(task.result) &&
        amsterdamDate(task.closedAt ?? task.createdAt) >= knownSince,
    );
  }
  const previousClosedOn = previous ? amsterdamDate(previous.closedAt ?? previous.createdAt) : null;
  const { postcode } = snapshot;

  // One literal with every fact, partner-type facts first, in PARTNER_TYPE_CODES order (the
  // indexes below). The type makes the compiler insist on every fact.
  return {
    energyCount: counts[0]!,
    energyAmountCents: amounts[0]!,
    energyMonthsInArrears: months[0]!,
    rentCount: counts[1]!,
    rentAmountCents: amounts[1]!,
    rentMonthsInArrears: months[1]!,
    mortgageCount: counts[2]!,
    mortgageAmountCents: amounts[2]!,
    mortgageMonthsInArrears: months[2]!,
    healthInsuranceCount: counts[3]!,
    healthInsuranceAmountCents: amounts[3]!,
    healthInsuranceMonthsInArrears: months[3]!,
    healthInsuranceCakCount: counts[4]!,
    healthInsuranceCakAmountCents: amounts[4]!,
    healthInsuranceCakMonthsInArrears: months[4]!,
    waterCount: counts[5]!,
    waterAmountCents: amounts[5]!,
    waterMonthsInArrears: months[5]!,
    studentFinanceCount: counts[6]!,
    studentFinanceAmountCents: amounts[6]!,
    studentFinanceMonthsInArrears: months[6]!,
    taxCount: counts[7]!,
    taxAmountCents: amounts[7]!,
    taxMonthsInArrears: months[7]!,
    cakOwnContributionCount: counts[8]!,
    cakOwnContributionAmountCents: amounts[8]!,
    cakOwnContributionMonthsInArrears: months[8]!,
    allowancesCount: counts[9]!,
    allowancesAmountCents: amounts[9]!,
    allowancesMonthsInArrears: months[9]!,
    otherCount: counts[10]!,
    otherAmountCents: amounts[10]!,
    otherMonthsInArrears: months[10]!,
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
    crisis,
    warmHandover,
    endOfSupply,
    childrenInHousehold,
    youngestAge,
    oldestAge,
    newestSignalDate: newest ? newest.signalDate : null,
    daysSinceOldestSignal: oldest ? todayNumber - toDayNumber(oldest.signalDate) : null,
    closedTaskCount: closedTasks.length,
    previousResult: previous ? previous.result : null,
    previousAssigneeKeyId: previous ? previous.assigneeKeyId : null,
    daysSincePreviousTask: previousClosedOn !== null ? todayNumber - toDayNumber(previousClosedOn) : null,
    knownToDebtHelp,
    postcodeArea: startsWithFourDigits(postcode) ? postcode.slice(0, 4) : postcode.replace(/\s+/g, '').slice(0, 4),
    municipality: snapshot.municipalityCode,
  };
}
