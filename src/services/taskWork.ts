/**
 * The consultant's work on tasks: the queue, claiming, releasing, assigning, contact attempts,
 * notes and closing. Each change runs in one transaction that locks the task row, asks the pure
 * state machine (domain/taskStateMachine.ts) whether it may happen, writes it and its history.
 * Refusals become problem+json: 404 for a task the actor may not see, 409 for a state conflict.
 */
import type { Config } from '../config.js';
import type { AppContext } from '../context.js';
import {
  claimNext,
  closeTask as closeTaskRow,
  countNotes,
  fetchTaskRow,
  findActiveConsultant,
  insertAttempt,
  insertHistory,
  insertNote,
  listAssignedQueue,
  listAttempts,
  listHistory,
  listNotes,
  listTeamQueue,
  lockTask,
  updateAssignment,
  visibleTaskMunicipality,
  attemptView,
  type AttemptView,
  type LockedTask,
  type NewAttempt,
  type QueuePosition,
  type QueueRow,
  type QueueScope,
} from '../db/taskWork.js';
import { withTransaction, type Client, type Queryable } from '../db/pool.js';
import { taskVisibilitySql, toTaskViews, type TaskRow } from '../db/tasks.js';
import type { TaskView } from '../api/schemas/task.js';
import type { Actor } from '../domain/apiKey.js';
import type { TaskResult } from '../domain/codes.js';
import { dutchToday, isIsoDate } from '../domain/dates.js';
import * as machine from '../domain/taskStateMachine.js';
import { problem, ProblemError } from '../api/problem.js';
import { changeRecord, recordAudit, type AuditEvent, type AuditSource } from '../db/audit.js';
import { decodeCursor, encodeCursor } from '../api/openapi.js';

export type { AuditSource } from '../db/audit.js';

function auditRecord(source: AuditSource, action: string, taskId: number, municipality: string): AuditEvent {
  return changeRecord(source, { action, objectType: 'task', objectId: String(taskId), municipality });
}

/** The per-task limits, from the configuration (MAX_NOTES_PER_TASK, MAX_ATTEMPTS_PER_TASK). */
export function taskLimits(config: Config): machine.TaskLimits {
  return { maxNotesPerTask: config.MAX_NOTES_PER_TASK, maxAttemptsPerTask: config.MAX_ATTEMPTS_PER_TASK };
}

function refused(decision: { reason: machine.RefusalReason; detail: string }, pointer?: string): ProblemError {
  if (machine.refusalStatus(decision.reason) === 400) {
    return new ProblemError(400, decision.detail, { type: 'validation', errors: pointer ? [{ pointer, detail: decision.detail }] : undefined, extra: { code: decision.reason } });
  }
  return problem.conflict(decision.detail, { code: decision.reason });
}

function decided<T>(decision: machine.Decision<T>, pointer?: string): T {
  if (!decision.ok) throw refused(decision, pointer);
  return decision.value;
}

/** A consultant works their teams; a coordinator acts for the whole municipality. */
function queueScope(actor: Actor): QueueScope {
  if (actor.municipality === null || (actor.role !== 'consultant' && actor.role !== 'coordinator')) {
    throw problem.forbidden('Only consultant and coordinator keys of a municipality have a work queue');
  }
  return { municipality: actor.municipality, keyId: actor.keyId, teams: actor.role === 'consultant' ? actor.teams : 'all' };
}

function stateOf(task: TaskRow): machine.TaskState {
  return { status: task.status, assignee: task.assignee_key_id };
}

async function view(db: Queryable, id: number): Promise<TaskView> {
  const [task] = await toTaskViews(db, [await fetchTaskRow(db, id)]);
  return task!;
}

/**
 * Runs `work` in a transaction with the task locked, and audits it as `action` when it
 * succeeds; 404 when the actor may not see the task.
 */
