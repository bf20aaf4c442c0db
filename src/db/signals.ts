import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import type { Client, Queryable } from './pool.js';

/**
 * Writing signals in bulk. A chunk's rows are streamed with COPY into a temporary table (COPY
 * parses far cheaper than JSON or arrays in a parameter), then written with one statement in
 * the caller's transaction: households first (all of them, in address-key order), then
 * signals (in partner + external-id order; the sort above the households' join makes the
 * household upserts finish before the first signal is inserted). Every chunk takes its locks in
 * the same two phases and the same order, so two concurrent uploads of overlapping data wait
 * for each other instead of deadlocking.
 */

/** One valid signal, ready to store. Property names are the JSON keys the statements read. */
export interface SignalRow {
  addressKey: string;
  /** The municipality whose postcode areas hold the address; null: not resident anywhere we serve. */
  municipality: string | null;
  postcode: string;
  houseNumber: number;
  houseLetter: string | null;
  houseNumberAddition: string | null;
  street: string | null;
  city: string | null;
  partnerType: string;
  partnerName: string;
  externalId: string;
  signalDate: string;
  originDate: string | null;
  amountCents: number;
  crisis: boolean;
  warmHandover: boolean;
  endOfSupply: boolean;
  childrenInHousehold: number | null;
  bsn: string | null;
  initials: string | null;
  prefix: string | null;
  surname: string | null;
  birthDate: string | null;
  gender: string | null;
  phone: string | null;
  email: string | null;
}

export interface RejectionRow {
  position: number;
  errors: unknown[];
}

/** A valid item or row whose signal was stored before or earlier in its batch. */
export interface DuplicateRow {
  /** JSON: the item's index; CSV: the line the row starts on. */
  position: number;
  externalId: string;
}

/**
 * The COPY text of a chunk's valid rows, built up row by row in one growing buffer. Rows are
 * turned into bytes as soon as they are validated: a chunk waiting to be written then holds no
 * per-row objects at all, which keeps the garbage collector's work per row small (retained
 * strings made intake about twice as expensive in CPU).
 */
export class CopyData {
  private buffer = Buffer.allocUnsafe(256 * 1024);
  private length = 0;
  rows = 0;

  /** `position`: the item's index (JSON) or the line the row starts on (CSV). */
  add(row: SignalRow, position: number): void {
    const line = toCopyLine(position, row);
    // UTF-8 takes at most 3 bytes per UTF-16 code unit; one more for the line break.
    if (this.length + line.length * 3 + 1 > this.buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + line.length * 3 + 1));
      this.buffer.copy(grown, 0, 0, this.length);
      this.buffer = grown;
    }
    this.length += this.buffer.write(line, this.length);
    this.buffer[this.length++] = 0x0a;
    this.rows++;
  }

  bytes(): Buffer {
    return this.buffer.subarray(0, this.length);
  }
}

export interface ChunkWrite {
  batchId: string;
  /** The valid rows, each once. */
  copy: CopyData;
  rejections: RejectionRow[];
  /** Valid items that repeat a signal earlier in the chunk (left out of `copy`). */
  duplicates: DuplicateRow[];
  /** Items or rows in the chunk, valid or not. */
  received: number;
  /** Valid items, in-batch duplicates included (rows holds each once). */
  valid: number;
}

export interface ChunkResult {
  accepted: number;
  acceptedByPartnerType: Record<string, number>;
  /** Households that got a new signal and are now waiting for evaluation. */
  pendingHouseholdIds: number[];
}

/** PC4 → municipality code: the areas the registered municipalities serve (a few thousand at most). */
export async function loadMunicipalityAreas(db: Queryable): Promise<Map<string, string>> {
  const { rows } = await db.query<{ postcode_area: string; municipality_code: string }>(
    `select postcode_area, municipality_code from municipality_areas`,
  );
  return new Map(rows.map((r) => [r.postcode_area, r.municipality_code]));
}

/**
 * The chunk's rows, per connection (temporary tables are), emptied at every commit and
 * rolled back with the transaction. Created by the first chunk a connection writes.
 */
const CHUNK_TABLE = `
  create temp table if not exists intake_chunk (
    position integer not null, address_key text not null, municipality text, postcode text not null, house_number integer not null,
    house_letter text, house_number_addition text, street text, city text, partner_type text not null, partner_name text not null,
    external_id text not null, signal_date date not null, origin_date date, amount_cents bigint not null, crisis boolean not null,
    warm_handover boolean not null, end_of_supply boolean not null, children_in_household smallint, bsn text, initials text, prefix text, surname text,
    birth_date date, gender text, phone text, email text
  ) on commit delete rows`;

const COPY_INTO_CHUNK = `copy intake_chunk (position, address_key, municipality, postcode, house_number, house_letter, house_number_addition, street, city,
  partner_type, partner_name, external_id, signal_date, origin_date, amount_cents, crisis, warm_handover, end_of_supply, children_in_household, bsn, initials,
  prefix, surname, birth_date, gender, phone, email) from stdin`;

