import type { TaskStatus, TaskView } from '../api/schemas/task.js';
import type { Actor } from '../domain/apiKey.js';
import { explainedRules } from '../domain/outreach.js';
import type { RuleSet } from '../rules/schema.js';
import type { ContactChannel, PartnerType, SignalStatus, TaskResult } from '../domain/codes.js';
import type { Queryable } from './pool.js';

export interface TaskRow {
  id: number;
  household_id: number;
  municipality_code: string;
  status: TaskStatus;
  priority: number;
  due_date: string | null;
  overdue: boolean;
  team: string | null;
  assignee_key_id: string | null;
  channel: ContactChannel | null;
  result: TaskResult | null;
  suppressed: boolean;
  picked_up_date: string | null;
  /** As stored: per fired rule its name and facts (older tasks: the whole fired rule). */
  explanation: { ruleSetVersion?: number | null; rules?: unknown[] };
  rule_set_version: number | null;
  created_at: Date;
  closed_at: Date | null;
}

/**
 * Queue order — overdue first, then priority (high first), then due date (none last), then id —
 * as the ascending tuple of the team claim index's keys (migration 020): must stay identical to them.
 */
export const QUEUE_KEY = `(not t.overdue), (-(t.priority::bigint)), (coalesce(t.due_date, 'infinity'::date)), t.id`;

/**
 * List order: tasks still to be worked (open, claimed) before closed ones, each part in queue
 * order — the keys of the index `tasks_listing` (migration 120): must stay identical to them.
 */
export const LIST_KEY = `(t.status = 'closed'), ${QUEUE_KEY}`;

/**
 * The tasks of the household `household` (a parameter or a column of an outer query), as a
 * table expression to alias: its task that is not closed through
 * `tasks_one_open_per_household`, its closed ones through `tasks_household_closed` (migration
 * 150). No index holds all of a household's tasks, so a plain `household_id = …` would scan.
 */
export function householdTasks(household: string): string {
  return `(select * from tasks where household_id = ${household} and status <> 'closed'
           union all
           select * from tasks where household_id = ${household} and status = 'closed')`;
}

export const TASK_COLUMNS = `t.id, t.household_id, t.municipality_code, t.status, t.priority, t.due_date, t.overdue, t.team,
  t.assignee_key_id, t.channel, t.result, t.suppressed, t.picked_up_date, t.explanation, t.rule_set_version, t.created_at, t.closed_at`;

/**
 * The visibility rule for tasks, as SQL: consultants see their teams' tasks and tasks assigned
 * to them; coordinators and admins their municipality (an admin without one sees all).
 * Integrators see none. `$n` placeholders start at `first`.
 */
export function taskVisibilitySql(actor: Actor, first: number): { sql: string; params: unknown[] } {
  if (actor.role === 'consultant') {
    return {
      sql: `(t.municipality_code = $${first} and (t.team = any($${first + 1}::text[]) or t.assignee_key_id = $${first + 2}::uuid))`,
      params: [actor.municipality, actor.teams, actor.keyId],
    };
  }
  if (actor.role === 'coordinator' || actor.role === 'admin') {
    return { sql: `($${first}::text is null or t.municipality_code = $${first})`, params: [actor.municipality] };
  }
  return { sql: 'false', params: [] };
}

export function taskVisibleTo(actor: Actor, task: Pick<TaskRow, 'municipality_code' | 'team' | 'assignee_key_id'>): boolean {
  if (actor.role === 'consultant') {
    return task.municipality_code === actor.municipality && ((task.team !== null && actor.teams.includes(task.team)) || task.assignee_key_id === actor.keyId);
  }
  if (actor.role === 'coordinator' || actor.role === 'admin') return actor.municipality === null || actor.municipality === task.municipality_code;
  return false;
}

interface TaskSignalRow {
  id: number;
  task_id: number;
  partner_type: PartnerType;
  partner_name: string;
  external_id: string;
  signal_date: string;
  origin_date: string | null;
  amount_cents: number;
  crisis: boolean;
  warm_handover: boolean;
  end_of_supply: boolean;
  status: SignalStatus;
  received_at: Date;
}

