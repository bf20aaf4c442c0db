import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppContext } from '../../context.js';
import { API_VERSION, type ApiEnv } from '../env.js';
import { openApiDocument } from '../openapiDocument.js';
import { QUEUE_NAMES } from '../../queue/index.js';

/** Liveness, readiness, Prometheus metrics, the OpenAPI document and its interactive docs. */
export function registerOpsRoutes(app: OpenAPIHono<ApiEnv>, ctx: AppContext): void {
  app.get('/health/live', (c) => c.json({ status: 'up' }));

  app.get('/health/ready', async (c) => {
    const [database, queue] = await Promise.all([
      ctx.pool.query('select 1').then(() => true, () => false),
      ctx.queues.ping(),
    ]);
    const ready = database && queue;
    return c.json({ status: ready ? 'up' : 'down', checks: { database: database ? 'up' : 'down', queue: queue ? 'up' : 'down' } }, ready ? 200 : 503);
  });

  app.get('/metrics', async (c) => {
    // Gauges that are cheap to read at scrape time; failures leave the last value standing.
    await Promise.all([
      ...Object.values(QUEUE_NAMES).map(async (name) => {
        const counts = await ctx.queues.queue(name).getJobCounts('waiting', 'active', 'delayed', 'failed');
        for (const [state, count] of Object.entries(counts)) ctx.metrics.queueDepth.set({ queue: name, state }, count);
      }),
      ctx.pool
        .query<{ n: number }>('select count(*)::int as n from households where evaluation_pending_since is not null')
        .then((r) => ctx.metrics.evaluationPending.set(r.rows[0]!.n)),
    ]).catch(() => {});
    return c.text(await ctx.metrics.registry.metrics(), 200, { 'Content-Type': ctx.metrics.registry.contentType });
  });

  app.get('/openapi.json', (c) => c.json(openApiDocument()));

  app.get('/', (c) => c.json({ name: 'vroegsein', apiVersion: API_VERSION, docs: '/docs', openapi: '/openapi.json' }));
}
