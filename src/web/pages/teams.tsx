import type { Hono } from 'hono';
import { listApiKeys } from '../../db/apiKeys.js';
import { listMunicipalities, listTeams, municipalityExists, type Team } from '../../db/municipalities.js';
import { saveTeam } from '../../services/municipalities.js';
import type { WebContext, WebEnv } from '../env.js';
import { notFound } from '../errors.js';
import { CsrfField, Notice, Page, render, TableWrap } from '../layout.js';
import { auditChange, auditRead, field, requireRole } from '../support.js';
import { readForm } from '../form.js';

/**
 * "Teams": the municipality's teams, the postcode areas whose households they serve, and the
 * consultants (consultant keys) who work their queues; a coordinator can add or change a team
 * as with PUT /v1/municipalities/{code}/teams/{teamId}.
 */

const TEAM_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
const PC4 = /^[1-9][0-9]{3}$/;

interface TeamsData {
  municipality: string;
  teams: Team[];
  consultants: { label: string; teams: string[] }[];
}

async function loadTeams(c: WebContext, municipality: string): Promise<TeamsData> {
  const pool = c.get('ctx').pool;
  const [teams, keys] = await Promise.all([listTeams(pool, municipality), listApiKeys(pool)]);
  const consultants = keys
    .filter((k) => k.role === 'consultant' && k.municipality === municipality && k.revokedAt === null)
    .map((k) => ({ label: k.label, teams: k.teams ?? [] }))
    .sort((a, b) => a.label.localeCompare(b.label, 'nl'));
  return { municipality, teams, consultants };
}

function TeamsPage(props: { c: WebContext; data: TeamsData; error?: string | undefined; values?: Record<string, string>; done?: string | undefined }) {
  const { c, data } = props;
  const csrf = c.get('session').csrfSecret;
  const values = props.values ?? {};
  const withoutTeam = data.consultants.filter((k) => !k.teams.some((t) => data.teams.some((team) => team.id === t)));
  return (
    <Page title="Teams" actor={c.get('actor')} csrf={csrf} current="/web/teams">
      <h1>Teams van gemeente {data.municipality}</h1>
      {props.done && <Notice kind="ok">{props.done}</Notice>}
      {data.teams.length === 0 ? (
        <p>Deze gemeente heeft nog geen teams.</p>
      ) : (
        <TableWrap label="Teams">
          <table>
            <thead>
              <tr>
                <th scope="col">Team</th>
                <th scope="col">Postcodegebieden</th>
                <th scope="col">Consulenten</th>
              </tr>
            </thead>
            <tbody>
              {data.teams.map((team) => {
                const members = data.consultants.filter((k) => k.teams.includes(team.id));
                return (
                  <tr>
                    <th scope="row">
                      {team.name} <span class="muted">({team.id})</span>
                    </th>
                    <td>{team.postcodeAreas.join(', ') || '—'}</td>
                    <td>{members.map((k) => k.label).join(', ') || '—'}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </TableWrap>
      )}
      {withoutTeam.length > 0 && (
        <p>
          <strong>Consulenten zonder team:</strong> {withoutTeam.map((k) => k.label).join(', ')}. Zij zien alleen taken die aan hen zijn toegewezen.
        </p>
      )}
      {c.get('actor').role === 'coordinator' && (
        <section aria-labelledby="team-form-heading" class="card narrow">
          <h2 id="team-form-heading">Team toevoegen of wijzigen</h2>
          {props.error && (
            <Notice kind="error" id="team-error">
              {props.error}
            </Notice>
          )}
          <form method="post" action="/web/teams" class="stack" aria-describedby={props.error ? 'team-error' : undefined}>
            <CsrfField token={csrf} />
            <div class="field">
              <label for="team-id">Code van het team</label>
              <input id="team-id" name="id" type="text" required pattern="[a-z0-9][a-z0-9\-]{0,62}" value={values['id'] ?? ''} aria-describedby="team-id-hint" />
              <p class="hint" id="team-id-hint">
                Kleine letters, cijfers en streepjes, bijvoorbeeld <code>noord</code>. Een bestaande code wijzigt dat team.
              </p>
            </div>
            <div class="field">
              <label for="team-name">Naam</label>
              <input id="team-name" name="name" type="text" required maxlength={200} value={values['name'] ?? ''} />
            </div>
            <div class="field">
              <label for="team-areas">Postcodegebieden</label>
              <input id="team-areas" name="areas" type="text" value={values['areas'] ?? ''} aria-describedby="team-areas-hint" />
              <p class="hint" id="team-areas-hint">
                De vier cijfers van de postcodes, gescheiden door komma's, bijvoorbeeld <code>2261, 2262</code>.
              </p>
            </div>
            <button type="submit" class="primary">
              Team opslaan
            </button>
          </form>
        </section>
      )}
    </Page>
  );
}

async function municipalityOf(c: WebContext, chosen: string | undefined): Promise<string | null> {
  requireRole(c, 'coordinator', 'admin');
  const own = c.get('actor').municipality;
  if (own) return own;
  if (!chosen || !/^[0-9]{4}$/.test(chosen)) return null;
  if (!(await municipalityExists(c.get('ctx').pool, chosen))) throw notFound();
  return chosen;
}

export function registerTeamPages(web: Hono<WebEnv>): void {
  web.get('/teams', async (c) => {
    const municipality = await municipalityOf(c, c.req.query('municipality'));
    if (!municipality) {
      const all = await listMunicipalities(c.get('ctx').pool, null);
      return render(
        c,
        <Page title="Teams" actor={c.get('actor')} csrf={c.get('session').csrfSecret} current="/web/teams">
          <h1>Teams</h1>
          <p>Kies een gemeente:</p>
          <ul>
            {all.map((m) => (
              <li>
                <a href={`/web/teams?municipality=${m.code}`}>
                  {m.name} ({m.code})
                </a>
              </li>
            ))}
          </ul>
        </Page>,
      );
    }
    const data = await loadTeams(c, municipality);
    await auditRead(c, { action: 'team.list', objectType: 'team', municipality });
    const done = c.req.query('saved');
    return render(c, <TeamsPage c={c} data={data} done={done && TEAM_ID.test(done) ? `Team ${done} is opgeslagen.` : undefined} />);
  });

  web.post('/teams', async (c) => {
    requireRole(c, 'coordinator');
    const municipality = c.get('actor').municipality!;
    const form = await readForm(c);
    const values = { id: field(form, 'id'), name: field(form, 'name'), areas: field(form, 'areas') };
    const areas = [...new Set(values.areas.split(/[\s,;]+/).filter(Boolean))].sort();
    let error: string | null = null;
    if (!TEAM_ID.test(values.id)) error = 'De code van het team bestaat uit kleine letters, cijfers en streepjes.';
    else if (values.name === '' || values.name.length > 200) error = 'Geef het team een naam (ten hoogste 200 tekens).';
    else if (areas.some((a) => !PC4.test(a))) error = `Geen postcodegebied: ${areas.filter((a) => !PC4.test(a)).join(', ')}. Gebruik de vier cijfers van de postcode.`;
    else if (areas.length > 2000) error = 'Ten hoogste 2000 postcodegebieden per team.';
    if (error) return render(c, <TeamsPage c={c} data={await loadTeams(c, municipality)} error={error} values={values} />, 400);
    await saveTeam(c.get('ctx').pool, { id: values.id, municipality, name: values.name, postcodeAreas: areas }, auditChange(c));
    return c.redirect(`/web/teams?saved=${values.id}`, 303);
  });
}
