/**
 * SQL of the consultant work queue: listing and claiming in queue order, the per-task records
 * (contact attempts, notes, history) and the escalation of overdue tasks.
 *
 * Queue order is "overdue first, then priority, then due date, then id". In SQL it is the
 * ascending tuple (not overdue, -priority, coalesce(due_date, infinity), id): the expressions
 * of the team claim index of migration 020 and of the list index of migration 120, so that both
 * a cursor bound and "the next task I can lock" are index range scans.
 */
import type { ContactChannel, DayPart, SignalStatus, TaskResult } from '../domain/codes.js';
import type { TaskStatus } from '../domain/taskStateMachine.js';
import type { AuditEvent } from './audit.js';
import type { Queryable } from './pool.js';
import { LIST_KEY, QUEUE_KEY, TASK_COLUMNS, type TaskRow } from './tasks.js';

/** The queue's sort key of a row of alias `t`. */
const SORT_KEY = QUEUE_KEY;

/**
 * A municipality's open, unassigned tasks in queue order are the part still to be worked of the
 * list index (tasks_listing, migration 120): its first sort key, `status = 'closed'`, is false
 * for all of them, and saying so lets the range start there.
 */
const TO_DO = `(t.status = 'closed') is false`;

/** A position in the queue: the segment (0: assigned to me, 1: my teams' open tasks) and the sort key. */
export interface QueuePosition {
  segment: 0 | 1;
  notOverdue: boolean;
  negPriority: number;
  /** YYYY-MM-DD, or 'infinity' for a task without a due date. */
  dueKey: string;
  id: number;
}

/** Whose queue: a consultant works their teams, a coordinator the whole municipality. */
export interface QueueScope {
  municipality: string;
  keyId: string;
  teams: readonly string[] | 'all';
}

export interface QueueRow extends TaskRow {
  k_not_overdue: boolean;
  k_neg_priority: number;
  k_due: string;
}

const KEY_COLUMNS = `, (not t.overdue) as k_not_overdue, (-(t.priority::bigint)) as k_neg_priority, (coalesce(t.due_date, 'infinity'::date))::text as k_due`;

/** After the cursor's position in queue order; `toDo`: as a bound of the list index's part still to be worked. */
function afterSql(first: number, toDo = false): string {
  const position = `$${first}::boolean, $${first + 1}::bigint, $${first + 2}::date, $${first + 3}::bigint`;
  return toDo
    ? `($${first}::boolean is null or (${LIST_KEY}) > (false, ${position}))`
    : `($${first}::boolean is null or (${SORT_KEY}) > (${position}))`;
}

function afterParams(after: QueuePosition | null): unknown[] {
  return after ? [after.notOverdue, after.negPriority, after.dueKey, after.id] : [null, null, null, null];
}

/** Non-closed tasks assigned to (routed to, or claimed by) the key, in queue order. */
export async function listAssignedQueue(db: Queryable, scope: QueueScope, after: QueuePosition | null, limit: number): Promise<QueueRow[]> {
  const { rows } = await db.query<QueueRow>(
    `select ${TASK_COLUMNS}${KEY_COLUMNS} from tasks t
      where t.assignee_key_id = $1 and t.municipality_code = $2 and t.status <> 'closed' and ${afterSql(3)}
      order by ${SORT_KEY} limit $7`,
    [scope.keyId, scope.municipality, ...afterParams(after), limit],
  );
  return rows;
}

/**
 * Open, unassigned tasks of the scope in queue order. For a consultant one index range per
 * team (LATERAL), merged: a btree cannot return `team = any(…)` in the order of later columns.
 */
