import type { ContactChannel, SignalStatus, TaskResult } from '../domain/codes.js';
import { dutchToday, isoInstant } from '../domain/dates.js';
import type { HouseholdSnapshot, SignalSnapshot, TaskSnapshot } from '../domain/facts.js';
import { booleanArray, integerArray, textArray } from './arrayLiterals.js';
import type { Client, Queryable } from './pool.js';
import { householdTasks } from './tasks.js';

/**
 * A statement prepared once per connection under its name. Evaluation runs the same few
 * statements for every chunk of households, and planning them afresh each time (the tasks
 * table has a dozen indexes to weigh) cost more than executing them.
 */
function prepared(name: string, text: string, values: unknown[]): { name: string; text: string; values: unknown[] } {
  return { name: `evaluation-${name}`, text, values };
}

/**
 * The database side of evaluation: lock the households that still wait, load everything their
 * facts need with one query per table, and write the outcome back in bulk.
 */

export interface LockedHousehold {
  id: number;
  municipalityCode: string | null;
  postcode: string;
  /** Created by the intake that queued it and not evaluated since: it has no tasks yet (migration 140). */
  neverEvaluated: boolean;
}

/**
 * Takes the given households that are still waiting for evaluation off the evaluation queue
 * and returns them. The queue row is the claim: it is locked with SKIP LOCKED and deleted in
 * the caller's transaction. A household whose row another evaluation (or an intake or a rule-set
 * activation) holds right now is left to that one — it stays queued, so it is evaluated again
 * after that transaction, never lost and never doubled. A change committed while this
 * evaluation runs queues the household again (its insert waits for this delete to commit).
 */
// One lookup of the queue's key per id (the lateral subquery with its row lock cannot be turned
// into a join), and the delete goes straight to the locked rows by their ctid (a row this
// transaction locked cannot move). No step depends on how large the planner believes the queue
// is: statistics taken while the queue stood empty between bursts (pages, no rows) made an
// earlier form of this statement scan the whole queue once for every id during the next burst.
// The plan is the same for every chunk, so it is prepared once per connection.
export const TAKE_PENDING_HOUSEHOLDS = `
  with locked as (
    select w.ctid as row
      from unnest($1::bigint[]) as i(id)
      cross join lateral (select q.ctid from evaluation_queue q where q.household_id = i.id for update skip locked) w
  ),
  taken as (
    delete from evaluation_queue q where q.ctid = any(array(select row from locked)) returning q.household_id, q.never_evaluated
  )
  select h.id, h.municipality_code, h.postcode, taken.never_evaluated from taken join households h on h.id = taken.household_id order by h.id`;

export async function takePendingHouseholds(tx: Client, ids: readonly number[]): Promise<LockedHousehold[]> {
  const { rows } = await tx.query<{ id: number; municipality_code: string | null; postcode: string; never_evaluated: boolean }>(
    prepared('take', TAKE_PENDING_HOUSEHOLDS, [integerArray(ids)]),
  );
  return rows.map((r) => ({ id: r.id, municipalityCode: r.municipality_code, postcode: r.postcode, neverEvaluated: r.never_evaluated }));
}

export interface StoredSignal extends SignalSnapshot {
  householdId: number;
  receivedDate: string;
}

export interface StoredTask extends TaskSnapshot {
  householdId: number;
  dueDate: string | null;
  team: string | null;
  /** Whether the assignee key is still an active consultant key (one household, one contact person). */
  assigneeActive: boolean;
}

interface TaskRow {
  id: number; household_id: number; status: 'open' | 'claimed' | 'closed'; result: TaskResult | null; assignee_key_id: string | null;
  created_at: Date; closed_at: Date | null; due_date: string | null; team: string | null; assignee_active: boolean;
}

