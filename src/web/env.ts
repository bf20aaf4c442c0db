import type { Context } from 'hono';
import type { ApiEnv } from '../api/env.js';
import type { WebSession } from '../db/webSessions.js';

/**
 * The web pages run in the same app as the API and see the same variables (ctx, requestId and,
 * once signed in, the actor of the session's API key), plus the session itself. Because the
 * actor is set the same way, the API's helpers (audit, canSeeMunicipality) work unchanged.
 */
export interface WebEnv {
  Variables: ApiEnv['Variables'] & {
    session: WebSession;
  };
}

export type WebContext = Context<WebEnv>;

/** The API's audit() and origin() take an API context; a web context carries the same variables. */
export function asApiContext(c: WebContext): Context<ApiEnv> {
  return c as unknown as Context<ApiEnv>;
}
