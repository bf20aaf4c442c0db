/**
 * What the benchmarks share: generated signal rows (realistic, every field filled in most
 * rows, about 1.3 signals per address), the CSV file of them, the PostgreSQL COPY reference of
 * the same rows, and CPU accounting of this process and of PostgreSQL backends.
 */
import { createReadStream, createWriteStream, readFileSync } from 'node:fs';
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import type { Pool } from '../src/db/pool.js';
import { PARTNER_TYPE_CODES } from '../src/domain/codes.js';
import { CSV_COLUMNS } from '../src/domain/signal.js';

export function bsn(seed: number): string {
  for (let n = seed; ; n++) {
    const digits = String(10_000_000 + (n % 89_999_999)).padStart(8, '0');
    let sum = 0;
    for (let i = 0; i < 8; i++) sum += (9 - i) * Number(digits[i]);
    const check = sum % 11;
    if (check < 10) return digits + String(check);
  }
}

const LETTERS = 'ABCDEFGHJKLMNPRTUVWXZ';
const SURNAMES = ['Jansen', 'de Vries', 'van den Berg', 'Bakker', 'Visser', 'Smit', 'Meijer', 'de Boer', 'Mulder', 'de Groot'];

export function row(i: number): string[] {
  const address = Math.floor(i / 1.3);
  const pc4 = 1000 + (address % 1000);
  const letters = LETTERS[Math.floor(address / 1000) % LETTERS.length]! + LETTERS[Math.floor(address / 21_000) % LETTERS.length]!;
  const day = String(1 + (i % 28)).padStart(2, '0');
  const values: Record<(typeof CSV_COLUMNS)[number], string> = {
    externalId: `BENCH-${i}`,
    partnerType: PARTNER_TYPE_CODES[i % PARTNER_TYPE_CODES.length]!,
    partnerName: `Schuldeiser ${i % 40}`,
    signalDate: `2026-02-${day}`,
    originDate: `2025-12-${day}`,
    amountCents: String(2_500 + ((i * 7_919) % 250_000)),
    crisis: i % 17 === 0 ? 'true' : 'false',
    warmHandover: 'false',
    endOfSupply: i % 23 === 0 ? 'true' : 'false',
    childrenInHousehold: i % 4 === 0 ? String(i % 5) : '',
    bsn: bsn(i * 7 + 13),
    initials: 'J.P.',
    prefix: i % 3 === 0 ? 'van' : '',
    surname: SURNAMES[i % SURNAMES.length]!,
    birthDate: `19${50 + (i % 50)}-0${1 + (i % 9)}-1${i % 10}`,
    gender: i % 2 === 0 ? 'female' : 'male',
    postcode: `${pc4}${letters}`,
    houseNumber: String(1 + (Math.floor(address / 441_000) % 300) + (address % 7)),
    houseLetter: address % 11 === 0 ? 'A' : '',
    houseNumberAddition: '',
    street: 'Kerkstraat',
    city: 'Benchdorp',
    phone: i % 4 === 0 ? '' : '0612345678',
    email: i % 5 === 0 ? `inwoner${i}@example.nl` : '',
  };
  return CSV_COLUMNS.map((c) => values[c]);
}

/** Writes the file in blocks, so that the benchmark's own memory stays out of the server's figures. */
export async function writeCsv(file: string, rows: number): Promise<number> {
  const out = createWriteStream(file);
  let bytes = 0;
  const write = async (text: string) => {
    bytes += Buffer.byteLength(text);
    if (!out.write(text)) await once(out, 'drain');
  };
  await write(CSV_COLUMNS.join(',') + '\n');
  for (let start = 0; start < rows; start += 10_000) {
    const lines: string[] = [];
    for (let i = start; i < Math.min(rows, start + 10_000); i++) lines.push(row(i).join(','));
    await write(lines.join('\n') + '\n');
  }
  out.end();
  await once(out, 'finish');
  return bytes;
}

