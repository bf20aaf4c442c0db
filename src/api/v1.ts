import { OpenAPIHono, type Hook } from '@hono/zod-openapi';
import { toPointer } from '../domain/signal.js';
import type { ApiApp, ApiEnv } from './env.js';
import { problem } from './problem.js';
import { registerApiKeyRoutes } from './routes/apiKeys.js';
import { registerAuditRoutes } from './routes/auditEvents.js';
import { registerRuleSetRoutes } from './routes/ruleSets.js';
import { registerMunicipalityRoutes } from './routes/municipalities.js';
import { registerSignalRoutes } from './routes/signals.js';
import { registerTaskRoutes } from './routes/tasks.js';
import { registerTaskWorkRoutes } from './routes/taskWork.js';
import { registerMonitoringRoutes } from './routes/monitoring.js';
import { registerDdasRoutes } from './routes/ddas.js';

/** Validation failures of zod-openapi routes become one 400 problem with a pointer per error. */
export const validationHook: Hook<unknown, ApiEnv, string, unknown> = (result) => {
  if (!result.success) {
    const target = (result as { target?: string }).target;
    const prefix = target === 'query' || target === 'param' || target === 'header' ? `/${target}` : '';
    // An unknown property gets its own pointer ('/extra'), as in signal intake, not its object's.
    const errors = result.error.issues.flatMap((issue) =>
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => ({ pointer: prefix + toPointer([...issue.path, key]), detail: 'unknown property' }))
        : [{ pointer: prefix + toPointer(issue.path), detail: issue.message }],
    );
    throw problem.badRequest(`The request ${target === 'json' ? 'body' : (target ?? 'input')} is not valid`, errors);
  }
};

/**
 * The /v1 API: every route of the versioned API is registered here, once, both for serving and
 * for generating the OpenAPI document. `middleware` runs before any route (auth, rate limits).
 */
export function buildV1(middleware?: (v1: ApiApp) => void): ApiApp {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the hook is generic over every route's schemas
  const v1 = new OpenAPIHono<ApiEnv>({ defaultHook: validationHook as Hook<any, ApiEnv, any, any> });
  v1.openAPIRegistry.registerComponent('securitySchemes', 'apiKey', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API key created with `vroegsein keys create` or POST /v1/api-keys',
  });
  middleware?.(v1);
  registerMunicipalityRoutes(v1);
  registerApiKeyRoutes(v1);
  registerSignalRoutes(v1);
  // The fixed paths /tasks/queue and /tasks/claim go before /tasks/{id}, which would match them.
  registerTaskWorkRoutes(v1);
  registerTaskRoutes(v1);
  registerMonitoringRoutes(v1);
  registerDdasRoutes(v1);
  registerAuditRoutes(v1);
  registerRuleSetRoutes(v1);
  return v1;
}
