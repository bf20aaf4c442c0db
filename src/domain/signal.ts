import { z } from '@hono/zod-openapi';
import { normalisePostcode } from './address.js';
import { isValidBsn, normaliseBsn } from './bsn.js';
import { GENDER_CODES, PARTNER_TYPE_CODES } from './codes.js';
import { dutchToday, isIsoDate } from './dates.js';

/**
 * The shape of one early signal as an integrator sends it (JSON item, or one CSV row once
 * flattened back). Every object is strict: unknown properties are an error, not silently dropped.
 */

export const LIMITS = {
  externalId: 100,
  name: 200,
  shortText: 50,
  street: 200,
  email: 254,
  phone: 32,
  maxAmountCents: 100_000_000_00, // € 100 million: anything above is a unit mistake
} as const;

// Today's date, computed at most once a second: intake validates three dates per signal and
// hundreds of thousands of signals per file, and formatting a date in a time zone is not free.
let today = { at: Number.NaN, date: '' };
export function currentDutchDate(): string {
  const now = Date.now();
  if (!(Math.abs(now - today.at) < 1_000)) today = { at: now, date: dutchToday(new Date(now)) };
  return today.date;
}

const isoDate = (what: string) =>
  z.string().superRefine((d, ctx) => {
    if (!isIsoDate(d)) ctx.addIssue({ code: 'custom', message: `${what} must be an ISO date (YYYY-MM-DD)` });
    else if (d > currentDutchDate()) ctx.addIssue({ code: 'custom', message: `${what} lies in the future` });
  });

// PostgreSQL text cannot hold NUL (U+0000): refused here, item by item, before it fails a whole write.
const noNul = (v: string) => !v.includes('\u0000');
const NO_NUL = 'must not contain the NUL character (U+0000)';
const optionalText = (max: number) => z.string().trim().min(1).max(max).refine(noNul, NO_NUL).optional();

export const personSchema = z
  .object({
    bsn: z
      .string()
      .transform(normaliseBsn)
      .refine(isValidBsn, { message: 'BSN must be 9 digits and pass the eleven-test' })
      .optional(),
    initials: optionalText(LIMITS.shortText),
    prefix: optionalText(LIMITS.shortText),
    surname: optionalText(LIMITS.name),
    birthDate: isoDate('birthDate').optional(),
    gender: z.enum(GENDER_CODES).optional(),
  })
  .strict()
  .openapi('SignalPerson');

export const addressSchema = z
  .object({
    postcode: z
      .string()
      .max(10)
      .transform((v, ctx) => {
        const normalised = normalisePostcode(v);
        if (normalised === null) {
          ctx.addIssue({ code: 'custom', message: 'postcode must be a Dutch postcode like 1234AB' });
          return z.NEVER;
        }
        return normalised;
      })
      .openapi({ type: 'string', example: '2261AB' }),
    houseNumber: z.number().int().min(1).max(99999),
    houseLetter: z.string().trim().regex(/^[A-Za-z]$/, 'houseLetter is one letter').transform((v) => v.toUpperCase()).optional(),
    houseNumberAddition: z.string().trim().regex(/^[A-Za-z0-9 -]{1,6}$/, 'houseNumberAddition is at most 6 letters or digits').optional(),
    street: optionalText(LIMITS.street),
    city: optionalText(LIMITS.name),
  })
  .strict()
  .openapi('SignalAddress');

export const contactSchema = z
  .object({
    phone: z.string().trim().regex(/^\+?[0-9 ()-]{6,32}$/, 'phone must be a telephone number').optional(),
    email: z.string().trim().max(LIMITS.email).email().optional(),
  })
  .strict()
  .openapi('SignalContact');

/** The most children a signal can report for one household. */
export const MAX_CHILDREN_IN_HOUSEHOLD = 30;

export const signalItemSchema = z
  .object({
    externalId: z.string().trim().min(1).max(LIMITS.externalId).refine(noNul, NO_NUL),
    partnerType: z.enum(PARTNER_TYPE_CODES),
    partnerName: optionalText(LIMITS.name),
    signalDate: isoDate('signalDate'),
    originDate: isoDate('originDate').optional(),
    amountCents: z.number().int().min(0).max(LIMITS.maxAmountCents),
    crisis: z.boolean().optional(),
    warmHandover: z.boolean().optional(),
    endOfSupply: z.boolean().optional(),
    childrenInHousehold: z
      .number()
      .int()
      .min(0)
      .max(MAX_CHILDREN_IN_HOUSEHOLD)
      .optional()
      .openapi({ description: 'Children (under 18) living in the household, when the creditor knows it' }),
    person: personSchema,
    address: addressSchema,
    contact: contactSchema.optional(),
  })
  .strict()
  .superRefine((item, ctx) => {
    if (item.originDate && item.originDate > item.signalDate) {
      ctx.addIssue({ code: 'custom', path: ['originDate'], message: 'originDate lies after signalDate' });
    }
  })
  .openapi('SignalItem');

export type SignalItemInput = z.input<typeof signalItemSchema>;
export type SignalItem = z.output<typeof signalItemSchema>;

export interface FieldError {
  /** JSON pointer relative to the item, e.g. '/address/postcode'. */
  pointer: string;
  detail: string;
}

// NUL and lone surrogates: PostgreSQL's jsonb refuses them, and rejections (with their pointers,
// which name the sender's own property names) are stored as jsonb.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

