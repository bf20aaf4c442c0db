import type { Hash } from 'node:crypto';
import { parse, type CsvError } from 'csv-parse';

/**
 * Streaming CSV for signal intake: the request body (or a file) is read chunk by chunk, never
 * whole, and turned into rows with the line number each row starts on (header = line 1).
 */

/** The body is larger than allowed; thrown by `meter` once the limit is passed. */
export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`the body is larger than ${limit} bytes`);
  }
}

/** The body could not be read to its end (the client went away, a file read failed). */
export class BodyReadError extends Error {}

/** The first line is not a usable header; nothing was read beyond it. */
export class CsvHeaderError extends Error {}

function asBuffer(chunk: Uint8Array | string): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/**
 * Passes a body through, counting bytes and feeding the hash. At the limit it hashes exactly
 * `maxBytes` bytes and throws, so a retried oversized body hashes the same (idempotency).
 */
export async function* meter(source: AsyncIterable<Uint8Array | string>, maxBytes: number, hash?: Hash): AsyncGenerator<Buffer> {
  let total = 0;
  const iterator = source[Symbol.asyncIterator]();
  try {
    for (;;) {
      let next: IteratorResult<Uint8Array | string>;
      try {
        next = await iterator.next();
      } catch (error) {
        throw new BodyReadError('the body could not be read to its end', { cause: error });
      }
      if (next.done) return;
      const buffer = asBuffer(next.value);
      if (total + buffer.length > maxBytes) {
        hash?.update(buffer.subarray(0, maxBytes - total));
        throw new BodyTooLargeError(maxBytes);
      }
      total += buffer.length;
      hash?.update(buffer);
      yield buffer;
    }
  } finally {
    // Stops the upload (or closes the file) when the reader stops early.
    await iterator.return?.().catch(() => {});
  }
}

