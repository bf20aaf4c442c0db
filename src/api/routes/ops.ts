import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppContext } from '../../context.js';
import { collectOperationalMetrics } from '../../services/operationalMetrics.js';
import { API_VERSION, type ApiEnv } from '../env.js';
import { openApiDocument } from '../openapiDocument.js';

/**
 * Operations endpoints, outside the versioned API and without authentication: liveness,
 * readiness, Prometheus metrics, the OpenAPI document and its interactive docs. None of them
 * shows personal data.
 */

const CHECK_TIMEOUT_MS = 3_000;

function within<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.catch(() => fallback),
    new Promise<T>((resolve) => {
      timer = setTimeout(() => resolve(fallback), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

// ---------------------------------------------------------------------------------------------
// Interactive docs: Swagger UI from the installed swagger-ui-dist package. Municipal networks
// are often closed, so nothing is loaded from a CDN; the page, its script and its styles all
// come from this server (which also lets the CSP below be strict: no inline script).

const SWAGGER_UI_DIR = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

const DOCS_ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui.css.map': 'application/json',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui-bundle.js.map': 'application/json',
  'favicon-32x32.png': 'image/png',
  'favicon-16x16.png': 'image/png',
};

// `validatorUrl: null`: by default Swagger UI sends the document to validator.swagger.io.
const DOCS_INIT_JS = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: 'openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
  });
});
`;

// Relative URLs: the page lives at /docs, so they resolve to /docs/assets/... and /openapi.json,
// also behind a reverse proxy that mounts the service under a path prefix.
const DOCS_HTML = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>vroegsein API ${API_VERSION}</title>
  <link rel="stylesheet" href="docs/assets/swagger-ui.css">
  <link rel="icon" type="image/png" href="docs/assets/favicon-32x32.png" sizes="32x32">
  <link rel="icon" type="image/png" href="docs/assets/favicon-16x16.png" sizes="16x16">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="docs/assets/swagger-ui-bundle.js"></script>
  <script src="docs/assets/init.js"></script>
</body>
</html>
`;

const DOCS_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'", // Swagger UI sets inline styles on its elements
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'self'",
  "form-action 'self'",
].join('; ');

const assetCache = new Map<string, Promise<Uint8Array<ArrayBuffer>>>();

function readAsset(name: string): Promise<Uint8Array<ArrayBuffer>> {
  let cached = assetCache.get(name);
  if (!cached) {
    // A copy into a plain ArrayBuffer (a Buffer may be a view into Node's shared pool).
    cached = readFile(path.join(SWAGGER_UI_DIR, name)).then((buffer) => new Uint8Array(buffer));
    cached.catch(() => assetCache.delete(name));
    assetCache.set(name, cached);
  }
  return cached;
}

export function registerOpsRoutes(app: OpenAPIHono<ApiEnv>, ctx: AppContext): void {
  app.get('/health/live', (c) => c.json({ status: 'up' }, 200, { 'Cache-Control': 'no-store' }));

  app.get('/health/ready', async (c) => {
    const [database, queue] = await Promise.all([
      within(ctx.pool.query('select 1').then(() => true), CHECK_TIMEOUT_MS, false),
      within(ctx.queues.ping(), CHECK_TIMEOUT_MS, false),
    ]);
    const ready = database && queue;
    return c.json(
      { status: ready ? 'up' : 'down', checks: { database: database ? 'up' : 'down', queue: queue ? 'up' : 'down' } },
      ready ? 200 : 503,
      { 'Cache-Control': 'no-store' },
    );
  });

  app.get('/metrics', async (c) => {
    // Gauges that are cheap to read at scrape time; a failing read leaves the last value standing
    // and never fails the scrape (the process metrics are still worth having then).
    await Promise.allSettled([
      // Tasks per municipality and status, evaluation lag, signals per partner type, queue counts.
      collectOperationalMetrics(ctx),
      within(
        ctx.pool.query<{ n: number }>('select count(*)::int as n from evaluation_queue').then((r) => r.rows[0]?.n ?? null),
        CHECK_TIMEOUT_MS,
        null,
      ).then((n) => {
        if (n !== null) ctx.metrics.evaluationPending.set(n);
      }),
    ]);
    return c.body(await ctx.metrics.registry.metrics(), 200, { 'Content-Type': ctx.metrics.registry.contentType, 'Cache-Control': 'no-store' });
  });

  // The document at the root and, as the NL API Design Rules ask (publish-openapi), at the
  // API's base URL. Registered here, before the /v1 routes and their authentication.
  for (const documentPath of ['/openapi.json', '/v1/openapi.json']) {
    app.get(documentPath, (c) => c.json(openApiDocument() as Record<string, unknown>, 200, { 'Cache-Control': 'no-cache' }));
  }

  app.get('/docs', (c) => c.html(DOCS_HTML, 200, { 'Content-Security-Policy': DOCS_CSP, 'Cache-Control': 'no-cache' }));
  app.get('/docs/assets/init.js', (c) =>
    c.body(DOCS_INIT_JS, 200, { 'Content-Type': 'text/javascript; charset=utf-8', 'Content-Security-Policy': DOCS_CSP, 'Cache-Control': 'no-cache' }),
  );
  app.get('/docs/assets/:file', async (c) => {
    const name = c.req.param('file');
    const type = Object.hasOwn(DOCS_ASSETS, name) ? DOCS_ASSETS[name] : undefined;
    if (!type) return c.notFound();
    const body = await readAsset(name);
    return c.body(body, 200, { 'Content-Type': type, 'Cache-Control': 'public, max-age=86400', 'Content-Security-Policy': DOCS_CSP });
  });

  app.get('/', (c) => c.json({ name: 'vroegsein', apiVersion: API_VERSION, api: '/v1', docs: '/docs', openapi: '/openapi.json' }));
}
