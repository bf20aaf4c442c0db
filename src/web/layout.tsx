import type { Child } from 'hono/jsx';
import type { Actor, Role } from '../domain/apiKey.js';
import type { WebContext } from './env.js';
import { ROLE_LABELS } from './labels.js';

/**
 * The page frame: skip link, header with the navigation of the signed-in role, main content,
 * and the scripts (all served from /web/assets, from installed packages). Pages work without
 * the scripts; htmx and the chart script only make them nicer.
 */

export interface NavItem {
  href: string;
  label: string;
  roles: readonly Role[];
}

export const NAV: readonly NavItem[] = [
  { href: '/web/queue', label: 'Mijn werkvoorraad', roles: ['consultant', 'coordinator'] },
  { href: '/web/overview', label: 'Overzicht', roles: ['coordinator', 'admin'] },
  { href: '/web/rules', label: 'Regels', roles: ['coordinator', 'admin'] },
  { href: '/web/teams', label: 'Teams', roles: ['coordinator', 'admin'] },
  { href: '/web/upload', label: 'Aanleveren', roles: ['integrator', 'admin'] },
];

const HOME: Record<Role, string> = { consultant: '/web/queue', coordinator: '/web/overview', integrator: '/web/upload', admin: '/web/overview' };

/** Where a role lands after signing in. */
export function homeOf(role: Role): string {
  return HOME[role];
}

export interface PageProps {
  title: string;
  /** The signed-in actor; absent on the sign-in and error pages before sign-in. */
  actor?: Actor | undefined;
  csrf?: string | undefined;
  /** The nav item to mark as current. */
  current?: string | undefined;
  /** Extra scripts of this page (file names under /web/assets/). */
  scripts?: readonly string[];
  children?: Child;
}

/** A hidden CSRF field: every POST form of a signed-in page carries one. */
export function CsrfField(props: { token: string }) {
  return <input type="hidden" name="_csrf" value={props.token} />;
}

export function Page(props: PageProps) {
  const nav = props.actor ? NAV.filter((item) => item.roles.includes(props.actor!.role)) : [];
  return (
    <html lang="nl">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        {/* htmx: no injected indicator style (our CSS has it), and no settle step, which copies
            style attributes onto swapped-in elements: the CSP allows no inline style. */}
        <meta name="htmx-config" content='{"includeIndicatorCSS": false, "defaultSettleDelay": 0}' />
        <title>{`${props.title} · vroegsein`}</title>
        {/* No favicon request (it would 404 in every log): an empty inline icon. */}
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href="/web/assets/app.css" />
        <script src="/web/assets/htmx.min.js" defer></script>
        <script src="/web/assets/app.js" defer></script>
        {(props.scripts ?? []).map((name) => (
          <script src={`/web/assets/${name}`} defer></script>
        ))}
      </head>
      <body>
        <a class="skip-link" href="#inhoud">
          Naar de inhoud
        </a>
        <header class="site-header">
          <div class="brand">
            <a href={props.actor ? homeOf(props.actor.role) : '/web/sign-in'}>vroegsein</a>
            <span class="brand-sub">vroegsignalering schulden</span>
          </div>
          {nav.length > 0 && (
            <nav aria-label="Hoofdmenu">
              <ul>
                {nav.map((item) => (
                  <li>
                    <a href={item.href} aria-current={props.current === item.href ? 'page' : undefined}>
                      {item.label}
                    </a>
                  </li>
                ))}
              </ul>
            </nav>
          )}
          {props.actor && (
            <div class="who">
              <span>
                {props.actor.label} <span class="muted">({ROLE_LABELS[props.actor.role]}{props.actor.municipality ? `, gemeente ${props.actor.municipality}` : ''})</span>
              </span>
              {props.csrf && (
                <form method="post" action="/web/sign-out" class="inline">
                  <CsrfField token={props.csrf} />
                  <button type="submit" class="link-button">
                    Afmelden
                  </button>
                </form>
              )}
            </div>
          )}
        </header>
        <main id="inhoud" tabindex={-1}>
          {props.children}
        </main>
        <footer class="site-footer">
          <p>vroegsein — open source, EUPL-1.2</p>
        </footer>
      </body>
    </html>
  );
}

/** A message box: role=status for confirmations, role=alert for errors. */
export function Notice(props: { kind: 'ok' | 'error' | 'info'; children?: Child; id?: string }) {
  return (
    <div class={`notice notice-${props.kind}`} role={props.kind === 'error' ? 'alert' : 'status'} id={props.id}>
      {props.children}
    </div>
  );
}

/**
 * A table that may scroll sideways on a narrow screen. The scrolling box is focusable and named,
 * so keyboard users can scroll it too (WCAG 2.1.1).
 */
export function TableWrap(props: { label: string; children?: Child }) {
  return (
    <div class="table-wrap" tabindex={0} role="region" aria-label={props.label}>
      {props.children}
    </div>
  );
}

/** Renders a page with the headers every page gets: no caching (personal data), a strict CSP. */
export async function render(c: WebContext, page: Child, status: 200 | 201 | 400 | 401 | 403 | 404 | 409 | 413 | 422 | 429 | 500 | 503 = 200): Promise<Response> {
  // A JSX element renders to a string, or a promise of one when a component is async.
  const html = String(await (page as { toString(): string | Promise<string> }).toString());
  return c.html(`<!doctype html>${html}`, status, PAGE_HEADERS);
}

/**
 * Scripts and styles only from this server, no inline script or style (the pages have none);
 * forms post only here; no framing. Chart.js sizes its canvas through the CSSOM, which a CSP
 * does not govern.
 */
export const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "frame-ancestors 'none'",
  "base-uri 'self'",
  "form-action 'self'",
].join('; ');

export const PAGE_HEADERS = { 'Cache-Control': 'no-store', 'Content-Security-Policy': PAGE_CSP };
