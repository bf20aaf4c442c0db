import type { Hono } from 'hono';
import { decodeCursor, encodeCursor } from '../../api/openapi.js';
import { ProblemError } from '../../api/problem.js';
import { TASK_STATUSES, type TaskStatus, type TaskView } from '../../api/schemas/task.js';
import { listTeams } from '../../db/municipalities.js';
import { listVisibleTasks, taskListPosition, toTaskListPosition } from '../../db/taskReads.js';
import type { Actor } from '../../domain/apiKey.js';
import type { AppContext } from '../../context.js';
import { claimNextTask, listQueue } from '../../services/taskWork.js';
import type { WebContext, WebEnv } from '../env.js';
import { formatNumber, TASK_STATUS_LABELS } from '../labels.js';
import { CsrfField, Notice, Page, render, TableWrap } from '../layout.js';
import { auditChange, auditRead, requireRole } from '../support.js';
import { claimable, DueDate, SignalSummary, StatusBadge } from './taskParts.js';

/**
 * "Mijn werkvoorraad": the consultant's queue — the API's GET /v1/tasks/queue (assigned to me,
 * then my teams' open tasks, each overdue first, then priority, then due date) — with one
 * button that claims the next household (POST /v1/tasks/claim). With a team or status filter
 * it lists the API's GET /v1/tasks instead, overdue tasks first.
 */

const PAGE_SIZE = 50;

const DONE_MESSAGES: Record<string, string> = {
  empty: 'Er is op dit moment niets meer om op te pakken.',
  released: 'De taak staat weer in de wachtrij van het team.',
  closed: 'De taak is afgesloten.',
};

interface Filter {
  team: string;
  status: TaskStatus | '';
}

/** The filtered list: the API's task list, overdue tasks first, paged across both parts. */
async function filteredTasks(ctx: AppContext, actor: Actor, filter: Filter, cursor: string | undefined): Promise<{ tasks: TaskView[]; nextCursor: string | null }> {
  const decoded = decodeCursor(cursor);
  const segment = decoded?.[0] === 1 ? 1 : 0;
  const after = toTaskListPosition(decoded?.[1]);
  const base = { status: filter.status || undefined, team: filter.team || undefined };
  const rows: { task: TaskView; segment: 0 | 1 }[] = [];
  if (segment === 0) {
    for (const task of await listVisibleTasks(ctx.pool, actor, { ...base, overdue: true, limit: PAGE_SIZE + 1, after })) rows.push({ task, segment: 0 });
  }
  if (rows.length <= PAGE_SIZE) {
    const more = await listVisibleTasks(ctx.pool, actor, { ...base, overdue: false, limit: PAGE_SIZE + 1 - rows.length, after: segment === 1 ? after : null });
    for (const task of more) rows.push({ task, segment: 1 });
  }
  const page = rows.slice(0, PAGE_SIZE);
  const last = page[page.length - 1];
  const nextCursor = rows.length > PAGE_SIZE && last ? encodeCursor([last.segment, taskListPosition(last.task)]) : null;
  return { tasks: page.map((r) => r.task), nextCursor };
}

async function teamsOf(c: WebContext): Promise<string[]> {
  const actor = c.get('actor');
  if (actor.role === 'consultant') return actor.teams;
  return actor.municipality ? (await listTeams(c.get('ctx').pool, actor.municipality)).map((t) => t.id) : [];
}

