/**
 * The life of an outreach task, as pure functions: who may claim, release, assign, record a
 * contact attempt, add a note or close, and what the task looks like afterwards. No I/O: the
 * service layer loads the facts (the task row, its attempts, its earliest signal date, today),
 * asks here, and writes what comes back.
 *
 *   open (unassigned) ──claim──▶ claimed (assignee = me) ──close──▶ closed
 *        ▲   │ assign                │ release                        (final)
 *        │   ▼                       ▼
 *   open (assignee = X, "routed to X") ──claim by X──▶ claimed
 *
 * A refusal names a reason; every reason is a 409 (the request conflicts with the task's
 * state) except `attempt_in_future`, which is invalid input whatever the state (400).
 */
import type { Role } from './apiKey.js';
import { RESULT_FOR_SUPPRESSED_STATUS, type ContactChannel, type SignalStatus, type TaskResult } from './codes.js';

export type TaskStatus = 'open' | 'claimed' | 'closed';

/** The part of a task the state machine decides on. */
export interface TaskState {
  status: TaskStatus;
  /** The consultant key the task is routed to (open) or claimed by (claimed). */
  assignee: string | null;
}

/** The part of an API key the state machine decides on. */
export interface WorkActor {
  keyId: string;
  role: Role;
}

export interface AttemptFacts {
  channel: ContactChannel;
  reached: boolean;
  /** YYYY-MM-DD */
  date: string;
}

export const REFUSALS = {
  task_closed: 'The task is closed',
  claimed_by_other: 'The task is claimed by another consultant',
  assigned_to_other: 'The task is routed to another consultant',
  not_claimed_by_you: 'Claim the task first: only the consultant who claimed it may do this',
  not_assigned: 'The task is not claimed or assigned, so there is nothing to release',
  attempt_in_future: 'A contact attempt cannot be dated in the future',
  attempt_before_signal: 'A contact attempt cannot be dated before the earliest signal of the task',
  attempt_limit: 'The task has the maximum number of contact attempts',
  note_limit: 'The task has the maximum number of notes',
  too_few_attempts: 'no_contact_possible needs more contact attempts',
  contact_was_made: 'no_contact_possible contradicts a contact attempt that reached the resident; use no_response_after_contact',
  result_needs_contact: 'This result needs a contact attempt that reached the resident',
} as const;

export type RefusalReason = keyof typeof REFUSALS;

export type Decision<T> = { ok: true; value: T } | { ok: false; reason: RefusalReason; detail: string };

function refuse<T>(reason: RefusalReason, detail: string = REFUSALS[reason]): Decision<T> {
  return { ok: false, reason, detail };
}

function allow<T>(value: T): Decision<T> {
  return { ok: true, value };
}

/** The HTTP status a refusal is answered with. */
export function refusalStatus(reason: RefusalReason): 400 | 409 {
  return reason === 'attempt_in_future' ? 400 : 409;
}

/** What a transition leaves behind; `changed: false` means the request repeats the current state. */
export interface Transition {
  next: TaskState;
  changed: boolean;
}

function isCoordinator(actor: WorkActor): boolean {
  return actor.role === 'coordinator';
}

/** Whether this actor holds the claim on the task (a coordinator acts for anyone). */
function workedBy(task: TaskState, actor: WorkActor): boolean {
  return task.status === 'claimed' && task.assignee === actor.keyId;
}

/**
 * Claiming a task for the actor. Claiming what you already hold is a no-op (safe to retry);
 * an open task routed to someone else stays theirs until a coordinator reassigns it.
 */
export function claim(task: TaskState, actor: WorkActor): Decision<Transition> {
  if (task.status === 'closed') return refuse('task_closed');
  if (task.status === 'claimed') {
    return task.assignee === actor.keyId ? allow({ next: task, changed: false }) : refuse('claimed_by_other');
  }
  if (task.assignee !== null && task.assignee !== actor.keyId) return refuse('assigned_to_other');
  return allow({ next: { status: 'claimed', assignee: actor.keyId }, changed: true });
}

/**
 * Giving a task back to its team's queue: the consultant who holds it (claimed or routed to
 * them), or a coordinator for anyone.
 */
export function release(task: TaskState, actor: WorkActor): Decision<Transition> {
  if (task.status === 'closed') return refuse('task_closed');
  if (task.assignee === null) return refuse('not_assigned');
  if (!isCoordinator(actor) && task.assignee !== actor.keyId) return refuse('claimed_by_other');
  return allow({ next: { status: 'open', assignee: null }, changed: true });
}

/**
 * A coordinator routes the task to a consultant: it becomes open and assigned to them, at the
 * top of their queue and the first thing their next claim takes. A task the target already
 * holds is left as it is.
 */
export function assign(task: TaskState, consultantKeyId: string): Decision<Transition> {
  if (task.status === 'closed') return refuse('task_closed');
  if (task.assignee === consultantKeyId) return allow({ next: task, changed: false });
  return allow({ next: { status: 'open', assignee: consultantKeyId }, changed: true });
}