export function toPointer(path: readonly PropertyKey[]): string {
  return path
    .map((p) => '/' + String(p).replaceAll('\u0000', '\ufffd').replace(LONE_SURROGATE, '\ufffd').replace(/~/g, '~0').replace(/\//g, '~1'))
    .join('');
}

/** Validates one item; never throws. */
export function validateSignalItem(input: unknown): { ok: true; value: SignalItem } | { ok: false; errors: FieldError[] } {
  const result = signalItemSchema.safeParse(input);
  if (result.success) return { ok: true, value: result.data };
  return {
    ok: false,
    // An unknown property gets its own pointer ('/address/colour'), not its parent's ('/address').
    errors: result.error.issues.flatMap((issue) =>
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => ({ pointer: toPointer([...issue.path, key]), detail: 'unknown property' }))
        : [{ pointer: toPointer(issue.path), detail: issue.message }],
    ),
  };
}

/** The CSV columns, in the order the README documents them. */
export const CSV_COLUMNS = [
  'externalId', 'partnerType', 'partnerName', 'signalDate', 'originDate', 'amountCents', 'crisis', 'warmHandover', 'endOfSupply',
  'childrenInHousehold', 'bsn', 'initials', 'prefix', 'surname', 'birthDate', 'gender',
  'postcode', 'houseNumber', 'houseLetter', 'houseNumberAddition', 'street', 'city',
  'phone', 'email',
] as const;
export type CsvColumn = (typeof CSV_COLUMNS)[number];

const REQUIRED_CSV_COLUMNS: readonly CsvColumn[] = ['externalId', 'partnerType', 'signalDate', 'amountCents', 'postcode', 'houseNumber'];

const PERSON_COLUMNS = new Set<string>(['bsn', 'initials', 'prefix', 'surname', 'birthDate', 'gender']);
const ADDRESS_COLUMNS = new Set<string>(['postcode', 'houseNumber', 'houseLetter', 'houseNumberAddition', 'street', 'city']);
const CONTACT_COLUMNS = new Set<string>(['phone', 'email']);

/** Checks a CSV header; returns the problems (unknown or missing columns). */
export function checkCsvHeader(header: readonly string[]): string[] {
  const problems: string[] = [];
  const known = new Set<string>(CSV_COLUMNS);
  const seen = new Set<string>();
  for (const column of header) {
    if (!known.has(column)) problems.push(`unknown column '${column}'`);
    if (seen.has(column)) problems.push(`column '${column}' appears twice`);
    seen.add(column);
  }
  for (const column of REQUIRED_CSV_COLUMNS) if (!seen.has(column)) problems.push(`required column '${column}' is missing`);
  return problems;
}

const TRUE_WORDS = new Set(['true', '1', 'yes', 'ja', 'j', 'y']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'nee', 'n', '']);

type CellTarget = 'item' | 'person' | 'address' | 'contact';
type CellKind = 'text' | 'integer' | 'boolean';

function cellTarget(column: string): CellTarget {
  if (PERSON_COLUMNS.has(column)) return 'person';
  if (ADDRESS_COLUMNS.has(column)) return 'address';
  if (CONTACT_COLUMNS.has(column)) return 'contact';
  return 'item';
}

function cellKind(column: string): CellKind {
  if (column === 'amountCents' || column === 'houseNumber' || column === 'childrenInHousehold') return 'integer';
  if (column === 'crisis' || column === 'warmHandover' || column === 'endOfSupply') return 'boolean';
  return 'text';
}

const INTEGER = /^-?[0-9]+$/;

/**
 * Compiles the mapping of one CSV header: the returned function turns a row's fields (in header
 * order) into the JSON item shape, exactly as csvRecordToItem does, without working out each
 * column's place again for every row of a large file.
 */
export function compileCsvRow(columns: readonly string[]): (fields: readonly (string | undefined)[]) => Record<string, unknown> {
  const cells = columns.map((column) => ({ column, target: cellTarget(column), kind: cellKind(column) }));
  return (fields) => {
    const item: Record<string, unknown> = {};
    const person: Record<string, unknown> = {};
    const address: Record<string, unknown> = {};
    let contact: Record<string, unknown> | undefined;
    for (let i = 0; i < cells.length; i++) {
      const text = (fields[i] ?? '').trim();
      if (text === '') continue; // an empty cell is an absent optional field
      const cell = cells[i]!;
      let value: unknown = text;
      if (cell.kind === 'integer') value = INTEGER.test(text) ? Number(text) : text;
      else if (cell.kind === 'boolean') {
        const lower = text.toLowerCase();
        value = TRUE_WORDS.has(lower) ? true : FALSE_WORDS.has(lower) ? false : text;
      }
      if (cell.target === 'person') person[cell.column] = value;
      else if (cell.target === 'address') address[cell.column] = value;
      else if (cell.target === 'contact') (contact ??= {})[cell.column] = value;
      else item[cell.column] = value;
    }
    item.person = person;
    item.address = address;
    if (contact) item.contact = contact;
    return item;
  };
}

/**
 * Turns a CSV record (column → text) into the JSON item shape, so that both intake paths share
 * one schema. Values that cannot be converted are passed on as text, so the schema reports them.
 */
export function csvRecordToItem(record: Readonly<Record<string, string | undefined>>): Record<string, unknown> {
  return compileCsvRow(Object.keys(record))(Object.values(record));
}

/** Maps an item pointer ('/address/postcode') back to its CSV column ('postcode'). */
export function pointerToCsvColumn(pointer: string): string {
  const parts = pointer.split('/').filter(Boolean);
  if (parts.length === 0) return '';
  if ((parts[0] === 'person' || parts[0] === 'address' || parts[0] === 'contact') && parts.length > 1) return parts[1]!;
  return parts[0]!;
}
