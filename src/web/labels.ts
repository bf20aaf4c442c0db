/**
 * Dutch words for the pages. Codes that DDAS defines (partner type, signal status, result,
 * contact channel, day part) are shown with their DDAS value, which is Dutch already: the
 * consultant sees the same words the CBS report uses. Everything else is said here, once.
 */
import type { Role } from '../domain/apiKey.js';
import {
  CONTACT_CHANNELS,
  DAY_PARTS,
  PARTNER_TYPES,
  PARTNER_TYPE_CODES,
  SIGNAL_STATUSES,
  TASK_RESULTS,
  type ContactChannel,
  type DayPart,
  type PartnerType,
  type SignalStatus,
  type TaskResult,
} from '../domain/codes.js';
import { partnerFactPrefix } from '../domain/facts.js';

export const ROLE_LABELS: Record<Role, string> = {
  integrator: 'Aanleverpartij',
  consultant: 'Consulent',
  coordinator: 'Coördinator',
  admin: 'Beheerder',
};

export const TASK_STATUS_LABELS: Record<'open' | 'claimed' | 'closed', string> = {
  open: 'Open',
  claimed: 'In behandeling',
  closed: 'Afgesloten',
};

const lookup = <K extends string>(map: Record<K, string>) => (code: string | null | undefined, fallback = '—'): string =>
  code == null ? fallback : (map[code as K] ?? code);

export const partnerTypeLabel = lookup<PartnerType>(PARTNER_TYPES);
export const signalStatusLabel = lookup<SignalStatus>(SIGNAL_STATUSES);
export const resultLabel = lookup<TaskResult>(TASK_RESULTS);
export const channelLabel = lookup<ContactChannel>(CONTACT_CHANNELS);
export const dayPartLabel = lookup<DayPart>(DAY_PARTS);

const euro = new Intl.NumberFormat('nl-NL', { style: 'currency', currency: 'EUR' });
const whole = new Intl.NumberFormat('nl-NL', { maximumFractionDigits: 0 });
const oneDecimal = new Intl.NumberFormat('nl-NL', { maximumFractionDigits: 1 });
const percent = new Intl.NumberFormat('nl-NL', { style: 'percent', maximumFractionDigits: 0 });
// Calendar dates are stored as YYYY-MM-DD: formatted in UTC so they never shift a day.
const dateFormat = new Intl.DateTimeFormat('nl-NL', { timeZone: 'UTC', day: 'numeric', month: 'short', year: 'numeric' });
const monthFormat = new Intl.DateTimeFormat('nl-NL', { timeZone: 'UTC', month: 'short', year: 'numeric' });
const momentFormat = new Intl.DateTimeFormat('nl-NL', { timeZone: 'Europe/Amsterdam', dateStyle: 'medium', timeStyle: 'short' });

export const formatEuros = (cents: number): string => euro.format(cents / 100);
export const formatNumber = (n: number): string => whole.format(n);
export const formatDecimal = (n: number | null): string => (n === null ? '—' : oneDecimal.format(n));
export const formatPercent = (rate: number | null): string => (rate === null ? '—' : percent.format(rate));

export function formatDate(date: string | null | undefined): string {
  if (!date) return '—';
  const d = new Date(`${date.slice(0, 10)}T00:00:00Z`);
  return Number.isNaN(d.getTime()) ? date : dateFormat.format(d);
}

/** 'YYYY-MM' as "mrt 2026". */
export function formatMonth(month: string): string {
  const d = new Date(`${month}-01T00:00:00Z`);
  return Number.isNaN(d.getTime()) ? month : monthFormat.format(d);
}

export function formatMoment(at: string | Date | null | undefined): string {
  if (!at) return '—';
  const d = typeof at === 'string' ? new Date(at) : at;
  return Number.isNaN(d.getTime()) ? String(at) : momentFormat.format(d);
}

const GENERAL_FACT_LABELS: Record<string, string> = {
  signalCount: 'aantal signalen',
  totalAmountCents: 'totaalbedrag',
  totalAmountEuros: 'totaalbedrag (euro)',
  partnerTypeCount: 'aantal soorten schuldeisers',
  partnerTypes: 'soorten schuldeisers',
  maxMonthsInArrears: 'langste achterstand (maanden)',
  multiple: 'meerdere signalen in één maand',
  repeat: 'herhaalde melding',
  amountRose: 'bedrag gestegen sinds vorige melding',
  newPartnerType: 'nieuwe soort schuldeiser',
  earlierSignalCount: 'aantal eerdere signalen',
  crisis: 'crisissignaal',
  warmHandover: 'warme overdracht',
  endOfSupply: 'einde levering',
  youngestAge: 'leeftijd jongste bewoner',
  oldestAge: 'leeftijd oudste bewoner',
  newestSignalDate: 'datum nieuwste signaal',
  daysSinceOldestSignal: 'dagen sinds oudste signaal',
  closedTaskCount: 'aantal eerdere afgesloten taken',
  previousResult: 'vorig resultaat',
  previousAssigneeKeyId: 'vorige consulent',
  daysSincePreviousTask: 'dagen sinds vorige taak',
  knownToDebtHelp: 'al bekend bij schuldhulpverlening',
  postcodeArea: 'postcodegebied',
  municipality: 'gemeente',
};

