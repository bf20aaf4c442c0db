/**
 * The shape of a rule set: a named list of json-rules-engine rules whose events use the
 * vroegsein event vocabulary (score, suppress, route, approach, due).
 *
 * The TypeScript types here describe a rule set that passed `validateRuleSet`; the zod schemas
 * check the parts of it (the condition tree is walked by hand in validate.ts so that every
 * problem gets an exact JSON pointer).
 */
import { z } from 'zod';
import { CONTACT_CHANNEL_CODES, SIGNAL_STATUS_CODES, type ContactChannel, type SignalStatus } from '../domain/codes.js';

/** json-rules-engine's built-in operators (decorators such as `someFact:` are not supported). */
export const OPERATOR_NAMES = [
  'equal',
  'notEqual',
  'lessThan',
  'lessThanInclusive',
  'greaterThan',
  'greaterThanInclusive',
  'in',
  'notIn',
  'contains',
  'doesNotContain',
] as const;
export type OperatorName = (typeof OPERATOR_NAMES)[number];

export const EVENT_TYPES = ['score', 'suppress', 'route', 'approach', 'due'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Statuses a `suppress` event may set: every EnumSignaalstatus code except the two work statuses. */
export type SuppressStatus = Exclude<SignalStatus, 'not_yet_picked_up' | 'picked_up'>;
export const SUPPRESS_STATUS_CODES = SIGNAL_STATUS_CODES.filter(
  (status): status is SuppressStatus => status !== 'not_yet_picked_up' && status !== 'picked_up',
);

export const MIN_DUE_WORKING_DAYS = 1;
export const MAX_DUE_WORKING_DAYS = 60;

// ---------------------------------------------------------------------------------------------
// Types

/** `value: { "fact": "otherFact" }` compares with another fact instead of a constant. */
export interface FactReference {
  fact: string;
  path?: string;
  params?: Record<string, unknown>;
}

/** A leaf condition: `<fact (at path)> <operator> <value>`. */
export interface FactCondition {
  fact: string;
  operator: string;
  value: unknown;
  path?: string;
  params?: Record<string, unknown>;
  priority?: number;
  name?: string;
}

interface ConditionMeta {
  priority?: number;
  name?: string;
}
export interface AllCondition extends ConditionMeta {
  all: Condition[];
}
export interface AnyCondition extends ConditionMeta {
  any: Condition[];
}
export interface NotCondition extends ConditionMeta {
  not: Condition;
}
export type BooleanCondition = AllCondition | AnyCondition | NotCondition;
export type Condition = BooleanCondition | FactCondition;

export type ScoreEvent = { type: 'score'; params: { points: number; reason?: string } };
export type SuppressEvent = { type: 'suppress'; params: { status: SuppressStatus; reason?: string } };
export type RouteEvent = { type: 'route'; params: { team: string; reason?: string } };
export type ApproachEvent = { type: 'approach'; params: { channel: ContactChannel; reason?: string } };
export type DueEvent = { type: 'due'; params: { workingDays: number; reason?: string } };
export type RuleEvent = ScoreEvent | SuppressEvent | RouteEvent | ApproachEvent | DueEvent;

export interface RuleDefinition {
  name: string;
  description?: string;
  /** json-rules-engine rule priority (integer ≥ 1, default 1): higher wins for suppress/route/approach. */
  priority?: number;
  conditions: BooleanCondition;
  event: RuleEvent;
}

export interface RuleSet {
  name: string;
  description: string;
  rules: RuleDefinition[];
}

// ---------------------------------------------------------------------------------------------
// Narrowing helpers, with json-rules-engine's own precedence: any, then all, then not.

export function booleanOperatorOf(condition: object): 'any' | 'all' | 'not' | undefined {
  if (Object.hasOwn(condition, 'any')) return 'any';
  if (Object.hasOwn(condition, 'all')) return 'all';
  if (Object.hasOwn(condition, 'not')) return 'not';
  return undefined;
}

export function isFactReference(value: unknown): value is FactReference {
  // The same test as json-rules-engine's Almanac.getValue.
  return value !== null && typeof value === 'object' && Object.hasOwn(value, 'fact');
}

/** The priority json-rules-engine gives a rule (`parseInt`, default 1). */
export function rulePriority(rule: { priority?: number }): number {
  return Number.parseInt(String(rule.priority ?? 1), 10);
}

// ---------------------------------------------------------------------------------------------
// zod schemas for the parts (used by validate.ts)

const reason = z.string().min(1, 'reason must not be empty').optional();
const positiveInt = z.int('must be an integer').min(1, 'must be 1 or more');

export const ruleSetShape = z.strictObject({
  $schema: z.string().optional(),
  name: z.string().min(1, 'a rule set needs a name'),
  description: z.string(),
  rules: z.array(z.unknown()),
});

export const ruleShape = z.strictObject({
  name: z.string().min(1, 'a rule needs a name'),
  description: z.string().optional(),
  priority: positiveInt.optional(),
  conditions: z.unknown(),
  event: z.unknown(),
});

const conditionMeta = { priority: positiveInt.optional(), name: z.string().optional() };
export const allShape = z.strictObject({ all: z.array(z.unknown()), ...conditionMeta });
export const anyShape = z.strictObject({ any: z.array(z.unknown()), ...conditionMeta });
export const notShape = z.strictObject({
  not: z.record(z.string(), z.unknown(), 'not takes one condition (an object), not a list'),
  ...conditionMeta,
});
export const factConditionShape = z.strictObject({
  fact: z.string().min(1),
  operator: z.string().min(1),
  value: z.unknown(),
  path: z.string().optional(),
  params: z.record(z.string(), z.unknown()).optional(),
  ...conditionMeta,
});
export const factReferenceShape = z.strictObject({
  fact: z.string().min(1),
  path: z.string().optional(),
  params: z.record(z.string(), z.unknown()).optional(),
});

export const eventShape = z.strictObject({
  type: z.enum(EVENT_TYPES, `event type must be one of ${EVENT_TYPES.join(', ')}`),
  params: z.record(z.string(), z.unknown(), 'event params must be an object'),
});

export const eventParamsShapes = {
  score: z.strictObject({ points: z.int('points must be an integer'), reason }),
  suppress: z.strictObject({
    status: z.enum(SUPPRESS_STATUS_CODES, `status must be one of ${SUPPRESS_STATUS_CODES.join(', ')}`),
    reason,
  }),
  route: z.strictObject({ team: z.string().min(1, 'team must not be empty'), reason }),
  approach: z.strictObject({
    channel: z.enum(CONTACT_CHANNEL_CODES, `channel must be one of ${CONTACT_CHANNEL_CODES.join(', ')}`),
    reason,
  }),
  due: z.strictObject({
    workingDays: z
      .int('workingDays must be an integer')
      .min(MIN_DUE_WORKING_DAYS, `workingDays must be ${MIN_DUE_WORKING_DAYS}..${MAX_DUE_WORKING_DAYS}`)
      .max(MAX_DUE_WORKING_DAYS, `workingDays must be ${MIN_DUE_WORKING_DAYS}..${MAX_DUE_WORKING_DAYS}`),
    reason,
  }),
} satisfies Record<EventType, z.ZodType>;

// ---------------------------------------------------------------------------------------------
// JSON pointers (RFC 6901)

export function pointer(...segments: (string | number)[]): string {
  return segments.map((segment) => '/' + String(segment).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}
