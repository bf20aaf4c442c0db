import type { Hono } from 'hono';
import { ProblemError } from '../../api/problem.js';
import type { HouseholdView } from '../../api/schemas/household.js';
import type { TaskView } from '../../api/schemas/task.js';
import { listApiKeys } from '../../db/apiKeys.js';
import { findVisibleHousehold } from '../../db/taskReads.js';
import { findVisibleTask } from '../../db/tasks.js';
import { CONTACT_CHANNEL_CODES, DAY_PART_CODES, TASK_RESULT_CODES, type ContactChannel, type DayPart, type TaskResult } from '../../domain/codes.js';
import { dutchToday, isIsoDate } from '../../domain/dates.js';
import * as machine from '../../domain/taskStateMachine.js';
import {
  addTaskNote,
  assignTask,
  claimTask,
  closeTask,
  listTaskAttempts,
  listTaskHistory,
  listTaskNotes,
  recordContactAttempt,
  releaseTask,
  taskLimits,
  type AttemptView,
  type HistoryView,
  type NoteView,
} from '../../services/taskWork.js';
import type { WebContext, WebEnv } from '../env.js';
import { notFound, problemMessage } from '../errors.js';
import {
  channelLabel,
  dayPartLabel,
  factLabel,
  factValue,
  formatDate,
  formatEuros,
  formatMoment,
  partnerTypeLabel,
  resultLabel,
  signalStatusLabel,
} from '../labels.js';
import { CsrfField, Notice, Page, render, TableWrap } from '../layout.js';
import { auditChange, auditRead, field, idParam, requireRole, type Form } from '../support.js';
import { readForm } from '../form.js';
import { claimable, DueDate, StatusBadge } from './taskParts.js';

/**
 * "Huishouden": one household at a glance — its signals, why its task is where it is (the
 * explanation), earlier tasks and their results, contact attempts and notes — and the forms
 * to work the open task: claim, record an attempt, add a note, close with a result (only the
 * results the state machine allows), release, or (coordinator) hand over. Reads are the API's
 * GET /v1/households/{id} and the task's attempts, notes and history; each form calls the
 * same service as its /v1/tasks/{id}/… route, and redirects back (post/redirect/get).
 */

type FormName = 'attempt' | 'note' | 'close' | 'release' | 'assign' | 'claim';

interface FormProblem {
  form: FormName;
  message: string;
}

const DONE_MESSAGES: Record<string, string> = {
  claimed: 'U heeft dit huishouden opgepakt.',
  attempt: 'De contactpoging is vastgelegd.',
  note: 'De notitie is toegevoegd.',
  assigned: 'De taak is overgedragen.',
};

const HISTORY_LABELS: Record<string, string> = {
  claim: 'opgepakt',
  release: 'teruggegeven aan het team',
  assign: 'toegewezen',
  'contact-attempt': 'contactpoging vastgelegd',
  note: 'notitie toegevoegd',
  close: 'afgesloten',
  overdue: 'te laat geworden',
  'overdue-cleared': 'niet langer te laat',
};

interface TaskRecords {
  attempts: AttemptView[];
  /** False when the actor may not see this (earlier) task's records. */
  visible: boolean;
}

interface HouseholdData {
  household: HouseholdView;
  current: HouseholdView['tasks'][number] | null;
  records: Map<number, TaskRecords>;
  notes: NoteView[];
  history: HistoryView[];
  consultants: { id: string; label: string }[];
  earliestSignalDate: string | null;
}

async function orNotVisible<T>(work: Promise<T>, fallback: T): Promise<T> {
  try {
    return await work;
  } catch (error) {
    // An earlier task of another team: the household is visible, that task's records are not.
    if (error instanceof ProblemError && error.status === 404) return fallback;
    throw error;
  }
}

