import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';

/** One row of COPY's text format: its columns, null for `\N`. */
export type CopyFields = (string | null)[];

const SIMPLE_ESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' };

/**
 * A column value of COPY's text format: `\N` is null; otherwise backslash sequences are undone
 * (`\n`, `\t`, `\\`, …, octal `\123` and hex `\x41`), as PostgreSQL documents for COPY TO.
 */
export function copyTextValue(raw: string): string | null {
  if (raw === '\\N') return null;
  if (!raw.includes('\\')) return raw;
  return raw.replace(/\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)/g, (_, sequence: string) => {
    if (sequence[0] === 'x' && sequence.length > 1) return String.fromCharCode(Number.parseInt(sequence.slice(1), 16));
    if (/^[0-7]/.test(sequence)) return String.fromCharCode(Number.parseInt(sequence, 8));
    return SIMPLE_ESCAPES[sequence] ?? sequence;
  });
}

/**
 * Reads the rows of a `COPY … TO STDOUT` stream (text format) a batch at a time, so that a
 * caller walks them synchronously and only waits when a batch is used up: the rows of a large
 * export are parsed with `split`, far cheaper than the driver's row-by-row parsing.
 */
export class CopyTextRows {
  private readonly chunks: AsyncIterator<Buffer>;
  private readonly decoder = new StringDecoder('utf8');
  private rows: CopyFields[] = [];
  private at = 0;
  private rest = '';
  private ended = false;

  constructor(stream: Readable) {
    this.chunks = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  /** The current row, or undefined when the batch is used up (then call {@link more}). */
  current(): CopyFields | undefined {
    return this.rows[this.at];
  }

  /** Moves past the current row. */
  advance(): void {
    this.at++;
  }

  /** Loads the next batch of rows; false at the end of the stream. */
  async more(): Promise<boolean> {
    while (this.at >= this.rows.length) {
      if (this.ended) return false;
      const { value, done } = await this.chunks.next();
      const text = done ? this.rest + this.decoder.end() : this.rest + this.decoder.write(value);
      if (done) this.ended = true;
      const lines = text.split('\n');
      this.rest = done ? '' : lines.pop()!;
      this.rows = [];
      this.at = 0;
      for (const line of lines) {
        if (line === '') continue; // the rows read here have several columns: an empty line is no row
        const fields: CopyFields = line.split('\t');
        for (let i = 0; i < fields.length; i++) {
          const raw = fields[i]!;
          if (raw.includes('\\')) fields[i] = copyTextValue(raw);
        }
        this.rows.push(fields);
      }
    }
    return true;
  }

  /** Whether every row has been read. */
  get exhausted(): boolean {
    return this.ended && this.at >= this.rows.length;
  }

  /** The current row, loading the next batch when needed; undefined at the end. */
  async peek(): Promise<CopyFields | undefined> {
    return this.current() ?? ((await this.more()) ? this.current() : undefined);
  }
}
