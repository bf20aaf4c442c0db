-- The consultant work queue: claimable tasks in queue order.
--
-- Queue order is overdue first, then priority (high first), then due date (none last), then id.
-- The keys are stored so that every column sorts ascending: a cursor is then a plain row
-- comparison `(k1, k2, k3, id) > (…)`, which PostgreSQL uses as an index bound, and claiming
-- the next task is an index scan that stops at the first row it can lock. Priority is negated
-- as bigint so that the lowest integer cannot overflow; a missing due date sorts as infinity.
--
-- Only `open`, unassigned tasks are claimable: the partial indexes stay small however many
-- tasks are claimed or closed, and a claim takes its row out of them.

-- A consultant claims from their teams' queues, one index range per team.
create index tasks_claimable_team on tasks
  (municipality_code, team, (not overdue), (-(priority::bigint)), (coalesce(due_date, 'infinity'::date)), id)
  where status = 'open' and assignee_key_id is null;

-- A coordinator acting for the municipality claims from all of it (tasks without a team too).
create index tasks_claimable_municipality on tasks
  (municipality_code, (not overdue), (-(priority::bigint)), (coalesce(due_date, 'infinity'::date)), id)
  where status = 'open' and assignee_key_id is null;

-- The escalation run looks for tasks without a first contact attempt past their due date.
create index tasks_escalation on tasks (due_date) where status <> 'closed' and not overdue;

-- Overdue tasks: cleared again by the escalation run, counted per municipality for the
-- metrics, listed by GET /v1/tasks?overdue=true. Few rows at any time.
create index tasks_overdue on tasks (municipality_code) where overdue and status <> 'closed';
