import type { AppContext } from '../../src/context.js';
import type { Queryable } from '../../src/db/pool.js';
import { createApiKey } from '../../src/services/apiKeys.js';
import type { PartnerType } from '../../src/domain/codes.js';

/**
 * Tasks seeded straight into the database: a household, its signals (in a seed batch) and the
 * task that groups them, as the evaluation would leave them. The task-work tests and the queue
 * benchmark start from here, independent of intake and evaluation.
 */

export interface SeedTaskInput {
  municipality: string;
  team?: string | null;
  priority?: number;
  dueDate?: string | null;
  status?: 'open' | 'claimed' | 'closed';
  assignee?: string | null;
  overdue?: boolean;
  /** One signal per date; the earliest bounds the contact attempts. Default: one on 2025-01-06. */
  signalDates?: string[];
  partnerType?: PartnerType;
  matchedOn?: string;
}

export interface SeededTask {
  taskId: number;
  householdId: number;
  signalIds: number[];
}

async function seedBatch(db: Queryable): Promise<string> {
  const { rows } = await db.query<{ id: string }>(`insert into signal_batches (source, status) values ('cli', 'completed') returning id`);
  return rows[0]!.id;
}

let sequence = 0;

export async function seedTask(db: Queryable, input: SeedTaskInput): Promise<SeededTask> {
  const batch = await seedBatch(db);
  const n = ++sequence;
  const household = await db.query<{ id: number }>(
    `insert into households (address_key, municipality_code, postcode, house_number) values ($1, $2, '2261AB', $3) returning id`,
    [`seed-${process.pid}-${n}-${Math.random().toString(36).slice(2)}`, input.municipality, (n % 9999) + 1],
  );
  const householdId = household.rows[0]!.id;
  const status = input.status ?? 'open';
  const task = await db.query<{ id: number }>(
    `insert into tasks (household_id, municipality_code, status, priority, due_date, team, assignee_key_id, overdue, claimed_at, closed_at, matched_on)
     values ($1, $2, $3, $4, $5, $6, $7, $8, case when $3 = 'claimed' then now() end, case when $3 = 'closed' then now() end, coalesce($9::date, current_date))
     returning id`,
    [householdId, input.municipality, status, input.priority ?? 0, input.dueDate ?? null, input.team ?? null, input.assignee ?? null, input.overdue ?? false, input.matchedOn ?? null],
  );
  const taskId = task.rows[0]!.id;
  const signalIds: number[] = [];
  for (const [i, date] of (input.signalDates ?? ['2025-01-06']).entries()) {
    const signal = await db.query<{ id: number }>(
      `with s as (
         insert into signals (batch_id, household_id, municipality_code, partner_type, external_id, signal_date, amount_cents)
         values ($1, $2, $3, $4, $5, $6, 12500) returning id
       ), link as (insert into task_signals (signal_id, task_id) select id, $7 from s)
       select id from s`,
      [batch, householdId, input.municipality, input.partnerType ?? 'energy', `seed-${taskId}-${i}`, date, taskId],
    );
    signalIds.push(signal.rows[0]!.id);
  }
  return { taskId, householdId, signalIds };
}

export interface SeedManyInput {
  municipality: string;
  /** Tasks are spread round-robin over these teams. */
  teams: string[];
  /** Due dates are spread over this many days from `firstDueDate`. */
  firstDueDate?: string;
  dueDateSpreadDays?: number;
  signalDate?: string;
}

/**
 * Many open, unassigned tasks (one household and one signal each) in three statements;
 * priorities 0–99 and due dates spread pseudo-randomly. Returns the task ids.
 */
export async function seedManyTasks(db: Queryable, count: number, input: SeedManyInput): Promise<number[]> {
  const batch = await seedBatch(db);
  const tag = `${process.pid}-${Date.now()}-${++sequence}`;
  const { rows } = await db.query<{ id: number }>(
    `with h as (
       insert into households (address_key, municipality_code, postcode, house_number)
       select 'bulk-' || $5 || '-' || g, $1, '2261AB', g from generate_series(1, $2::int) g
       returning id
     ), t as (
       insert into tasks (household_id, municipality_code, status, priority, due_date, team)
       select h.id, $1, 'open', (hashint4(h.id::int) & 65535) % 100,
              $3::date + ((hashint4(h.id::int + 7) & 65535) % $4::int),
              ($6::text[])[1 + h.id % cardinality($6::text[])]
         from h
       returning id, household_id
     ), s as (
       insert into signals (batch_id, household_id, municipality_code, partner_type, external_id, signal_date, amount_cents)
       select $7::uuid, t.household_id, $1, 'energy', 'bulk-' || $5 || '-' || t.id, $8::date, 12500 from t
       returning id, household_id
     ), link as (
       insert into task_signals (signal_id, task_id) select s.id, t.id from s join t on t.household_id = s.household_id
     )
     select id from t order by id`,
    [input.municipality, count, input.firstDueDate ?? '2025-02-03', input.dueDateSpreadDays ?? 60, tag, input.teams, batch, input.signalDate ?? '2025-01-06'],
  );
  return rows.map((r) => r.id);
}

/** A key with its id (the id is what assign and the task view's `assignee` speak of). */
export async function createKeyWithId(
  ctx: AppContext,
  input: { role: 'consultant' | 'coordinator' | 'admin' | 'integrator'; municipality?: string; teams?: string[]; label?: string },
): Promise<{ id: string; key: string }> {
  return createApiKey(ctx.pool, { label: input.label ?? `${input.role}-${++sequence}`, ...input });
}
