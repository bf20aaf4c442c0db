import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CONTACT_CHANNEL_CODES, RESULT_FOR_SUPPRESSED_STATUS, TASK_RESULT_CODES, type ContactChannel, type TaskResult } from '../../src/domain/codes.js';
import {
  DEFAULT_TASK_LIMITS,
  RESULTS_NEEDING_CONTACT,
  addNote,
  assign,
  claim,
  close,
  recordAttempt,
  refusalStatus,
  release,
  signalStatusOnClose,
  type AttemptFacts,
  type TaskState,
  type WorkActor,
} from '../../src/domain/taskStateMachine.js';

const me: WorkActor = { keyId: 'me', role: 'consultant' };
const coordinator: WorkActor = { keyId: 'coord', role: 'coordinator' };
const open: TaskState = { status: 'open', assignee: null };
const mine: TaskState = { status: 'claimed', assignee: 'me' };
const policy = { minAttempts: 3, minChannels: 2 };
const attempt = (channel: ContactChannel, date = '2025-02-01', reached = false): AttemptFacts => ({ channel, date, reached });

const arbKey = fc.constantFrom('me', 'other', 'coord');
const arbState: fc.Arbitrary<TaskState> = fc.record({
  status: fc.constantFrom('open', 'claimed', 'closed') as fc.Arbitrary<TaskState['status']>,
  assignee: fc.option(arbKey, { nil: null }),
});
const arbActor: fc.Arbitrary<WorkActor> = fc.oneof(fc.constant(me), fc.constant(coordinator), fc.constant<WorkActor>({ keyId: 'other', role: 'consultant' }));
const arbDate = fc.integer({ min: 0, max: 400 }).map((d) => new Date(Date.UTC(2025, 0, 1) + d * 86_400_000).toISOString().slice(0, 10));
const arbAttempt: fc.Arbitrary<AttemptFacts> = fc.record({ channel: fc.constantFrom(...CONTACT_CHANNEL_CODES), reached: fc.boolean(), date: arbDate });

describe('claim', () => {
  it('claims an open unassigned task or one routed to me', () => {
    expect(claim(open, me)).toEqual({ ok: true, value: { next: mine, changed: true } });
    expect(claim({ status: 'open', assignee: 'me' }, me)).toEqual({ ok: true, value: { next: mine, changed: true } });
  });

  it('is a no-op on my own claim and refuses others', () => {
    expect(claim(mine, me)).toEqual({ ok: true, value: { next: mine, changed: false } });
    expect(claim(mine, { keyId: 'other', role: 'consultant' })).toMatchObject({ ok: false, reason: 'claimed_by_other' });
    expect(claim({ status: 'open', assignee: 'other' }, me)).toMatchObject({ ok: false, reason: 'assigned_to_other' });
    expect(claim({ status: 'closed', assignee: 'me' }, me)).toMatchObject({ ok: false, reason: 'task_closed' });
  });

  it('never hands a task to two keys: after a successful claim only the claimer may claim again', () => {
    fc.assert(
      fc.property(arbState, arbActor, arbActor, (state, first, second) => {
        const a = claim(state, first);
        if (!a.ok) return;
        expect(a.value.next).toEqual({ status: 'claimed', assignee: first.keyId });
        const b = claim(a.value.next, second);
        expect(b.ok).toBe(second.keyId === first.keyId);
      }),
    );
  });
});

