import type { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { findActiveKeyByHash } from '../../db/apiKeys.js';
import { recordAudit } from '../../db/audit.js';
import { deleteExpiredWebSessions, deleteWebSession, insertWebSession } from '../../db/webSessions.js';
import { hashApiKey, looksLikeApiKey, sameHash } from '../../domain/apiKey.js';
import { origin } from '../../api/middleware/auth.js';
import { asApiContext, type WebContext, type WebEnv } from '../env.js';
import { renderError, WebError } from '../errors.js';
import { CsrfField, homeOf, Notice, Page, render } from '../layout.js';
import { readForm } from '../form.js';
import {
  SESSION_IDLE_SECONDS,
  SESSION_MAX_SECONDS,
  checkSameOrigin,
  checkSignInToken,
  clearSessionCookie,
  clearSignInToken,
  hashToken,
  issueSignInToken,
  newToken,
  safeNext,
  setSessionCookie,
} from '../session.js';

/**
 * Signing in with an API key (once per session) and signing out. A failed attempt is audited
 * as denied, without the key; a successful one as web.sign-in by the key it used.
 */

function SignInPage(props: { token: string; next: string | null; error?: string | undefined; signedOut?: boolean }) {
  return (
    <Page title="Aanmelden">
      <div class="narrow">
        <h1>Aanmelden</h1>
        {props.signedOut && <Notice kind="ok">U bent afgemeld.</Notice>}
        {props.error && (
          <Notice kind="error" id="sign-in-error">
            {props.error}
          </Notice>
        )}
        <p>Meld u aan met de API-sleutel die u van de beheerder van uw gemeente of organisatie heeft gekregen. U hoeft dat maar één keer per werkdag te doen.</p>
        <form method="post" action="/web/sign-in" class="stack">
          <CsrfField token={props.token} />
          {props.next && <input type="hidden" name="next" value={props.next} />}
          <div class="field">
            <label for="api-key">API-sleutel</label>
            <input
              id="api-key"
              name="apiKey"
              type="password"
              autocomplete="off"
              spellcheck={false}
              required
              aria-describedby={props.error ? 'api-key-hint sign-in-error' : 'api-key-hint'}
              aria-invalid={props.error ? 'true' : undefined}
            />
            <p class="hint" id="api-key-hint">
              Begint met <code>vs_</code>. De sleutel wordt niet in uw browser bewaard.
            </p>
          </div>
          <button type="submit" class="primary">
            Aanmelden
          </button>
        </form>
      </div>
    </Page>
  );
}

async function auditSignIn(c: WebContext, actor: { keyId: string; label: string; municipality: string | null } | null, result: 'success' | 'denied'): Promise<void> {
  await recordAudit(c.get('ctx').pool, {
    actorKeyId: actor?.keyId ?? null,
    actorLabel: actor?.label ?? null,
    action: 'web.sign-in',
    objectType: 'web-session',
    municipality: actor?.municipality ?? null,
    result,
    origin: origin(asApiContext(c)),
    requestId: c.get('requestId'),
  });
}

export function registerSignInPages(web: Hono<WebEnv>): void {
  web.get('/sign-in', async (c) => {
    const token = issueSignInToken(c);
    return render(c, <SignInPage token={token} next={safeNext(c.req.query('next'))} signedOut={c.req.query('signedOut') === '1'} />);
  });

  // A sign-in form is a few hundred bytes; nothing bigger is read before the key is checked.
  web.post('/sign-in', bodyLimit({ maxSize: 16 * 1024, onError: (c) => renderError(new WebError(413, 'Het formulier is te groot.'), c) }), async (c) => {
    checkSameOrigin(c);
    const form = await readForm(c);
    checkSignInToken(c, form['_csrf']);
    const next = safeNext(form['next']);
    const key = typeof form['apiKey'] === 'string' ? form['apiKey'].trim() : '';
    const ctx = c.get('ctx');
    const hash = looksLikeApiKey(key) ? hashApiKey(key) : null;
    const found = hash ? await findActiveKeyByHash(ctx.pool, hash) : null;
    if (!hash || !found || !sameHash(found.hash, hash)) {
      await auditSignIn(c, null, 'denied');
      return render(c, <SignInPage token={issueSignInToken(c)} next={next} error="Deze sleutel is onbekend of ingetrokken. Controleer de sleutel en probeer het opnieuw." />, 401);
    }
    const now = ctx.now();
    // Housekeeping on the way: sign-ins are rare enough, and the delete is an index range.
    await deleteExpiredWebSessions(ctx.pool, now, SESSION_IDLE_SECONDS);
    const token = newToken();
    await insertWebSession(ctx.pool, {
      tokenHash: hashToken(token),
      apiKeyId: found.keyId,
      csrfSecret: newToken(),
      expiresAt: new Date(now.getTime() + SESSION_MAX_SECONDS * 1000),
      now,
    });
    setSessionCookie(c, token);
    clearSignInToken(c);
    await auditSignIn(c, found, 'success');
    return c.redirect(next ?? homeOf(found.role), 303);
  });
}

/** Registered behind the session middleware and the CSRF check. */
export function registerSignOut(web: Hono<WebEnv>): void {
  web.post('/sign-out', async (c) => {
    const session = c.get('session');
    const actor = c.get('actor');
    await deleteWebSession(c.get('ctx').pool, session.id);
    clearSessionCookie(c);
    await recordAudit(c.get('ctx').pool, {
      actorKeyId: actor.keyId,
      actorLabel: actor.label,
      action: 'web.sign-out',
      objectType: 'web-session',
      municipality: actor.municipality,
      result: 'success',
      origin: origin(asApiContext(c)),
      requestId: c.get('requestId'),
    });
    return c.redirect('/web/sign-in?signedOut=1', 303);
  });
}
