import type { Hono } from 'hono';
import { origin } from '../../api/middleware/auth.js';
import { ProblemError } from '../../api/problem.js';
import { CSV_COLUMNS } from '../../domain/signal.js';
import { importCsvStream, readBatch, readBatchDuplicates, type BatchView, type Duplicate } from '../../services/intake.js';
import { listBatchesOfKey, type BatchListing } from '../batchList.js';
import { asApiContext, type WebContext, type WebEnv } from '../env.js';
import { notFound, WebError } from '../errors.js';
import { formatMoment, formatNumber, intakeDetail } from '../labels.js';
import { CsrfField, Notice, Page, render, TableWrap } from '../layout.js';
import { boundaryOf, MultipartError, readField, readParts } from '../multipart.js';
import { checkCsrfToken } from '../session.js';
import { auditRead, requireRole } from '../support.js';

/**
 * "Aanleveren": a partner's employee uploads this month's CSV and sees the batch answer —
 * accepted, duplicates, and every rejected row with its line, column and reason — and the
 * earlier batches. The upload is streamed into the same intake as POST /v1/signals (text/csv):
 * the multipart body is read part by part, the file's bytes go straight into importCsvStream.
 */

export const UPLOAD_PATH = '/web/upload';
const REJECTIONS_PER_PAGE = 200;

const REQUIRED = new Set(['externalId', 'partnerType', 'signalDate', 'amountCents', 'postcode', 'houseNumber']);

const STATUS_LABELS: Record<BatchListing['status'], string> = { processing: 'Bezig', completed: 'Verwerkt', failed: 'Afgebroken' };

