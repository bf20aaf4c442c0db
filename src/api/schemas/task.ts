import { z } from '@hono/zod-openapi';
import { CONTACT_CHANNEL_CODES, DAY_PART_CODES, PARTNER_TYPE_CODES, SIGNAL_STATUS_CODES, TASK_RESULT_CODES } from '../../domain/codes.js';

export const TASK_STATUSES = ['open', 'claimed', 'closed'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const firedRuleSchema = z
  .object({
    name: z.string(),
    type: z.string().openapi({ description: 'The event type: score, suppress, route, approach or due' }),
    points: z.number().int(),
    reason: z.string().nullable(),
    params: z.record(z.string(), z.unknown()).optional().openapi({ description: "The event's params (team, channel, workingDays, status, …)" }),
    facts: z.record(z.string(), z.unknown()).openapi({ description: 'The fact values the rule tested' }),
  })
  .openapi('FiredRule');

export const explanationSchema = z
  .object({
    ruleSetVersion: z.number().int().nullable(),
    rules: z.array(firedRuleSchema),
  })
  .openapi('Explanation');

export const taskSignalSchema = z
  .object({
    id: z.number().int(),
    partnerType: z.enum(PARTNER_TYPE_CODES),
    partnerName: z.string().nullable(),
    externalId: z.string(),
    signalDate: z.string(),
    originDate: z.string().nullable(),
    amountCents: z.number().int(),
    crisis: z.boolean(),
    warmHandover: z.boolean(),
    endOfSupply: z.boolean(),
    status: z.enum(SIGNAL_STATUS_CODES),
    receivedAt: z.string(),
  })
  .openapi('TaskSignal');

export const taskSchema = z
  .object({
    id: z.number().int(),
    householdId: z.number().int(),
    municipality: z.string(),
    status: z.enum(TASK_STATUSES),
    priority: z.number().int(),
    dueDate: z.string().nullable(),
    overdue: z.boolean(),
    team: z.string().nullable(),
    assignee: z.string().nullable().openapi({ description: 'The consultant key id the task is assigned to or claimed by' }),
    channel: z.enum(CONTACT_CHANNEL_CODES).nullable(),
    result: z.enum(TASK_RESULT_CODES).nullable(),
    suppressed: z.boolean(),
    pickedUpDate: z.string().nullable().openapi({ description: 'Date of the first contact attempt (DDAS datumOpgepakt)' }),
    createdAt: z.string(),
    closedAt: z.string().nullable(),
    explanation: explanationSchema,
    signals: z.array(taskSignalSchema),
  })
  .openapi('Task');

export type TaskView = z.infer<typeof taskSchema>;

export const attemptSchema = z
  .object({
    id: z.number().int(),
    taskId: z.number().int(),
    channel: z.enum(CONTACT_CHANNEL_CODES),
    reached: z.boolean(),
    date: z.string().openapi({ format: 'date' }),
    dayPart: z.enum(DAY_PART_CODES).nullable(),
    recordedBy: z.string().nullable().openapi({ description: 'The API key id that recorded it' }),
    createdAt: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('ContactAttempt');
