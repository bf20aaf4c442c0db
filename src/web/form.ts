import type { Context } from 'hono';
import { WebError } from './errors.js';

export type Form = Record<string, string | File | (string | File)[]>;

/**
 * The submitted form (urlencoded or multipart). A body that cannot be read as the form its
 * Content-Type announces — a multipart body without its boundaries, say — is the sender's
 * mistake: a 400 page, not a failure of ours. Hono keeps the parsed body, so the CSRF check and
 * the handler read it once.
 */
export async function readForm(c: Context): Promise<Form> {
  try {
    return await c.req.parseBody();
  } catch {
    throw new WebError(400, 'Het formulier kon niet worden gelezen. Laad de pagina opnieuw en probeer het nog eens.');
  }
}
