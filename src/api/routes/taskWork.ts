import { createRoute, z } from '@hono/zod-openapi';
import { CONTACT_CHANNEL_CODES, DAY_PART_CODES, TASK_RESULT_CODES } from '../../domain/codes.js';
import { isIsoDate } from '../../domain/dates.js';
import { MAX_NOTE_LENGTH } from '../../domain/taskStateMachine.js';
import {
  addTaskNote,
  assignTask,
  claimNextTask,
  claimTask,
  closeTask,
  listQueue,
  listTaskAttempts,
  listTaskHistory,
  listTaskNotes,
  recordContactAttempt,
  releaseTask,
} from '../../services/taskWork.js';
import type { ApiApp } from '../env.js';
import { assertRole, audit, auditSource } from '../middleware/auth.js';
import { emptyResponse, errorResponses, jsonResponse, pagingQuery, security, integerParameter } from '../openapi.js';
import { attemptSchema, taskSchema } from '../schemas/task.js';

/**
 * The consultant's work queue and the work on one task. Handlers check the role, call the
 * service, audit, answer; the rules live in services/taskWork.ts and domain/taskStateMachine.ts.
 */

const tags = ['Tasks'];
const WORKERS = ['consultant', 'coordinator'] as const;

const taskId = integerParameter(1, Number.MAX_SAFE_INTEGER).openapi({ param: { name: 'id', in: 'path' }, example: 42 });
const idParams = z.object({ id: taskId });

const isoDate = z.string().refine(isIsoDate, { message: 'must be an existing date written YYYY-MM-DD' }).openapi({ format: 'date', example: '2025-03-14' });

const attemptInput = z
  .object({
    channel: z.enum(CONTACT_CHANNEL_CODES).openapi({ description: 'DDAS EnumContactsoort' }),
    reached: z.boolean().openapi({ description: 'Whether the resident was reached (DDAS bereikt)' }),
    date: isoDate.openapi({ description: 'The day of the attempt: not before the earliest signal of the task, not after today' }),
    dayPart: z.enum(DAY_PART_CODES).nullable().optional().openapi({ description: 'DDAS EnumDagdeel; optional as in DDAS' }),
  })
  .strict()
  .openapi('ContactAttemptInput');


