import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppContext } from '../context.js';
import type { Actor } from '../domain/apiKey.js';

export interface ApiEnv {
  Variables: {
    ctx: AppContext;
    requestId: string;
    /** Set by the auth middleware on every /v1 route. */
    actor: Actor;
  };
}

export type ApiApp = OpenAPIHono<ApiEnv>;

/** The API's version, sent as `API-Version` on every response (NL API Design Rules). */
export const API_VERSION = '1.0.0';
