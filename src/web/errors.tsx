import { ProblemError } from '../api/problem.js';
import { isDatabaseUnavailable, isUnstorableText } from '../db/pool.js';
import type { WebContext } from './env.js';
import { REFUSAL_MESSAGES } from './labels.js';
import { Page, render } from './layout.js';

/** A refusal of a page, with a Dutch message for the person in front of it. */
export class WebError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 429 | 503,
    message: string,
  ) {
    super(message);
  }
}

export const notFound = () => new WebError(404, 'Deze pagina bestaat niet, of u heeft geen toegang tot wat erop staat.');
export const forbidden = () => new WebError(403, 'Uw sleutel geeft geen toegang tot deze pagina.');

const TITLES: Record<number, string> = {
  400: 'Dat ging niet',
  401: 'Niet aangemeld',
  403: 'Geen toegang',
  404: 'Niet gevonden',
  409: 'Dat kan nu niet',
  413: 'Te groot',
  429: 'Even geduld',
  500: 'Er ging iets mis',
  503: 'Tijdelijk niet beschikbaar',
};

/**
 * A service's ProblemError in Dutch: state-machine refusals by their code, the common statuses
 * by a fixed sentence; a 400's own detail stays (it names the field).
 */
export function problemMessage(error: ProblemError): string {
  const code = (error.options.extra as { code?: string } | undefined)?.code;
  if (code && REFUSAL_MESSAGES[code]) return REFUSAL_MESSAGES[code];
  switch (error.status) {
    case 404:
      return 'Deze pagina bestaat niet, of u heeft geen toegang tot wat erop staat.';
    case 403:
      return 'Uw sleutel geeft geen toegang tot deze actie.';
    case 429:
      return 'Te veel verzoeken achter elkaar. Probeer het over een minuut opnieuw.';
    case 503:
      return 'De database of de wachtrij is even niet bereikbaar. Probeer het zo opnieuw.';
    default:
      return error.detail;
  }
}

type PageStatus = 400 | 401 | 403 | 404 | 409 | 413 | 429 | 500 | 503;

function pageStatus(status: number): PageStatus {
  return ([400, 401, 403, 404, 409, 413, 429, 500, 503] as const).find((s) => s === status) ?? (status >= 500 ? 500 : 400);
}

/** The error page of the web pages (the API answers problem+json instead). */
export async function renderError(error: unknown, c: WebContext): Promise<Response> {
  let status: PageStatus;
  let message: string;
  if (error instanceof WebError) {
    status = error.status;
    message = error.message;
  } else if (error instanceof ProblemError) {
    status = pageStatus(error.status);
    message = problemMessage(error);
  } else if (isDatabaseUnavailable(error)) {
    status = 503;
    message = 'De database is even niet bereikbaar. Probeer het zo opnieuw.';
  } else if (isUnstorableText(error)) {
    // A NUL character (U+0000) in a form field: nothing was stored.
    status = 400;
    message = 'De tekst bevat een teken dat niet kan worden opgeslagen (U+0000). Haal het weg en probeer het opnieuw.';
  } else {
    // Details stay in the log with the request id; the page shows only the id.
    c.get('ctx').logger.error({ err: error, requestId: c.get('requestId') }, 'unhandled error in a web page');
    status = 500;
    message = `Er ging iets mis aan onze kant. Noem bij een melding deze code: ${c.get('requestId')}.`;
  }
  const actor = c.get('actor');
  const session = c.get('session');
  return render(
    c,
    <Page title={TITLES[status] ?? 'Fout'} actor={actor} csrf={session?.csrfSecret}>
      <h1>{TITLES[status] ?? 'Fout'}</h1>
      <p>{message}</p>
      <p>
        <a href={actor ? '/web' : '/web/sign-in'}>Terug naar het begin</a>
      </p>
    </Page>,
    status,
  );
}
