import { z } from '@hono/zod-openapi';
import { normalisePostcode } from './address.js';
import { isValidBsn, normaliseBsn } from './bsn.js';
import { GENDER_CODES, PARTNER_TYPE_CODES, type PartnerType } from './codes.js';
import { isIsoDate } from './dates.js';
import { currentDutchDate, LIMITS, MAX_CHILDREN_IN_HOUSEHOLD, type SignalItem } from './signal.js';

/**
 * The fast path for CSV rows that are plainly valid, which is nearly every row of a partner's
 * file. The schema in signal.ts stays the one definition of a valid signal: this function
 * only answers "certainly valid, and this is the item the schema would give" or "not sure"
 * (null), and for "not sure" intake runs the schema, which then finds the errors (or accepts
 * a row this path was too strict for). So it may be stricter than the schema, never more
 * lenient, and it must give exactly the schema's output — a property test compares the two on
 * generated rows (test/unit/signal-csv-fast-path.test.ts).
 *
 * Why it exists: turning a row into nested objects and running the schema over them costs
 * several times more than these direct checks on the row's strings, and intake of a million
 * rows spends most of its own CPU there.
 */

const PARTNER_TYPES = new Set<string>(PARTNER_TYPE_CODES);
const GENDERS = new Set<string>(GENDER_CODES);
const TRUE_WORDS = new Set(['true', '1', 'yes', 'ja', 'j', 'y']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'nee', 'n']);
const DIGITS = /^[0-9]+$/;
const HOUSE_LETTER = /^[A-Za-z]$/;
const HOUSE_NUMBER_ADDITION = /^[A-Za-z0-9 -]{1,6}$/;
const PHONE = /^\+?[0-9 ()-]{6,32}$/;
// The pattern the schema's `.email()` applies.
const EMAIL = z.regexes.email;

/** A text field as the schema wants it: at most `max` UTF-16 units and no NUL. */
const plainText = (value: string, max: number) => value.length <= max && !value.includes('\u0000');

/** Marks a row the fast path does not vouch for. */
class NotSure extends Error {}
const NOT_SURE = new NotSure();

// The checks per cell, at module level rather than as closures per row: a row is checked in
// about a microsecond, and creating functions per row would cost as much.

/** A cell as compileCsvRow reads it: trimmed, '' when the column is absent or the cell empty. */
function cell(fields: readonly string[], index: number): string {
  return index < 0 ? '' : fields[index]!.trim();
}

function text(fields: readonly string[], index: number, max: number): string | undefined {
  const value = cell(fields, index);
  if (value === '') return undefined;
  if (!plainText(value, max)) throw NOT_SURE;
  return value;
}

function date(fields: readonly string[], index: number, today: string): string | undefined {
  const value = cell(fields, index);
  if (value === '') return undefined;
  if (!isIsoDate(value) || value > today) throw NOT_SURE;
  return value;
}

function flag(fields: readonly string[], index: number): boolean | undefined {
  const value = cell(fields, index);
  if (value === '') return undefined;
  const lower = value.toLowerCase();
  if (TRUE_WORDS.has(lower)) return true;
  if (FALSE_WORDS.has(lower)) return false;
  throw NOT_SURE;
}

function integer(fields: readonly string[], index: number, min: number, max: number): number {
  const value = cell(fields, index);
  if (!DIGITS.test(value)) throw NOT_SURE;
  const n = Number(value);
  if (n < min || n > max) throw NOT_SURE;
  return n;
}

function optionalInteger(fields: readonly string[], index: number, min: number, max: number): number | undefined {
  return cell(fields, index) === '' ? undefined : integer(fields, index, min, max);
}

function matching(fields: readonly string[], index: number, pattern: RegExp): string | undefined {
  const value = cell(fields, index);
  if (value === '') return undefined;
  if (!pattern.test(value)) throw NOT_SURE;
  return value;
}

export type CsvFastPath = (fields: readonly string[]) => SignalItem | null;