const NEEDS_ESCAPE = /[\\\n\r\t]/;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** A value in COPY's text format: \N for null, t/f, and text with its control characters escaped. */
function copyValue(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '\\N';
  if (typeof value === 'boolean') return value ? 't' : 'f';
  if (typeof value === 'number') return String(value);
  return NEEDS_ESCAPE.test(value) ? value.replace(/[\\\n\r\t]/g, (c) => ESCAPES[c]!) : value;
}

/**
 * One row as a line of COPY text (without its line break), with its position in the batch.
 * Joined from an array: a template of fifty parts is built as fifty intermediate strings, a
 * tenth of all the bytes a signal made this process allocate, for the same time per row.
 */
export function toCopyLine(position: number, r: SignalRow): string {
  const v = copyValue;
  return [
    position, v(r.addressKey), v(r.municipality), v(r.postcode), r.houseNumber, v(r.houseLetter), v(r.houseNumberAddition), v(r.street), v(r.city),
    v(r.partnerType), v(r.partnerName), v(r.externalId), v(r.signalDate), v(r.originDate), r.amountCents, v(r.crisis), v(r.warmHandover),
    v(r.endOfSupply), v(r.childrenInHousehold), v(r.bsn), v(r.initials), v(r.prefix), v(r.surname), v(r.birthDate), v(r.gender), v(r.phone), v(r.email),
  ].join('\t');
}

/**
 * The whole chunk in one statement: the households are upserted (in address-key order), the
 * new signals inserted with their household (in partner + external-id order), the rejections
 * stored, the duplicates listed and the batch's counts raised. $1 batch id, $2 rejections
 * (JSON), $3 rows received, $4 valid rows, $5 rejected rows, $6 the chunk's own duplicates
 * (JSON). `fresh` is the chunk's rows that are new: see ChunkMode.
 */
const CHUNK = `
  with /*FRESH*/,
  upserted as (
    insert into households as h (address_key, municipality_code, postcode, house_number, house_letter, house_number_addition, street,
                                 city)
    select distinct on (address_key) address_key, municipality, postcode, house_number, house_letter, house_number_addition, street, city
      from fresh
     order by address_key, street is null
    on conflict (address_key) do update set
      municipality_code = coalesce(excluded.municipality_code, h.municipality_code),
      street = coalesce(h.street, excluded.street),
      city = coalesce(h.city, excluded.city)
    -- xmax is 0 on a row this statement inserted, the updating transaction on one it updated.
    returning h.id, h.address_key, h.municipality_code, h.xmax = 0 as created
  ),
  inserted as (
    insert into signals (batch_id, household_id, municipality_code, partner_type, partner_name, external_id, signal_date, origin_date,
                         amount_cents, crisis, warm_handover, end_of_supply, children_in_household, status, bsn, initials, prefix, surname,
                         birth_date, gender, phone, email)
    select $1, u.id, f.municipality, f.partner_type, f.partner_name, f.external_id, f.signal_date, f.origin_date, f.amount_cents, f.crisis,
           f.warm_handover, f.end_of_supply, f.children_in_household, case when f.municipality is null then 'not_resident' else 'not_yet_picked_up' end,
           f.bsn, f.initials, f.prefix, f.surname, f.birth_date, f.gender, f.phone, f.email
      from fresh f join upserted u on u.address_key = f.address_key
     order by f.partner_type, f.partner_name, f.external_id
    /*ON CONFLICT*/
    returning household_id, partner_type, municipality_code/*IDENTITY*/
  ),
  -- The households of the new signals wait for evaluation, unless the address lies outside
  -- every municipality we serve. A household this statement created cannot be queued yet: a
  -- plain insert, straight from the upsert (its municipality is that of its signals here, and
  -- every one of its rows in the chunk is new), marked as never evaluated (migration 140). One
  -- that existed may be queued, or may be being
  -- taken off the queue by an evaluation right now: ON CONFLICT waits for that evaluation to
  -- commit and then queues it again, and DO UPDATE locks a row that stays, so no evaluation
  -- takes it before these signals commit.
  queued_new as (
    insert into evaluation_queue (household_id, since, never_evaluated)
    select u.id, now(), true from upserted u where u.created and u.municipality_code is not null
  ),
  queued_again as (
    insert into evaluation_queue as q (household_id, since)
    select distinct i.household_id, now() from inserted i join upserted u on u.id = i.household_id
     where not u.created and i.municipality_code is not null
     order by 1
    on conflict (household_id) do update set since = q.since
  ),
  rejections as (
    insert into signal_batch_rejections (batch_id, position, errors)
    select $1, (e->>'position')::integer, (e->'errors')::jsonb from json_array_elements($2::json) e
  ),
  -- The valid rows that were not stored: repeats within the chunk (from the caller) and, unless
  -- every row is taken to be new, rows whose signal was stored before.
  duplicates as (
    insert into signal_batch_duplicates (batch_id, position, external_id)
    select $1, (d->>'position')::integer, d->>'externalId' from json_array_elements($6::json) d
    /*STORED DUPLICATES*/
  ),
  counted as (select count(*)::integer as accepted from inserted),
  batch as (
    update signal_batches
       set received = received + $3::integer,
           accepted = accepted + (select accepted from counted),
           duplicates = duplicates + $4::integer - (select accepted from counted),
           rejected = rejected + $5::integer,
           updated_at = now()
     where id = $1
  )
  select (select accepted from counted) as accepted,
         coalesce((select json_agg(distinct household_id) from inserted where municipality_code is not null), '[]') as pending,
         coalesce((select json_object_agg(partner_type, n) from (select partner_type, count(*)::integer as n from inserted group by 1) t), '{}') as by_type`;