async function changeVisibleTask<T>(
  ctx: AppContext,
  actor: Actor,
  id: number,
  change: { action: string; audit: AuditSource },
  work: (tx: Client, task: LockedTask) => Promise<T>,
): Promise<T> {
  return withTransaction(ctx.pool, async (tx) => {
    const task = await lockTask(tx, id, taskVisibilitySql(actor, 2));
    if (!task) throw problem.notFound('No such task');
    const result = await work(tx, task);
    await recordAudit(tx, auditRecord(change.audit, change.action, id, task.municipality_code));
    return result;
  });
}

// ---- the queue -------------------------------------------------------------------------

function positionOf(row: QueueRow, segment: 0 | 1): QueuePosition {
  return { segment, notOverdue: row.k_not_overdue, negPriority: row.k_neg_priority, dueKey: row.k_due, id: row.id };
}

function encodePosition(p: QueuePosition): string {
  return encodeCursor([p.segment, p.notOverdue, p.negPriority, p.dueKey, p.id]);
}

function decodePosition(cursor: string | undefined): QueuePosition | null {
  if (cursor === undefined) return null;
  const values = decodeCursor(cursor);
  const invalid = () => problem.badRequest('The cursor is not valid', [{ pointer: '/query/cursor', detail: 'use the nextCursor of the previous page' }]);
  if (!values || values.length !== 5) throw invalid();
  const [segment, notOverdue, negPriority, dueKey, id] = values;
  if (
    (segment !== 0 && segment !== 1) ||
    typeof notOverdue !== 'boolean' ||
    !Number.isSafeInteger(negPriority) ||
    Math.abs(negPriority as number) > 2 ** 31 ||
    typeof dueKey !== 'string' ||
    // A date that does not exist (2026-02-30) would fail in the statement, not here.
    (dueKey !== 'infinity' && !isIsoDate(dueKey)) ||
    !Number.isSafeInteger(id)
  ) {
    throw invalid();
  }
  return { segment, notOverdue, negPriority: negPriority as number, dueKey, id: id as number };
}

/**
 * "My open work": the tasks assigned to me (routed or claimed) first, then the open,
 * unassigned tasks of my teams; each part in queue order. The cursor carries the part and the
 * sort key of the last task, so pages stay stable while others claim and close around them.
 */
export async function listQueue(ctx: AppContext, actor: Actor, paging: { limit: number; cursor?: string | undefined }): Promise<{ tasks: TaskView[]; nextCursor: string | null }> {
  const scope = queueScope(actor);
  const after = decodePosition(paging.cursor);
  const rows: { row: QueueRow; segment: 0 | 1 }[] = [];
  if (after === null || after.segment === 0) {
    for (const row of await listAssignedQueue(ctx.pool, scope, after, paging.limit + 1)) rows.push({ row, segment: 0 });
  }
  if (rows.length <= paging.limit) {
    const teamAfter = after?.segment === 1 ? after : null;
    for (const row of await listTeamQueue(ctx.pool, scope, teamAfter, paging.limit + 1 - rows.length)) rows.push({ row, segment: 1 });
  }
  const page = rows.slice(0, paging.limit);
  const last = page[page.length - 1];
  return {
    tasks: await toTaskViews(ctx.pool, page.map((r) => r.row)),
    nextCursor: rows.length > paging.limit && last ? encodePosition(positionOf(last.row, last.segment)) : null,
  };
}

// ---- claiming and assignment -----------------------------------------------------------

/** Claims the next task (routed to me first, then my teams' queue); null when there is none. */
export async function claimNextTask(ctx: AppContext, actor: Actor, audit: AuditSource): Promise<TaskView | null> {
  const claimed = await claimNext(ctx.pool, queueScope(actor), ctx.now(), audit);
  if (!claimed) return null;
  const [task] = await toTaskViews(ctx.pool, [claimed]);
  return task!;
}

export async function claimTask(ctx: AppContext, actor: Actor, id: number, audit: AuditSource): Promise<TaskView> {
  return changeVisibleTask(ctx, actor, id, { action: 'task.claim', audit }, async (tx, task) => {
    const { next, changed } = decided(machine.claim(stateOf(task), actor));
    if (changed) {
      const at = ctx.now();
      await updateAssignment(tx, id, next.status, next.assignee, at);
      await insertHistory(tx, id, actor.keyId, 'claim', { previousAssignee: task.assignee_key_id }, at);
    }
    return view(tx, id);
  });
}