/** Reads a whole (small) body into memory, at most `maxBytes`. */
export async function readAll(source: AsyncIterable<Uint8Array | string>, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of meter(source, maxBytes)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** Reads a body to its end only to hash it (an idempotent retry whose answer is stored). */
export async function drain(source: AsyncIterable<Uint8Array | string>, maxBytes: number, hash: Hash): Promise<void> {
  try {
    for await (const _chunk of meter(source, maxBytes, hash)) {
      // hashed by meter
    }
  } catch (error) {
    if (!(error instanceof BodyTooLargeError)) throw error;
  }
}

/** ',' or ';' — whichever the header line holds more of (Dutch spreadsheets write ';'). */
export function detectDelimiter(headerLine: string): ',' | ';' {
  let commas = 0;
  let semicolons = 0;
  let quoted = false;
  for (const char of headerLine) {
    if (char === '"') quoted = !quoted;
    else if (!quoted && char === ',') commas++;
    else if (!quoted && char === ';') semicolons++;
  }
  return semicolons > commas ? ';' : ',';
}

export interface CsvRow {
  /** The line the row starts on (header = 1). */
  line: number;
  fields: string[];
}

export type CsvEvent =
  | { kind: 'header'; columns: string[]; delimiter: ',' | ';' }
  /** The rows of one piece of input, in file order (one event per piece, not per row: cheaper). */
  | { kind: 'rows'; rows: CsvRow[] }
  /** The file cannot be parsed from `line` on; no rows follow. */
  | { kind: 'broken'; line: number; detail: string };

export const MAX_HEADER_BYTES = 64 * 1024;
/** A longer row is an unclosed quote swallowing the file, not data; it bounds memory too. */
export const MAX_RECORD_BYTES = 64 * 1024;

function describeCsvError(error: CsvError | undefined): string {
  switch (error?.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'a quoted field is opened here and never closed';
    case 'CSV_INVALID_CLOSING_QUOTE':
    case 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE':
      return 'a closing quote is followed by something other than the separator or the end of the line';
    case 'INVALID_OPENING_QUOTE':
      return 'a quote inside an unquoted field (quote the field and double the quote: "a ""b"" c")';
    case 'CSV_MAX_RECORD_SIZE':
      return `a row is longer than ${MAX_RECORD_BYTES / 1024} KiB (probably an unclosed quote)`;
    default:
      return `the CSV cannot be parsed here (${error?.code ?? 'unknown error'})`;
  }
}

/** Line breaks inside a row's (quoted) fields: CRLF or LF, as the record delimiters. */
function lineBreaksIn(fields: readonly string[]): number {
  let count = 0;
  for (const field of fields) {
    if (!field.includes('\n')) continue;
    for (let i = field.indexOf('\n'); i >= 0; i = field.indexOf('\n', i + 1)) count++;
  }
  return count;
}

const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
/** A line longer than this (a field without its closing quote, say) is given to csv-parse unread. */
const LONGEST_PLAIN_LINE = MAX_RECORD_BYTES;

/** Plain lines that must follow a region before it is ended (see CsvReader.read). */
const PLAIN_RUN = 32;

/** Line breaks in data[from, to), counted up to `atMost`. */
function linesBetween(data: Buffer, from: number, to: number, atMost: number): number {
  let count = 0;
  for (let i = data.indexOf(LF, from); i >= 0 && i < to && count < atMost; i = data.indexOf(LF, i + 1)) count++;
  return count;
}

interface Broken {
  line: number;
  detail: string;
}

/**
 * csv-parse for a run of lines that hold quotes ("a region"): one parser per run, ended when
 * the run ends, so that it hands over its last row before the plain lines after it are read.
 * Rows are numbered by the line they start on; the region knows the line it starts on.
 */
class QuotedRegion {
  private readonly parser: ReturnType<typeof parse>;
  private nextLine: number;
  private previousEmptyLines = 0;

  constructor(
    delimiter: ',' | ';',
    startLine: number,
    private readonly rows: CsvRow[],
    private readonly reader: { broken: Broken | null },
  ) {
    this.nextLine = startLine;
    this.parser = parse({
      delimiter,
      // Both, so that a file whose lines end differently here and there is still read right.
      record_delimiter: ['\r\n', '\n'],
      bom: false, // the reader takes the file's byte order mark off; a region starts mid-file
      relax_column_count: true, // a row with the wrong number of fields is rejected as a row, not the whole file
      skip_empty_lines: true,
      skip_records_with_error: true, // errors come to on_skip in order with the rows, instead of destroying the stream
      max_record_size: MAX_RECORD_BYTES,
      // Rows are taken here, synchronously and in file order, and not pushed into the stream.
      // Line numbers are counted here: csv-parse's own count takes a CRLF inside a quoted field
      // for two lines. A row starts on the line after the previous row's last line, plus the
      // empty lines skipped in between.
      on_record: (record: string[], context) => {
        const line = this.nextLine + (context.empty_lines - this.previousEmptyLines);
        this.previousEmptyLines = context.empty_lines;
        this.nextLine = line + 1 + lineBreaksIn(record);
        if (!this.reader.broken) this.rows.push({ line, fields: record });
        return null;
      },
      on_skip: (error) => {
        const emptyLines = (error as { empty_lines?: number } | undefined)?.empty_lines ?? this.previousEmptyLines;
        this.broke({ line: this.nextLine + (emptyLines - this.previousEmptyLines), detail: describeCsvError(error) });
        return undefined;
      },
    });
    this.parser.on('error', () => this.broke({ line: this.nextLine, detail: describeCsvError(undefined) }));
    this.parser.resume();
  }

  private broke(broken: Broken): void {
    this.reader.broken ??= broken;
  }

  write(buffer: Buffer): Promise<void> {
    return new Promise<void>((resolve) => {
      this.parser.write(buffer, (error) => {
        if (error) this.broke({ line: this.nextLine, detail: describeCsvError(error as CsvError) });
        resolve();
      });
    });
  }

  end(): Promise<void> {
    return new Promise<void>((resolve) => this.parser.end(() => resolve()));
  }
}

/**
 * Lines to rows. A line without a quote is split at the delimiter where it stands: by RFC 4180
 * that is all there is to it, and it is by far the common case (csv-parse costs about ten
 * times as much per row). Every line that holds a quote — and every line after it up to where
 * no quoted field is open any more — goes to csv-parse, which reads quoting strictly and finds
 * the errors. A quoted field is open exactly when an odd number of quotes was seen since the
 * record began: an escaped quote is two, opening and closing are one each, and a stray quote
 * is an error csv-parse reports before the count could mislead. The differential test in
 * test/unit/csv-reader.test.ts holds this against csv-parse reading every byte.
 */
class CsvReader {
  readonly rows: CsvRow[] = [];
  broken: Broken | null = null;
  /** The number of the next line to read. */
  private line = 1;
  /** The start of an unfinished line, kept for the next piece of input. */
  private tail: Buffer | null = null;
  private startOfInput = true;
  private region: QuotedRegion | null = null;
  /** The lines given to the region so far hold an odd number of quotes: a quoted field is open. */
  private quotedFieldOpen = false;
  /** The current line was partly given to the region already (a very long line): the rest follows it there. */
  private lineInRegion = false;

  constructor(private readonly delimiter: ',' | ';') {}

  take(): CsvRow[] {
    return this.rows.splice(0, this.rows.length);
  }

  async push(piece: Buffer): Promise<void> {
    if (this.broken) return;
    let data = this.tail ? Buffer.concat([this.tail, piece]) : piece;
    this.tail = null;
    if (this.startOfInput) {
      if (data.length < BOM.length && BOM.subarray(0, data.length).equals(data)) {
        this.tail = data; // perhaps the start of a byte order mark: wait for more
        return;
      }
      this.startOfInput = false;
      if (data.subarray(0, BOM.length).equals(BOM)) data = data.subarray(BOM.length);
    }
    await this.read(data, false);
  }

  async end(): Promise<void> {
    if (this.broken) return;
    const data = this.tail ?? Buffer.alloc(0);
    this.tail = null;
    this.startOfInput = false;
    await this.read(data, true);
    if (this.region) await this.closeRegion();
  }

  private async read(data: Buffer, final: boolean): Promise<void> {
    let position = 0;
    let quote = data.indexOf(QUOTE);
    /** Where the bytes start that belong to the region and were not written to it yet. */
    let regionFrom = -1;
    /** Plain lines before this position stay in the open region (a quote follows soon). */
    let keepRegionUntil = -1;
    const writeRegion = async (to: number) => {
      if (regionFrom >= 0 && to > regionFrom) await this.region!.write(data.subarray(regionFrom, to));
      regionFrom = -1;
    };

    while (position < data.length && !this.broken) {
      const newline = data.indexOf(LF, position);
      if (newline < 0 && !final) break;
      const end = newline < 0 ? data.length : newline + 1;
      if (quote >= 0 && quote < position) quote = data.indexOf(QUOTE, position);
      let quotes = 0;
      if (quote >= 0 && quote < end) {
        for (let i = quote; i < end; i++) if (data[i] === QUOTE) quotes++;
        quote = data.indexOf(QUOTE, end);
      }
      const plain = quotes === 0 && end - position <= LONGEST_PLAIN_LINE + 2 && !this.lineInRegion;
      // A plain line after a region ends it, unless another quote follows within a few lines:
      // a parser costs about as much as reading six plain lines through it.
      if (this.region && plain && !this.quotedFieldOpen && position >= keepRegionUntil) {
        if (quote >= 0 && linesBetween(data, position, quote, PLAIN_RUN) < PLAIN_RUN) {
          keepRegionUntil = quote;
        } else {
          await writeRegion(position);
          await this.closeRegion();
          if (this.broken) return;
        }
      }
      if (this.region || !plain) {
        if (!this.region) this.openRegion();
        if (regionFrom < 0) regionFrom = position;
        if (quotes % 2 === 1) this.quotedFieldOpen = !this.quotedFieldOpen;
        this.lineInRegion = false;
      } else {
        this.plainLine(data, position, end, newline >= 0);
      }
      if (newline >= 0) this.line++;
      position = end;
    }
    await writeRegion(position);
    if (this.broken) return;

    if (position < data.length) {
      const rest = data.subarray(position);
      if (rest.length <= LONGEST_PLAIN_LINE + 2) {
        this.tail = rest;
      } else {
        // A line this long is no plain row; csv-parse reads it as it comes (and bounds it).
        if (!this.region) this.openRegion();
        let count = 0;
        for (let q = rest.indexOf(QUOTE); q >= 0; q = rest.indexOf(QUOTE, q + 1)) count++;
        if (count % 2 === 1) this.quotedFieldOpen = !this.quotedFieldOpen;
        this.lineInRegion = true;
        await this.region!.write(rest);
      }
    }
    // The region ends with the piece when no quoted field is open: the next piece may well be plain.
    if (this.region && !this.quotedFieldOpen && !this.lineInRegion) await this.closeRegion();
  }

  private plainLine(data: Buffer, start: number, end: number, hasNewline: boolean): void {
    let contentEnd = end;
    if (hasNewline) {
      contentEnd--;
      if (contentEnd > start && data[contentEnd - 1] === CR) contentEnd--;
    }
    // Skipped as csv-parse's skip_empty_lines does: only a line with nothing on it.
    if (contentEnd === start) return;
    this.rows.push({ line: this.line, fields: data.toString('utf8', start, contentEnd).split(this.delimiter) });
  }

  private openRegion(): void {
    this.region = new QuotedRegion(this.delimiter, this.line, this.rows, this);
  }

  private async closeRegion(): Promise<void> {
    const region = this.region!;
    this.region = null;
    this.quotedFieldOpen = false;
    await region.end();
  }
}

/**
 * Turns a byte stream into CSV events: first the header (delimiter detected from the first
 * line), then each row with the line it starts on. Quoting is strict (RFC 4180); at the first
 * unparseable spot one `broken` event is given and the rest of the body is only read (so that
 * it is hashed), never parsed. Rows are read one piece of input at a time and only when the
 * rows of the previous piece were taken, so memory stays at one piece however large the file is.
 */
export async function* csvEvents(source: AsyncIterable<Buffer>): AsyncGenerator<CsvEvent> {
  const iterator = source[Symbol.asyncIterator]();
  try {
    // Peek at the first line to choose the delimiter before parsing anything.
    const head: Buffer[] = [];
    let headBytes = 0;
    let ended = false;
    for (;;) {
      const next = await iterator.next();
      if (next.done) {
        ended = true;
        break;
      }
      head.push(next.value);
      headBytes += next.value.length;
      if (next.value.includes(0x0a) || headBytes > MAX_HEADER_BYTES) break;
    }
    const headBuffer = Buffer.concat(head);
    const newline = headBuffer.indexOf(0x0a);
    if ((newline < 0 && !ended) || newline > MAX_HEADER_BYTES) {
      throw new CsvHeaderError(`the first line (the header) is longer than ${MAX_HEADER_BYTES / 1024} KiB`);
    }
    const firstLine = headBuffer
      .subarray(0, newline < 0 ? headBuffer.length : newline)
      .toString('utf8')
      .replace(/^\uFEFF/, '')
      .replace(/\r$/, '');
    const delimiter = detectDelimiter(firstLine);

    const reader = new CsvReader(delimiter);
    await reader.push(headBuffer);
    if (ended) await reader.end();
    let headerSeen = false;
    for (;;) {
      const rows = reader.take();
      if (rows.length > 0) {
        if (!headerSeen) {
          headerSeen = true;
          yield { kind: 'header', columns: rows.shift()!.fields.map((c) => c.trim()), delimiter };
        }
        if (rows.length > 0) yield { kind: 'rows', rows };
      }
      if (reader.broken) {
        if (!headerSeen) throw new CsvHeaderError(`the header cannot be parsed: ${reader.broken.detail}`);
        yield { kind: 'broken', line: reader.broken.line, detail: reader.broken.detail };
        // Read the rest without parsing: it still counts against the size limit and the hash.
        for (;;) if ((await iterator.next()).done) break;
        return;
      }
      if (ended) break;
      const next = await iterator.next();
      if (next.done) {
        ended = true;
        await reader.end();
      } else {
        await reader.push(next.value);
      }
    }
    if (!headerSeen) yield { kind: 'header', columns: [], delimiter };
  } finally {
    await iterator.return?.();
  }
}
