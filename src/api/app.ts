import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { requestId } from 'hono/request-id';
import { routePath } from 'hono/route';
import { secureHeaders } from 'hono/secure-headers';
import { cors } from 'hono/cors';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { AppContext } from '../context.js';
import { isDatabaseUnavailable, isUnstorableText } from '../db/pool.js';
import { API_VERSION, type ApiApp, type ApiEnv } from './env.js';
import { authenticate } from './middleware/auth.js';
import { rateLimit } from './middleware/rateLimit.js';
import { ProblemError, problem, problemBody } from './problem.js';
import { registerOpsRoutes } from './routes/ops.js';
import { buildV1 } from './v1.js';
import { registerWebPages } from '../web/index.js';

/** Builds the HTTP application: operations endpoints at the root, the API under /v1. */
export function createApp(ctx: AppContext): { app: OpenAPIHono<ApiEnv>; v1: ApiApp } {
  const app = new OpenAPIHono<ApiEnv>();

  app.use('*', async (c, next) => {
    c.set('ctx', ctx);
    await next();
  });
  app.use('*', requestId({ headerName: 'X-Request-Id' }));
  app.use('*', async (c, next) => {
    const started = performance.now();
    await next();
    c.header('API-Version', API_VERSION);
    const route = routePath(c);
    const seconds = (performance.now() - started) / 1000;
    ctx.metrics.httpRequests.inc({ method: c.req.method, route, status: String(c.res.status) });
    ctx.metrics.httpDuration.observe({ method: c.req.method, route }, seconds);
    // Route templates only: ids are not personal data, and no personal data is ever in a URL.
    // Probes and scrapes arrive every few seconds: they are logged at debug only.
    const level = route.startsWith('/health/') || route === '/metrics' ? 'debug' : 'info';
    ctx.logger[level]({ requestId: c.get('requestId'), method: c.req.method, route, status: c.res.status, ms: Math.round(seconds * 1000) }, 'request');
  });
  app.use('*', secureHeaders({ crossOriginResourcePolicy: 'same-origin' }));
  if (ctx.config.CORS_ORIGINS) {
    app.use('*', cors({ origin: ctx.config.CORS_ORIGINS.split(',').map((o) => o.trim()), exposeHeaders: ['API-Version', 'X-Request-Id', 'Retry-After'] }));
  }

  // The one error path. The answer is built with c.body so that headers prepared before the
  // failure (X-Request-Id) are kept; not-found returns (not throws) so the middleware above
  // still adds its headers (security headers included) on the way out.
  const renderProblem = (error: Error, c: Context<ApiEnv>): Response => {
    let problemError: ProblemError;
    if (error instanceof ProblemError) problemError = error;
    else if (error instanceof HTTPException) problemError = new ProblemError(error.status, error.message || 'Request refused');
    else if (error instanceof SyntaxError) problemError = problem.badRequest('The request body is not valid JSON');
    else if (isDatabaseUnavailable(error)) problemError = problem.unavailable();
    // PostgreSQL refuses NUL (U+0000) in text and jsonb: input no field may hold, so a 400, and
    // the transaction it broke wrote nothing.
    else if (isUnstorableText(error)) problemError = problem.badRequest('Text may not contain the NUL character (U+0000) or bytes that are not UTF-8');
    else {
      // Details stay in the log (with the request id); the client gets no stack trace or SQL.
      ctx.logger.error({ err: error, requestId: c.get('requestId') }, 'unhandled error');
      problemError = new ProblemError(500, `Something went wrong; quote request id ${c.get('requestId')}`);
    }
    const headers: Record<string, string> = { 'Content-Type': 'application/problem+json', 'API-Version': API_VERSION, ...(problemError.options.headers ?? {}) };
    return c.body(JSON.stringify(problemBody(problemError, c.req.path)), problemError.status as ContentfulStatusCode, headers);
  };
  app.onError(renderProblem);
  app.notFound((c) => renderProblem(problem.notFound('No such endpoint'), c));

  registerOpsRoutes(app, ctx);

  // Every request body is held to MAX_BODY_BYTES before a validator reads it whole; signal
  // intake streams its body and applies MAX_BODY_BYTES (JSON) or MAX_CSV_BYTES (CSV) itself.
  const limitBody = bodyLimit({
    maxSize: ctx.config.MAX_BODY_BYTES,
    onError: () => {
      throw problem.tooLarge(`The body is larger than ${ctx.config.MAX_BODY_BYTES} bytes`);
    },
  });
  const v1 = buildV1((api) => {
    // The API's answers carry personal data: no browser or proxy may keep them.
    api.use('*', async (c, next) => {
      await next();
      if (!c.res.headers.has('Cache-Control')) c.header('Cache-Control', 'no-store');
    });
    api.use('*', authenticate);
    api.use('*', rateLimit(ctx.config.RATE_LIMIT_PER_MINUTE, ctx.now));
    api.use('*', (c, next) => (c.req.method === 'POST' && c.req.path === '/v1/signals' ? next() : limitBody(c, next)));
    // A body in another format would validate as `{}`: every /v1 body except signal intake
    // (which also takes CSV) is JSON, and anything else is a 415.
    api.use('*', async (c, next) => {
      const hasBody = (c.req.header('content-length') ?? '0') !== '0' || c.req.header('transfer-encoding') !== undefined;
      const isJson = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(c.req.header('content-type') ?? '');
      if (hasBody && !isJson && c.req.path !== '/v1/signals' && ['POST', 'PUT', 'PATCH'].includes(c.req.method)) {
        throw problem.unsupportedMediaType('The request body must be application/json');
      }
      await next();
    });
  });
  app.route('/v1', v1);
  registerWebPages(app, ctx);

  return { app, v1 };
}