export async function listTeamQueue(db: Queryable, scope: QueueScope, after: QueuePosition | null, limit: number): Promise<QueueRow[]> {
  const open = `t.municipality_code = $1 and t.status = 'open' and t.assignee_key_id is null`;
  if (scope.teams === 'all') {
    const { rows } = await db.query<QueueRow>(
      `select ${TASK_COLUMNS}${KEY_COLUMNS} from tasks t where ${open} and ${TO_DO} and ${afterSql(2, true)} order by ${LIST_KEY} limit $6`,
      [scope.municipality, ...afterParams(after), limit],
    );
    return rows;
  }
  const { rows } = await db.query<QueueRow>(
    `select q.* from unnest($7::text[]) as tm(team)
      cross join lateral (
        select ${TASK_COLUMNS}${KEY_COLUMNS} from tasks t where t.team = tm.team and ${open} and ${afterSql(2)} order by ${SORT_KEY} limit $6
      ) q
      order by q.k_not_overdue, q.k_neg_priority, q.k_due::date, q.id limit $6`,
    [scope.municipality, ...afterParams(after), limit, [...new Set(scope.teams)]],
  );
  return rows;
}

export interface ClaimedRow extends TaskRow {
  routed: boolean;
}

/**
 * Claims the next task for the key in one statement: the first open task routed to it, else
 * the first open unassigned task of its scope. `FOR UPDATE SKIP LOCKED` makes concurrent
 * claimers pass each other's candidates instead of waiting or taking the same row; a row
 * claimed and committed meanwhile fails the re-checked `status = 'open'` and is skipped too.
 * For several teams it may briefly lock one candidate per team; the statement's end frees them.
 *
 * Claiming is the hot path, so the claim, its history record and its audit record are one
 * statement: one round trip and one commit. And it is a named (prepared) statement, because
 * planning this query costs more than running it; its generic plan uses the same indexes.
 */
export async function claimNext(
  db: Queryable,
  scope: QueueScope,
  at: Date,
  audit: Pick<AuditEvent, 'actorLabel' | 'origin' | 'requestId'>,
): Promise<ClaimedRow | null> {
  const claimable = `t.municipality_code = $2 and t.status = 'open' and t.assignee_key_id is null`;
  const fromScope =
    scope.teams === 'all'
      ? `select t.id from tasks t where ${claimable} and ${TO_DO} and not exists (select 1 from mine) order by ${LIST_KEY} limit 1 for update skip locked`
      : `select c.id from unnest($7::text[]) as tm(team)
          cross join lateral (
            select t.id${KEY_COLUMNS} from tasks t
             where t.team = tm.team and ${claimable} order by ${SORT_KEY} limit 1 for update skip locked
          ) c
          where not exists (select 1 from mine)
          order by c.k_not_overdue, c.k_neg_priority, c.k_due::date, c.id limit 1`;
  const values: unknown[] = [scope.keyId, scope.municipality, at, audit.actorLabel, audit.origin ?? null, audit.requestId ?? null];
  if (scope.teams !== 'all') values.push([...new Set(scope.teams)]);
  const { rows } = await db.query<ClaimedRow>({
    name: scope.teams === 'all' ? 'task-claim-next-municipality' : 'task-claim-next-teams',
    text: `with mine as (
       select t.id from tasks t where t.assignee_key_id = $1 and t.municipality_code = $2 and t.status = 'open'
        order by ${SORT_KEY} limit 1 for update skip locked
     ), theirs as (${fromScope}),
     picked as (select id, true as routed from mine union all select id, false from theirs limit 1),
     claimed as (
       update tasks t set status = 'claimed', assignee_key_id = $1, claimed_at = $3, updated_at = $3
         from picked where t.id = picked.id
       returning ${TASK_COLUMNS}, picked.routed
     ),
     history as (
       insert into task_history (task_id, actor_key_id, action, detail, at)
       select id, $1, 'claim', jsonb_build_object('next', true, 'routed', routed), $3 from claimed
     ),
     -- the record recordAudit (db/audit.ts) writes, in the same statement
     audit as (
       insert into audit_events (actor_key_id, actor_label, action, object_type, object_id, municipality_code, result, origin, request_id)
       select $1, $4, 'task.claim', 'task', id::text, municipality_code, 'success', $5, $6 from claimed
     )
     select * from claimed`,
    values,
  });
  return rows[0] ?? null;
}

