/**
 * The CSV reader as it was before quote-free lines got their own fast path in
 * src/services/intakeCsv.ts: every byte through one streaming csv-parse. Kept as the oracle of
 * a differential property test (test/unit/csv-reader.test.ts); never used by the application.
 */
import { parse, type CsvError } from 'csv-parse';
import { CsvHeaderError, detectDelimiter, MAX_HEADER_BYTES, MAX_RECORD_BYTES, type CsvEvent, type CsvRow } from '../../src/services/intakeCsv.js';

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
export async function* csvEventsReference(source: AsyncIterable<Buffer>): AsyncGenerator<CsvEvent> {
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