export async function releaseTask(ctx: AppContext, actor: Actor, id: number, audit: AuditSource): Promise<TaskView> {
  return changeVisibleTask(ctx, actor, id, { action: 'task.release', audit }, async (tx, task) => {
    const { next } = decided(machine.release(stateOf(task), actor));
    const at = ctx.now();
    await updateAssignment(tx, id, next.status, next.assignee, at);
    await insertHistory(tx, id, actor.keyId, 'release', { previousAssignee: task.assignee_key_id, previousStatus: task.status }, at);
    return view(tx, id);
  });
}

/** Why an assignment's consultant key is refused (400, whichever of the conditions fails). */
export const ASSIGNEE_NOT_USABLE = 'consultantKeyId must be an active consultant key of the municipality of the task';

export async function assignTask(ctx: AppContext, actor: Actor, id: number, consultantKeyId: string, audit: AuditSource): Promise<TaskView> {
  return changeVisibleTask(ctx, actor, id, { action: 'task.assign', audit }, async (tx, task) => {
    // One answer for unknown, revoked, non-consultant and other municipalities' keys: which
    // keys exist elsewhere is not this coordinator's business.
    if (!(await findActiveConsultant(tx, consultantKeyId, task.municipality_code))) {
      throw problem.badRequest(ASSIGNEE_NOT_USABLE, [{ pointer: '/consultantKeyId', detail: ASSIGNEE_NOT_USABLE }]);
    }
    const { next, changed } = decided(machine.assign(stateOf(task), consultantKeyId));
    if (changed) {
      const at = ctx.now();
      await updateAssignment(tx, id, next.status, next.assignee, at);
      await insertHistory(tx, id, actor.keyId, 'assign', { assignee: consultantKeyId, previousAssignee: task.assignee_key_id, previousStatus: task.status }, at);
    }
    return view(tx, id);
  });
}

// ---- working a task --------------------------------------------------------------------

export type { AttemptView } from '../db/taskWork.js';

export async function recordContactAttempt(ctx: AppContext, actor: Actor, id: number, attempt: NewAttempt, audit: AuditSource): Promise<AttemptView> {
  return changeVisibleTask(ctx, actor, id, { action: 'task.contact-attempt.create', audit }, async (tx, task) => {
    const at = ctx.now();
    const limits = taskLimits(ctx.config);
    const existing = await listAttempts(tx, id, 0, limits.maxAttemptsPerTask);
    const { firstAttempt } = decided(
      machine.recordAttempt(stateOf(task), actor, attempt, {
        today: dutchToday(at),
        earliestSignalDate: task.earliest_signal_date,
        attemptCount: existing.length,
        limits,
      }),
      '/date',
    );
    return attemptView(await insertAttempt(tx, id, attempt, actor.keyId, at, firstAttempt));
  });
}

export interface NoteView {
  id: number;
  taskId: number;
  text: string;
  author: string | null;
  authorLabel: string | null;
  createdAt: string;
}

export async function addTaskNote(ctx: AppContext, actor: Actor, id: number, text: string, audit: AuditSource): Promise<NoteView> {
  return changeVisibleTask(ctx, actor, id, { action: 'task.note.create', audit }, async (tx) => {
    decided(machine.addNote(await countNotes(tx, id), taskLimits(ctx.config)));
    const at = ctx.now();
    const noteId = await insertNote(tx, id, text, actor.keyId, at);
    // The history says that a note was added, never what it says: history is read more widely.
    await insertHistory(tx, id, actor.keyId, 'note', { noteId }, at);
    return { id: noteId, taskId: id, text, author: actor.keyId, authorLabel: actor.label, createdAt: at.toISOString() };
  });
}

