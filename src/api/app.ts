import { OpenAPIHono } from '@hono/zod-openapi';
import { HTTPException } from 'hono/http-exception';
import { requestId } from 'hono/request-id';
import { routePath } from 'hono/route';
import { secureHeaders } from 'hono/secure-headers';
import { cors } from 'hono/cors';
import type { AppContext } from '../context.js';
import { isDatabaseUnavailable } from '../db/pool.js';
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

  app.onError((error, c) => {
    let problemError: ProblemError;
    if (error instanceof ProblemError) problemError = error;
    else if (error instanceof HTTPException) problemError = new ProblemError(error.status, error.message || 'Request refused');
    else if (error instanceof SyntaxError) problemError = problem.badRequest('The request body is not valid JSON');
    else if (isDatabaseUnavailable(error)) problemError = problem.unavailable();
    else {
      // Details stay in the log (with the request id); the client gets no stack trace or SQL.
      ctx.logger.error({ err: error, requestId: c.get('requestId') }, 'unhandled error');
      problemError = new ProblemError(500, `Something went wrong; quote request id ${c.get('requestId')}`);
    }
    const headers: Record<string, string> = { 'Content-Type': 'application/problem+json', 'API-Version': API_VERSION, ...(problemError.options.headers ?? {}) };
    return new Response(JSON.stringify(problemBody(problemError, c.req.path)), { status: problemError.status, headers });
  });
  app.notFound(() => {
    throw problem.notFound('No such endpoint');
  });

  registerOpsRoutes(app, ctx);

  const v1 = buildV1((api) => {
    api.use('*', authenticate);
    api.use('*', rateLimit(ctx.config.RATE_LIMIT_PER_MINUTE, ctx.now));
  });
  app.route('/v1', v1);
  registerWebPages(app, ctx);

  return { app, v1 };
}