export interface LockedTask extends TaskRow {
  /** The earliest signalDate of the task's signals (the bound for contact attempts); null without signals. */
  earliest_signal_date: string | null;
}

/** One task row, locked for the rest of the transaction; null when the visibility SQL hides it. */
export async function lockTask(db: Queryable, id: number, visibility: { sql: string; params: unknown[] }): Promise<LockedTask | null> {
  const { rows } = await db.query<LockedTask>(
    `select ${TASK_COLUMNS}, (select min(s.signal_date) from task_signals ts join signals s on s.id = ts.signal_id where ts.task_id = t.id) as earliest_signal_date
       from tasks t where t.id = $1 and ${visibility.sql} for update of t`,
    [id, ...visibility.params],
  );
  return rows[0] ?? null;
}

/** The municipality of a task the actor may see, or null. */
export async function visibleTaskMunicipality(db: Queryable, id: number, visibility: { sql: string; params: unknown[] }): Promise<string | null> {
  const { rows } = await db.query<{ municipality_code: string }>(`select t.municipality_code from tasks t where t.id = $1 and ${visibility.sql}`, [id, ...visibility.params]);
  return rows[0]?.municipality_code ?? null;
}

export async function fetchTaskRow(db: Queryable, id: number): Promise<TaskRow> {
  const { rows } = await db.query<TaskRow>(`select ${TASK_COLUMNS} from tasks t where t.id = $1`, [id]);
  return rows[0]!;
}

export async function updateAssignment(db: Queryable, id: number, status: TaskStatus, assignee: string | null, at: Date): Promise<void> {
  await db.query(
    `update tasks set status = $2::text, assignee_key_id = $3, claimed_at = case when $2::text = 'claimed' then $4::timestamptz end, updated_at = $4::timestamptz
      where id = $1`,
    [id, status, assignee, at],
  );
}

export async function insertHistory(db: Queryable, taskId: number, actorKeyId: string | null, action: string, detail: Record<string, unknown>, at: Date): Promise<void> {
  await db.query(`insert into task_history (task_id, actor_key_id, action, detail, at) values ($1, $2, $3, $4, $5)`, [taskId, actorKeyId, action, detail, at]);
}

export interface AttemptRow {
  id: number;
  task_id: number;
  channel: ContactChannel;
  reached: boolean;
  attempt_date: string;
  day_part: DayPart | null;
  recorded_by: string | null;
  created_at: Date;
}

const ATTEMPT_COLUMNS = 'id, task_id, channel, reached, attempt_date, day_part, recorded_by, created_at';

export interface AttemptView {
  id: number;
  taskId: number;
  channel: ContactChannel;
  reached: boolean;
  date: string;
  dayPart: DayPart | null;
  recordedBy: string | null;
  createdAt: string;
}

export function attemptView(row: AttemptRow): AttemptView {
  return {
    id: row.id,
    taskId: row.task_id,
    channel: row.channel,
    reached: row.reached,
    date: row.attempt_date,
    dayPart: row.day_part,
    recordedBy: row.recorded_by,
    createdAt: row.created_at.toISOString(),
  };
}

/** Every attempt on the tasks, in the order they were made. */
export async function listAttemptsOfTasks(db: Queryable, taskIds: readonly number[]): Promise<AttemptRow[]> {
  if (taskIds.length === 0) return [];
  const { rows } = await db.query<AttemptRow>(
    `select ${ATTEMPT_COLUMNS} from contact_attempts where task_id = any($1::bigint[]) order by attempt_date, id`,
    [taskIds],
  );
  return rows;
}

/** A task's attempts after `afterId`, oldest first. */
export async function listAttempts(db: Queryable, taskId: number, afterId: number, limit: number): Promise<AttemptRow[]> {
  const { rows } = await db.query<AttemptRow>(
    `select ${ATTEMPT_COLUMNS} from contact_attempts where task_id = $1 and id > $2 order by id limit $3`,
    [taskId, afterId, limit],
  );
  return rows;
}