function UploadPage(props: { c: WebContext; batches: BatchListing[]; error?: string | undefined; errors?: string[] }) {
  const { c } = props;
  const csrf = c.get('session').csrfSecret;
  return (
    <Page title="Aanleveren" actor={c.get('actor')} csrf={csrf} current="/web/upload" scripts={['upload.js']}>
      <h1>Signalen aanleveren</h1>
      {props.error && (
        <Notice kind="error">
          <p>{props.error}</p>
          {props.errors && props.errors.length > 0 && (
            <ul>
              {props.errors.map((e) => (
                <li>{e}</li>
              ))}
            </ul>
          )}
        </Notice>
      )}
      <section aria-labelledby="upload-heading" class="card">
        <h2 id="upload-heading">Bestand uploaden</h2>
        {/* The CSRF field comes first: the server reads the form as a stream, in this order. */}
        <form id="upload-form" method="post" action={UPLOAD_PATH} enctype="multipart/form-data" class="stack">
          <CsrfField token={csrf} />
          <div class="field">
            <label for="upload-file">CSV-bestand</label>
            <input id="upload-file" name="file" type="file" accept=".csv,text/csv" required aria-describedby="upload-hint" />
            <p class="hint" id="upload-hint">
              UTF-8, scheidingsteken <code>;</code> of <code>,</code>, met een kopregel. Een bestand van honderdduizenden regels kan; u ziet de voortgang.
            </p>
          </div>
          <button type="submit" class="primary">
            Uploaden en controleren
          </button>
          <div id="upload-progress" class="upload-progress" hidden>
            <label for="upload-bar">Voortgang</label>
            <progress id="upload-bar" max={100} value={0}></progress>
            <p id="upload-status" role="status" aria-live="polite"></p>
          </div>
        </form>
      </section>
      <details>
        <summary>Welke kolommen?</summary>
        <p>
          Verplicht: {CSV_COLUMNS.filter((col) => REQUIRED.has(col)).map((col) => <code>{col} </code>)}. Niet verplicht:{' '}
          {CSV_COLUMNS.filter((col) => !REQUIRED.has(col)).map((col) => <code>{col} </code>)}.
        </p>
        <p>
          Ja/nee-velden: <code>ja</code>/<code>nee</code>, <code>true</code>/<code>false</code> of <code>1</code>/<code>0</code>. Bedragen in centen, datums als JJJJ-MM-DD. Een bestand
          opnieuw sturen is veilig: regels die al binnen waren tellen als dubbel.
        </p>
      </details>
      <section aria-labelledby="batches-heading">
        <h2 id="batches-heading">Eerdere aanleveringen</h2>
        {props.batches.length === 0 ? (
          <p>Nog geen aanleveringen met deze sleutel.</p>
        ) : (
          <TableWrap label="Eerdere aanleveringen">
            <table>
              <thead>
                <tr>
                  <th scope="col">Ontvangen</th>
                  <th scope="col">Bestand</th>
                  <th scope="col">Status</th>
                  <th scope="col" class="num">
                    Regels
                  </th>
                  <th scope="col" class="num">
                    Geaccepteerd
                  </th>
                  <th scope="col" class="num">
                    Dubbel
                  </th>
                  <th scope="col" class="num">
                    Afgewezen
                  </th>
                </tr>
              </thead>
              <tbody>
                {props.batches.map((b) => (
                  <tr>
                    <td>
                      <a href={`/web/upload/batches/${b.id}`}>{formatMoment(b.createdAt)}</a>
                    </td>
                    <td>{b.fileName ?? (b.format === 'json' ? 'JSON via de API' : '—')}</td>
                    <td>{STATUS_LABELS[b.status]}</td>
                    <td class="num">{formatNumber(b.received)}</td>
                    <td class="num">{formatNumber(b.accepted)}</td>
                    <td class="num">{formatNumber(b.duplicates)}</td>
                    <td class="num">{formatNumber(b.rejected)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        )}
      </section>
    </Page>
  );
}

interface DuplicatePage {
  duplicates: Duplicate[];
  nextCursor: number | null;
}

function BatchPage(props: { c: WebContext; batch: BatchView; duplicates: DuplicatePage; cursors: { after: number | null; duplicatesAfter: number | null } }) {
  const { c, batch, duplicates, cursors } = props;
  const csv = batch.format === 'csv';
  // Each list pages on its own; a link keeps the other list's page.
  const pageLink = (after: number | null, duplicatesAfter: number | null) => {
    const query = new URLSearchParams();
    if (after !== null) query.set('after', String(after));
    if (duplicatesAfter !== null) query.set('duplicatesAfter', String(duplicatesAfter));
    return `/web/upload/batches/${batch.batchId}?${query.toString()}`;
  };
  const next = batch.nextCursor === null ? null : pageLink(batch.nextCursor, cursors.duplicatesAfter);
  const nextDuplicates = duplicates.nextCursor === null ? null : pageLink(cursors.after, duplicates.nextCursor);
  return (
    <Page title="Aanlevering" actor={c.get('actor')} csrf={c.get('session').csrfSecret} current="/web/upload">
      <p class="breadcrumb">
        <a href="/web/upload">← Aanleveren</a>
      </p>
      <h1>Aanlevering {batch.fileName ? `“${batch.fileName}”` : ''}</h1>
      {batch.status === 'processing' ? (
        <Notice kind="info">Deze aanlevering wordt nog verwerkt. Laad de pagina zo opnieuw.</Notice>
      ) : batch.responseStatus === 202 ? (
        <Notice kind={batch.rejectedCount > 0 ? 'info' : 'ok'}>
          Verwerkt: {formatNumber(batch.accepted)} nieuwe signalen opgeslagen{batch.duplicates > 0 ? `, ${formatNumber(batch.duplicates)} al eerder ontvangen` : ''}
          {batch.rejectedCount > 0 ? `, ${formatNumber(batch.rejectedCount)} ${csv ? 'regels' : 'signalen'} afgewezen (zie hieronder)` : ''}.
        </Notice>
      ) : (
        <Notice kind="error">
          {batch.failure
            ? `Het bestand is niet helemaal verwerkt${batch.failedRow !== null ? ` (vanaf regel ${batch.failedRow})` : ''}. Wat ervoor stond is verwerkt zoals hieronder geteld; stuur het verbeterde bestand opnieuw (wat al binnen is telt dan als dubbel).`
            : 'Geen enkele regel was geldig, er is niets opgeslagen. Zie de redenen hieronder.'}
        </Notice>
      )}
      <dl class="summary card">
        <dt>Ontvangen op</dt>
        <dd>{formatMoment(batch.createdAt)}</dd>
        <dt>{csv ? 'Regels' : 'Signalen'}</dt>
        <dd>{formatNumber(batch.received)}</dd>
        <dt>Geaccepteerd</dt>
        <dd>{formatNumber(batch.accepted)}</dd>
        <dt>Dubbel (al eerder ontvangen)</dt>
        <dd>{formatNumber(batch.duplicates)}</dd>
        <dt>Afgewezen</dt>
        <dd>{formatNumber(batch.rejectedCount)}</dd>
      </dl>
      {batch.failure && (
        <p>
          <strong>Melding bij het afbreken:</strong> {batch.failure}
        </p>
      )}
      {batch.rejected.length > 0 && (
        <section aria-labelledby="rejected-heading">
          <h2 id="rejected-heading">Afgewezen {csv ? 'regels' : 'signalen'}</h2>
          <TableWrap label="Afgewezen regels">
            <table>
              <thead>
                <tr>
                  <th scope="col">{csv ? 'Regel' : 'Nummer'}</th>
                  <th scope="col">{csv ? 'Kolom' : 'Veld'}</th>
                  <th scope="col">Reden</th>
                </tr>
              </thead>
              <tbody>
                {batch.rejected.flatMap((r) =>
                  'row' in r
                    ? r.errors.map((e) => (
                        <tr>
                          <td class="num">{r.row}</td>
                          <td>{e.column ?? 'hele regel'}</td>
                          <td>{intakeDetail(e.detail)}</td>
                        </tr>
                      ))
                    : r.errors.map((e) => (
                        <tr>
                          <td class="num">{r.index}</td>
                          <td>
                            <code>{e.pointer}</code>
                          </td>
                          <td>{intakeDetail(e.detail)}</td>
                        </tr>
                      )),
                )}
              </tbody>
            </table>
          </TableWrap>
          {next && (
            <p>
              <a href={next}>Volgende afgewezen regels</a>
            </p>
          )}
        </section>
      )}
      {duplicates.duplicates.length > 0 && (
        <section aria-labelledby="duplicates-heading">
          <h2 id="duplicates-heading">Dubbele {csv ? 'regels' : 'signalen'}</h2>
          <p>Deze signalen waren al eerder ontvangen (zelfde partij en kenmerk) en zijn niet opnieuw opgeslagen.</p>
          <TableWrap label="Dubbele regels">
            <table>
              <thead>
                <tr>
                  <th scope="col">{csv ? 'Regel' : 'Nummer'}</th>
                  <th scope="col">Kenmerk (externalId)</th>
                </tr>
              </thead>
              <tbody>
                {duplicates.duplicates.map((d) => (
                  <tr>
                    <td class="num">{'row' in d ? d.row : d.index}</td>
                    <td>
                      <code>{d.externalId}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
          {nextDuplicates && (
            <p>
              <a href={nextDuplicates}>Volgende dubbele regels</a>
            </p>
          )}
        </section>
      )}
    </Page>
  );
}

/** The request body, cut off with an error after `max` bytes (a drain must end somewhere). */
async function* atMost(body: AsyncIterable<Uint8Array>, max: number): AsyncGenerator<Uint8Array> {
  let total = 0;
  for await (const chunk of body) {
    total += chunk.length;
    if (total > max) throw new MultipartError('the body is larger than the upload limit');
    yield chunk;
  }
}

async function uploadPage(c: WebContext, status: 200 | 400 | 413 = 200, error?: { message: string; errors?: string[] }) {
  const batches = await listBatchesOfKey(c.get('ctx').pool, c.get('actor').keyId, 20);
  return render(c, <UploadPage c={c} batches={batches} error={error?.message} errors={error?.errors} />, status);
}

export function registerUploadPages(web: Hono<WebEnv>): void {
  web.get('/upload', (c) => {
    requireRole(c, 'integrator', 'admin');
    return uploadPage(c);
  });

  web.post('/upload', async (c) => {
    requireRole(c, 'integrator', 'admin');
    const boundary = boundaryOf(c.req.header('content-type'));
    const body = c.req.raw.body;
    if (!boundary || !body) throw new WebError(400, 'Kies een CSV-bestand om te uploaden.');
    const ctx = c.get('ctx');
    const actor = c.get('actor');
    let csrfChecked = false;
    let batchId: string | null = null;
    const parts = readParts(atMost(body, ctx.config.MAX_CSV_BYTES + 1024 * 1024), boundary);
    try {
      for await (const part of parts) {
        if (part.name === '_csrf') {
          checkCsrfToken(c, await readField(part));
          csrfChecked = true;
        } else if (part.name === 'file' && batchId === null) {
          // Nothing of the file is read before the form proved it came from this session.
          if (!csrfChecked) checkCsrfToken(c, undefined);
          if (!part.filename) return await uploadPage(c, 400, { message: 'Kies een CSV-bestand om te uploaden.' });
          const answer = await importCsvStream(ctx, part.body, {
            source: 'api-csv',
            actor,
            fileName: part.filename.slice(0, 255),
            origin: origin(asApiContext(c)),
            requestId: c.get('requestId'),
          });
          batchId = answer.batchId;
        }
        // Other parts (and what is left of the file when the intake stopped early) are read
        // past, not cut off: a browser still sending when the answer comes shows an error.
      }
    } catch (error) {
      if (error instanceof MultipartError) throw new WebError(400, 'Het formulier kwam niet goed aan. Probeer het opnieuw.');
      if (error instanceof ProblemError && (error.status === 400 || error.status === 413)) {
        const errors = (error.options.errors ?? []).map((e) => intakeDetail(e.detail));
        const message = error.status === 413 ? 'Het bestand is te groot. Splits het en stuur de delen apart.' : 'Het bestand kon niet worden gelezen.';
        return uploadPage(c, error.status, { message, errors: errors.length > 0 ? errors : [intakeDetail(error.detail)] });
      }
      throw error;
    }
    if (!csrfChecked) checkCsrfToken(c, undefined);
    if (!batchId) return uploadPage(c, 400, { message: 'Kies een CSV-bestand om te uploaden.' });
    return c.redirect(`/web/upload/batches/${batchId}`, 303);
  });

  web.get('/upload/batches/:id', async (c) => {
    requireRole(c, 'integrator', 'admin');
    const id = c.req.param('id');
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) throw notFound();
    const cursor = (value: string | undefined) => (value && /^[0-9]{1,10}$/.test(value) ? Number(value) : null);
    const cursors = { after: cursor(c.req.query('after')), duplicatesAfter: cursor(c.req.query('duplicatesAfter')) };
    const batch = await readBatch(c.get('ctx'), c.get('actor'), id, { limit: REJECTIONS_PER_PAGE, after: cursors.after });
    if (!batch) throw notFound();
    const duplicates =
      batch.duplicates > 0
        ? ((await readBatchDuplicates(c.get('ctx'), c.get('actor'), id, { limit: REJECTIONS_PER_PAGE, after: cursors.duplicatesAfter })) ?? { duplicates: [], nextCursor: null })
        : { duplicates: [], nextCursor: null };
    await auditRead(c, { action: 'signal-batch.read', objectType: 'signal-batch', objectId: id });
    return render(c, <BatchPage c={c} batch={batch} duplicates={duplicates} cursors={cursors} />);
  });
}