export async function closeTask(ctx: AppContext, actor: Actor, id: number, input: { result: TaskResult; note?: string | undefined }, audit: AuditSource): Promise<TaskView> {
  return changeVisibleTask(ctx, actor, id, { action: 'task.close', audit }, async (tx, task) => {
    const attempts = await listAttempts(tx, id, 0, taskLimits(ctx.config).maxAttemptsPerTask);
    decided(
      machine.close(stateOf(task), actor, input.result, {
        earliestSignalDate: task.earliest_signal_date,
        attempts: attempts.map((a) => ({ channel: a.channel, reached: a.reached, date: a.attempt_date })),
        policy: { minAttempts: ctx.config.MIN_ATTEMPTS_NO_CONTACT, minChannels: ctx.config.MIN_CHANNELS_NO_CONTACT },
      }),
    );
    // Signals nobody picked up get the status the result implies; in a picked-up case they
    // count as picked up (they may have joined the task after its first attempt). The closing
    // note is not held to the note limit: a task closes once.
    const signalStatus = machine.signalStatusOnClose(input.result) ?? (task.picked_up_date !== null ? 'picked_up' : null);
    await closeTaskRow(tx, id, { result: input.result, signalStatus, note: input.note ?? null, previousStatus: task.status }, actor.keyId, ctx.now());
    return view(tx, id);
  });
}

// ---- reading a task's records ----------------------------------------------------------

export interface HistoryView {
  id: number;
  taskId: number;
  action: string;
  actor: string | null;
  actorLabel: string | null;
  detail: Record<string, unknown>;
  at: string;
}

export interface Paging {
  limit: number;
  cursor?: string | undefined;
}

/** Records of a task are paged by their id (insertion order); the cursor is the last id. */
function afterId(cursor: string | undefined): number {
  if (cursor === undefined) return 0;
  const values = decodeCursor(cursor);
  const id = values?.[0];
  if (!values || values.length !== 1 || !Number.isSafeInteger(id) || (id as number) < 0) {
    throw problem.badRequest('The cursor is not valid', [{ pointer: '/query/cursor', detail: 'use the nextCursor of the previous page' }]);
  }
  return id as number;
}

async function pageOf<R extends { id: number }, V>(
  ctx: AppContext,
  actor: Actor,
  id: number,
  paging: Paging,
  list: (taskId: number, afterId: number, limit: number) => Promise<R[]>,
  toView: (row: R) => V,
): Promise<{ items: V[]; nextCursor: string | null; municipality: string }> {
  const after = afterId(paging.cursor);
  const municipality = await visibleTaskMunicipality(ctx.pool, id, taskVisibilitySql(actor, 2));
  if (municipality === null) throw problem.notFound('No such task');
  const rows = await list(id, after, paging.limit + 1);
  const page = rows.slice(0, paging.limit);
  const last = page[page.length - 1];
  return { items: page.map(toView), nextCursor: rows.length > paging.limit && last ? encodeCursor([last.id]) : null, municipality };
}

export function listTaskHistory(ctx: AppContext, actor: Actor, id: number, paging: Paging) {
  return pageOf(ctx, actor, id, paging, (taskId, after, limit) => listHistory(ctx.pool, taskId, after, limit), (h): HistoryView => ({
    id: h.id,
    taskId: h.task_id,
    action: h.action,
    actor: h.actor_key_id,
    actorLabel: h.actor_label,
    detail: h.detail,
    at: h.at.toISOString(),
  }));
}

export function listTaskAttempts(ctx: AppContext, actor: Actor, id: number, paging: Paging) {
  return pageOf(ctx, actor, id, paging, (taskId, after, limit) => listAttempts(ctx.pool, taskId, after, limit), attemptView);
}

export function listTaskNotes(ctx: AppContext, actor: Actor, id: number, paging: Paging) {
  return pageOf(ctx, actor, id, paging, (taskId, after, limit) => listNotes(ctx.pool, taskId, after, limit), (n): NoteView => ({
    id: n.id,
    taskId: n.task_id,
    text: n.text,
    author: n.author_key_id,
    authorLabel: n.author_label,
    createdAt: n.created_at.toISOString(),
  }));
}