describe('release and assign', () => {
  it('lets the holder or a coordinator release, back to an open unassigned task', () => {
    expect(release(mine, me)).toEqual({ ok: true, value: { next: open, changed: true } });
    expect(release({ status: 'open', assignee: 'me' }, me)).toMatchObject({ ok: true });
    expect(release(mine, coordinator)).toMatchObject({ ok: true });
    expect(release(mine, { keyId: 'other', role: 'consultant' })).toMatchObject({ ok: false, reason: 'claimed_by_other' });
    expect(release(open, me)).toMatchObject({ ok: false, reason: 'not_assigned' });
    expect(release({ status: 'closed', assignee: 'me' }, me)).toMatchObject({ ok: false, reason: 'task_closed' });
  });

  it('routes to the consultant as an open task, and leaves a task they hold as it is', () => {
    expect(assign(mine, 'other')).toEqual({ ok: true, value: { next: { status: 'open', assignee: 'other' }, changed: true } });
    expect(assign(mine, 'me')).toEqual({ ok: true, value: { next: mine, changed: false } });
    expect(assign({ status: 'closed', assignee: null }, 'me')).toMatchObject({ ok: false, reason: 'task_closed' });
  });

  it('a closed task stays closed whatever is tried', () => {
    fc.assert(
      fc.property(fc.option(arbKey, { nil: null }), arbActor, (assignee, actor) => {
        const closed: TaskState = { status: 'closed', assignee };
        for (const decision of [claim(closed, actor), release(closed, actor), assign(closed, actor.keyId)]) {
          expect(decision).toMatchObject({ ok: false, reason: 'task_closed' });
        }
      }),
    );
  });
});

describe('contact attempts', () => {
  const context = { today: '2025-03-10', earliestSignalDate: '2025-01-06', attemptCount: 0, limits: DEFAULT_TASK_LIMITS };

  it('accepts an attempt between the earliest signal and today, by the claimer or a coordinator', () => {
    expect(recordAttempt(mine, me, attempt('phone', '2025-01-06'), context)).toEqual({ ok: true, value: { firstAttempt: true } });
    expect(recordAttempt(mine, me, attempt('phone', '2025-03-10'), { ...context, attemptCount: 2 })).toEqual({ ok: true, value: { firstAttempt: false } });
    expect(recordAttempt(open, coordinator, attempt('letter'), context)).toMatchObject({ ok: true });
  });

  it('refuses the wrong actor, a closed task, dates out of range and the limit', () => {
    expect(recordAttempt(open, me, attempt('phone'), context)).toMatchObject({ ok: false, reason: 'not_claimed_by_you' });
    expect(recordAttempt({ status: 'claimed', assignee: 'other' }, me, attempt('phone'), context)).toMatchObject({ reason: 'not_claimed_by_you' });
    expect(recordAttempt({ status: 'closed', assignee: 'me' }, me, attempt('phone'), context)).toMatchObject({ reason: 'task_closed' });
    expect(recordAttempt(mine, me, attempt('phone', '2025-03-11'), context)).toMatchObject({ reason: 'attempt_in_future' });
    expect(recordAttempt(mine, me, attempt('phone', '2025-01-05'), context)).toMatchObject({ reason: 'attempt_before_signal' });
    expect(recordAttempt(mine, me, attempt('phone'), { ...context, attemptCount: DEFAULT_TASK_LIMITS.maxAttemptsPerTask })).toMatchObject({ reason: 'attempt_limit' });
  });

  it('accepts exactly the dates in [earliest signal, today]', () => {
    fc.assert(
      fc.property(arbDate, arbDate, arbDate, (date, earliest, today) => {
        const decision = recordAttempt(mine, me, attempt('phone', date), { ...context, earliestSignalDate: earliest, today });
        expect(decision.ok).toBe(date >= earliest && date <= today);
      }),
    );
  });

  it('answers a future date with 400 and every other refusal with 409', () => {
    expect(refusalStatus('attempt_in_future')).toBe(400);
    expect(refusalStatus('attempt_before_signal')).toBe(409);
    expect(refusalStatus('task_closed')).toBe(409);
  });
});

describe('notes', () => {
  it('allows notes up to the limit', () => {
    expect(addNote(199, DEFAULT_TASK_LIMITS)).toMatchObject({ ok: true });
    expect(addNote(200, DEFAULT_TASK_LIMITS)).toMatchObject({ ok: false, reason: 'note_limit' });
  });
});