/** Snapshots of the households for the fact computation, with one query for signals and one for tasks. */
export async function loadSnapshots(
  db: Queryable,
  households: readonly LockedHousehold[],
  now: Date,
): Promise<{ snapshots: HouseholdSnapshot[]; signals: Map<number, StoredSignal[]>; tasks: Map<number, StoredTask[]> }> {
  const ids = integerArray(households.map((h) => h.id));
  // Households never evaluated have no tasks and no linked signals: neither is looked up for them.
  const neverEvaluated = booleanArray(households.map((h) => h.neverEvaluated));
  const evaluatedBefore = households.filter((h) => !h.neverEvaluated).map((h) => h.id);
  const [signalRows, taskRows] = await Promise.all([
    db.query<{
      id: number; household_id: number; partner_type: SignalSnapshot['partnerType']; amount_cents: number; signal_date: string;
      origin_date: string | null; received_at: Date; crisis: boolean; warm_handover: boolean; end_of_supply: boolean;
      children_in_household: number | null; birth_date: string | null; status: SignalStatus; task_id: number | null;
    }>(
      // Joined to the array of ids, not `= any($1)`: for thousands of ids the planner takes the
      // latter for a large part of the table and scans all of it. CASE runs its subquery only
      // for the households that may have linked signals.
      prepared(
        'signals',
        `select s.id, s.household_id, s.partner_type, s.amount_cents, s.signal_date, s.origin_date, s.received_at, s.crisis,
                s.warm_handover, s.end_of_supply, s.children_in_household, s.birth_date, s.status,
                case when h.never_evaluated then null else (select ts.task_id from task_signals ts where ts.signal_id = s.id) end as task_id
           from unnest($1::bigint[], $2::boolean[]) as h(id, never_evaluated) join signals s on s.household_id = h.id
          order by s.household_id, s.signal_date, s.id`,
        [ids, neverEvaluated],
      ),
    ),
    evaluatedBefore.length === 0
      ? { rows: [] as TaskRow[] }
      : db.query<TaskRow>(
          prepared(
            'tasks',
            `select t.id, t.household_id, t.status, t.result, t.assignee_key_id, t.created_at, t.closed_at, t.due_date, t.team,
                    coalesce(k.role = 'consultant' and k.revoked_at is null, false) as assignee_active
               from unnest($1::bigint[]) as h(id)
               cross join lateral ${householdTasks('h.id')} t
               left join api_keys k on k.id = t.assignee_key_id
              order by t.household_id, t.created_at, t.id`,
            [integerArray(evaluatedBefore)],
          ),
        ),
  ]);
  const signals = new Map<number, StoredSignal[]>();
  for (const r of signalRows.rows) {
    const list = signals.get(r.household_id) ?? [];
    list.push({
      id: r.id,
      householdId: r.household_id,
      partnerType: r.partner_type,
      amountCents: r.amount_cents,
      signalDate: r.signal_date,
      originDate: r.origin_date,
      receivedAt: isoInstant(r.received_at),
      receivedDate: dutchToday(r.received_at),
      crisis: r.crisis,
      warmHandover: r.warm_handover,
      endOfSupply: r.end_of_supply,
      childrenInHousehold: r.children_in_household,
      birthDate: r.birth_date,
      status: r.status,
      taskId: r.task_id,
    });
    signals.set(r.household_id, list);
  }
  const tasks = new Map<number, StoredTask[]>();
  for (const r of taskRows.rows) {
    const list = tasks.get(r.household_id) ?? [];
    list.push({
      id: r.id,
      householdId: r.household_id,
      status: r.status,
      result: r.result,
      assigneeKeyId: r.assignee_key_id,
      createdAt: isoInstant(r.created_at),
      closedAt: r.closed_at ? isoInstant(r.closed_at) : null,
      dueDate: r.due_date,
      team: r.team,
      assigneeActive: r.assignee_active,
    });
    tasks.set(r.household_id, list);
  }
  const today = dutchToday(now);
  const snapshots = households.map((h) => ({
    householdId: h.id,
    municipalityCode: h.municipalityCode,
    postcode: h.postcode,
    signals: signals.get(h.id) ?? [],
    tasks: tasks.get(h.id) ?? [],
    today,
  }));
  return { snapshots, signals, tasks };
}

export interface NewTask {
  householdId: number;
  municipality: string;
  status: 'open' | 'closed';
  priority: number;
  dueDate: string | null;
  team: string | null;
  assigneeKeyId: string | null;
  channel: ContactChannel | null;
  result: TaskResult | null;
  suppressed: boolean;
  explanation: unknown;
  ruleSetVersion: number;
  /** The matching date (DDAS matchingsdatum): today in the Netherlands. */
  matchedOn: string;
}

/**
 * The explanations of a chunk as one JSON array, for `json_array_elements(…) with ordinality`
 * joined on the position. An explanation is a kilobyte or two of JSON full of quotes: as a
 * `jsonb[]` parameter every one is escaped into an array literal and unescaped again, which
 * cost twice what the rest of writing the task costs. The column is json (see migration 080):
 * each element is stored as the text it is.
 */
function explanationsJson(items: readonly { explanation: unknown }[]): string {
  return JSON.stringify(items.map((item) => item.explanation));
}

