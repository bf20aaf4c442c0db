import type { Hono } from 'hono';
import { listMunicipalities, municipalityExists } from '../../db/municipalities.js';
import { findVersion, listVersions, type RuleSetVersion } from '../../db/ruleSetVersions.js';
import { dutchToday, isIsoDate } from '../../domain/dates.js';
import { validateRuleSet, type Problem } from '../../rules/validate.js';
import type { SimulationResult } from '../../rules/simulate.js';
import { activateRuleSet, InvalidRuleSetError, publishRuleSet, simulateRuleSet } from '../../services/ruleSets.js';
import { lineDiff, withContext } from '../diff.js';
import type { WebContext, WebEnv } from '../env.js';
import { notFound, WebError } from '../errors.js';
import { formatDate, formatMoment, formatNumber, signalStatusLabel } from '../labels.js';
import { CsrfField, Notice, Page, render, TableWrap } from '../layout.js';
import { auditChange, auditRead, field, idParam, requireRole, type Form } from '../support.js';
import { readForm } from '../form.js';
import { addDays } from '../../domain/workingDays.js';

/**
 * "Regels" for the coordinator: the rule-set versions with a side-by-side diff of any two; a
 * candidate (pasted or uploaded) that can be validated (errors shown at the rule they concern),
 * simulated on a chosen period (counts, biggest movers, priority distribution before / after)
 * and published with a note; and activating an earlier version (roll back). The same services
 * as /v1/rule-sets, validate, simulate, publish and activate.
 */

type Action = 'validate' | 'simulate' | 'publish';

interface Candidate {
  text: string;
  from: string;
  to: string;
  note: string;
}

interface CandidateOutcome {
  action: Action;
  parseError?: string;
  errors: Problem[];
  warnings: Problem[];
  simulation?: SimulationResult & { activeVersion: number | null };
}

/** The municipality the page works on: the key's own, or (admin without one) the one chosen. */
async function municipalityOf(c: WebContext, chosen: string | undefined): Promise<string | null> {
  requireRole(c, 'coordinator', 'admin');
  const actor = c.get('actor');
  if (actor.municipality) return actor.municipality;
  if (!chosen || !/^[0-9]{4}$/.test(chosen)) return null;
  if (!(await municipalityExists(c.get('ctx').pool, chosen))) throw notFound();
  return chosen;
}

const pretty = (definition: unknown) => JSON.stringify(definition, null, 2);

// ---- views ------------------------------------------------------------------------------