export interface NewAttempt {
  channel: ContactChannel;
  reached: boolean;
  date: string;
  dayPart: DayPart | null;
}

/**
 * Records a contact attempt and what follows from it, in one statement: the attempt; the task
 * picked up on the date of its earliest attempt (DDAS datumOpgepakt) and no longer overdue (it
 * waits for no first contact any more); its signals that nobody had picked up now picked up;
 * and the history entry.
 */
export async function insertAttempt(db: Queryable, taskId: number, attempt: NewAttempt, recordedBy: string, at: Date, first: boolean): Promise<AttemptRow> {
  const { rows } = await db.query<AttemptRow>(
    `with attempt as (
       insert into contact_attempts (task_id, channel, reached, attempt_date, day_part, recorded_by, created_at)
       values ($1, $2, $3, $4, $5, $6, $7) returning ${ATTEMPT_COLUMNS}
     ), task as (
       update tasks set picked_up_date = least(coalesce(picked_up_date, $4::date), $4::date), overdue = false, updated_at = $7 where id = $1
     ), picked_up as (
       update signals s set status = 'picked_up' from task_signals ts
        where ts.task_id = $1 and s.id = ts.signal_id and s.status = 'not_yet_picked_up'
     ), history as (
       insert into task_history (task_id, actor_key_id, action, detail, at)
       select $1, $6, 'contact-attempt',
              jsonb_build_object('attemptId', id, 'channel', channel, 'reached', reached, 'date', attempt_date, 'dayPart', day_part, 'first', $8::boolean), $7
         from attempt
     )
     select * from attempt`,
    [taskId, attempt.channel, attempt.reached, attempt.date, attempt.dayPart, recordedBy, at, first],
  );
  return rows[0]!;
}

export async function countNotes(db: Queryable, taskId: number): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`select count(*)::int as n from task_notes where task_id = $1`, [taskId]);
  return rows[0]!.n;
}

export interface NoteRow {
  id: number;
  task_id: number;
  text: string;
  author_key_id: string | null;
  author_label: string | null;
  created_at: Date;
}

export async function insertNote(db: Queryable, taskId: number, text: string, authorKeyId: string, at: Date): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    `insert into task_notes (task_id, text, author_key_id, created_at) values ($1, $2, $3, $4) returning id`,
    [taskId, text, authorKeyId, at],
  );
  return rows[0]!.id;
}

export async function listNotes(db: Queryable, taskId: number, afterId: number, limit: number): Promise<NoteRow[]> {
  const { rows } = await db.query<NoteRow>(
    `select n.id, n.task_id, n.text, n.author_key_id, k.label as author_label, n.created_at
       from task_notes n left join api_keys k on k.id = n.author_key_id
      where n.task_id = $1 and n.id > $2 order by n.id limit $3`,
    [taskId, afterId, limit],
  );
  return rows;
}

export interface HistoryRow {
  id: number;
  task_id: number;
  actor_key_id: string | null;
  actor_label: string | null;
  action: string;
  detail: Record<string, unknown>;
  at: Date;
}

export async function listHistory(db: Queryable, taskId: number, afterId: number, limit: number): Promise<HistoryRow[]> {
  const { rows } = await db.query<HistoryRow>(
    `select h.id, h.task_id, h.actor_key_id, k.label as actor_label, h.action, h.detail, h.at
       from task_history h left join api_keys k on k.id = h.actor_key_id
      where h.task_id = $1 and h.id > $2 order by h.id limit $3`,
    [taskId, afterId, limit],
  );
  return rows;
}

/**
 * Closes a task in one statement: the result and closing time; its signals that nobody picked
 * up get `signalStatus` (when not null); the closing note, if any; and the history entry.
 * `overdue` is cleared: it only ever marks work still to do.
 */