async function loadHousehold(c: WebContext, id: number): Promise<HouseholdData> {
  const ctx = c.get('ctx');
  const actor = c.get('actor');
  const household = await findVisibleHousehold(ctx.pool, actor, id);
  if (!household) throw notFound();
  await auditRead(c, { action: 'household.read', objectType: 'household', objectId: String(household.id), municipality: household.municipality });
  const current = household.tasks.find((t) => t.status !== 'closed') ?? null;
  const records = new Map<number, TaskRecords>();
  const limit = taskLimits(ctx.config).maxAttemptsPerTask;
  for (const task of household.tasks) {
    const page = await orNotVisible(listTaskAttempts(ctx, actor, task.id, { limit }), null);
    records.set(task.id, { attempts: page?.items ?? [], visible: page !== null });
    if (page) await auditRead(c, { action: 'task.contact-attempts.read', objectType: 'task', objectId: String(task.id), municipality: page.municipality });
  }
  let notes: NoteView[] = [];
  let history: HistoryView[] = [];
  if (current && records.get(current.id)?.visible) {
    const notePage = await listTaskNotes(ctx, actor, current.id, { limit: taskLimits(ctx.config).maxNotesPerTask });
    notes = notePage.items;
    await auditRead(c, { action: 'task.notes.read', objectType: 'task', objectId: String(current.id), municipality: notePage.municipality });
    history = (await listTaskHistory(ctx, actor, current.id, { limit: 200 })).items;
  }
  // Hand-over candidates: the municipality's active consultant keys (coordinators only).
  const consultants =
    actor.role === 'coordinator' && current
      ? (await listApiKeys(ctx.pool))
          .filter((k) => k.role === 'consultant' && k.municipality === current.municipality && k.revokedAt === null)
          .map((k) => ({ id: k.id, label: k.label }))
      : [];
  const ownSignals = current ? household.signals.filter((s) => s.taskId === current.id) : [];
  const earliestSignalDate = ownSignals.length > 0 ? ownSignals.map((s) => s.signalDate).sort()[0]! : null;
  return { household, current, records, notes, history, consultants, earliestSignalDate };
}

/** The results a close by this actor would be allowed with now, asked of the state machine. */
function allowedResults(c: WebContext, task: Pick<TaskView, 'status' | 'assignee'>, attempts: AttemptView[], earliestSignalDate: string | null): TaskResult[] {
  const config = c.get('ctx').config;
  const context: machine.CloseContext = {
    earliestSignalDate,
    attempts: attempts.map((a) => ({ channel: a.channel, reached: a.reached, date: a.date })),
    policy: { minAttempts: config.MIN_ATTEMPTS_NO_CONTACT, minChannels: config.MIN_CHANNELS_NO_CONTACT },
  };
  return TASK_RESULT_CODES.filter((result) => machine.close({ status: task.status, assignee: task.assignee }, c.get('actor'), result, context).ok);
}

function canRecord(c: WebContext, task: Pick<TaskView, 'status' | 'assignee'>, attemptCount: number): boolean {
  const today = dutchToday(c.get('ctx').now());
  const decision = machine.recordAttempt({ status: task.status, assignee: task.assignee }, c.get('actor'), { channel: 'phone', reached: false, date: today }, {
    today,
    earliestSignalDate: null,
    attemptCount,
    limits: taskLimits(c.get('ctx').config),
  });
  return decision.ok;
}

// ---- views ------------------------------------------------------------------------------

function addressLine(h: HouseholdView): string {
  const a = h.address;
  const number = `${a.houseNumber}${a.houseLetter ?? ''}${a.houseNumberAddition ? `-${a.houseNumberAddition}` : ''}`;
  const postcode = `${a.postcode.slice(0, 4)} ${a.postcode.slice(4)}`;
  return [a.street ? `${a.street} ${number}` : `Huisnummer ${number}`, [postcode, a.city].filter(Boolean).join(' ')].join(', ');
}