function VersionsTable(props: { versions: RuleSetVersion[]; csrf: string; municipality: string }) {
  return (
    <TableWrap label="Versies">
      <table>
        <thead>
          <tr>
            <th scope="col" class="num">
              Versie
            </th>
            <th scope="col">Naam</th>
            <th scope="col">Toelichting</th>
            <th scope="col">Door</th>
            <th scope="col">Gepubliceerd</th>
            <th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          {props.versions.map((v) => (
            <tr>
              <td class="num">{v.version}</td>
              <td>{v.name}</td>
              <td>{v.note ?? '—'}</td>
              <td>{v.authorLabel ?? '—'}</td>
              <td>{formatMoment(v.createdAt)}</td>
              <td>
                {v.active ? (
                  <span class="badge badge-ok">Actief</span>
                ) : (
                  <form method="post" action={`/web/rules/${v.version}/activate`} class="inline">
                    <CsrfField token={props.csrf} />
                    <input type="hidden" name="municipality" value={props.municipality} />
                    <button type="submit" class="small" data-confirm={`Versie ${v.version} actief maken? Open taken die nog niemand heeft opgepakt worden opnieuw berekend.`}>
                      Versie {v.version} activeren
                    </button>
                  </form>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
  );
}

function DiffView(props: { left: { version: number; text: string }; right: { version: number; text: string } }) {
  const rows = lineDiff(props.left.text, props.right.text);
  if (rows === null) return <p>Deze versies zijn te groot om naast elkaar te tonen.</p>;
  const shown = withContext(rows);
  const changes = rows.filter((r) => r.kind !== 'same').length;
  if (changes === 0) return <p>Versie {props.left.version} en versie {props.right.version} zijn gelijk.</p>;
  return (
    <TableWrap label={`Verschil tussen versie ${props.left.version} en ${props.right.version}`}>
      <table class="diff">
        <caption>
          Verschil: {formatNumber(changes)} regels anders. Links versie {props.left.version}, rechts versie {props.right.version}; rood is weggehaald, groen toegevoegd.
        </caption>
        <thead>
          <tr>
            <th scope="col" class="ln">
              <span class="visually-hidden">Regel links</span>
            </th>
            <th scope="col">Versie {props.left.version}</th>
            <th scope="col" class="ln">
              <span class="visually-hidden">Regel rechts</span>
            </th>
            <th scope="col">Versie {props.right.version}</th>
          </tr>
        </thead>
        <tbody>
          {shown.map((row) =>
            row === null ? (
              <tr>
                <td class="ln">…</td>
                <td class="muted">ongewijzigde regels</td>
                <td class="ln">…</td>
                <td class="muted">ongewijzigde regels</td>
              </tr>
            ) : (
              <tr class={row.kind}>
                <td class="ln">{row.left?.line ?? ''}</td>
                <td class={row.kind === 'removed' ? 'removed old' : 'old'}>
                  {row.kind === 'removed' || row.kind === 'changed' ? <span class="visually-hidden">Weggehaald: </span> : ''}
                  {row.left?.text ?? ''}
                </td>
                <td class="ln">{row.right?.line ?? ''}</td>
                <td class={row.kind === 'added' ? 'added new' : 'new'}>
                  {row.kind === 'added' || row.kind === 'changed' ? <span class="visually-hidden">Toegevoegd: </span> : ''}
                  {row.right?.text ?? ''}
                </td>
              </tr>
            ),
          )}
        </tbody>
      </table>
    </TableWrap>
  );
}

/** Problems grouped by the rule they point into (/rules/3/… → rule 3), the rest apart. */
function groupByRule(problems: Problem[], text: string): { title: string; items: { where: string; detail: string }[] }[] {
  let names: string[];
  try {
    const parsed = JSON.parse(text) as { rules?: { name?: unknown }[] };
    names = Array.isArray(parsed.rules) ? parsed.rules.map((r, i) => (typeof r?.name === 'string' ? r.name : `regel ${i + 1}`)) : [];
  } catch {
    names = [];
  }
  const groups = new Map<string, { title: string; items: { where: string; detail: string }[] }>();
  for (const p of problems) {
    const match = /^\/rules\/(\d+)(\/.*)?$/.exec(p.pointer);
    const index = match ? Number(match[1]) : null;
    const key = index === null ? 'set' : String(index);
    const title = index === null ? 'De regelset als geheel' : `Regel ${index + 1}: “${names[index] ?? '?'}”`;
    const group = groups.get(key) ?? { title, items: [] };
    group.items.push({ where: match ? (match[2] ?? '(de regel zelf)') : p.pointer || '/', detail: p.detail });
    groups.set(key, group);
  }
  return [...groups.values()];
}

function Problems(props: { kind: 'errors' | 'warnings'; problems: Problem[]; text: string }) {
  if (props.problems.length === 0) return null;
  return (
    <div class={props.kind === 'errors' ? 'rule-errors' : 'rule-warnings'} role={props.kind === 'errors' ? 'alert' : undefined}>
      <p>
        <strong>{props.kind === 'errors' ? `${props.problems.length} fout(en): zo kan de regelset niet gebruikt worden.` : `${props.problems.length} waarschuwing(en): controleer of dit zo bedoeld is.`}</strong>
      </p>
      {groupByRule(props.problems, props.text).map((group) => (
        <>
          <p>{group.title}</p>
          <ul>
            {group.items.map((item) => (
              <li>
                <code>{item.where}</code>: {item.detail}
              </li>
            ))}
          </ul>
        </>
      ))}
    </div>
  );
}

const STATUS_OR_PRIORITY = (priority: number, suppressed: string | null) => (suppressed ? `niet benaderen (${signalStatusLabel(suppressed)})` : String(priority));

function SimulationView(props: { simulation: SimulationResult & { activeVersion: number | null }; candidate: Candidate }) {
  const s = props.simulation;
  const rows: [string, number][] = [
    ['Nieuw benaderd', s.changes.newlyApproached],
    ['Niet meer benaderd', s.changes.newlySuppressed],
    ['Hogere prioriteit', s.changes.priorityUp],
    ['Lagere prioriteit', s.changes.priorityDown],
    ['Gelijke prioriteit', s.changes.prioritySame],
    ['Ander team', s.changes.teamChanged],
  ];
  return (
    <section aria-labelledby="simulation-heading">
      <h4 id="simulation-heading">
        Simulatie op {formatNumber(s.households)} huishoudens met signalen van {formatDate(props.candidate.from)} tot en met {formatDate(props.candidate.to)}
      </h4>
      <p>Vergeleken met de actieve versie {s.activeVersion ?? '(standaardregels)'}. Er is niets veranderd: dit is alleen een berekening.</p>
      <dl class="summary card">
        {rows.map(([label, n]) => (
          <>
            <dt>{label}</dt>
            <dd>{formatNumber(n)}</dd>
          </>
        ))}
      </dl>
      <figure class="chart" data-chart="bar" data-series="1,2" aria-labelledby="distribution-title">
        <figcaption id="distribution-title">Verdeling van de prioriteit, voor en na</figcaption>
        <div class="chart-canvas">
          <canvas role="img" aria-label="Grafiek: aantal huishoudens per prioriteitsklasse, met de actieve regels en met de kandidaat. De getallen staan in de tabel eronder."></canvas>
        </div>
        <TableWrap label="Verdeling van de prioriteit">
          <table>
            <thead>
              <tr>
                <th scope="col">Prioriteit</th>
                <th scope="col" class="num">
                  Nu (actieve versie)
                </th>
                <th scope="col" class="num">
                  Met de kandidaat
                </th>
              </tr>
            </thead>
            <tbody>
              {s.priorityDistribution.map((d) => (
                <tr>
                  <th scope="row">{d.bucket === 'suppressed' ? 'niet benaderen' : d.bucket}</th>
                  <td class="num" data-value={String(d.before)}>
                    {formatNumber(d.before)}
                  </td>
                  <td class="num" data-value={String(d.after)}>
                    {formatNumber(d.after)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      </figure>
      <h4>Grootste verschuivingen</h4>
      {s.biggestMovers.length === 0 ? (
        <p>Geen enkel huishouden verandert.</p>
      ) : (
        <TableWrap label="Grootste verschuivingen">
          <table>
            <thead>
              <tr>
                <th scope="col">Huishouden</th>
                <th scope="col">Nu</th>
                <th scope="col">Met de kandidaat</th>
                <th scope="col">Regels erbij</th>
                <th scope="col">Regels eraf</th>
              </tr>
            </thead>
            <tbody>
              {s.biggestMovers.slice(0, 20).map((m) => (
                <tr>
                  <td>
                    <a href={`/web/households/${m.householdId}`}>Huishouden {m.householdId}</a>
                  </td>
                  <td>{STATUS_OR_PRIORITY(m.priorityBefore, m.suppressedBefore)}</td>
                  <td>{STATUS_OR_PRIORITY(m.priorityAfter, m.suppressedAfter)}</td>
                  <td>{m.rulesAdded.join(', ') || '—'}</td>
                  <td>{m.rulesRemoved.join(', ') || '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
      <details>
        <summary>Hoe vaak elke regel afgaat</summary>
        <TableWrap label="Regels voor en na">
          <table>
            <thead>
              <tr>
                <th scope="col">Regel</th>
                <th scope="col" class="num">
                  Nu
                </th>
                <th scope="col" class="num">
                  Met de kandidaat
                </th>
              </tr>
            </thead>
            <tbody>
              {s.rules.map((r) => (
                <tr>
                  <td>{r.name}</td>
                  <td class="num">{formatNumber(r.firedBefore)}</td>
                  <td class="num">{formatNumber(r.firedAfter)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      </details>
    </section>
  );
}

interface RulesPageProps {
  c: WebContext;
  municipality: string;
  versions: RuleSetVersion[];
  diff: { left: { version: number; text: string }; right: { version: number; text: string } } | null;
  candidate: Candidate;
  outcome?: CandidateOutcome | undefined;
  done?: string | undefined;
}

function RulesPage(props: RulesPageProps) {
  const { c, candidate, outcome } = props;
  const csrf = c.get('session').csrfSecret;
  const hasErrors = !!outcome && (outcome.parseError !== undefined || outcome.errors.length > 0);
  return (
    <Page title="Regels" actor={c.get('actor')} csrf={csrf} current="/web/rules" scripts={['chart.umd.min.js', 'charts.js']}>
      <h1>Regels van gemeente {props.municipality}</h1>
      {props.done && <Notice kind="ok">{props.done}</Notice>}

      <section aria-labelledby="versions-heading">
        <h2 id="versions-heading">Versies</h2>
        <VersionsTable versions={props.versions} csrf={csrf} municipality={props.municipality} />
      </section>

      <section aria-labelledby="diff-heading">
        <h2 id="diff-heading">Twee versies vergelijken</h2>
        <form method="get" action="/web/rules" class="filters" aria-label="Versies vergelijken">
          {!c.get('actor').municipality && <input type="hidden" name="municipality" value={props.municipality} />}
          <div class="field">
            <label for="diff-a">Oude versie</label>
            <select id="diff-a" name="a">
              {props.versions.map((v) => (
                <option value={String(v.version)} selected={props.diff?.left.version === v.version}>
                  Versie {v.version}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="diff-b">Nieuwe versie</label>
            <select id="diff-b" name="b">
              {props.versions.map((v) => (
                <option value={String(v.version)} selected={props.diff?.right.version === v.version}>
                  Versie {v.version}
                </option>
              ))}
            </select>
          </div>
          <button type="submit">Vergelijk</button>
        </form>
        {props.diff && <DiffView left={props.diff.left} right={props.diff.right} />}
      </section>

      <section aria-labelledby="candidate-heading">
        <h2 id="candidate-heading">Een nieuwe versie voorbereiden</h2>
        <p>
          Plak of upload de regelset (JSON), controleer hem, simuleer wat hij zou veranderen op de huishoudens met signalen in een periode, en publiceer hem met een
          toelichting. Publiceren maakt de nieuwe versie meteen actief; open taken die nog niemand heeft opgepakt worden opnieuw berekend.
        </p>
        <form
          method="post"
          action="/web/rules/candidate"
          enctype="multipart/form-data"
          class="stack"
          hx-post="/web/rules/candidate"
          hx-target="main"
          hx-select="main"
          hx-swap="outerHTML"
          hx-indicator="#candidate-busy"
          hx-disable="find button"
        >
          <CsrfField token={csrf} />
          {!c.get('actor').municipality && <input type="hidden" name="municipality" value={props.municipality} />}
          <div class="field">
            <label for="candidate-text">Regelset (JSON)</label>
            <textarea
              id="candidate-text"
              name="ruleSet"
              class="code"
              rows={24}
              spellcheck={false}
              aria-invalid={hasErrors ? 'true' : undefined}
              aria-describedby={hasErrors ? 'candidate-problems' : 'candidate-text-hint'}
            >
              {candidate.text}
            </textarea>
            <p class="hint" id="candidate-text-hint">
              Begint met de actieve versie. De feiten en gebeurtenissen staan beschreven in rules/README.md.
            </p>
          </div>
          <div class="field">
            <label for="candidate-file">Of upload een bestand (vervangt de tekst hierboven)</label>
            <input id="candidate-file" name="file" type="file" accept=".json,application/json" />
          </div>
          <div class="row">
            <div class="field">
              <label for="candidate-from">Simuleren vanaf</label>
              <input id="candidate-from" name="from" type="date" value={candidate.from} />
            </div>
            <div class="field">
              <label for="candidate-to">tot en met</label>
              <input id="candidate-to" name="to" type="date" value={candidate.to} />
            </div>
          </div>
          <div class="field">
            <label for="candidate-note">Toelichting bij publiceren</label>
            <textarea id="candidate-note" name="note" rows={2} maxlength={2000}>
              {candidate.note}
            </textarea>
          </div>
          <div class="toolbar">
            <button type="submit" name="action" value="validate">
              Controleren
            </button>
            <button type="submit" name="action" value="simulate">
              Simuleren
            </button>
            <button type="submit" name="action" value="publish" class="primary" data-confirm="De regelset publiceren en meteen actief maken?">
              Publiceren
            </button>
            <span id="candidate-busy" class="htmx-indicator busy" role="status">
              <span class="spinner" aria-hidden="true"></span> Bezig… (een simulatie over veel huishoudens kan even duren)
            </span>
          </div>
        </form>
        {outcome && (
          <section aria-labelledby="outcome-heading" id="candidate-problems">
            <h3 id="outcome-heading" data-focus-after-swap tabindex={-1}>
              {outcome.action === 'validate' ? 'Controle' : outcome.action === 'simulate' ? 'Simulatie' : 'Publiceren'}
            </h3>
            {outcome.parseError !== undefined && (
              <div class="rule-errors" role="alert">
                <p>
                  <strong>Dit is geen geldige JSON:</strong> {outcome.parseError}
                </p>
              </div>
            )}
            <Problems kind="errors" problems={outcome.errors} text={candidate.text} />
            <Problems kind="warnings" problems={outcome.warnings} text={candidate.text} />
            {!hasErrors && outcome.action === 'validate' && <Notice kind="ok">De regelset is geldig.</Notice>}
            {outcome.simulation && <SimulationView simulation={outcome.simulation} candidate={candidate} />}
          </section>
        )}
      </section>
    </Page>
  );
}

// ---- handlers ---------------------------------------------------------------------------

async function diffOf(c: WebContext, municipality: string, versions: RuleSetVersion[]) {
  if (versions.length < 2) return null;
  const a = idParam(c.req.query('a')) ?? versions[1]!.version;
  const b = idParam(c.req.query('b')) ?? versions[0]!.version;
  const [left, right] = await Promise.all([findVersion(c.get('ctx').pool, municipality, a), findVersion(c.get('ctx').pool, municipality, b)]);
  if (!left || !right) return null;
  return { left: { version: a, text: pretty(left.definition) }, right: { version: b, text: pretty(right.definition) } };
}

function defaultPeriod(c: WebContext): { from: string; to: string } {
  const today = dutchToday(c.get('ctx').now());
  return { from: addDays(today, -90), to: today };
}

async function renderRules(c: WebContext, municipality: string, extra: { candidate?: Candidate; outcome?: CandidateOutcome; done?: string; status?: 200 | 400 } = {}) {
  const pool = c.get('ctx').pool;
  const versions = await listVersions(pool, municipality);
  const active = versions.find((v) => v.active);
  let candidate = extra.candidate;
  if (!candidate) {
    const found = active ? await findVersion(pool, municipality, active.version) : null;
    candidate = { text: found ? pretty(found.definition) : '', ...defaultPeriod(c), note: '' };
  }
  const diff = await diffOf(c, municipality, versions);
  return render(c, <RulesPage c={c} municipality={municipality} versions={versions} diff={diff} candidate={candidate} outcome={extra.outcome} done={extra.done} />, extra.status ?? 200);
}

function MunicipalityChoice(props: { c: WebContext; municipalities: { code: string; name: string }[] }) {
  return (
    <Page title="Regels" actor={props.c.get('actor')} csrf={props.c.get('session').csrfSecret} current="/web/rules">
      <h1>Regels</h1>
      <p>Uw sleutel hoort bij geen enkele gemeente. Kies de gemeente waarvan u de regels wilt zien:</p>
      <ul>
        {props.municipalities.map((m) => (
          <li>
            <a href={`/web/rules?municipality=${m.code}`}>
              {m.name} ({m.code})
            </a>
          </li>
        ))}
      </ul>
    </Page>
  );
}

async function readCandidate(form: Form, c: WebContext): Promise<Candidate> {
  const period = defaultPeriod(c);
  const file = form['file'];
  let text = typeof form['ruleSet'] === 'string' ? form['ruleSet'] : '';
  if (file instanceof File && file.size > 0) text = await file.text();
  const from = field(form, 'from');
  const to = field(form, 'to');
  return { text, from: isIsoDate(from) ? from : period.from, to: isIsoDate(to) ? to : period.to, note: field(form, 'note').slice(0, 2000) };
}

export function registerRulePages(web: Hono<WebEnv>): void {
  web.get('/rules', async (c) => {
    const municipality = await municipalityOf(c, c.req.query('municipality'));
    if (!municipality) return render(c, <MunicipalityChoice c={c} municipalities={await listMunicipalities(c.get('ctx').pool, null)} />);
    const done = c.req.query('done');
    const version = c.req.query('version');
    const rescored = c.req.query('rescored');
    const message =
      done === 'published'
        ? `Versie ${version} is gepubliceerd en actief. ${rescored ?? 0} open taken zijn opnieuw berekend.`
        : done === 'activated'
          ? `Versie ${version} is weer actief. ${rescored ?? 0} open taken zijn opnieuw berekend.`
          : undefined;
    return renderRules(c, municipality, { done: message });
  });

  web.post('/rules/candidate', async (c) => {
    const form = await readForm(c);
    const municipality = await municipalityOf(c, field(form, 'municipality'));
    if (!municipality) throw notFound();
    const candidate = await readCandidate(form, c);
    const requested = field(form, 'action');
    const action: Action = requested === 'simulate' || requested === 'publish' ? requested : 'validate';
    let json: unknown;
    try {
      json = JSON.parse(candidate.text);
    } catch (error) {
      // A check that finds problems is a successful check (as POST /v1/rule-sets/validate: 200);
      // only a refused publication is an error answer.
      return renderRules(c, municipality, { candidate, outcome: { action, parseError: (error as Error).message, errors: [], warnings: [] }, status: action === 'publish' ? 400 : 200 });
    }
    const validation = validateRuleSet(json);
    const outcome: CandidateOutcome = { action, errors: validation.errors, warnings: validation.warnings };
    if (!validation.valid || action === 'validate') return renderRules(c, municipality, { candidate, outcome, status: validation.valid || action !== 'publish' ? 200 : 400 });

    if (action === 'simulate') {
      if (candidate.from > candidate.to) throw new WebError(400, 'De begindatum van de simulatie ligt na de einddatum.');
      outcome.simulation = await simulateRuleSet(c.get('ctx'), municipality, json, candidate.from, candidate.to);
      await auditRead(c, { action: 'rule-set.simulate', objectType: 'rule-set', objectId: `${candidate.from}/${candidate.to}`, municipality });
      return renderRules(c, municipality, { candidate, outcome });
    }

    try {
      const actor = c.get('actor');
      const result = await publishRuleSet(c.get('ctx'), municipality, json, candidate.note || null, actor, true, auditChange(c));
      const query = new URLSearchParams({ done: 'published', version: String(result.version), rescored: String(result.rescored) });
      if (!actor.municipality) query.set('municipality', municipality);
      return c.redirect(`/web/rules?${query.toString()}`, 303);
    } catch (error) {
      if (!(error instanceof InvalidRuleSetError)) throw error;
      return renderRules(c, municipality, { candidate, outcome: { action, errors: error.validation.errors, warnings: error.validation.warnings }, status: 400 });
    }
  });

  web.post('/rules/:version/activate', async (c) => {
    const form = await readForm(c);
    const municipality = await municipalityOf(c, field(form, 'municipality'));
    const version = idParam(c.req.param('version'));
    if (!municipality || version === null) throw notFound();
    const result = await activateRuleSet(c.get('ctx'), municipality, version, auditChange(c));
    if (!result) throw notFound();
    const query = new URLSearchParams({ done: 'activated', version: String(version), rescored: String(result.rescored) });
    if (!c.get('actor').municipality) query.set('municipality', municipality);
    return c.redirect(`/web/rules?${query.toString()}`, 303);
  });
}
