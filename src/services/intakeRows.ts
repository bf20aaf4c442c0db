import type { SignalRow } from '../db/signals.js';
import { addressKey, postcodeArea } from '../domain/address.js';
import { PARTNER_TYPE_CODES, type PartnerType } from '../domain/codes.js';
import { compileCsvFastPath } from '../domain/signalCsvFastPath.js';
import { compileCsvRow, pointerToCsvColumn, validateSignalItem, type FieldError, type SignalItem } from '../domain/signal.js';

/**
 * The pure part of intake: one item or CSV row in, a storable row or its errors out; the same
 * rules for the JSON and the CSV path. No I/O here.
 */

/** What an API key may send. The feed and the CLI have no key and no such limits. */
export interface IntakeScope {
  /** null: every partner type. */
  partnerTypes: readonly PartnerType[] | null;
  /** A key bound to one municipality may not send signals for addresses another municipality serves. */
  municipality: string | null;
}

export const UNLIMITED_SCOPE: IntakeScope = { partnerTypes: null, municipality: null };

export type CheckedItem =
  | { ok: true; row: SignalRow; key: string }
  | { ok: false; errors: FieldError[]; partnerType: string };

const KNOWN_PARTNER_TYPES = new Set<string>(PARTNER_TYPE_CODES);

/** The partner type for the metrics label of a rejected item: a known code or 'unknown'. */
function partnerTypeLabel(input: unknown): string {
  const value = typeof input === 'object' && input !== null ? (input as { partnerType?: unknown }).partnerType : undefined;
  return typeof value === 'string' && KNOWN_PARTNER_TYPES.has(value) ? value : 'unknown';
}

/**
 * Same partner (type + name) and external id: the identity of a signal, and of its duplicates.
 * JSON, not a separator: no character an integrator may put in an id can make two identities meet.
 */
export function signalIdentity(row: Pick<SignalRow, 'partnerType' | 'partnerName' | 'externalId'>): string {
  return JSON.stringify([row.partnerType, row.partnerName, row.externalId]);
}

export function toSignalRow(item: SignalItem, municipality: string | null): SignalRow {
  const { person, address, contact } = item;
  return {
    addressKey: addressKey(address),
    municipality,
    postcode: address.postcode,
    houseNumber: address.houseNumber,
    houseLetter: address.houseLetter ?? null,
    houseNumberAddition: address.houseNumberAddition ?? null,
    street: address.street ?? null,
    city: address.city ?? null,
    partnerType: item.partnerType,
    partnerName: item.partnerName ?? '',
    externalId: item.externalId,
    signalDate: item.signalDate,
    originDate: item.originDate ?? null,
    amountCents: item.amountCents,
    crisis: item.crisis ?? false,
    warmHandover: item.warmHandover ?? false,
    endOfSupply: item.endOfSupply ?? false,
    childrenInHousehold: item.childrenInHousehold ?? null,
    bsn: person.bsn ?? null,
    initials: person.initials ?? null,
    prefix: person.prefix ?? null,
    surname: person.surname ?? null,
    birthDate: person.birthDate ?? null,
    gender: person.gender ?? null,
    phone: contact?.phone ?? null,
    email: contact?.email ?? null,
  };
}

/**
 * Validates one item against the schema and the key's scope, and finds its municipality by
 * PC4. Pointers are relative to the item ('/address/postcode').
 */
export function checkItem(input: unknown, scope: IntakeScope, areas: ReadonlyMap<string, string>): CheckedItem {
  const result = validateSignalItem(input);
  if (!result.ok) return { ok: false, errors: result.errors, partnerType: partnerTypeLabel(input) };
  return checkScope(result.value, scope, areas);
}

/** A valid item against the key's scope, with its municipality found by PC4. */
function checkScope(item: SignalItem, scope: IntakeScope, areas: ReadonlyMap<string, string>): CheckedItem {
  if (scope.partnerTypes && !scope.partnerTypes.includes(item.partnerType)) {
    return {
      ok: false,
      errors: [{ pointer: '/partnerType', detail: `this API key may send signals of partner type ${scope.partnerTypes.join(', ')} only` }],
      partnerType: item.partnerType,
    };
  }
  const municipality = areas.get(postcodeArea(item.address.postcode)) ?? null;
  if (scope.municipality && municipality && municipality !== scope.municipality) {
    return {
      ok: false,
      errors: [{ pointer: '/address/postcode', detail: `this postcode lies outside municipality ${scope.municipality}, for which this API key sends signals` }],
      partnerType: item.partnerType,
    };
  }
  const row = toSignalRow(item, municipality);
  return { ok: true, row, key: signalIdentity(row) };
}

/** A JSON item's errors, with pointers into the request body ('/signals/17/address/postcode'). */
export function jsonErrors(index: number, errors: readonly FieldError[]): { pointer: string; detail: string }[] {
  return errors.map((e) => ({ pointer: `/signals/${index}${e.pointer}`, detail: e.detail }));
}

/** A CSV row's errors by column; column null when the error concerns the whole row. */
export type CsvFieldError = { column: string | null; detail: string };

export function csvErrors(errors: readonly FieldError[]): CsvFieldError[] {
  return errors.map((e) => ({ column: pointerToCsvColumn(e.pointer) || null, detail: e.detail }));
}

export type CheckedRow = { ok: true; row: SignalRow; key: string } | { ok: false; errors: CsvFieldError[]; partnerType: string };

/**
 * A checker for the rows of one CSV file, compiled once for its header. A row is checked for
 * its field count against the header, for UTF-8 (a file in another encoding decodes to U+FFFD,
 * which is never real data), then by the fast path for plainly valid rows, and when that is not
 * sure, as a JSON item against the schema (which finds the errors).
 */
export function csvRowChecker(columns: readonly string[], scope: IntakeScope, areas: ReadonlyMap<string, string>): (fields: readonly string[]) => CheckedRow {
  const toItem = compileCsvRow(columns);
  const fastPath = compileCsvFastPath(columns);
  return (fields) => {
    if (fields.length !== columns.length) {
      return { ok: false, errors: [{ column: null, detail: `the row has ${fields.length} fields, the header ${columns.length}` }], partnerType: 'unknown' };
    }
    let encodingErrors: CsvFieldError[] | undefined;
    for (let i = 0; i < fields.length; i++) {
      if (fields[i]!.includes('\uFFFD')) (encodingErrors ??= []).push({ column: columns[i]!, detail: 'not valid UTF-8: save the file as UTF-8' });
    }
    if (encodingErrors) return { ok: false, errors: encodingErrors, partnerType: 'unknown' };
    const item = fastPath(fields);
    return asCsvResult(item ? checkScope(item, scope, areas) : checkItem(toItem(fields), scope, areas));
  };
}

function asCsvResult(checked: CheckedItem): CheckedRow {
  return checked.ok ? checked : { ok: false, errors: csvErrors(checked.errors), partnerType: checked.partnerType };
}

/** Problem pointer of a CSV error: '/rows/{line}/{column}', or '/rows/{line}' for the whole row. */
export function csvPointer(row: number, column: string | null): string {
  return column ? `/rows/${row}/${column}` : `/rows/${row}`;
}