const PARTNER_FACT_LABELS = new Map<string, { what: string; type: PartnerType }>(
  PARTNER_TYPE_CODES.flatMap((type) => {
    const prefix = partnerFactPrefix(type);
    return [
      [`${prefix}Count`, { what: 'aantal signalen', type }],
      [`${prefix}AmountCents`, { what: 'bedrag', type }],
      [`${prefix}MonthsInArrears`, { what: 'maanden achterstand', type }],
    ] as const;
  }),
);

/** A fact of the catalogue in plain Dutch ("bedrag Huur"); unknown names as they are. */
export function factLabel(name: string): string {
  const general = GENERAL_FACT_LABELS[name];
  if (general) return general;
  const partner = PARTNER_FACT_LABELS.get(name);
  return partner ? `${partner.what} ${partnerTypeLabel(partner.type)}` : name;
}

/** A fact value in plain Dutch: amounts in euros, booleans as ja/nee, codes as their label. */
export function factValue(name: string, value: unknown): string {
  if (value === null || value === undefined) return 'onbekend';
  if (typeof value === 'boolean') return value ? 'ja' : 'nee';
  if (typeof value === 'number' && name.endsWith('AmountCents')) return formatEuros(value);
  if (name === 'partnerTypes' && Array.isArray(value)) return value.map((v) => partnerTypeLabel(String(v))).join(', ') || 'geen';
  if (name === 'previousResult' && typeof value === 'string') return resultLabel(value);
  if (name === 'newestSignalDate' && typeof value === 'string') return formatDate(value);
  if (typeof value === 'number') return formatDecimal(value);
  if (Array.isArray(value)) return value.map(String).join(', ');
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/**
 * Messages of the services and the task state machine in Dutch, by refusal code (see
 * domain/taskStateMachine.ts REFUSALS). Codes the pages do not know keep the service's text.
 */
export const REFUSAL_MESSAGES: Record<string, string> = {
  task_closed: 'Deze taak is al afgesloten.',
  claimed_by_other: 'Een collega heeft deze taak al opgepakt.',
  assigned_to_other: 'Deze taak is aan een collega toegewezen.',
  not_claimed_by_you: 'Pak de taak eerst op: alleen wie de taak heeft opgepakt kan dit doen.',
  not_assigned: 'De taak is niet opgepakt of toegewezen, er valt niets terug te geven.',
  attempt_in_future: 'Een contactpoging kan niet in de toekomst liggen.',
  attempt_before_signal: 'Een contactpoging kan niet vóór het eerste signaal van de taak liggen.',
  attempt_limit: 'De taak heeft het maximale aantal contactpogingen.',
  note_limit: 'De taak heeft het maximale aantal notities.',
  too_few_attempts: '"Definitief geen contact" vraagt meer contactpogingen, via meer kanalen.',
  contact_was_made: '"Definitief geen contact" kan niet: een contactpoging heeft de inwoner bereikt. Kies "Geen reactie na eerder contact".',
  result_needs_contact: 'Dit resultaat vraagt een contactpoging die de inwoner heeft bereikt.',
};

/**
 * The intake's row errors are English sentences from the signal schema; the common ones are
 * said in Dutch here, anything else is shown as it came.
 */
const INTAKE_PATTERNS: [RegExp, (m: RegExpExecArray) => string][] = [
  [/^postcode must be a Dutch postcode like 1234AB$/, () => 'geen Nederlandse postcode (zoals 1234AB)'],
  [/^(\w+) must be an ISO date \(YYYY-MM-DD\)$/, (m) => `${m[1]} is geen datum (JJJJ-MM-DD)`],
  [/^(\w+) lies in the future$/, (m) => `${m[1]} ligt in de toekomst`],
  [/^originDate lies after signalDate$/, () => 'originDate ligt na signalDate'],
  [/^BSN must be 9 digits and pass the eleven-test$/, () => 'BSN moet 9 cijfers zijn en de elfproef doorstaan'],
  [/^the row has (\d+) fields, the header (\d+)$/, (m) => `de regel heeft ${m[1]} velden, de kopregel ${m[2]}`],
  [/^not valid UTF-8: save the file as UTF-8$/, () => 'geen geldige UTF-8: sla het bestand op als UTF-8'],
  [/^this postcode lies outside municipality (\d{4})/, (m) => `deze postcode ligt buiten gemeente ${m[1]}, waarvoor deze sleutel aanlevert`],
  [/^this API key may send signals of partner type (.+) only$/, (m) => `deze sleutel mag alleen signalen van soort ${m[1]} aanleveren`],
  [/^is required$|^Required$/i, () => 'verplicht'],
  [/^unknown column '(.*)'$/, (m) => `onbekende kolom '${m[1]}'`],
  [/^column '(.*)' appears twice$/, (m) => `kolom '${m[1]}' staat er twee keer in`],
  [/^required column '(.*)' is missing$/, (m) => `verplichte kolom '${m[1]}' ontbreekt`],
];

export function intakeDetail(detail: string): string {
  for (const [pattern, say] of INTAKE_PATTERNS) {
    const match = pattern.exec(detail);
    if (match) return say(match);
  }
  return detail;
}
