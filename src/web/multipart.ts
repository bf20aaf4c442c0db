/**
 * A streaming reader of multipart/form-data (RFC 7578), just enough for the upload form: small
 * text fields and one file, read in the order the browser sends them (document order). The
 * file's bytes are handed on as they arrive, never collected: a CSV of hundreds of megabytes
 * goes straight into the streamed intake. (Request.formData() would hold it all in memory.)
 */

export class MultipartError extends Error {}

export interface Part {
  name: string;
  filename: string | null;
  contentType: string | null;
  /** The part's bytes. Read it to its end (or stop the reader) before asking for the next part. */
  body: AsyncGenerator<Buffer>;
}

const CRLF = Buffer.from('\r\n');
const MAX_HEADER_BYTES = 16 * 1024;

/** The boundary of a `multipart/form-data; boundary=…` content type, or null. */
export function boundaryOf(contentType: string | undefined): string | null {
  if (!contentType || !/^multipart\/form-data\s*;/i.test(contentType)) return null;
  const match = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(contentType);
  return match ? (match[1] ?? match[2] ?? null) : null;
}

function parseHeaders(block: string): { name: string; filename: string | null; contentType: string | null } {
  let name: string | null = null;
  let filename: string | null = null;
  let contentType: string | null = null;
  for (const line of block.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (key === 'content-disposition') {
      name = /;\s*name="([^"]*)"/i.exec(value)?.[1] ?? null;
      filename = /;\s*filename="([^"]*)"/i.exec(value)?.[1] ?? null;
    } else if (key === 'content-type') {
      contentType = value;
    }
  }
  if (name === null) throw new MultipartError('a part has no name');
  return { name, filename, contentType };
}

/**
 * The parts of a multipart body, one after the other. The reader keeps at most one chunk plus
 * the length of the delimiter in memory.
 */
export async function* readParts(source: AsyncIterable<Uint8Array>, boundary: string): AsyncGenerator<Part> {
  const iterator = source[Symbol.asyncIterator]();
  // The delimiter between parts is CRLF "--" boundary; the first one may lack the CRLF.
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  let buffer: Buffer = Buffer.from(CRLF); // so the first delimiter looks like the others
  let ended = false;

  const pull = async (): Promise<boolean> => {
    if (ended) return false;
    const next = await iterator.next();
    if (next.done) {
      ended = true;
      return false;
    }
    buffer = buffer.length === 0 ? Buffer.from(next.value) : Buffer.concat([buffer, next.value]);
    return true;
  };

  try {
    // Preamble: up to the first delimiter.
    for (;;) {
      const at = buffer.indexOf(delimiter);
      if (at >= 0) {
        buffer = buffer.subarray(at + delimiter.length);
        break;
      }
      buffer = buffer.subarray(Math.max(0, buffer.length - delimiter.length));
      if (!(await pull())) throw new MultipartError('no multipart boundary found');
    }
    for (;;) {
      // After a delimiter: "--" ends the body, CRLF starts a part's headers.
      while (buffer.length < 2) if (!(await pull())) throw new MultipartError('the body ends inside a delimiter');
      if (buffer[0] === 0x2d && buffer[1] === 0x2d) return;
      let headerEnd = buffer.indexOf('\r\n\r\n');
      while (headerEnd < 0) {
        if (buffer.length > MAX_HEADER_BYTES) throw new MultipartError('part headers too long');
        if (!(await pull())) throw new MultipartError('the body ends inside part headers');
        headerEnd = buffer.indexOf('\r\n\r\n');
      }
      const headers = parseHeaders(buffer.subarray(2, headerEnd).toString('utf8'));
      buffer = buffer.subarray(headerEnd + 4);

      let done = false;
      const body = async function* (): AsyncGenerator<Buffer> {
        for (;;) {
          const at = buffer.indexOf(delimiter);
          if (at >= 0) {
            if (at > 0) yield buffer.subarray(0, at);
            buffer = buffer.subarray(at + delimiter.length);
            done = true;
            return;
          }
          // Everything but a possible start of the delimiter can go on now.
          const safe = buffer.length - (delimiter.length - 1);
          if (safe > 0) {
            const out = buffer.subarray(0, safe);
            buffer = buffer.subarray(safe);
            yield out;
          }
          if (!(await pull())) throw new MultipartError('the body ends inside a part');
        }
      };
      const part: Part = { ...headers, body: body() };
      yield part;
      // The consumer may have skipped the body, or stopped reading it part-way: read past it.
      while (!done) {
        const at = buffer.indexOf(delimiter);
        if (at >= 0) {
          buffer = buffer.subarray(at + delimiter.length);
          done = true;
        } else {
          buffer = buffer.subarray(Math.max(0, buffer.length - (delimiter.length - 1)));
          if (!(await pull())) throw new MultipartError('the body ends inside a part');
        }
      }
    }
  } finally {
    await iterator.return?.();
  }
}

/** A small text part, at most `maxBytes`. */
export async function readField(part: Part, maxBytes = 4096): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of part.body) {
    size += chunk.length;
    if (size > maxBytes) throw new MultipartError(`field ${part.name} is too long`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