function QueueTable(props: { tasks: TaskView[]; actor: Actor; csrf: string }) {
  return (
    <TableWrap label="Taken">
      <table>
        <caption class="visually-hidden">Taken in volgorde van aanpak</caption>
        <thead>
          <tr>
            <th scope="col">Huishouden</th>
            <th scope="col">Prioriteit</th>
            <th scope="col">Eerste contact uiterlijk</th>
            <th scope="col">Signalen</th>
            <th scope="col">Team</th>
            <th scope="col">Status</th>
            <th scope="col">
              <span class="visually-hidden">Actie</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {props.tasks.map((task) => (
            <tr class={task.overdue ? 'row-overdue' : undefined}>
              <td>
                <a href={`/web/households/${task.householdId}`}>Huishouden {task.householdId}</a>
              </td>
              <td class="num">{task.priority}</td>
              <td>
                <DueDate task={task} />
              </td>
              <td>
                <SignalSummary task={task} />
              </td>
              <td>{task.team ?? '—'}</td>
              <td>
                <StatusBadge task={task} actor={props.actor} />
              </td>
              <td>
                {claimable(task, props.actor) && (
                  <form method="post" action={`/web/tasks/${task.id}/claim`} class="inline">
                    <CsrfField token={props.csrf} />
                    <button type="submit" class="small" aria-label={`Huishouden ${task.householdId} oppakken`}>
                      Oppakken
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

export function registerQueuePages(web: Hono<WebEnv>): void {
  web.get('/queue', async (c) => {
    requireRole(c, 'consultant', 'coordinator');
    const actor = c.get('actor');
    const ctx = c.get('ctx');
    const teams = await teamsOf(c);
    const statusQuery = c.req.query('status') ?? '';
    const filter: Filter = {
      team: teams.includes(c.req.query('team') ?? '') ? c.req.query('team')! : '',
      status: (TASK_STATUSES as readonly string[]).includes(statusQuery) ? (statusQuery as TaskStatus) : '',
    };
    const filtered = filter.team !== '' || filter.status !== '';
    const cursor = c.req.query('cursor') || undefined;
    let result: { tasks: TaskView[]; nextCursor: string | null };
    if (filtered) {
      result = await filteredTasks(ctx, actor, filter, cursor);
      await auditRead(c, { action: 'task.list', objectType: 'task', objectId: result.tasks.map((t) => t.id).join(',').slice(0, 2000) || null, municipality: actor.municipality });
    } else {
      // A cursor of the other list (or a hand-edited one) starts the queue from the top.
      result = await listQueue(ctx, actor, { limit: PAGE_SIZE, cursor }).catch((error: unknown) => {
        if (error instanceof ProblemError && error.status === 400) return listQueue(ctx, actor, { limit: PAGE_SIZE });
        throw error;
      });
      await auditRead(c, { action: 'task.queue.read', objectType: 'task', municipality: actor.municipality });
    }
    const done = DONE_MESSAGES[c.req.query('done') ?? ''];
    const nextParams = new URLSearchParams({ ...(filter.team ? { team: filter.team } : {}), ...(filter.status ? { status: filter.status } : {}), ...(result.nextCursor ? { cursor: result.nextCursor } : {}) });
    const csrf = c.get('session').csrfSecret;
    return render(
      c,
      <Page title="Mijn werkvoorraad" actor={actor} csrf={csrf} current="/web/queue">
        <h1>Mijn werkvoorraad</h1>
        {done && <Notice kind={c.req.query('done') === 'empty' ? 'info' : 'ok'}>{done}</Notice>}
        <div class="toolbar">
          <form method="post" action="/web/queue/claim-next" class="inline">
            <CsrfField token={csrf} />
            <button type="submit" class="primary large">
              Pak het volgende huishouden
            </button>
          </form>
          <p class="hint">Neemt eerst wat aan u is toegewezen, dan de eerstvolgende taak van uw team: te laat eerst, dan op prioriteit en uiterste datum.</p>
        </div>
        <form method="get" action="/web/queue" class="filters" aria-label="Filters">
          <div class="field">
            <label for="filter-team">Team</label>
            <select id="filter-team" name="team">
              <option value="">{actor.role === 'consultant' ? 'Al mijn teams' : 'Alle teams'}</option>
              {teams.map((team) => (
                <option value={team} selected={filter.team === team}>
                  {team}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="filter-status">Status</label>
            <select id="filter-status" name="status">
              <option value="">Mijn werk (te doen)</option>
              {TASK_STATUSES.map((status) => (
                <option value={status} selected={filter.status === status}>
                  {TASK_STATUS_LABELS[status]}
                </option>
              ))}
            </select>
          </div>
          <button type="submit">Filteren</button>
          {filtered && <a href="/web/queue">Filters wissen</a>}
        </form>
        <h2 id="queue-heading">
          {filtered ? 'Taken' : 'Te doen'} <span class="muted">({formatNumber(result.tasks.length)}{result.nextCursor ? '+' : ''})</span>
        </h2>
        {result.tasks.length === 0 ? <p>Geen taken{filtered ? ' met deze filters' : ''}.</p> : <QueueTable tasks={result.tasks} actor={actor} csrf={csrf} />}
        {result.nextCursor && (
          <p>
            <a href={`/web/queue?${nextParams.toString()}`}>Volgende pagina</a>
          </p>
        )}
      </Page>,
    );
  });

  web.post('/queue/claim-next', async (c) => {
    requireRole(c, 'consultant', 'coordinator');
    const task = await claimNextTask(c.get('ctx'), c.get('actor'), auditChange(c));
    return c.redirect(task ? `/web/households/${task.householdId}?done=claimed` : '/web/queue?done=empty', 303);
  });
}