/** Compiles the fast path for one header (the header has passed checkCsvHeader). */
export function compileCsvFastPath(columns: readonly string[]): CsvFastPath {
  const at = (column: string) => columns.indexOf(column);
  const i = {
    externalId: at('externalId'),
    partnerType: at('partnerType'),
    partnerName: at('partnerName'),
    signalDate: at('signalDate'),
    originDate: at('originDate'),
    amountCents: at('amountCents'),
    crisis: at('crisis'),
    warmHandover: at('warmHandover'),
    endOfSupply: at('endOfSupply'),
    childrenInHousehold: at('childrenInHousehold'),
    bsn: at('bsn'),
    initials: at('initials'),
    prefix: at('prefix'),
    surname: at('surname'),
    birthDate: at('birthDate'),
    gender: at('gender'),
    postcode: at('postcode'),
    houseNumber: at('houseNumber'),
    houseLetter: at('houseLetter'),
    houseNumberAddition: at('houseNumberAddition'),
    street: at('street'),
    city: at('city'),
    phone: at('phone'),
    email: at('email'),
  };

  return (fields) => {
    if (fields.length !== columns.length) return null;
    try {
      const today = currentDutchDate();
      const externalId = text(fields, i.externalId, LIMITS.externalId);
      const partnerType = cell(fields, i.partnerType);
      const signalDate = date(fields, i.signalDate, today);
      if (externalId === undefined || !PARTNER_TYPES.has(partnerType) || signalDate === undefined) return null;
      const originDate = date(fields, i.originDate, today);
      if (originDate !== undefined && originDate > signalDate) return null;

      const rawBsn = cell(fields, i.bsn);
      let bsn: string | undefined;
      if (rawBsn !== '') {
        bsn = normaliseBsn(rawBsn);
        if (!isValidBsn(bsn)) return null;
      }
      const gender = cell(fields, i.gender);
      if (gender !== '' && !GENDERS.has(gender)) return null;

      const rawPostcode = cell(fields, i.postcode);
      const postcode = rawPostcode.length <= 10 ? normalisePostcode(rawPostcode) : null;
      if (postcode === null) return null;
      const houseLetter = matching(fields, i.houseLetter, HOUSE_LETTER);
      const email = cell(fields, i.email);
      if (email !== '' && (email.length > LIMITS.email || !EMAIL.test(email))) return null;
      const phone = matching(fields, i.phone, PHONE);

      const item: SignalItem = {
        externalId,
        partnerType: partnerType as PartnerType,
        signalDate,
        amountCents: integer(fields, i.amountCents, 0, LIMITS.maxAmountCents),
        person: {},
        address: { postcode, houseNumber: integer(fields, i.houseNumber, 1, 99_999) },
      };
      const partnerName = text(fields, i.partnerName, LIMITS.name);
      if (partnerName !== undefined) item.partnerName = partnerName;
      if (originDate !== undefined) item.originDate = originDate;
      const crisis = flag(fields, i.crisis);
      if (crisis !== undefined) item.crisis = crisis;
      const warmHandover = flag(fields, i.warmHandover);
      if (warmHandover !== undefined) item.warmHandover = warmHandover;
      const endOfSupply = flag(fields, i.endOfSupply);
      if (endOfSupply !== undefined) item.endOfSupply = endOfSupply;
      const children = optionalInteger(fields, i.childrenInHousehold, 0, MAX_CHILDREN_IN_HOUSEHOLD);
      if (children !== undefined) item.childrenInHousehold = children;

      const person = item.person;
      if (bsn !== undefined) person.bsn = bsn;
      const initials = text(fields, i.initials, LIMITS.shortText);
      if (initials !== undefined) person.initials = initials;
      const prefix = text(fields, i.prefix, LIMITS.shortText);
      if (prefix !== undefined) person.prefix = prefix;
      const surname = text(fields, i.surname, LIMITS.name);
      if (surname !== undefined) person.surname = surname;
      const birthDate = date(fields, i.birthDate, today);
      if (birthDate !== undefined) person.birthDate = birthDate;
      if (gender !== '') person.gender = gender as NonNullable<SignalItem['person']['gender']>;

      const address = item.address;
      if (houseLetter !== undefined) address.houseLetter = houseLetter.toUpperCase();
      const addition = matching(fields, i.houseNumberAddition, HOUSE_NUMBER_ADDITION);
      if (addition !== undefined) address.houseNumberAddition = addition;
      const street = text(fields, i.street, LIMITS.street);
      if (street !== undefined) address.street = street;
      const city = text(fields, i.city, LIMITS.name);
      if (city !== undefined) address.city = city;

      if (phone !== undefined || email !== '') {
        item.contact = {};
        if (phone !== undefined) item.contact.phone = phone;
        if (email !== '') item.contact.email = email;
      }
      return item;
    } catch (error) {
      if (error === NOT_SURE) return null;
      throw error;
    }
  };
}
