import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { ApiEnv } from '../api/env.js';
import type { AppContext } from '../context.js';
import { registerAssets } from './assets.js';
import type { WebEnv } from './env.js';
import { notFound, renderError, WebError } from './errors.js';
import { homeOf } from './layout.js';
import { registerHouseholdPages } from './pages/household.js';
import { registerOverviewPages } from './pages/overview.js';
import { registerQueuePages } from './pages/queue.js';
import { registerRulePages } from './pages/rules.js';
import { registerSignInPages, registerSignOut } from './pages/signIn.js';
import { registerTeamPages } from './pages/teams.js';
import { registerUploadPages, UPLOAD_PATH } from './pages/upload.js';
import { requireSession, verifyCsrf } from './session.js';

/**
 * The web pages for consultants, coordinators and integrators, under /web. Server-rendered
 * (hono/jsx), in Dutch, usable without JavaScript; htmx and Chart.js make them nicer where
 * scripts run. Handlers are thin: they call the same services with the same actor and scoping
 * as the /v1 API, and audit reads of personal data the same way.
 */

/** Form posts other than the streamed upload are small: a rule set is the largest. */
const MAX_FORM_BYTES = 2 * 1024 * 1024;

export function buildWebPages(_ctx: AppContext): Hono<WebEnv> {
  const web = new Hono<WebEnv>();
  web.onError((error, c) => renderError(error, c));

  registerAssets(web);
  registerSignInPages(web);

  web.use('*', requireSession);
  web.use('*', async (c, next) => {
    if (c.req.method !== 'POST' || c.req.path === UPLOAD_PATH) return next();
    return bodyLimit({ maxSize: MAX_FORM_BYTES, onError: (c) => renderError(new WebError(413, 'Het formulier is te groot.'), c) })(c, next);
  });
  web.use('*', verifyCsrf(new Set([UPLOAD_PATH])));

  web.get('/', (c) => c.redirect(homeOf(c.get('actor').role), 303));
  registerSignOut(web);
  registerQueuePages(web);
  registerHouseholdPages(web);
  registerOverviewPages(web);
  registerRulePages(web);
  registerTeamPages(web);
  registerUploadPages(web);

  // Within /web an unknown path is a page-style 404, not the API's problem+json. ('/web/' with
  // its slash is the home page too: the route above matches '/web' only.)
  web.all('*', (c) => {
    if (c.req.path === '/web/' && c.req.method === 'GET') return c.redirect(homeOf(c.get('actor').role), 303);
    throw notFound();
  });
  return web;
}

/** Mounts the pages at /web. The sub-app has its own error page and its own catch-all 404. */
export function registerWebPages(app: OpenAPIHono<ApiEnv>, ctx: AppContext): void {
  app.route('/web', buildWebPages(ctx) as unknown as Hono<ApiEnv>);
}