function ruleEffect(rule: TaskView['explanation']['rules'][number]): string {
  const params = (rule.params ?? {}) as Record<string, unknown>;
  switch (rule.type) {
    case 'score':
      return `${rule.points > 0 ? '+' : ''}${rule.points} punten`;
    case 'suppress':
      return `niet benaderen: ${signalStatusLabel(String(params['status'] ?? ''))}`;
    case 'route':
      return `naar team ${String(params['team'] ?? '?')}`;
    case 'approach':
      return `eerste contact bij voorkeur via ${channelLabel(String(params['channel'] ?? '')).toLowerCase()}`;
    case 'due':
      return `eerste contact binnen ${String(params['workingDays'] ?? '?')} werkdagen`;
    default:
      return rule.type;
  }
}

function Explanation(props: { task: HouseholdView['tasks'][number] }) {
  const { task } = props;
  const rules = task.explanation.rules;
  return (
    <section aria-labelledby="why-heading" class="card">
      <h2 id="why-heading">Waarom staat dit huishouden op de lijst?</h2>
      <p>
        Prioriteit <strong>{task.priority}</strong>: de som van de punten van de regels hieronder.{' '}
        {task.explanation.ruleSetVersion !== null ? `Berekend met regelset versie ${task.explanation.ruleSetVersion}.` : 'Berekend zonder opgeslagen regelset.'}
      </p>
      {rules.length === 0 ? (
        <p>Er is geen regel van toepassing: het huishouden staat op de lijst met de standaardtermijn.</p>
      ) : (
        <ul class="rules">
          {rules.map((rule) => (
            <li>
              <p>
                <strong>{rule.name}</strong> — {ruleEffect(rule)}
              </p>
              {rule.reason && <p>{rule.reason}</p>}
              {Object.keys(rule.facts).length > 0 && (
                <dl class="facts">
                  {Object.entries(rule.facts).map(([name, value]) => (
                    <>
                      <dt>{factLabel(name)}</dt>
                      <dd>{factValue(name, value)}</dd>
                    </>
                  ))}
                </dl>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function Signals(props: { household: HouseholdView; currentTaskId: number | null }) {
  return (
    <section aria-labelledby="signals-heading">
      <h2 id="signals-heading">Signalen</h2>
      <TableWrap label="Signalen">
        <table>
          <thead>
            <tr>
              <th scope="col">Schuldeiser</th>
              <th scope="col">Bedrag</th>
              <th scope="col">Achterstand sinds</th>
              <th scope="col">Signaaldatum</th>
              <th scope="col">Bijzonderheden</th>
              <th scope="col">Status</th>
              <th scope="col">Taak</th>
            </tr>
          </thead>
          <tbody>
            {props.household.signals.map((s) => (
              <tr>
                <td>
                  {partnerTypeLabel(s.partnerType)}
                  {s.partnerName && <span class="muted"> ({s.partnerName})</span>}
                </td>
                <td class="num">{formatEuros(s.amountCents)}</td>
                <td>{formatDate(s.originDate)}</td>
                <td>{formatDate(s.signalDate)}</td>
                <td>
                  {s.crisis && <span class="badge badge-crisis">Crisis</span>} {s.endOfSupply && <span class="badge badge-crisis">Einde levering</span>}{' '}
                  {s.warmHandover && <span class="badge badge-info">Warme overdracht</span>}{' '}
                  {s.childrenInHousehold !== null && (
                    <span class="badge badge-info">{s.childrenInHousehold === 0 ? 'Geen kinderen' : s.childrenInHousehold === 1 ? '1 kind' : `${s.childrenInHousehold} kinderen`}</span>
                  )}
                  {!s.crisis && !s.endOfSupply && !s.warmHandover && s.childrenInHousehold === null && '—'}
                </td>
                <td>{signalStatusLabel(s.status)}</td>
                <td>{s.taskId === null ? '—' : s.taskId === props.currentTaskId ? 'Huidige taak' : `Taak ${s.taskId}`}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableWrap>
    </section>
  );
}

interface Person {
  name: string;
  birthDate: string | null;
  phones: Set<string>;
  emails: Set<string>;
}

/** The people named on the signals, one entry per person, with every phone number and address given. */
function peopleOf(household: HouseholdView): Person[] {
  const people = new Map<string, Person>();
  for (const s of household.signals) {
    const name = [s.person.initials, s.person.prefix, s.person.surname].filter(Boolean).join(' ');
    if (!name && !s.contact.phone && !s.contact.email && !s.person.birthDate) continue;
    const key = JSON.stringify([name, s.person.birthDate]);
    const person = people.get(key) ?? { name: name || 'Naam onbekend', birthDate: s.person.birthDate, phones: new Set<string>(), emails: new Set<string>() };
    if (s.contact.phone) person.phones.add(s.contact.phone);
    if (s.contact.email) person.emails.add(s.contact.email);
    people.set(key, person);
  }
  return [...people.values()];
}

function People(props: { household: HouseholdView }) {
  const people = peopleOf(props.household);
  if (people.length === 0) return null;
  return (
    <section aria-labelledby="people-heading">
      <h2 id="people-heading">Bewoners en contactgegevens</h2>
      <p class="hint">Zoals de schuldeisers ze aanleverden.</p>
      <ul class="people">
        {people.map((p) => (
          <li>
            <strong>{p.name}</strong>
            {p.birthDate && <span> · geboren {formatDate(p.birthDate)}</span>}
            {[...p.phones].map((phone) => (
              <span>
                {' '}
                · tel. <a href={`tel:${phone}`}>{phone}</a>
              </span>
            ))}
            {[...p.emails].map((email) => (
              <span>
                {' '}
                · <a href={`mailto:${email}`}>{email}</a>
              </span>
            ))}
          </li>
        ))}
      </ul>
    </section>
  );
}

function AttemptsTable(props: { attempts: AttemptView[]; caption: string }) {
  if (props.attempts.length === 0) return <p>Nog geen contactpogingen.</p>;
  return (
    <TableWrap label={props.caption}>
      <table>
        <caption>{props.caption}</caption>
        <thead>
          <tr>
            <th scope="col">Datum</th>
            <th scope="col">Dagdeel</th>
            <th scope="col">Kanaal</th>
            <th scope="col">Bereikt</th>
          </tr>
        </thead>
        <tbody>
          {props.attempts.map((a) => (
            <tr>
              <td>{formatDate(a.date)}</td>
              <td>{dayPartLabel(a.dayPart)}</td>
              <td>{channelLabel(a.channel)}</td>
              <td>{a.reached ? 'Ja' : 'Nee'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
  );
}

function ErrorFor(props: { problem: FormProblem | undefined; form: FormName }) {
  if (props.problem?.form !== props.form) return null;
  return (
    <Notice kind="error" id={`${props.form}-error`}>
      {props.problem.message}
    </Notice>
  );
}

interface WorkProps {
  c: WebContext;
  data: HouseholdData;
  task: HouseholdView['tasks'][number];
  csrf: string;
  problem: FormProblem | undefined;
  values: Record<string, string>;
}

function WorkForms(props: WorkProps) {
  const { c, data, task, csrf, problem, values } = props;
  const actor = c.get('actor');
  const attempts = data.records.get(task.id)?.attempts ?? [];
  const today = dutchToday(c.get('ctx').now());
  const results = allowedResults(c, task, attempts, data.earliestSignalDate);
  const recording = canRecord(c, task, attempts.length);
  const releasable = machine.release({ status: task.status, assignee: task.assignee }, actor).ok;
  const describedBy = (form: FormName) => (problem?.form === form ? `${form}-error` : undefined);
  return (
    <>
      {claimable(task, actor) && (
        <section aria-labelledby="claim-heading" class="card">
          <h2 id="claim-heading">Oppakken</h2>
          <ErrorFor problem={problem} form="claim" />
          <p>Pak dit huishouden op om contactpogingen vast te leggen en de taak af te sluiten.</p>
          <form method="post" action={`/web/tasks/${task.id}/claim`}>
            <CsrfField token={csrf} />
            <button type="submit" class="primary">
              Huishouden oppakken
            </button>
          </form>
        </section>
      )}

      {recording && (
        <section aria-labelledby="attempt-heading" class="card">
          <h2 id="attempt-heading">Contactpoging vastleggen</h2>
          <ErrorFor problem={problem} form="attempt" />
          <form method="post" action={`/web/tasks/${task.id}/attempts`} class="stack" aria-describedby={describedBy('attempt')}>
            <CsrfField token={csrf} />
            <div class="row">
              <div class="field">
                <label for="attempt-channel">Kanaal</label>
                <select id="attempt-channel" name="channel" required>
                  <option value="">Kies een kanaal</option>
                  {CONTACT_CHANNEL_CODES.map((code) => (
                    <option value={code} selected={values['channel'] === code}>
                      {channelLabel(code)}
                    </option>
                  ))}
                </select>
              </div>
              <div class="field">
                <label for="attempt-date">Datum</label>
                <input id="attempt-date" name="date" type="date" required max={today} min={data.earliestSignalDate ?? undefined} value={values['date'] ?? today} />
              </div>
              <div class="field">
                <label for="attempt-day-part">Dagdeel (niet verplicht)</label>
                <select id="attempt-day-part" name="dayPart">
                  <option value="">Onbekend</option>
                  {DAY_PART_CODES.map((code) => (
                    <option value={code} selected={values['dayPart'] === code}>
                      {dayPartLabel(code)}
                    </option>
                  ))}
                </select>
              </div>
            </div>
            <fieldset>
              <legend>Is de inwoner bereikt?</legend>
              <div class="radios">
                <label>
                  <input type="radio" name="reached" value="true" required checked={values['reached'] === 'true'} /> Ja, bereikt
                </label>
                <label>
                  <input type="radio" name="reached" value="false" checked={values['reached'] === 'false'} /> Nee, niet bereikt
                </label>
              </div>
            </fieldset>
            <button type="submit" class="primary">
              Contactpoging vastleggen
            </button>
          </form>
        </section>
      )}

      {results.length > 0 && (
        <section aria-labelledby="close-heading" class="card">
          <h2 id="close-heading">Afsluiten met een resultaat</h2>
          <ErrorFor problem={problem} form="close" />
          <form method="post" action={`/web/tasks/${task.id}/close`} class="stack" aria-describedby={describedBy('close')}>
            <CsrfField token={csrf} />
            <div class="field">
              <label for="close-result">Resultaat</label>
              <select id="close-result" name="result" required aria-describedby="close-result-hint">
                <option value="">Kies een resultaat</option>
                {results.map((code) => (
                  <option value={code} selected={values['result'] === code}>
                    {resultLabel(code)}
                  </option>
                ))}
              </select>
              <p class="hint" id="close-result-hint">
                Alleen de resultaten die nu kunnen. Resultaten waarbij u de inwoner heeft gesproken verschijnen na een contactpoging waarbij de inwoner is bereikt;
                "Definitief geen contact" na {c.get('ctx').config.MIN_ATTEMPTS_NO_CONTACT} pogingen via {c.get('ctx').config.MIN_CHANNELS_NO_CONTACT} kanalen.
              </p>
            </div>
            <div class="field">
              <label for="close-note">Afsluitende notitie (niet verplicht)</label>
              <textarea id="close-note" name="note" rows={3} maxlength={machine.MAX_NOTE_LENGTH}>
                {values['closeNote'] ?? ''}
              </textarea>
            </div>
            <button type="submit" class="primary">
              Taak afsluiten
            </button>
          </form>
        </section>
      )}

      <section aria-labelledby="note-heading" class="card">
        <h2 id="note-heading">Notitie toevoegen</h2>
        <ErrorFor problem={problem} form="note" />
        <form method="post" action={`/web/tasks/${task.id}/notes`} class="stack" aria-describedby={describedBy('note')}>
          <CsrfField token={csrf} />
          <div class="field">
            <label for="note-text">Notitie</label>
            <textarea id="note-text" name="text" rows={3} required maxlength={machine.MAX_NOTE_LENGTH}>
              {values['text'] ?? ''}
            </textarea>
          </div>
          <button type="submit">Notitie toevoegen</button>
        </form>
      </section>

      {(releasable || (actor.role === 'coordinator' && data.consultants.length > 0)) && (
        <section aria-labelledby="handover-heading" class="card">
          <h2 id="handover-heading">Teruggeven of overdragen</h2>
          <ErrorFor problem={problem} form="release" />
          <ErrorFor problem={problem} form="assign" />
          {releasable && (
            <form method="post" action={`/web/tasks/${task.id}/release`} class="inline-form">
              <CsrfField token={csrf} />
              <button type="submit">Teruggeven aan het team</button>
            </form>
          )}
          {actor.role === 'coordinator' && data.consultants.length > 0 && (
            <form method="post" action={`/web/tasks/${task.id}/assign`} class="inline-form">
              <CsrfField token={csrf} />
              <div class="field">
                <label for="assign-consultant">Overdragen aan</label>
                <select id="assign-consultant" name="consultantKeyId" required>
                  <option value="">Kies een consulent</option>
                  {data.consultants.map((k) => (
                    <option value={k.id}>{k.label}</option>
                  ))}
                </select>
              </div>
              <button type="submit">Overdragen</button>
            </form>
          )}
        </section>
      )}
    </>
  );
}

function HouseholdPage(props: { c: WebContext; data: HouseholdData; problem?: FormProblem | undefined; values?: Record<string, string>; done?: string | undefined }) {
  const { c, data } = props;
  const actor = c.get('actor');
  const csrf = c.get('session').csrfSecret;
  const { household, current } = data;
  const earlier = household.tasks.filter((t) => t.status === 'closed').reverse();
  const currentAttempts = current ? (data.records.get(current.id)?.attempts ?? []) : [];
  const title = `Huishouden ${household.id}`;
  return (
    <Page title={title} actor={actor} csrf={csrf} current="/web/queue">
      <p class="breadcrumb">
        <a href="/web/queue">← Mijn werkvoorraad</a>
      </p>
      <h1>
        {title} <span class="muted">· {addressLine(household)}</span>
      </h1>
      {props.done && DONE_MESSAGES[props.done] && <Notice kind="ok">{DONE_MESSAGES[props.done]}</Notice>}
      {household.evaluationPending && <Notice kind="info">Er zijn nieuwe signalen binnen; de prioriteit wordt zo opnieuw berekend.</Notice>}

      {current ? (
        <section aria-labelledby="task-heading" class="card task-summary">
          <h2 id="task-heading">Huidige taak {current.id}</h2>
          <dl class="summary">
            <dt>Status</dt>
            <dd>
              <StatusBadge task={current} actor={actor} />
            </dd>
            <dt>Prioriteit</dt>
            <dd>{current.priority}</dd>
            <dt>Eerste contact uiterlijk</dt>
            <dd>
              <DueDate task={current} />
            </dd>
            <dt>Team</dt>
            <dd>{current.team ?? '—'}</dd>
            <dt>Geadviseerd eerste contact</dt>
            <dd>{channelLabel(current.channel)}</dd>
            <dt>Opgepakt op</dt>
            <dd>{formatDate(current.pickedUpDate)}</dd>
          </dl>
        </section>
      ) : (
        <Notice kind="info">Dit huishouden heeft geen open taak.</Notice>
      )}

      <div class="columns">
        <div class="column-main">
          {current && <Explanation task={current} />}
          <Signals household={household} currentTaskId={current?.id ?? null} />
          <People household={household} />
          {current && (
            <section aria-labelledby="attempts-heading">
              <h2 id="attempts-heading">Contactpogingen</h2>
              <AttemptsTable attempts={currentAttempts} caption={`Contactpogingen van taak ${current.id}`} />
            </section>
          )}
          {current && (
            <section aria-labelledby="notes-heading">
              <h2 id="notes-heading">Notities</h2>
              {data.notes.length === 0 ? (
                <p>Nog geen notities.</p>
              ) : (
                <ul class="notes">
                  {data.notes.map((n) => (
                    <li>
                      <p class="meta">
                        {n.authorLabel ?? 'Onbekend'} · {formatMoment(n.createdAt)}
                      </p>
                      <p class="note-text">{n.text}</p>
                    </li>
                  ))}
                </ul>
              )}
            </section>
          )}
          <section aria-labelledby="earlier-heading">
            <h2 id="earlier-heading">Eerdere taken</h2>
            {earlier.length === 0 ? (
              <p>Geen eerdere taken.</p>
            ) : (
              earlier.map((task) => {
                const records = data.records.get(task.id);
                return (
                  <div class="earlier">
                    <h3>
                      Taak {task.id} · afgesloten {formatDate(task.closedAt)}
                    </h3>
                    <p>
                      Resultaat: <strong>{resultLabel(task.result)}</strong>
                      {task.suppressed && ' (niet benaderd op grond van de regels)'}. Opgepakt op {formatDate(task.pickedUpDate)}.
                    </p>
                    {records?.visible ? (
                      <AttemptsTable attempts={records.attempts} caption={`Contactpogingen van taak ${task.id}`} />
                    ) : (
                      <p class="muted">De contactpogingen van deze taak vallen buiten uw teams.</p>
                    )}
                  </div>
                );
              })
            )}
          </section>
          {data.history.length > 0 && (
            <details>
              <summary>Geschiedenis van taak {current?.id}</summary>
              <ul class="history">
                {data.history.map((h) => (
                  <li>
                    {formatMoment(h.at)} — {HISTORY_LABELS[h.action] ?? h.action}
                    {h.actorLabel ? ` door ${h.actorLabel}` : h.actor === null ? ' door het systeem' : ''}
                    {h.action === 'close' && typeof h.detail['result'] === 'string' ? `: ${resultLabel(h.detail['result'])}` : ''}
                  </li>
                ))}
              </ul>
            </details>
          )}
        </div>
        <div class="column-side">{current && <WorkForms c={c} data={data} task={current} csrf={csrf} problem={props.problem} values={props.values ?? {}} />}</div>
      </div>
    </Page>
  );
}

// ---- handlers ---------------------------------------------------------------------------

async function renderHousehold(c: WebContext, householdId: number, extra: { problem?: FormProblem; values?: Record<string, string>; status?: 400 | 409 } = {}) {
  const data = await loadHousehold(c, householdId);
  return render(c, <HouseholdPage c={c} data={data} problem={extra.problem} values={extra.values} done={c.req.query('done')} />, extra.status ?? 200);
}

/** The task of a form post, as the actor may see it; 404 page otherwise. */
async function visibleTask(c: WebContext): Promise<TaskView> {
  const id = idParam(c.req.param('id'));
  const task = id === null ? null : await findVisibleTask(c.get('ctx').pool, c.get('actor'), id);
  if (!task) throw notFound();
  return task;
}

/**
 * Runs a task change; on a refusal of the service (409 state conflict, 400 invalid input) the
 * household page is shown again with the message at the form and the values kept.
 */
async function change(c: WebContext, form: FormName, values: Record<string, string>, work: (task: TaskView) => Promise<string>): Promise<Response> {
  requireRole(c, 'consultant', 'coordinator');
  const task = await visibleTask(c);
  try {
    return c.redirect(await work(task), 303);
  } catch (error) {
    if (error instanceof ProblemError && (error.status === 409 || error.status === 400)) {
      return renderHousehold(c, task.householdId, { problem: { form, message: problemMessage(error) }, values, status: error.status });
    }
    if (error instanceof InputError) return renderHousehold(c, task.householdId, { problem: { form, message: error.message }, values, status: 400 });
    throw error;
  }
}

class InputError extends Error {}

function formValues(form: Form, names: string[]): Record<string, string> {
  return Object.fromEntries(names.map((n) => [n, field(form, n)]));
}

export function registerHouseholdPages(web: Hono<WebEnv>): void {
  web.get('/households/:id', async (c) => {
    requireRole(c, 'consultant', 'coordinator');
    const id = idParam(c.req.param('id'));
    if (id === null) throw notFound();
    return renderHousehold(c, id);
  });

  web.post('/tasks/:id/claim', (c) =>
    change(c, 'claim', {}, async (task) => {
      await claimTask(c.get('ctx'), c.get('actor'), task.id, auditChange(c));
      return `/web/households/${task.householdId}?done=claimed`;
    }),
  );

  web.post('/tasks/:id/attempts', async (c) => {
    const form = await readForm(c);
    const values = formValues(form, ['channel', 'date', 'dayPart', 'reached']);
    return change(c, 'attempt', values, async (task) => {
      if (!(CONTACT_CHANNEL_CODES as readonly string[]).includes(values['channel']!)) throw new InputError('Kies een kanaal.');
      if (!isIsoDate(values['date']!)) throw new InputError('Vul een geldige datum in.');
      if (values['reached'] !== 'true' && values['reached'] !== 'false') throw new InputError('Geef aan of de inwoner is bereikt.');
      if (values['dayPart'] !== '' && !(DAY_PART_CODES as readonly string[]).includes(values['dayPart']!)) throw new InputError('Kies een dagdeel.');
      await recordContactAttempt(
        c.get('ctx'),
        c.get('actor'),
        task.id,
        { channel: values['channel'] as ContactChannel, reached: values['reached'] === 'true', date: values['date']!, dayPart: (values['dayPart'] || null) as DayPart | null },
        auditChange(c),
      );
      return `/web/households/${task.householdId}?done=attempt#attempts-heading`;
    });
  });

  web.post('/tasks/:id/notes', async (c) => {
    const form = await readForm(c);
    const values = formValues(form, ['text']);
    return change(c, 'note', values, async (task) => {
      if (values['text'] === '') throw new InputError('Schrijf eerst een notitie.');
      if (values['text']!.length > machine.MAX_NOTE_LENGTH) throw new InputError(`Een notitie is ten hoogste ${machine.MAX_NOTE_LENGTH} tekens.`);
      await addTaskNote(c.get('ctx'), c.get('actor'), task.id, values['text']!, auditChange(c));
      return `/web/households/${task.householdId}?done=note#notes-heading`;
    });
  });

  web.post('/tasks/:id/close', async (c) => {
    const form = await readForm(c);
    const values = { result: field(form, 'result'), closeNote: field(form, 'note') };
    return change(c, 'close', values, async (task) => {
      if (!(TASK_RESULT_CODES as readonly string[]).includes(values.result)) throw new InputError('Kies een resultaat.');
      if (values.closeNote.length > machine.MAX_NOTE_LENGTH) throw new InputError(`Een notitie is ten hoogste ${machine.MAX_NOTE_LENGTH} tekens.`);
      await closeTask(c.get('ctx'), c.get('actor'), task.id, { result: values.result as TaskResult, note: values.closeNote || undefined }, auditChange(c));
      return '/web/queue?done=closed';
    });
  });

  web.post('/tasks/:id/release', (c) =>
    change(c, 'release', {}, async (task) => {
      await releaseTask(c.get('ctx'), c.get('actor'), task.id, auditChange(c));
      return '/web/queue?done=released';
    }),
  );

  web.post('/tasks/:id/assign', async (c) => {
    const form = await readForm(c);
    const consultantKeyId = field(form, 'consultantKeyId');
    return change(c, 'assign', {}, async (task) => {
      requireRole(c, 'coordinator');
      if (!/^[0-9a-f-]{36}$/i.test(consultantKeyId)) throw new InputError('Kies een consulent.');
      await assignTask(c.get('ctx'), c.get('actor'), task.id, consultantKeyId, auditChange(c));
      return `/web/households/${task.householdId}?done=assigned`;
    });
  });
}

