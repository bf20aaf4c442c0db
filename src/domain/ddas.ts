/**
 * The DDAS v1.2 delivery ("Uitwisselmodel", ../shared/ddas/v1.2/json_schema_Uitwisselmodel.json)
 * as pure functions: vroegsein's rows in, the national shapes out, and the page plan of the
 * paged pull operation (DDAS-VS.yaml). No I/O and no clock: the service passes everything in.
 *
 * Choices the schema leaves open, made here once:
 * - `bedrag` is whole euros; cents are rounded half up (€75.49 → 75, €75.50 → 76). Amounts are
 *   never negative (the signals table refuses it), so half up is also half away from zero.
 * - `client` carries only the BSN when the signal has one (the schema then allows no other
 *   field); otherwise the household's postcode, house number and, when present, house letter
 *   and addition joined as `huisnummertoevoeging` ("A", "2", "A-2"). Never names, birth dates,
 *   gender or contact details: CBS does not need them for its statistics.
 * - A vroegsignaal's `ID` is vroegsein's own signal id: stable, unique, and free of the creditor's
 *   customer numbers that an external id may contain.
 * - The matching period of a case runs from the day (Europe/Amsterdam) its first signal was
 *   received to the day its last signal was received: the span over which vroegsein matched
 *   signals into it. `matchingsdatum` is the day the case was created by matching.
 * - `datumOpgepakt` is the date of the first contact attempt.
 */
import {
  CONTACT_CHANNELS,
  DAY_PARTS,
  PARTNER_TYPES,
  SIGNAL_STATUSES,
  TASK_RESULTS,
  type ContactChannel,
  type DayPart,
  type PartnerType,
  type SignalStatus,
  type TaskResult,
} from './codes.js';

// ---------------------------------------------------------------------------------------------
// The national shapes (field names exactly as in the schema)

export type DdasClient =
  | { burgerservicenummer: string }
  | { postcode: string; huisnummer: string; huisnummertoevoeging?: string };

export interface DdasVroegsignaal {
  ID: string;
  crisissignaal: boolean;
  warmeOverdracht: boolean;
  bedrag: number;
  ontstaansdatum?: string;
  signaaldatum: string;
  status: (typeof SIGNAL_STATUSES)[SignalStatus];
  signaalpartner: { type: (typeof PARTNER_TYPES)[PartnerType] };
  client: DdasClient;
}

export interface DdasContactpoging {
  soort: (typeof CONTACT_CHANNELS)[ContactChannel];
  bereikt: boolean;
  datum: string;
  dagdeel?: (typeof DAY_PARTS)[DayPart];
}

export interface DdasVroegsignaalzaak {
  resultaat?: (typeof TASK_RESULTS)[TaskResult];
  matchingsdatum: string;
  startdatumMatchingperiode: string;
  einddatumMatchingperiode: string;
  datumOpgepakt?: string;
  vroegsignalen?: { ID: string }[];
  contactpogingen: DdasContactpoging[];
}

export interface DdasAanleverendeOrganisatie {
  naam: string;
  'kvk-nummer'?: string;
}

export interface DdasLevering {
  teller: number;
  gemeentecode: string;
  aanleverendeOrganisatie: DdasAanleverendeOrganisatie;
  vroegsignalen: DdasVroegsignaal[];
  vroegsignaalzaken: DdasVroegsignaalzaak[];
}

export interface DdasUitwisselmodel {
  startdatumLevering: string;
  einddatumLevering: string;
  aanleverdatumEnTijd: string;
  codeGegevensleverancier: string;
  leveringen?: DdasLevering[];
}

/** DDAS-VS `Paginering`: every field is required once the object is present. */
export interface DdasPaginering {
  pageSize: number;
  currentPage: number;
  totalPages: number;
  totalRecords: number;
}

// ---------------------------------------------------------------------------------------------
// vroegsein's side

export interface SignalExportRow {
  id: number;
  crisis: boolean;
  warmHandover: boolean;
  amountCents: number;
  originDate: string | null;
  signalDate: string;
  status: SignalStatus;
  partnerType: PartnerType;
  bsn: string | null;
  postcode: string;
  houseNumber: number;
  houseLetter: string | null;
  houseNumberAddition: string | null;
}

export interface AttemptExportRow {
  channel: ContactChannel;
  reached: boolean;
  date: string;
  dayPart: DayPart | null;
}

export interface TaskExportRow {
  /** Closed tasks only; open tasks have no result yet. */
  result: TaskResult | null;
  matchedOn: string;
  /** Day (Europe/Amsterdam) the first and the last of its signals were received; null without signals. */
  firstSignalReceived: string | null;
  lastSignalReceived: string | null;
  /** The stored pick-up date; the first attempt's date is used when it is missing. */
  pickedUpDate: string | null;
  signalIds: number[];
  /** In date order. */
  attempts: AttemptExportRow[];
}

/** Whole euros from cents, rounded half up (the schema's `bedrag` is an integer). */
export function eurosFromCents(cents: number): number {
  if (!Number.isSafeInteger(cents) || cents < 0) throw new RangeError(`not an amount in cents: ${cents}`);
  return Math.floor((cents + 50) / 100);
}

/** House letter and addition as the one `huisnummertoevoeging` DDAS has: "A", "2" or "A-2". */
export function houseNumberAddition(letter: string | null, addition: string | null): string | null {
  const parts = [letter, addition].map((part) => (part ?? '').trim()).filter((part) => part !== '');
  return parts.length > 0 ? parts.join('-') : null;
}

/**
 * The client of a signal: the BSN alone when known, otherwise the address. A BSN that is not
 * exactly nine characters (the schema's rule) is not delivered; the address is used instead.
 */