const noteText = z.string().trim().min(1).max(MAX_NOTE_LENGTH);
const noteInput = z.object({ text: noteText.openapi({ description: `Free text, at most ${MAX_NOTE_LENGTH} characters` }) }).strict().openapi('NoteInput');
const noteSchema = z
  .object({
    id: z.number().int(),
    taskId: z.number().int(),
    text: z.string(),
    author: z.string().nullable().openapi({ description: 'The API key id of the author' }),
    authorLabel: z.string().nullable(),
    createdAt: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('Note');

const historySchema = z
  .object({
    id: z.number().int(),
    taskId: z.number().int(),
    action: z.string().openapi({ description: 'claim, release, assign, contact-attempt, note, close, overdue, overdue-cleared' }),
    actor: z.string().nullable().openapi({ description: 'The API key id, or null for the system (escalation)' }),
    actorLabel: z.string().nullable(),
    detail: z.record(z.string(), z.unknown()),
    at: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('TaskHistoryEntry');

const closeInput = z
  .object({
    result: z.enum(TASK_RESULT_CODES).openapi({ description: 'DDAS EnumEindresultaat' }),
    note: noteText.optional().openapi({ description: 'An optional closing note' }),
  })
  .strict()
  .openapi('CloseTaskInput');

const assignInput = z
  .object({ consultantKeyId: z.string().uuid().openapi({ description: 'An active consultant key of the municipality of the task' }) })
  .strict()
  .openapi('AssignTaskInput');

const nextCursor = z.string().nullable().openapi({ description: 'Pass as `cursor` for the next page; null on the last page' });
const queuePage = z.object({ tasks: z.array(taskSchema), nextCursor }).openapi('TaskQueuePage');
const attemptPage = z.object({ contactAttempts: z.array(attemptSchema), nextCursor }).openapi('ContactAttemptPage');
const notePage = z.object({ notes: z.array(noteSchema), nextCursor }).openapi('NotePage');
const historyPage = z.object({ history: z.array(historySchema), nextCursor }).openapi('TaskHistoryPage');
const paging = z.object(pagingQuery).strict();
const json = <T extends z.ZodType>(schema: T) => ({ required: true, content: { 'application/json': { schema } } });

export function registerTaskWorkRoutes(v1: ApiApp): void {
  v1.openapi(
    createRoute({
      method: 'get',
      path: '/tasks/queue',
      tags,
      summary: 'My open work: tasks assigned to me, then the open tasks of my teams (consultant; a coordinator sees the whole municipality)',
      description: 'Each part in queue order: overdue first, then priority (high first), then due date (none last), then id. Paged by cursor.',
      security,
      request: { query: paging },
      responses: { 200: jsonResponse('A page of the queue', queuePage), ...errorResponses(403) },
    }),
    async (c) => {
      const actor = c.get('actor');
      assertRole(actor, ...WORKERS);
      const result = await listQueue(c.get('ctx'), actor, c.req.valid('query'));
      // Which tasks were shown, as GET /v1/tasks records it.
      const shown = result.tasks.map((t) => t.id).join(',').slice(0, 2000) || null;
      await audit(c, { action: 'task.queue.read', objectType: 'task', objectId: shown, municipality: actor.municipality });
      return c.json(result, 200);
    },
  );

  v1.openapi(
    createRoute({
      method: 'post',
      path: '/tasks/claim',
      tags,
      summary: 'Claim the next task: first one routed to me, then the next open task of my teams in queue order',
      description: 'Atomic: concurrent claimers never get the same task. 204 when there is nothing left to claim.',
      security,
      responses: { 200: jsonResponse('The task now claimed by me', taskSchema), 204: emptyResponse('Nothing left to claim'), ...errorResponses(403) },
    }),
    async (c) => {
      const actor = c.get('actor');
      assertRole(actor, ...WORKERS);
      const task = await claimNextTask(c.get('ctx'), actor, auditSource(c));
      return task ? c.json(task, 200) : c.body(null, 204);
    },
  );

  v1.openapi(
    createRoute({
      method: 'post',
      path: '/tasks/{id}/claim',
      tags,
      summary: 'Claim this task (open and unassigned, or routed to me; claiming my own claim again changes nothing)',
      security,
      request: { params: idParams },
      responses: { 200: jsonResponse('The task, claimed by me', taskSchema), ...errorResponses(403, 404, 409) },
    }),
    async (c) => {
      const actor = c.get('actor');
      assertRole(actor, ...WORKERS);
      return c.json(await claimTask(c.get('ctx'), actor, c.req.valid('param').id, auditSource(c)), 200);
    },
  );

  v1.openapi(
    createRoute({
      method: 'post',
      path: '/tasks/{id}/release',
      tags,
      summary: "Give the task back to its team's queue (the consultant holding it, or a coordinator)",
      security,
      request: { params: idParams },
      responses: { 200: jsonResponse('The task, open and unassigned', taskSchema), ...errorResponses(403, 404, 409) },
    }),
    async (c) => {
      const actor = c.get('actor');
      assertRole(actor, ...WORKERS);
      return c.json(await releaseTask(c.get('ctx'), actor, c.req.valid('param').id, auditSource(c)), 200);
    },
  );

  v1.openapi(
    createRoute({
      method: 'post',
      path: '/tasks/{id}/assign',
      tags,
      summary: "Route the task to a consultant (coordinator): it goes on top of their queue and is their next claim",
      security,
      request: { params: idParams, body: json(assignInput) },
      responses: { 200: jsonResponse('The task, open and assigned to the consultant', taskSchema), ...errorResponses(403, 404, 409, 415) },
    }),
    async (c) => {
      const actor = c.get('actor');
      assertRole(actor, 'coordinator');
      return c.json(await assignTask(c.get('ctx'), actor, c.req.valid('param').id, c.req.valid('json').consultantKeyId, auditSource(c)), 200);
    },
  );

  v1.openapi(
    createRoute({
      method: 'post',
      path: '/tasks/{id}/contact-attempts',
      tags,
      summary: 'Record a contact attempt (DDAS contactpoging); the first one marks the case picked up',
      description:
        'By the consultant who claimed the task, or a coordinator. A date after today (Europe/Amsterdam) is invalid input (400); a date before the earliest signal of the task conflicts with the task (409).',
      security,
      request: { params: idParams, body: json(attemptInput) },
      responses: { 201: jsonResponse('The attempt', attemptSchema), ...errorResponses(403, 404, 409, 415) },
    }),
    async (c) => {
      const actor = c.get('actor');
      assertRole(actor, ...WORKERS);
      const body = c.req.valid('json');
      const attempt = await recordContactAttempt(c.get('ctx'), actor, c.req.valid('param').id, { ...body, dayPart: body.dayPart ?? null }, auditSource(c));
      return c.json(attempt, 201);
    },
  );

  v1.openapi(
    createRoute({
      method: 'get',
      path: '/tasks/{id}/contact-attempts',
      tags,
      summary: "The task's contact attempts, oldest first",
      security,
      request: { params: idParams, query: paging },
      responses: { 200: jsonResponse('A page of attempts', attemptPage), ...errorResponses(403, 404) },
    }),
    async (c) => {
      const actor = c.get('actor');
      assertRole(actor, ...WORKERS);
      const id = c.req.valid('param').id;
      const { municipality, items, nextCursor } = await listTaskAttempts(c.get('ctx'), actor, id, c.req.valid('query'));
      await audit(c, { action: 'task.contact-attempts.read', objectType: 'task', objectId: String(id), municipality });
      return c.json({ contactAttempts: items, nextCursor }, 200);
    },
  );

  v1.openapi(
    createRoute({
      method: 'post',
      path: '/tasks/{id}/notes',
      tags,
      summary: 'Add a note to the task (anyone who sees it; also after closing)',
      security,
      request: { params: idParams, body: json(noteInput) },
      responses: { 201: jsonResponse('The note', noteSchema), ...errorResponses(403, 404, 409, 415) },
    }),
    async (c) => {
      const actor = c.get('actor');
      assertRole(actor, ...WORKERS);
      return c.json(await addTaskNote(c.get('ctx'), actor, c.req.valid('param').id, c.req.valid('json').text, auditSource(c)), 201);
    },
  );

  v1.openapi(
    createRoute({
      method: 'get',
      path: '/tasks/{id}/notes',
      tags,
      summary: "The task's notes, oldest first",
      security,
      request: { params: idParams, query: paging },
      responses: { 200: jsonResponse('A page of notes', notePage), ...errorResponses(403, 404) },
    }),
    async (c) => {
      const actor = c.get('actor');
      assertRole(actor, ...WORKERS);
      const id = c.req.valid('param').id;
      const { municipality, items, nextCursor } = await listTaskNotes(c.get('ctx'), actor, id, c.req.valid('query'));
      await audit(c, { action: 'task.notes.read', objectType: 'task', objectId: String(id), municipality });
      return c.json({ notes: items, nextCursor }, 200);
    },
  );

  v1.openapi(
    createRoute({
      method: 'post',
      path: '/tasks/{id}/close',
      tags,
      summary: 'Close the task with a DDAS result (the consultant who claimed it, or a coordinator)',
      description:
        'Refused with 409 when the task is closed already, not claimed by me (consultants), has an attempt dated before its earliest signal, when no_contact_possible lacks the configured minimum of attempts and channels or contradicts an attempt that reached the resident, and when a result that implies contact has no attempt that reached the resident.',
      security,
      request: { params: idParams, body: json(closeInput) },
      responses: { 200: jsonResponse('The closed task', taskSchema), ...errorResponses(403, 404, 409, 415) },
    }),
    async (c) => {
      const actor = c.get('actor');
      assertRole(actor, ...WORKERS);
      return c.json(await closeTask(c.get('ctx'), actor, c.req.valid('param').id, c.req.valid('json'), auditSource(c)), 200);
    },
  );

  v1.openapi(
    createRoute({
      method: 'get',
      path: '/tasks/{id}/history',
      tags,
      summary: "The task's history: who did what, when (oldest first)",
      security,
      request: { params: idParams, query: paging },
      responses: { 200: jsonResponse('A page of history', historyPage), ...errorResponses(403, 404) },
    }),
    async (c) => {
      const actor = c.get('actor');
      assertRole(actor, ...WORKERS);
      const id = c.req.valid('param').id;
      const { municipality, items, nextCursor } = await listTaskHistory(c.get('ctx'), actor, id, c.req.valid('query'));
      await audit(c, { action: 'task.history.read', objectType: 'task', objectId: String(id), municipality });
      return c.json({ history: items, nextCursor }, 200);
    },
  );
}