export async function closeTask(
  db: Queryable,
  taskId: number,
  close: { result: TaskResult; signalStatus: SignalStatus | null; note: string | null; previousStatus: TaskStatus },
  actorKeyId: string,
  at: Date,
): Promise<void> {
  await db.query(
    `with closed as (
       update tasks set status = 'closed', result = $2, overdue = false, closed_at = $3, updated_at = $3 where id = $1
     ), signals as (
       update signals s set status = $4 from task_signals ts
        where $4::text is not null and ts.task_id = $1 and s.id = ts.signal_id and s.status = 'not_yet_picked_up'
     ), note as (
       insert into task_notes (task_id, text, author_key_id, created_at) select $1, $5, $6, $3 where $5::text is not null returning id
     )
     insert into task_history (task_id, actor_key_id, action, detail, at)
     select $1, $6, 'close',
            jsonb_build_object('result', $2::text, 'previousStatus', $7::text, 'noteId', (select id from note), 'signalStatus', $4::text), $3`,
    [taskId, close.result, at, close.signalStatus, close.note, actorKeyId, close.previousStatus],
  );
}

/** An active consultant key of the municipality, or null. */
export async function findActiveConsultant(db: Queryable, keyId: string, municipality: string): Promise<{ id: string } | null> {
  const { rows } = await db.query<{ id: string }>(
    `select id from api_keys where id = $1 and role = 'consultant' and municipality_code = $2 and revoked_at is null`,
    [keyId, municipality],
  );
  return rows[0] ?? null;
}

/**
 * The escalation run, in one statement per direction so that it is atomic and idempotent:
 * non-closed tasks without any contact attempt whose due date lies before `today` become
 * overdue; overdue tasks that no longer qualify (a due date moved by a re-evaluation) are
 * cleared. Each change gets a history record. Returns the counts.
 */
// Marking walks `tasks_listing` per municipality (municipalities are never deleted, 060): the
// part still to be worked and not overdue, its due date compared on the index entry, so only
// the tasks found overdue are read. The conditions are written in the index's own expressions
// for that; a task without a due date is never overdue either way (coalesce gives infinity).
export async function escalate(db: Queryable, today: string, at: Date): Promise<{ marked: number; cleared: number }> {
  const marked = await db.query(
    `with marked as (
       update tasks t set overdue = true, updated_at = $2
         from municipalities m
        where t.municipality_code = m.code and (t.status = 'closed') is false and (not t.overdue) is true
          and coalesce(t.due_date, 'infinity'::date) < $1::date
          and not exists (select 1 from contact_attempts a where a.task_id = t.id)
       returning t.id, t.due_date
     )
     insert into task_history (task_id, actor_key_id, action, detail, at)
     select id, null, 'overdue', jsonb_build_object('dueDate', due_date, 'today', $1::text), $2 from marked`,
    [today, at],
  );
  const cleared = await db.query(
    `with cleared as (
       update tasks t set overdue = false, updated_at = $2
        where t.overdue and t.status <> 'closed'
          and (t.due_date is null or t.due_date >= $1::date or exists (select 1 from contact_attempts a where a.task_id = t.id))
       returning t.id, t.due_date
     )
     insert into task_history (task_id, actor_key_id, action, detail, at)
     select id, null, 'overdue-cleared', jsonb_build_object('dueDate', due_date, 'today', $1::text), $2 from cleared`,
    [today, at],
  );
  return { marked: marked.rowCount ?? 0, cleared: cleared.rowCount ?? 0 };
}

/** Overdue, non-closed tasks per municipality; every municipality is listed, 0 included. */
export async function overdueCounts(db: Queryable): Promise<{ municipality: string; overdue: number }[]> {
  const { rows } = await db.query<{ municipality: string; overdue: number }>(
    `select m.code as municipality, count(t.id)::int as overdue
       from municipalities m left join tasks t on t.municipality_code = m.code and t.overdue and t.status <> 'closed'
      group by m.code order by m.code`,
  );
  return rows;
}
