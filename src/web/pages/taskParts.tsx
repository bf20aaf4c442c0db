import type { TaskView } from '../../api/schemas/task.js';
import type { Actor } from '../../domain/apiKey.js';
import * as machine from '../../domain/taskStateMachine.js';
import { formatDate, formatEuros, partnerTypeLabel, TASK_STATUS_LABELS } from '../labels.js';

/** Small pieces shared by the queue and the household page. */

export function StatusBadge(props: { task: Pick<TaskView, 'status' | 'assignee'>; actor: Actor }) {
  const { task, actor } = props;
  if (task.status === 'claimed') {
    return <span class="badge badge-claimed">{task.assignee === actor.keyId ? 'In behandeling bij u' : 'In behandeling bij een collega'}</span>;
  }
  if (task.status === 'open' && task.assignee !== null) {
    return <span class="badge badge-routed">{task.assignee === actor.keyId ? 'Aan u toegewezen' : 'Aan een collega toegewezen'}</span>;
  }
  return <span class={`badge badge-${task.status}`}>{TASK_STATUS_LABELS[task.status]}</span>;
}

export function DueDate(props: { task: Pick<TaskView, 'dueDate' | 'overdue' | 'status'> }) {
  return (
    <span>
      {formatDate(props.task.dueDate)}
      {props.task.overdue && (
        <>
          {' '}
          <span class="badge badge-overdue">Te laat</span>
        </>
      )}
    </span>
  );
}

/** "Huur, Energie · € 1.234,00" — the kinds of creditor and the total of the task's signals. */
export function SignalSummary(props: { task: Pick<TaskView, 'signals'> }) {
  const types = [...new Set(props.task.signals.map((s) => s.partnerType))].map((t) => partnerTypeLabel(t));
  const total = props.task.signals.reduce((sum, s) => sum + s.amountCents, 0);
  const crisis = props.task.signals.some((s) => s.crisis);
  const endOfSupply = props.task.signals.some((s) => s.endOfSupply);
  return (
    <span>
      {types.join(', ') || '—'} · {formatEuros(total)}
      {crisis && (
        <>
          {' '}
          <span class="badge badge-crisis">Crisis</span>
        </>
      )}
      {endOfSupply && (
        <>
          {' '}
          <span class="badge badge-crisis">Einde levering</span>
        </>
      )}
    </span>
  );
}

/** Whether a claim by the actor would take the task now: the state machine decides, as for the API. */
export function claimable(task: Pick<TaskView, 'status' | 'assignee'>, actor: Actor): boolean {
  const decision = machine.claim({ status: task.status, assignee: task.assignee }, actor);
  return decision.ok && decision.value.changed;
}
