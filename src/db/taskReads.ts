import type { HouseholdView } from '../api/schemas/household.js';
import type { TaskStatus, TaskView } from '../api/schemas/task.js';
import type { Actor } from '../domain/apiKey.js';
import type { Gender, PartnerType, SignalStatus } from '../domain/codes.js';
import type { Queryable } from './pool.js';
import { TASK_COLUMNS, taskVisibilitySql, toTaskViews, type TaskRow } from './tasks.js';

export interface TaskFilter {
  status?: TaskStatus | undefined;
  team?: string | undefined;
  assignee?: string | undefined;
  overdue?: boolean | undefined;
  limit: number;
  /** Keyset cursor: the (priority, due date, id) of the last task of the previous page. */
  after: [number, string, number] | null;
}

/** Tasks the actor may see, highest priority first, then earliest due date, then id. */
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
  if (filter.status) add((n) => `t.status = $${n}`, filter.status);
  if (filter.team) add((n) => `t.team = $${n}`, filter.team);
  if (filter.assignee) add((n) => `t.assignee_key_id = $${n}::uuid`, filter.assignee);
  if (filter.overdue !== undefined) add((n) => `t.overdue = $${n}`, filter.overdue);
  if (filter.after) {
    params.push(filter.after[0], filter.after[1], filter.after[2]);
    const [p, d, i] = [params.length - 2, params.length - 1, params.length];
    // Keyset paging in (priority desc, due date asc, id asc) order: stable under inserts.
    where.push(`(t.priority < $${p} or (t.priority = $${p} and (coalesce(t.due_date, '9999-12-31') > $${d}::date
                 or (coalesce(t.due_date, '9999-12-31') = $${d}::date and t.id > $${i}))))`);
  }
  params.push(filter.limit);
  const { rows } = await db.query<TaskRow>(
    `select ${TASK_COLUMNS} from tasks t where ${where.join(' and ')}
      order by t.priority desc, coalesce(t.due_date, '9999-12-31'), t.id limit $${params.length}`,
    params,
  );
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
  const { rows: taskRows } = await db.query<TaskRow>(`select ${TASK_COLUMNS} from tasks t where t.household_id = $1 order by t.created_at, t.id`, [id]);
  if (actor.role === 'consultant') {
    const visibility = taskVisibilitySql(actor, 2);
    const { rowCount } = await db.query(`select 1 from tasks t where t.household_id = $1 and ${visibility.sql} limit 1`, [id, ...visibility.params]);
    if (!rowCount) return null;
  }
  const { rows: signalRows } = await db.query<HouseholdSignalRow>(
    `select s.id, ts.task_id, s.partner_type, s.partner_name, s.external_id, s.signal_date, s.origin_date, s.amount_cents, s.crisis,
            s.warm_handover, s.end_of_supply, s.status, s.received_at, s.bsn, s.initials, s.prefix, s.surname, s.birth_date, s.gender,
            s.phone, s.email
       from signals s left join task_signals ts on ts.signal_id = s.id
      where s.household_id = $1 order by s.signal_date, s.id`,
    [id],
  );
  const tasks = (await toTaskViews(db, taskRows)).map(({ signals: _signals, ...task }) => task);
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
      person: { bsn: s.bsn, initials: s.initials, prefix: s.prefix, surname: s.surname, birthDate: s.birth_date, gender: s.gender },
      contact: { phone: s.phone, email: s.email },
    })),
    tasks,
  };
}
