import type { HouseholdView } from '../api/schemas/household.js';
import type { TaskStatus, TaskView } from '../api/schemas/task.js';
import type { Actor } from '../domain/apiKey.js';
import type { Gender, PartnerType, SignalStatus } from '../domain/codes.js';
import { isIsoDate } from '../domain/dates.js';
import type { Queryable } from './pool.js';
import { attemptView, listAttemptsOfTasks } from './taskWork.js';
import { householdTasks, LIST_KEY, TASK_COLUMNS, taskVisibilitySql, taskVisibleTo, toTaskViews, type TaskRow } from './tasks.js';

export interface TaskFilter {
  status?: TaskStatus | undefined;
  team?: string | undefined;
  assignee?: string | undefined;
  overdue?: boolean | undefined;
  limit: number;
  /** Keyset cursor: the list position of the last task of the previous page. */
  after: TaskListPosition | null;
}

/**
 * A task's position in the list: whether it is closed, whether it is overdue, its priority, its
 * due date ('infinity' for none) and id.
 */
export type TaskListPosition = [closed: boolean, overdue: boolean, priority: number, dueKey: string, id: number];

/** The position of a listed task, for the cursor of the page it ends. */
export function taskListPosition(task: Pick<TaskView, 'status' | 'overdue' | 'priority' | 'dueDate' | 'id'>): TaskListPosition {
  return [task.status === 'closed', task.overdue, task.priority, task.dueDate ?? 'infinity', task.id];
}

/**
 * A list position read back from a cursor, or null when it is not one: a cursor comes from the
 * client, and a value the statement cannot take (text for a number, a date that does not
 * exist) must be refused, not sent to the database.
 */
export function toTaskListPosition(value: unknown): TaskListPosition | null {
  if (!Array.isArray(value) || value.length !== 5) return null;
  const [closed, overdue, priority, dueKey, id] = value as unknown[];
  if (typeof closed !== 'boolean' || typeof overdue !== 'boolean') return null;
  if (!Number.isSafeInteger(priority) || Math.abs(priority as number) > 2 ** 31) return null;
  if (typeof dueKey !== 'string' || (dueKey !== 'infinity' && !isIsoDate(dueKey))) return null;
  if (!Number.isSafeInteger(id) || (id as number) < 1) return null;
  return [closed, overdue, priority as number, dueKey, id as number];
}

/** Tasks the actor may see in list order (LIST_KEY), a page after the cursor's position. */
export async function listVisibleTasks(db: Queryable, actor: Actor, filter: TaskFilter): Promise<TaskView[]> {
  const params: unknown[] = [];
  const where: string[] = [];
  const visibility = taskVisibilitySql(actor, 1);
  where.push(visibility.sql);
  params.push(...visibility.params);
  const add = (sql: (n: number) => string, value: unknown) => {
    params.push(value);
    where.push(sql(params.length));
  };
  if (filter.status) {
    add((n) => `t.status = $${n}`, filter.status);
    // The same, as the index's first sort key: the list walks only the closed or only the other part.
    where.push(`(t.status = 'closed') is ${filter.status === 'closed'}`);
  }
  if (filter.team) add((n) => `t.team = $${n}`, filter.team);
  if (filter.assignee) add((n) => `t.assignee_key_id = $${n}::uuid`, filter.assignee);
  if (filter.overdue !== undefined) add((n) => `t.overdue = $${n}`, filter.overdue);
  // Closing a task clears `overdue`, so an overdue task is never closed. Said here, it lets the
  // few overdue tasks be read from their own index (tasks_overdue) instead of walking the list.
  if (filter.overdue === true) where.push(`t.status <> 'closed'`, `(t.status = 'closed') is false`);
  if (filter.after) {
    const [closed, overdue, priority, dueKey, id] = filter.after;
    params.push(closed, !overdue, -priority, dueKey, id);
    const n = params.length;
    // Keyset paging: the rest of the list after the cursor's position, as a row comparison of
    // the index's keys, which starts the index range there.
    where.push(`(${LIST_KEY}) > ($${n - 4}::boolean, $${n - 3}::boolean, $${n - 2}::bigint, $${n - 1}::date, $${n}::bigint)`);
  }
  params.push(filter.limit);
  const limit = `$${params.length}`;
  // A key of one municipality reads its page from the list index in order. A key of every
  // municipality has no single index range in list order: it reads the first rows of each
  // municipality's list and merges them, instead of sorting every task there is.
  const text =
    actor.municipality === null
      ? `select ${TASK_COLUMNS} from municipalities m
           cross join lateral (select t.* from tasks t where t.municipality_code = m.code and ${where.join(' and ')}
                                order by ${LIST_KEY} limit ${limit}) t
          order by ${LIST_KEY} limit ${limit}`
      : `select ${TASK_COLUMNS} from tasks t where ${where.join(' and ')} order by ${LIST_KEY} limit ${limit}`;
  const { rows } = await db.query<TaskRow>(text, params);
  return toTaskViews(db, rows);
}