/**
 * The rule-set versions the explanations of `rows` name, by `municipality:version`: what the
 * fired rules do is read from there (see Explanation in domain/outreach.ts).
 */
async function explainingRuleSets(db: Queryable, rows: readonly TaskRow[]): Promise<Map<string, RuleSet>> {
  const wanted = new Map<string, { municipality: string; version: number }>();
  for (const r of rows) {
    const version = r.explanation.ruleSetVersion ?? r.rule_set_version;
    const rules = Array.isArray(r.explanation.rules) ? r.explanation.rules : [];
    if (version === null || !rules.some((rule) => typeof (rule as { type?: unknown } | null)?.type !== 'string')) continue;
    wanted.set(`${r.municipality_code}:${version}`, { municipality: r.municipality_code, version });
  }
  if (wanted.size === 0) return new Map();
  const { rows: found } = await db.query<{ municipality_code: string; version: number; definition: RuleSet }>(
    `select r.municipality_code, r.version, r.definition
       from unnest($1::text[], $2::int[]) as w(municipality_code, version)
       join rule_sets r on r.municipality_code = w.municipality_code and r.version = w.version`,
    [[...wanted.values()].map((w) => w.municipality), [...wanted.values()].map((w) => w.version)],
  );
  return new Map(found.map((r) => [`${r.municipality_code}:${r.version}`, r.definition]));
}

/** Turns task rows into the API's task view, loading their signals and explaining rule sets with one query each. */
export async function toTaskViews(db: Queryable, rows: TaskRow[]): Promise<TaskView[]> {
  if (rows.length === 0) return [];
  const ruleSets = await explainingRuleSets(db, rows);
  const { rows: signalRows } = await db.query<TaskSignalRow>(
    `select s.id, ts.task_id, s.partner_type, s.partner_name, s.external_id, s.signal_date, s.origin_date, s.amount_cents, s.crisis,
            s.warm_handover, s.end_of_supply, s.status, s.received_at
       from task_signals ts join signals s on s.id = ts.signal_id
      where ts.task_id = any($1) order by s.signal_date, s.id`,
    [rows.map((r) => r.id)],
  );
  const byTask = new Map<number, TaskView['signals']>();
  for (const s of signalRows) {
    const list = byTask.get(s.task_id) ?? [];
    list.push({
      id: s.id,
      partnerType: s.partner_type,
      partnerName: s.partner_name || null,
      externalId: s.external_id,
      signalDate: s.signal_date,
      originDate: s.origin_date,
      amountCents: s.amount_cents,
      crisis: s.crisis,
      warmHandover: s.warm_handover,
      endOfSupply: s.end_of_supply,
      status: s.status,
      receivedAt: s.received_at.toISOString(),
    });
    byTask.set(s.task_id, list);
  }
  return rows.map((r) => ({
    id: r.id,
    householdId: r.household_id,
    municipality: r.municipality_code,
    status: r.status,
    priority: r.priority,
    dueDate: r.due_date,
    overdue: r.overdue,
    team: r.team,
    assignee: r.assignee_key_id,
    channel: r.channel,
    result: r.result,
    suppressed: r.suppressed,
    pickedUpDate: r.picked_up_date,
    createdAt: r.created_at.toISOString(),
    closedAt: r.closed_at ? r.closed_at.toISOString() : null,
    explanation: {
      ruleSetVersion: r.explanation.ruleSetVersion ?? r.rule_set_version,
      rules: explainedRules(Array.isArray(r.explanation.rules) ? r.explanation.rules : [], ruleSets.get(`${r.municipality_code}:${r.explanation.ruleSetVersion ?? r.rule_set_version}`)),
    },
    signals: byTask.get(r.id) ?? [],
  }));
}

/** One task as the actor may see it, or null (answered with 404 by the routes). */
export async function findVisibleTask(db: Queryable, actor: Actor, id: number): Promise<TaskView | null> {
  const visibility = taskVisibilitySql(actor, 2);
  const { rows } = await db.query<TaskRow>(`select ${TASK_COLUMNS} from tasks t where t.id = $1 and ${visibility.sql}`, [id, ...visibility.params]);
  const views = await toTaskViews(db, rows);
  return views[0] ?? null;
}