/** Upper bounds per task; they keep one task from growing without limit. */
export interface TaskLimits {
  maxAttemptsPerTask: number;
  maxNotesPerTask: number;
}

export const DEFAULT_TASK_LIMITS: TaskLimits = { maxAttemptsPerTask: 100, maxNotesPerTask: 200 };

/** The longest note, in characters (a note is free text; it is not the place for a file). */
export const MAX_NOTE_LENGTH = 4_000;

export interface AttemptContext {
  /** Today in the Netherlands, YYYY-MM-DD. */
  today: string;
  /** The earliest signalDate of the task's signals; null when it has none. */
  earliestSignalDate: string | null;
  attemptCount: number;
  limits: TaskLimits;
}

/**
 * Recording a contact attempt: by the consultant who claimed the task, or a coordinator.
 * Dates are compared as YYYY-MM-DD strings, which sort like the dates they are.
 */
export function recordAttempt(task: TaskState, actor: WorkActor, attempt: AttemptFacts, context: AttemptContext): Decision<{ firstAttempt: boolean }> {
  if (task.status === 'closed') return refuse('task_closed');
  if (!isCoordinator(actor) && !workedBy(task, actor)) return refuse('not_claimed_by_you');
  if (attempt.date > context.today) return refuse('attempt_in_future', `A contact attempt cannot be dated after today (${context.today})`);
  if (context.earliestSignalDate !== null && attempt.date < context.earliestSignalDate) {
    return refuse('attempt_before_signal', `A contact attempt cannot be dated before the earliest signal of the task (${context.earliestSignalDate})`);
  }
  if (context.attemptCount >= context.limits.maxAttemptsPerTask) {
    return refuse('attempt_limit', `The task has the maximum of ${context.limits.maxAttemptsPerTask} contact attempts`);
  }
  return allow({ firstAttempt: context.attemptCount === 0 });
}

/** Adding a note: anyone who sees the task, in any state, up to the limit. */
export function addNote(noteCount: number, limits: TaskLimits): Decision<null> {
  if (noteCount >= limits.maxNotesPerTask) return refuse('note_limit', `The task has the maximum of ${limits.maxNotesPerTask} notes`);
  return allow(null);
}

/** The minimum effort before a task may be closed as "definitively no contact". */
export interface NoContactPolicy {
  minAttempts: number;
  minChannels: number;
}

/**
 * Results that say the resident was spoken to: closing with one of them needs an attempt that
 * reached the resident, or the DDAS figures would report help that the record cannot show.
 */
export const RESULTS_NEEDING_CONTACT: ReadonlySet<TaskResult> = new Set<TaskResult>([
  'advice_or_quick_fix',
  'no_response_after_contact',
  'follow_up_or_referral',
  'follow_up_or_referral_financial',
  'follow_up_or_referral_non_financial',
]);

export interface CloseContext {
  earliestSignalDate: string | null;
  attempts: readonly AttemptFacts[];
  policy: NoContactPolicy;
}

export function close(task: TaskState, actor: WorkActor, result: TaskResult, context: CloseContext): Decision<Transition> {
  if (task.status === 'closed') return refuse('task_closed', 'The task is closed already');
  if (!isCoordinator(actor) && !workedBy(task, actor)) return refuse('not_claimed_by_you');
  const early = context.earliestSignalDate === null ? undefined : context.attempts.find((a) => a.date < context.earliestSignalDate!);
  if (early) {
    return refuse('attempt_before_signal', `A contact attempt (${early.date}) is dated before the earliest signal of the task (${context.earliestSignalDate})`);
  }
  if (result === 'no_contact_possible') {
    if (context.attempts.some((a) => a.reached)) return refuse('contact_was_made');
    const channels = new Set(context.attempts.map((a) => a.channel)).size;
    const { minAttempts, minChannels } = context.policy;
    if (context.attempts.length < minAttempts || channels < minChannels) {
      return refuse(
        'too_few_attempts',
        `no_contact_possible needs at least ${minAttempts} contact attempts over at least ${minChannels} channels; the task has ${context.attempts.length} over ${channels}`,
      );
    }
  }
  if (RESULTS_NEEDING_CONTACT.has(result) && !context.attempts.some((a) => a.reached)) {
    return refuse('result_needs_contact', `${result} needs a contact attempt that reached the resident`);
  }
  return allow({ next: { status: 'closed', assignee: task.assignee }, changed: true });
}

/**
 * The signal status that goes with a result for signals nobody picked up (no contact attempt):
 * a task closed as "deceased" or "repeat signal" without outreach reports its signals so in
 * DDAS. It is the inverse of RESULT_FOR_SUPPRESSED_STATUS; other results leave them as they are.
 */
const STATUS_FOR_RESULT = new Map<TaskResult, SignalStatus>(
  (Object.entries(RESULT_FOR_SUPPRESSED_STATUS) as [SignalStatus, TaskResult][]).map(([status, result]) => [result, status]),
);

export function signalStatusOnClose(result: TaskResult): SignalStatus | null {
  return STATUS_FOR_RESULT.get(result) ?? null;
}