interface HouseholdRow {
  id: number;
  municipality_code: string | null;
  postcode: string;
  house_number: number;
  house_letter: string | null;
  house_number_addition: string | null;
  street: string | null;
  city: string | null;
  evaluation_pending: boolean;
}

interface HouseholdSignalRow {
  id: number;
  task_id: number | null;
  partner_type: PartnerType;
  partner_name: string;
  external_id: string;
  signal_date: string;
  origin_date: string | null;
  amount_cents: number;
  crisis: boolean;
  warm_handover: boolean;
  end_of_supply: boolean;
  children_in_household: number | null;
  status: SignalStatus;
  received_at: Date;
  bsn: string | null;
  initials: string | null;
  prefix: string | null;
  surname: string | null;
  birth_date: string | null;
  gender: Gender | null;
  phone: string | null;
  email: string | null;
}

/**
 * A household with all its signals and tasks, when the actor may see it: coordinators and
 * admins of its municipality, consultants who can see one of its tasks.
 */
export async function findVisibleHousehold(db: Queryable, actor: Actor, id: number): Promise<HouseholdView | null> {
  if (actor.role === 'integrator') return null;
  const { rows } = await db.query<HouseholdRow>(
    `select id, municipality_code, postcode, house_number, house_letter, house_number_addition, street, city,
            exists (select 1 from evaluation_queue q where q.household_id = h.id) as evaluation_pending
       from households h where id = $1`,
    [id],
  );
  const household = rows[0];
  if (!household || household.municipality_code === null) return null;
  if (actor.municipality !== null && actor.municipality !== household.municipality_code) return null;
  const { rows: taskRows } = await db.query<TaskRow>(`select ${TASK_COLUMNS} from ${householdTasks('$1')} t order by t.created_at, t.id`, [id]);
  if (actor.role === 'consultant') {
    const visibility = taskVisibilitySql(actor, 2);
    const { rowCount } = await db.query(`select 1 from ${householdTasks('$1')} t where ${visibility.sql} limit 1`, [id, ...visibility.params]);
    if (!rowCount) return null;
  }
  const { rows: signalRows } = await db.query<HouseholdSignalRow>(
    `select s.id, ts.task_id, s.partner_type, s.partner_name, s.external_id, s.signal_date, s.origin_date, s.amount_cents, s.crisis,
            s.warm_handover, s.end_of_supply, s.children_in_household, s.status, s.received_at, s.bsn, s.initials, s.prefix, s.surname,
            s.birth_date, s.gender, s.phone, s.email
       from signals s left join task_signals ts on ts.signal_id = s.id
      where s.household_id = $1 order by s.signal_date, s.id`,
    [id],
  );
  const tasks = (await toTaskViews(db, taskRows)).map(({ signals: _signals, ...task }) => task);
  // The attempts of the tasks this key may see one by one (a consultant: its teams' and its own).
  const attempts = await listAttemptsOfTasks(db, taskRows.filter((t) => taskVisibleTo(actor, t)).map((t) => t.id));
  return {
    id: household.id,
    municipality: household.municipality_code,
    address: {
      postcode: household.postcode,
      houseNumber: household.house_number,
      houseLetter: household.house_letter,
      houseNumberAddition: household.house_number_addition,
      street: household.street,
      city: household.city,
    },
    evaluationPending: household.evaluation_pending,
    signals: signalRows.map((s) => ({
      id: s.id,
      taskId: s.task_id,
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
      childrenInHousehold: s.children_in_household,
      person: { bsn: s.bsn, initials: s.initials, prefix: s.prefix, surname: s.surname, birthDate: s.birth_date, gender: s.gender },
      contact: { phone: s.phone, email: s.email },
    })),
    tasks,
    contactAttempts: attempts.map(attemptView),
  };
}