/**
 * How a chunk treats signals that may be stored already (its own duplicates the caller left out).
 *
 * - `new`: every row is taken to be new. Nothing is looked up; a stored signal among them makes
 *   the plain insert fail with a unique violation (isSignalCollision), which rolls back the
 *   whole chunk, households included. For large uploads of new signals: looking up every row
 *   first took about 40 % of the statement's time.
 * - `probe`: signals stored before are left out first (an index probe per row). They leave
 *   their households alone (a resent file must not rewrite thousands of households) and are
 *   counted as duplicates. Only a concurrent upload of the same signals can still collide.
 * - `safe`: `probe` plus ON CONFLICT DO NOTHING; after a collision, where another transaction
 *   stored one of the same signals meanwhile. Speculative insertion costs more than a plain
 *   insert, so it is the last resort.
 */
export type ChunkMode = 'new' | 'probe' | 'safe';

const ALL_ROWS = `fresh as not materialized (select * from intake_chunk)`;
// The lateral LIMIT keeps this an index probe per row; an anti-join could pick a scan of all signals.
const ROWS_NOT_STORED = `fresh as materialized (
    select c.* from intake_chunk c
      left join lateral (select 1 as found from signals s
                          where s.partner_type = c.partner_type and s.partner_name = c.partner_name and s.external_id = c.external_id
                          limit 1) stored on true
     where stored.found is null
  )`;
// Left out by the lookup or, in `safe` mode, by ON CONFLICT: not among the inserted signals.
const STORED_DUPLICATES = `union all
    select $1, c.position, c.external_id from intake_chunk c
     where not exists (select 1 from inserted i
                        where i.partner_type = c.partner_type and i.partner_name = c.partner_name and i.external_id = c.external_id)`;
const lookingUp = (statement: string) => statement.replace('/*IDENTITY*/', ', partner_name, external_id').replace('/*STORED DUPLICATES*/', STORED_DUPLICATES);
const CHUNK_STATEMENTS: Record<ChunkMode, string> = {
  new: CHUNK.replace('/*FRESH*/', ALL_ROWS).replace('/*ON CONFLICT*/', '').replace('/*IDENTITY*/', '').replace('/*STORED DUPLICATES*/', ''),
  probe: lookingUp(CHUNK.replace('/*FRESH*/', ROWS_NOT_STORED).replace('/*ON CONFLICT*/', '')),
  safe: lookingUp(CHUNK.replace('/*FRESH*/', ROWS_NOT_STORED).replace('/*ON CONFLICT*/', 'on conflict on constraint signals_partner_external_id do nothing')),
};

/** A unique violation on a signal's identity: another transaction stored the same signal meanwhile. */
export function isSignalCollision(error: unknown): boolean {
  const e = error as { code?: string; constraint?: string } | null;
  return e?.code === '23505' && e.constraint === 'signals_partner_external_id';
}

/**
 * Writes one chunk in the caller's transaction: households, signals, rejections and the
 * batch's counts. See ChunkMode for `mode` (default `probe`).
 */
export async function writeSignalChunk(tx: Client, chunk: ChunkWrite, options: { mode?: ChunkMode } = {}): Promise<ChunkResult> {
  // The statement below reads intake_chunk even when no row is valid: the table must exist on
  // this connection then too (a chunk of rejections only, on a connection that wrote none before).
  await tx.query(CHUNK_TABLE);
  if (chunk.copy.rows > 0) await pipeline(Readable.from([chunk.copy.bytes()]), tx.query(copyFrom(COPY_INTO_CHUNK)));
  const { rows } = await tx.query<{ accepted: number; pending: number[]; by_type: Record<string, number> }>(CHUNK_STATEMENTS[options.mode ?? 'probe'], [
    chunk.batchId,
    JSON.stringify(chunk.rejections),
    chunk.received,
    chunk.valid,
    chunk.rejections.length,
    JSON.stringify(chunk.duplicates),
  ]);
  const result = rows[0]!;
  return { accepted: result.accepted, acceptedByPartnerType: result.by_type, pendingHouseholdIds: result.pending };
}
