import { createRoute, z } from '@hono/zod-openapi';
import { findVisibleHousehold, listVisibleTasks, taskListPosition, toTaskListPosition } from '../../db/taskReads.js';
import { findVisibleTask } from '../../db/tasks.js';
import type { ApiApp } from '../env.js';
import { assertRole, audit } from '../middleware/auth.js';
import { decodeCursor, encodeCursor, errorResponses, jsonResponse, pagingQuery, security, integerParameter } from '../openapi.js';
import { problem } from '../problem.js';
import { householdSchema } from '../schemas/household.js';
import { TASK_STATUSES, taskSchema } from '../schemas/task.js';

const taskId = integerParameter(1, Number.MAX_SAFE_INTEGER).openapi({ param: { name: 'id', in: 'path' }, example: 42 });
const householdId = integerParameter(1, Number.MAX_SAFE_INTEGER).openapi({ param: { name: 'id', in: 'path' }, example: 7 });

const listQuery = z
  .object({
    status: z.enum(TASK_STATUSES).optional(),
    team: z.string().max(63).optional(),
    assignee: z.string().uuid().optional().openapi({ description: 'Consultant key id' }),
    overdue: z.enum(['true', 'false']).optional().openapi({ description: 'Only tasks whose first contact attempt is (not) overdue' }),
    ...pagingQuery,
  })
  .strict();

export function registerTaskRoutes(v1: ApiApp): void {
  v1.openapi(
    createRoute({
      method: 'get',
      path: '/tasks',
      tags: ['Tasks'],
      summary: 'Tasks visible to this key: open and claimed before closed, each in queue order (overdue, priority, due date)',
      description: 'Coordinators see their whole municipality; consultants the tasks of their teams and those assigned to them.',
      security,
      request: { query: listQuery },
      responses: {
        200: jsonResponse('A page of tasks', z.object({ tasks: z.array(taskSchema), nextCursor: z.string().nullable() }).openapi('TaskPage')),
        ...errorResponses(403),
      },
    }),
    async (c) => {
      const actor = c.get('actor');
      assertRole(actor, 'consultant', 'coordinator', 'admin');
      const query = c.req.valid('query');
      const cursor = query.cursor ? toTaskListPosition(decodeCursor(query.cursor)) : null;
      if (query.cursor && !cursor) throw problem.badRequest('Invalid cursor', [{ pointer: '/query/cursor', detail: 'not a cursor of this list' }]);
      const tasks = await listVisibleTasks(c.get('ctx').pool, actor, {
        status: query.status,
        team: query.team,
        assignee: query.assignee,
        overdue: query.overdue === undefined ? undefined : query.overdue === 'true',
        limit: query.limit,
        after: cursor,
      });
      const last = tasks.length === query.limit ? tasks[tasks.length - 1] : undefined;
      await audit(c, { action: 'task.list', objectType: 'task', objectId: tasks.map((t) => t.id).join(',').slice(0, 2000) || null, municipality: actor.municipality });
      return c.json({ tasks, nextCursor: last ? encodeCursor(taskListPosition(last)) : null }, 200);
    },
  );

  v1.openapi(
    createRoute({
      method: 'get',
      path: '/tasks/{id}',
      tags: ['Tasks'],
      summary: "A task with its explanation (rules, points, fact values, rule-set version) and the household's signals",
      security,
      request: { params: z.object({ id: taskId }) },
      responses: { 200: jsonResponse('The task', taskSchema), ...errorResponses(403, 404) },
    }),
    async (c) => {
      const actor = c.get('actor');
      assertRole(actor, 'consultant', 'coordinator', 'admin');
      const task = await findVisibleTask(c.get('ctx').pool, actor, c.req.valid('param').id);
      if (!task) throw problem.notFound('No such task');
      await audit(c, { action: 'task.read', objectType: 'task', objectId: String(task.id), municipality: task.municipality });
      return c.json(task, 200);
    },
  );

  v1.openapi(
    createRoute({
      method: 'get',
      path: '/households/{id}',
      tags: ['Households'],
      summary: 'A household at a glance: its address, all its signals and all its tasks',
      security,
      request: { params: z.object({ id: householdId }) },
      responses: { 200: jsonResponse('The household', householdSchema), ...errorResponses(403, 404) },
    }),
    async (c) => {
      const actor = c.get('actor');
      assertRole(actor, 'consultant', 'coordinator', 'admin');
      const household = await findVisibleHousehold(c.get('ctx').pool, actor, c.req.valid('param').id);
      if (!household) throw problem.notFound('No such household');
      await audit(c, { action: 'household.read', objectType: 'household', objectId: String(household.id), municipality: household.municipality });
      return c.json(household, 200);
    },
  );
}
