import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SIGNAL_STATUSES, type SignalStatus } from '../../src/domain/codes.js';

const STATUSES = Object.keys(SIGNAL_STATUSES) as SignalStatus[];
import { decideOutreach, householdWindow, type HouseholdWindow, type OutreachInput } from '../../src/domain/outreach.js';
import { addWorkingDays } from '../../src/domain/workingDays.js';
import type { Outcome } from '../../src/rules/outcome.js';

/**
 * householdWindow runs for every household evaluated and is written as single passes over the
 * household's tasks and signals. This is the same window written plainly, one filter per rule;
 * the two must agree on every input.
 */
function plainWindow(input: OutreachInput): HouseholdWindow {
  const openTask = input.tasks.find((t) => t.status !== 'closed') ?? null;
  const closedTaskIds = new Set(input.tasks.filter((t) => t.status === 'closed').map((t) => t.id));
  const windowSignals = input.signals.filter((s) => s.taskId === null || !closedTaskIds.has(s.taskId));
  const newSignals = windowSignals.filter((s) => s.taskId === null && s.status === 'not_yet_picked_up');
  return { openTask, signalIds: newSignals.map((s) => s.id), firstReceived: windowSignals.map((s) => s.receivedDate).sort()[0] ?? null };
}

const day = fc.integer({ min: 0, max: 800 }).map((n) => new Date(Date.UTC(2025, 0, 1) + n * 86_400_000).toISOString().slice(0, 10));

const inputArbitrary = fc
  .record({
    tasks: fc.array(
      fc.record({
        status: fc.constantFrom('open' as const, 'claimed' as const, 'closed' as const, 'closed' as const),
        result: fc.constantFrom(null, 'advice_or_quick_fix' as const, 'no_contact_possible' as const, 'not_picked_up_other_reason' as const),
        assigneeKeyId: fc.constantFrom(null, 'k1', 'k2'),
        closedOn: fc.option(day, { nil: null }),
        assigneeActive: fc.boolean(),
      }),
      { maxLength: 4 },
    ),
    signals: fc.array(
      fc.record({
        // An index into the tasks (a link), or null: not linked yet.
        task: fc.option(fc.nat({ max: 5 }), { nil: null }),
        status: fc.constantFrom<SignalStatus>('not_yet_picked_up', 'not_yet_picked_up', ...STATUSES),
        receivedDate: day,
      }),
      { maxLength: 6 },
    ),
    suppressed: fc.option(fc.constantFrom<SignalStatus>(...STATUSES), { nil: null }),
    priority: fc.integer({ min: -50, max: 200 }),
    team: fc.option(fc.constantFrom('noord', 'zuid'), { nil: null }),
    postcodeTeam: fc.option(fc.constantFrom('oost', 'west'), { nil: null }),
    dueWorkingDays: fc.integer({ min: 0, max: 20 }),
    today: day,
  })
  .map((g): OutreachInput => {
    const tasks = g.tasks.map((t, i) => ({
      id: 100 + i,
      status: t.status,
      result: t.status === 'closed' ? t.result : null,
      assigneeKeyId: t.assigneeKeyId,
      createdAt: '2025-01-01T08:00:00.000Z',
      closedAt: t.status === 'closed' && t.closedOn !== null ? `${t.closedOn}T09:00:00.000Z` : null,
      assigneeActive: t.assigneeActive,
    }));
    const signals = g.signals.map((s, i) => ({
      id: 1 + i,
      partnerType: 'energy' as const,
      amountCents: 10_000,
      signalDate: s.receivedDate,
      originDate: null,
      receivedAt: `${s.receivedDate}T10:00:00.000Z`,
      receivedDate: s.receivedDate,
      crisis: false,
      warmHandover: false,
      endOfSupply: false,
      childrenInHousehold: null,
      birthDate: null,
      status: s.status,
      taskId: s.task === null ? null : tasks[s.task]?.id ?? 999,
    }));
    const outcome: Outcome = {
      suppressed: g.suppressed === null ? null : { status: g.suppressed as never, reason: null, rule: 'stop' },
      priority: g.priority,
      team: g.team,
      channel: null,
      dueWorkingDays: g.dueWorkingDays,
      fired: [],
    };
    return { tasks, signals, outcome, ruleSetVersion: 3, postcodeTeam: g.postcodeTeam, today: g.today };
  });

describe('decideOutreach', () => {
  it('reads the open task and the signal window as the plain form does, for any tasks and signals of a household', () => {
    fc.assert(
      fc.property(inputArbitrary, (input) => {
        expect(householdWindow(input.tasks, input.signals)).toEqual(plainWindow(input));
      }),
      { numRuns: 2_000 },
    );
  });

  it('decides nothing, a suppression or a task from that window', () => {
    fc.assert(
      fc.property(inputArbitrary, (input) => {
        const window = plainWindow(input);
        const decision = decideOutreach(input);
        if (!window.openTask && window.signalIds.length === 0) {
          expect(decision).toEqual({ kind: 'nothing' });
        } else if (!window.openTask && input.outcome.suppressed) {
          expect(decision).toMatchObject({ kind: 'suppress', status: input.outcome.suppressed.status, signalIds: window.signalIds });
        } else {
          expect(decision).toMatchObject({
            kind: 'task',
            taskId: window.openTask?.id ?? null,
            signalIds: window.signalIds,
            dueDate: addWorkingDays(window.firstReceived ?? input.today, input.outcome.dueWorkingDays),
            team: input.outcome.team ?? input.postcodeTeam,
          });
          if (window.openTask) expect(decision).toMatchObject({ assigneeKeyId: null });
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('counts the deadline from the earliest day a signal of the window was received, not from a linked closed task', () => {
    const decision = decideOutreach({
      tasks: [{ id: 7, status: 'closed', result: 'advice_or_quick_fix', assigneeKeyId: null, createdAt: '2025-01-01T08:00:00.000Z', closedAt: '2025-02-01T08:00:00.000Z', assigneeActive: false }],
      signals: [
        { ...baseSignal, id: 1, taskId: 7, receivedDate: '2025-01-06', status: 'not_yet_picked_up' },
        { ...baseSignal, id: 2, taskId: null, receivedDate: '2025-03-10', status: 'not_yet_picked_up' },
        { ...baseSignal, id: 3, taskId: null, receivedDate: '2025-03-04', status: 'not_yet_picked_up' },
      ],
      outcome: { suppressed: null, priority: 10, team: null, channel: null, dueWorkingDays: 2, fired: [] },
      ruleSetVersion: 1,
      postcodeTeam: null,
      today: '2025-03-10',
    });
    // Two working days from Tuesday 4 March.
    expect(decision).toMatchObject({ kind: 'task', taskId: null, signalIds: [2, 3], dueDate: '2025-03-06' });
  });
});

const baseSignal = {
  partnerType: 'energy' as const,
  amountCents: 10_000,
  signalDate: '2025-03-01',
  originDate: null,
  receivedAt: '2025-03-01T10:00:00.000Z',
  crisis: false,
  warmHandover: false,
  endOfSupply: false,
  childrenInHousehold: null,
  birthDate: null,
};
