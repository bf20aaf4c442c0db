import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { findLiveWebSession, touchWebSession } from '../db/webSessions.js';
import type { WebContext, WebEnv } from './env.js';
import { WebError } from './errors.js';
import { readForm } from './form.js';

/**
 * Sessions of the web pages. Signing in with an API key creates a row in web_sessions and gives
 * the browser a random token in an HttpOnly, SameSite=Strict cookie (Secure, with the __Host-
 * prefix, when the page is served over https). The database keeps only the token's hash; the
 * API key is used once, at sign-in, and never stored in the browser.
 *
 * CSRF: every session has a random secret, rendered into each form as a hidden `_csrf` field
 * and compared on every POST (SameSite=Strict alone does not cover older browsers or
 * same-site subdomains). The sign-in form, which has no session yet, uses a double-submit
 * cookie instead. Cross-site requests are also refused by Origin / Sec-Fetch-Site.
 */

/** A session ends after this long, however active (a working day and then some). */
export const SESSION_MAX_SECONDS = 10 * 60 * 60;
/** …or after this long without a request (a laptop left open at the office). */
export const SESSION_IDLE_SECONDS = 60 * 60;
/** The idle clock is moved at most this often, so reading pages is not a write per request. */
const TOUCH_EVERY_MS = 60_000;

const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Whether the browser talks https to us (directly, through a trusted proxy, or by PUBLIC_URL). */
export function isSecure(c: WebContext): boolean {
  const config = c.get('ctx').config;
  if (config.PUBLIC_URL?.startsWith('https:')) return true;
  if (config.TRUST_PROXY && c.req.header('x-forwarded-proto')?.split(',')[0]?.trim() === 'https') return true;
  return new URL(c.req.url).protocol === 'https:';
}

// The __Host- prefix pins a cookie to this host and path / (browsers enforce it), but needs
// Secure: over plain http (a laptop install, the tests) the plain names are used.
const sessionCookie = (c: WebContext) => (isSecure(c) ? '__Host-vs_session' : 'vs_session');
const signInCookie = (c: WebContext) => (isSecure(c) ? '__Host-vs_signin' : 'vs_signin');

function cookieOptions(c: WebContext, maxAge: number) {
  return { path: '/', httpOnly: true, secure: isSecure(c), sameSite: 'Strict' as const, maxAge };
}

export function setSessionCookie(c: WebContext, token: string): void {
  setCookie(c, sessionCookie(c), token, cookieOptions(c, SESSION_MAX_SECONDS));
}

export function clearSessionCookie(c: WebContext): void {
  deleteCookie(c, sessionCookie(c), { path: '/', secure: isSecure(c) });
}

export function sessionToken(c: WebContext): string | null {
  const token = getCookie(c, sessionCookie(c));
  return token && TOKEN_PATTERN.test(token) ? token : null;
}

/** The sign-in form's double-submit token: in a cookie and in the form; both must match. */
export function issueSignInToken(c: WebContext): string {
  const existing = getCookie(c, signInCookie(c));
  const token = existing && TOKEN_PATTERN.test(existing) ? existing : newToken();
  setCookie(c, signInCookie(c), token, cookieOptions(c, 60 * 60));
  return token;
}

export function checkSignInToken(c: WebContext, submitted: unknown): void {
  const cookie = getCookie(c, signInCookie(c));
  if (typeof submitted !== 'string' || !cookie || !sameSecret(submitted, cookie)) {
    throw new WebError(403, 'Het aanmeldformulier is verlopen. Laad de pagina opnieuw en meld u opnieuw aan.');
  }
}

export function clearSignInToken(c: WebContext): void {
  deleteCookie(c, signInCookie(c), { path: '/', secure: isSecure(c) });
}

/** A relative path on this site to return to after sign-in; anything else goes home. */
export function safeNext(next: unknown): string | null {
  if (typeof next !== 'string' || !next.startsWith('/web/') || next.startsWith('//') || /[\\\s]/.test(next)) return null;
  return next.length <= 500 ? next : null;
}

function toSignIn(c: WebContext): Response {
  const path = new URL(c.req.url).pathname + new URL(c.req.url).search;
  const target = c.req.method === 'GET' && safeNext(path) ? `/web/sign-in?next=${encodeURIComponent(path)}` : '/web/sign-in';
  // htmx follows redirects inside fetch and would swap the sign-in page into a fragment.
  if (c.req.header('hx-request')) return c.body(null, 200, { 'HX-Redirect': target });
  return c.redirect(target, 303);
}

/**
 * Resolves the session cookie to a session and its key's actor, or sends the browser to the
 * sign-in page. The actor is read fresh from api_keys: a revoked key stops here.
 */
export const requireSession: MiddlewareHandler<WebEnv> = async (c, next) => {
  const ctx = c.get('ctx');
  const token = sessionToken(c);
  const now = ctx.now();
  const session = token ? await findLiveWebSession(ctx.pool, hashToken(token), now, SESSION_IDLE_SECONDS) : null;
  if (!session) {
    if (token) clearSessionCookie(c);
    return toSignIn(c);
  }
  c.set('session', session);
  c.set('actor', session.actor);
  if (now.getTime() - session.lastSeenAt.getTime() > TOUCH_EVERY_MS) await touchWebSession(ctx.pool, session.id, now);
  await next();
};

/** The host the browser addressed: what a same-origin request's Origin must name. */
function expectedHost(c: WebContext): string | undefined {
  if (c.get('ctx').config.TRUST_PROXY) {
    const forwarded = c.req.header('x-forwarded-host')?.split(',')[0]?.trim();
    if (forwarded) return forwarded;
  }
  return c.req.header('host') ?? new URL(c.req.url).host;
}

/** Refuses requests a browser marks as coming from another site. */
export function checkSameOrigin(c: WebContext): void {
  const site = c.req.header('sec-fetch-site');
  if (site && site !== 'same-origin' && site !== 'none') throw new WebError(403, 'Dit verzoek kwam niet van deze site en is geweigerd.');
  const origin = c.req.header('origin');
  if (origin && origin !== 'null') {
    let host: string | null;
    try {
      host = new URL(origin).host;
    } catch {
      host = null;
    }
    if (host !== expectedHost(c)) throw new WebError(403, 'Dit verzoek kwam niet van deze site en is geweigerd.');
  }
}

/** Throws 403 unless `submitted` is this session's CSRF secret. */
export function checkCsrfToken(c: WebContext, submitted: unknown): void {
  if (typeof submitted !== 'string' || !sameSecret(submitted, c.get('session').csrfSecret)) {
    throw new WebError(403, 'Het formulier is verlopen of niet van deze site. Laad de pagina opnieuw en probeer het nog eens.');
  }
}

/**
 * CSRF check of every POST of a signed-in page: same origin, and the `_csrf` form field (or the
 * X-CSRF-Token header) equal to the session's secret. Routes in `streamed` read their body as a
 * stream and check the field themselves (the file upload: parsing it here would buffer the file).
 */
export function verifyCsrf(streamed: ReadonlySet<string>): MiddlewareHandler<WebEnv> {
  return async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    checkSameOrigin(c);
    if (streamed.has(c.req.path)) return next();
    let token: unknown = c.req.header('x-csrf-token');
    if (token === undefined) {
      const type = (c.req.header('content-type') ?? '').toLowerCase();
      if (type.startsWith('application/x-www-form-urlencoded') || type.startsWith('multipart/form-data')) {
        token = (await readForm(c))['_csrf'];
      }
    }
    checkCsrfToken(c, token);
    await next();
  };
}
