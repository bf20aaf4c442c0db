import { z } from '@hono/zod-openapi';
import { GENDER_CODES } from '../../domain/codes.js';
import { attemptSchema, taskSchema, taskSignalSchema } from './task.js';

export const householdSignalSchema = taskSignalSchema
  .extend({
    taskId: z.number().int().nullable(),
    childrenInHousehold: z.number().int().nullable().openapi({ description: 'Children in the household as the creditor reported them; null when it did not' }),
    person: z.object({
      bsn: z.string().nullable(),
      initials: z.string().nullable(),
      prefix: z.string().nullable(),
      surname: z.string().nullable(),
      birthDate: z.string().nullable(),
      gender: z.enum(GENDER_CODES).nullable(),
    }),
    contact: z.object({ phone: z.string().nullable(), email: z.string().nullable() }),
  })
  .openapi('HouseholdSignal');

export const householdSchema = z
  .object({
    id: z.number().int(),
    municipality: z.string().nullable(),
    address: z.object({
      postcode: z.string(),
      houseNumber: z.number().int(),
      houseLetter: z.string().nullable(),
      houseNumberAddition: z.string().nullable(),
      street: z.string().nullable(),
      city: z.string().nullable(),
    }),
    evaluationPending: z.boolean(),
    signals: z.array(householdSignalSchema),
    tasks: z.array(taskSchema.omit({ signals: true })),
    contactAttempts: z.array(attemptSchema).openapi({
      description: "Earlier contact: every attempt on the household's tasks that this key may see, in the order they were made",
    }),
  })
  .openapi('Household');

export type HouseholdView = z.infer<typeof householdSchema>;