describe('close', () => {
  const base = { earliestSignalDate: '2025-01-06', attempts: [] as AttemptFacts[], policy };

  it('closes my claimed task, or any open task for a coordinator', () => {
    expect(close(mine, me, 'not_picked_up_other_reason', base)).toEqual({ ok: true, value: { next: { status: 'closed', assignee: 'me' }, changed: true } });
    expect(close(open, coordinator, 'deceased', base)).toMatchObject({ ok: true });
  });

  it('refuses closing twice and closing what I did not claim', () => {
    expect(close({ status: 'closed', assignee: 'me' }, me, 'deceased', base)).toMatchObject({ ok: false, reason: 'task_closed' });
    expect(close(open, me, 'deceased', base)).toMatchObject({ reason: 'not_claimed_by_you' });
    expect(close({ status: 'open', assignee: 'me' }, me, 'deceased', base)).toMatchObject({ reason: 'not_claimed_by_you' });
    expect(close({ status: 'claimed', assignee: 'other' }, me, 'deceased', base)).toMatchObject({ reason: 'not_claimed_by_you' });
  });

  it('needs 3 attempts over 2 channels, none reached, for no_contact_possible', () => {
    const two = [attempt('phone'), attempt('letter')];
    expect(close(mine, me, 'no_contact_possible', { ...base, attempts: two })).toMatchObject({ reason: 'too_few_attempts' });
    const oneChannel = [attempt('phone'), attempt('phone'), attempt('phone')];
    expect(close(mine, me, 'no_contact_possible', { ...base, attempts: oneChannel })).toMatchObject({ reason: 'too_few_attempts' });
    const enough = [attempt('phone'), attempt('phone'), attempt('letter')];
    expect(close(mine, me, 'no_contact_possible', { ...base, attempts: enough })).toMatchObject({ ok: true });
    const reached = [...enough, attempt('home_visit', '2025-02-02', true)];
    expect(close(mine, me, 'no_contact_possible', { ...base, attempts: reached })).toMatchObject({ reason: 'contact_was_made' });
  });

  it('follows the configured policy exactly', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ channel: fc.constantFrom(...CONTACT_CHANNEL_CODES), reached: fc.constant(false), date: fc.constant('2025-02-01') }), { maxLength: 8 }),
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: 0, max: 4 }),
        (attempts, minAttempts, minChannels) => {
          const decision = close(mine, me, 'no_contact_possible', { ...base, attempts, policy: { minAttempts, minChannels } });
          const channels = new Set(attempts.map((a) => a.channel)).size;
          expect(decision.ok).toBe(attempts.length >= minAttempts && channels >= minChannels);
        },
      ),
    );
  });

  it('refuses an attempt dated before the earliest signal', () => {
    expect(close(mine, me, 'deceased', { ...base, attempts: [attempt('phone', '2025-01-05')] })).toMatchObject({ reason: 'attempt_before_signal' });
  });

  it('needs a reached attempt for results that say the resident was spoken to', () => {
    for (const result of RESULTS_NEEDING_CONTACT) {
      expect(close(mine, me, result, { ...base, attempts: [attempt('phone')] })).toMatchObject({ reason: 'result_needs_contact' });
      expect(close(mine, me, result, { ...base, attempts: [attempt('phone', '2025-02-01', true)] })).toMatchObject({ ok: true });
    }
    expect(RESULTS_NEEDING_CONTACT.has('no_contact_possible')).toBe(false);
  });

  it('lets a coordinator close any non-closed task whose attempts allow the result', () => {
    fc.assert(
      fc.property(arbState, fc.constantFrom(...TASK_RESULT_CODES), fc.array(arbAttempt, { maxLength: 6 }), (state, result, attempts) => {
        const decision = close(state, coordinator, result, { ...base, earliestSignalDate: null, attempts });
        if (state.status === 'closed') expect(decision).toMatchObject({ reason: 'task_closed' });
        else if (decision.ok) expect(decision.value.next.status).toBe('closed');
        else expect(['too_few_attempts', 'contact_was_made', 'result_needs_contact']).toContain(decision.reason);
      }),
    );
  });
});

describe('signal status on close', () => {
  it('is the inverse of RESULT_FOR_SUPPRESSED_STATUS and null for results that are no signal status', () => {
    for (const [status, result] of Object.entries(RESULT_FOR_SUPPRESSED_STATUS)) expect(signalStatusOnClose(result as TaskResult)).toBe(status);
    expect(signalStatusOnClose('advice_or_quick_fix')).toBeNull();
    expect(signalStatusOnClose('no_contact_possible')).toBeNull();
  });
});