// ---------------------------------------------------------------------------------------------
// The reference: COPY into a table with the CSV's columns and types, a primary key and the
// uniqueness of signals_partner_external_id.

const REFERENCE_TABLE = `
  create table copy_reference (
    id bigint generated always as identity primary key,
    external_id text not null, partner_type text not null, partner_name text not null, signal_date date not null,
    origin_date date, amount_cents bigint not null, crisis boolean, warm_handover boolean, end_of_supply boolean, children_in_household smallint,
    bsn text, initials text, prefix text, surname text, birth_date date, gender text,
    postcode text not null, house_number integer not null, house_letter text, house_number_addition text, street text, city text,
    phone text, email text,
    unique (partner_type, partner_name, external_id)
  )`;
const REFERENCE_COLUMNS = CSV_COLUMNS.map((c) => c.replace(/[A-Z]/g, (m) => `_${m.toLowerCase()}`)).join(', ');

export interface Measured {
  seconds: number;
  /** CPU of the PostgreSQL backends, when readable. */
  databaseCpuMs: number | null;
  /** CPU of this process (for the intake: server and HTTP client together). */
  processCpuMs: number;
}

export async function copyReference(pool: Pool, file: string, rowCount: number): Promise<Measured> {
  await pool.query('drop table if exists copy_reference');
  await pool.query(REFERENCE_TABLE);
  const client = await pool.connect();
  try {
    const pid = (await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
    const cpuBefore = backendCpuMs(pid);
    const processBefore = process.cpuUsage();
    const started = performance.now();
    await pipeline(createReadStream(file), client.query(copyFrom(`copy copy_reference (${REFERENCE_COLUMNS}) from stdin with (format csv, header true)`)));
    const seconds = (performance.now() - started) / 1000;
    const cpuAfter = backendCpuMs(pid);
    const processMs = processCpuMs(processBefore);
    const { rows } = await client.query<{ n: number }>('select count(*)::int as n from copy_reference');
    if (rows[0]!.n !== rowCount) throw new Error(`COPY stored ${rows[0]!.n} rows, expected ${rowCount}`);
    return { seconds, databaseCpuMs: cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore, processCpuMs: processMs };
  } finally {
    client.release();
  }
}

// ---------------------------------------------------------------------------------------------
// CPU time, which a shared machine's load distorts far less than wall time: this process's,
// and that of the PostgreSQL backends serving a connection pool (read from /proc, so only when
// the database runs on this machine; otherwise the figures are left out).

export function backendCpuMs(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in clock ticks of 10 ms
  } catch {
    return null;
  }
}

/**
 * Follows the backends of one application_name, sampling each one's CPU until it goes away (a
 * backend that ends between samples keeps its last sample: a pool closes idle connections).
 */
export class BackendCpu {
  private readonly first = new Map<number, number>();
  private readonly last = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;
  /** Whether /proc answered for any backend: not when the database runs elsewhere. */
  private available = false;

  constructor(
    private readonly observer: Pool,
    private readonly applicationName: string,
  ) {}

  async sample(): Promise<void> {
    const { rows } = await this.observer.query<{ pid: number }>('select pid from pg_stat_activity where application_name = $1', [this.applicationName]);
    for (const { pid } of rows) {
      const ms = backendCpuMs(pid);
      if (ms === null) continue; // ended since pg_stat_activity listed it, or not on this machine
      this.available = true;
      if (!this.first.has(pid)) this.first.set(pid, ms);
      this.last.set(pid, ms);
    }
  }

  async start(): Promise<void> {
    await this.sample();
    this.timer = setInterval(() => void this.sample().catch(() => {}), 200);
  }

  async stop(): Promise<number | null> {
    clearInterval(this.timer);
    await this.sample();
    if (!this.available) return null;
    let total = 0;
    for (const [pid, last] of this.last) total += last - this.first.get(pid)!;
    return total;
  }
}

export function processCpuMs(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
}