/** Inserts tasks in one statement; returns the new task id per household. */
export async function insertTasks(tx: Client, tasks: readonly NewTask[]): Promise<Map<number, number>> {
  if (tasks.length === 0) return new Map();
  const { rows } = await tx.query<{ id: number; household_id: number }>({
    name: 'evaluation-insert-tasks',
    text: `insert into tasks (household_id, municipality_code, status, priority, due_date, team, assignee_key_id, channel, result,
                        suppressed, explanation, rule_set_version, matched_on, closed_at)
     select u.household_id, u.municipality, u.status, u.priority, u.due_date, u.team, u.assignee, u.channel, u.result,
            u.suppressed, e.explanation, u.version, u.matched_on, case when u.status = 'closed' then now() end
       from unnest($1::bigint[], $2::text[], $3::text[], $4::int[], $5::date[], $6::text[], $7::uuid[], $8::text[], $9::text[],
                   $10::bool[], $12::int[], $13::date[]) with ordinality
            as u(household_id, municipality, status, priority, due_date, team, assignee, channel, result, suppressed, version, matched_on, position)
       join json_array_elements($11::json) with ordinality as e(explanation, position) on e.position = u.position
      order by u.position
     returning id, household_id`,
    values: [
      integerArray(tasks.map((t) => t.householdId)),
      textArray(tasks.map((t) => t.municipality)),
      textArray(tasks.map((t) => t.status)),
      integerArray(tasks.map((t) => t.priority)),
      textArray(tasks.map((t) => t.dueDate)),
      textArray(tasks.map((t) => t.team)),
      textArray(tasks.map((t) => t.assigneeKeyId)),
      textArray(tasks.map((t) => t.channel)),
      textArray(tasks.map((t) => t.result)),
      booleanArray(tasks.map((t) => t.suppressed)),
      explanationsJson(tasks),
      integerArray(tasks.map((t) => t.ruleSetVersion)),
      textArray(tasks.map((t) => t.matchedOn)),
    ],
  });
  return new Map(rows.map((r) => [r.household_id, r.id]));
}

export interface TaskUpdate {
  taskId: number;
  priority: number;
  dueDate: string | null;
  team: string | null;
  channel: ContactChannel | null;
  explanation: unknown;
  ruleSetVersion: number;
}

/**
 * Re-scores open tasks. The due date only moves earlier (a new urgent signal shortens it; a
 * later signal never buys time). The team changes only while nobody has the task.
 */
export async function updateTasks(tx: Client, updates: readonly TaskUpdate[]): Promise<void> {
  if (updates.length === 0) return;
  await tx.query({
    name: 'evaluation-update-tasks',
    text: `update tasks t set priority = u.priority,
            due_date = case when t.due_date is null then u.due_date else least(t.due_date, u.due_date) end,
            team = case when t.status = 'open' and t.assignee_key_id is null then u.team else t.team end,
            channel = u.channel, explanation = e.explanation, rule_set_version = u.version, updated_at = now()
       from unnest($1::bigint[], $2::int[], $3::date[], $4::text[], $5::text[], $7::int[]) with ordinality
              as u(id, priority, due_date, team, channel, version, position)
            join json_array_elements($6::json) with ordinality as e(explanation, position) on e.position = u.position
      where t.id = u.id and t.status <> 'closed'`,
    values: [
      integerArray(updates.map((u) => u.taskId)),
      integerArray(updates.map((u) => u.priority)),
      textArray(updates.map((u) => u.dueDate)),
      textArray(updates.map((u) => u.team)),
      textArray(updates.map((u) => u.channel)),
      explanationsJson(updates),
      integerArray(updates.map((u) => u.ruleSetVersion)),
    ],
  });
}

/**
 * Links signals to their task and sets the status of those given one, in two statements. A
 * signal is linked once (the primary key of task_signals): only signals without a task are
 * handed in, and the household's row lock keeps a second evaluation from linking them too.
 */
export async function attachSignals(tx: Client, links: readonly { signalId: number; taskId: number; status: SignalStatus | null }[]): Promise<void> {
  if (links.length === 0) return;
  await tx.query(
    prepared(
      'link-signals',
      `insert into task_signals (signal_id, task_id) select * from unnest($1::bigint[], $2::bigint[])`,
      [integerArray(links.map((l) => l.signalId)), integerArray(links.map((l) => l.taskId))],
    ),
  );
  const withStatus = links.filter((l) => l.status !== null);
  if (withStatus.length === 0) return;
  await tx.query(
    prepared(
      'signal-status',
      `update signals s set status = u.status from unnest($1::bigint[], $2::text[]) as u(id, status) where s.id = u.id`,
      [integerArray(withStatus.map((l) => l.signalId)), textArray(withStatus.map((l) => l.status))],
    ),
  );
}

export async function teamsByMunicipality(db: Queryable, municipalities: string[]): Promise<Map<string, { id: string; postcodeAreas: string[] }[]>> {
  const { rows } = await db.query<{ municipality_code: string; id: string; postcode_areas: string[] }>(
    prepared('teams', `select municipality_code, id, postcode_areas from teams where municipality_code = any($1) order by municipality_code, id`, [municipalities]),
  );
  const map = new Map<string, { id: string; postcodeAreas: string[] }[]>();
  for (const r of rows) {
    const list = map.get(r.municipality_code) ?? [];
    list.push({ id: r.id, postcodeAreas: r.postcode_areas });
    map.set(r.municipality_code, list);
  }
  return map;
}

/** Households waiting longer than `seconds`, longest first (for the sweeper). */
export async function staleHouseholds(db: Queryable, seconds: number, limit: number): Promise<number[]> {
  const { rows } = await db.query<{ household_id: number }>(
    `select household_id from evaluation_queue where since < now() - make_interval(secs => $1) order by since limit $2`,
    [seconds, limit],
  );
  return rows.map((r) => r.household_id);
}
