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

/**
 * Turns a byte stream into CSV events: first the header (delimiter detected from the first
 * line), then each row with the line it starts on. Quoting is strict (RFC 4180); at the first
 * unparseable spot one `broken` event is given and the rest of the body is only read (so that
 * it is hashed), never parsed. The parser is fed one chunk at a time and only when the rows of
 * the previous chunk were taken, so memory stays at one chunk however large the file is.
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

    let queue: CsvRow[] = [];
    // Line numbers are counted here: csv-parse's own count takes a CRLF inside a quoted field
    // for two lines. A row starts on the line after the previous row's last line, plus the
    // empty lines skipped in between.
    let nextLine = 1;
    let previousEmptyLines = 0;
    let broken: { line: number; detail: string } | null = null;
    const parser = parse({
      delimiter,
      // Both, so that a file whose lines end differently here and there is still read right.
      record_delimiter: ['\r\n', '\n'],
      bom: true,
      relax_column_count: true, // a row with the wrong number of fields is rejected as a row, not the whole file
      skip_empty_lines: true,
      skip_records_with_error: true, // errors come to on_skip in order with the rows, instead of destroying the stream
      max_record_size: MAX_RECORD_BYTES,
      // Rows are taken here, synchronously and in file order, and not pushed into the stream.
      on_record: (record: string[], context) => {
        const line = nextLine + (context.empty_lines - previousEmptyLines);
        previousEmptyLines = context.empty_lines;
        nextLine = line + 1 + lineBreaksIn(record);
        if (!broken) queue.push({ line, fields: record });
        return null;
      },
      on_skip: (error) => {
        const emptyLines = (error as { empty_lines?: number } | undefined)?.empty_lines ?? previousEmptyLines;
        broken ??= { line: nextLine + (emptyLines - previousEmptyLines), detail: describeCsvError(error) };
        return undefined;
      },
    });
    let parserError: Error | null = null;
    parser.on('error', (error) => {
      parserError = error;
    });
    parser.resume();
    const feed = (buffer: Buffer) =>
      new Promise<void>((resolve) => {
        parser.write(buffer, (error) => {
          if (error) broken ??= { line: nextLine, detail: describeCsvError(error as CsvError) };
          resolve();
        });
      });
    const end = () => new Promise<void>((resolve) => parser.end(() => resolve()));

    await feed(headBuffer);
    if (ended) await end();
    let headerSeen = false;
    for (;;) {
      if (queue.length > 0) {
        const rows = queue;
        queue = [];
        if (!headerSeen) {
          headerSeen = true;
          yield { kind: 'header', columns: rows.shift()!.fields.map((c) => c.trim()), delimiter };
        }
        if (rows.length > 0) yield { kind: 'rows', rows };
      }
      const stop: { line: number; detail: string } | null = broken ?? (parserError ? { line: nextLine, detail: describeCsvError(undefined) } : null);
      if (stop) {
        if (!headerSeen) throw new CsvHeaderError(`the header cannot be parsed: ${stop.detail}`);
        yield { kind: 'broken', line: stop.line, detail: stop.detail };
        // Read the rest without parsing: it still counts against the size limit and the hash.
        for (;;) if ((await iterator.next()).done) break;
        return;
      }
      if (ended) break;
      const next = await iterator.next();
      if (next.done) {
        ended = true;
        await end();
      } else {
        await feed(next.value);
      }
    }
    if (!headerSeen) yield { kind: 'header', columns: [], delimiter };
  } finally {
    await iterator.return?.();
  }
}