export function toDdasClient(row: Pick<SignalExportRow, 'bsn' | 'postcode' | 'houseNumber' | 'houseLetter' | 'houseNumberAddition'>): DdasClient {
  if (row.bsn !== null && row.bsn.length === 9) return { burgerservicenummer: row.bsn };
  const addition = houseNumberAddition(row.houseLetter, row.houseNumberAddition);
  return { postcode: row.postcode, huisnummer: String(row.houseNumber), ...(addition !== null ? { huisnummertoevoeging: addition } : {}) };
}

export function toVroegsignaal(row: SignalExportRow): DdasVroegsignaal {
  return {
    ID: String(row.id),
    crisissignaal: row.crisis,
    warmeOverdracht: row.warmHandover,
    bedrag: eurosFromCents(row.amountCents),
    ...(row.originDate !== null ? { ontstaansdatum: row.originDate } : {}),
    signaaldatum: row.signalDate,
    status: SIGNAL_STATUSES[row.status],
    signaalpartner: { type: PARTNER_TYPES[row.partnerType] },
    client: toDdasClient(row),
  };
}

export function toContactpoging(row: AttemptExportRow): DdasContactpoging {
  return {
    soort: CONTACT_CHANNELS[row.channel],
    bereikt: row.reached,
    datum: row.date,
    ...(row.dayPart !== null ? { dagdeel: DAY_PARTS[row.dayPart] } : {}),
  };
}

export function toVroegsignaalzaak(row: TaskExportRow): DdasVroegsignaalzaak {
  const pickedUp = row.pickedUpDate ?? row.attempts[0]?.date ?? null;
  // A case always groups signals; should one have none, the schema's minItems forbids an empty
  // list, so the property is left out and the matching period collapses to the matching date.
  const signalIds = [...new Set(row.signalIds)].sort((a, b) => a - b);
  return {
    ...(row.result !== null ? { resultaat: TASK_RESULTS[row.result] } : {}),
    matchingsdatum: row.matchedOn,
    startdatumMatchingperiode: row.firstSignalReceived ?? row.matchedOn,
    einddatumMatchingperiode: row.lastSignalReceived ?? row.matchedOn,
    ...(pickedUp !== null ? { datumOpgepakt: pickedUp } : {}),
    ...(signalIds.length > 0 ? { vroegsignalen: signalIds.map((id) => ({ ID: String(id) })) } : {}),
    contactpogingen: row.attempts.map(toContactpoging),
  };
}

/** `YYYY-MM-DDTHH:MM:SSZ`, the schema's `datum-tijd` as its description writes it (no fraction). */
export function deliveryTimestamp(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export interface OrganisationSettings {
  /** DDAS_ORGANISATION_NAME; the municipality delivers itself when it is not configured. */
  name: string | undefined;
  kvk: string | undefined;
}

export function aanleverendeOrganisatie(settings: OrganisationSettings, municipalityName: string): DdasAanleverendeOrganisatie {
  const name = settings.name?.trim() || municipalityName;
  const kvk = settings.kvk?.trim();
  return { naam: name, ...(kvk ? { 'kvk-nummer': kvk } : {}) };
}

// ---------------------------------------------------------------------------------------------
// Paging

/** What one municipality has to deliver for the period. */
export interface RecordCounts {
  municipality: string;
  signals: number;
  cases: number;
}

export interface Range {
  offset: number;
  limit: number;
}

/** The part of one municipality's records that falls on a page. */
export interface PageSlice {
  municipality: string;
  /** The levering's `teller`: its place among the municipalities of the delivery, the same on every page. */
  teller: number;
  signals: Range;
  cases: Range;
}

export interface PagePlan {
  totalRecords: number;
  totalPages: number;
  slices: PageSlice[];
}

/**
 * Which records go on `page`. The records of a delivery are numbered in one sequence: the
 * municipalities in the given order, per municipality first its signals, then its cases. A page
 * is `pageSize` consecutive records; its delivery holds a levering for every municipality with
 * records on it. A municipality without any record in the period is delivered as an empty
 * levering on page 1, so that "nothing to report" is reported too. There is always at least one
 * page (DDAS-VS: `totalPages` ≥ 1); asking for a page past the last is the caller's error.
 */
export function planPage(counts: readonly RecordCounts[], page: number, pageSize: number): PagePlan {
  if (!Number.isInteger(page) || page < 1) throw new RangeError(`page must be a positive integer, got ${page}`);
  if (!Number.isInteger(pageSize) || pageSize < 1) throw new RangeError(`pageSize must be a positive integer, got ${pageSize}`);
  const totalRecords = counts.reduce((sum, c) => sum + c.signals + c.cases, 0);
  const totalPages = Math.max(1, Math.ceil(totalRecords / pageSize));
  const pageStart = (page - 1) * pageSize;
  const pageEnd = pageStart + pageSize;
  const slices: PageSlice[] = [];
  let start = 0;
  counts.forEach((c, index) => {
    const signalsEnd = start + c.signals;
    const casesEnd = signalsEnd + c.cases;
    const overlap = (from: number, to: number): Range => {
      const lo = Math.max(from, pageStart);
      const hi = Math.min(to, pageEnd);
      return hi > lo ? { offset: lo - from, limit: hi - lo } : { offset: 0, limit: 0 };
    };
    const signals = overlap(start, signalsEnd);
    const cases = overlap(signalsEnd, casesEnd);
    const empty = c.signals + c.cases === 0;
    if (signals.limit > 0 || cases.limit > 0 || (empty && page === 1)) {
      slices.push({ municipality: c.municipality, teller: index + 1, signals, cases });
    }
    start = casesEnd;
  });
  return { totalRecords, totalPages, slices };
}
