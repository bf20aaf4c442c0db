-- The task list (GET /v1/tasks and the web queue page) and a coordinator's claims in the order
-- of one index.
--
-- The list was ordered by priority (high first), then due date (none last), then id, and no
-- index held that order: `tasks_queue` puts status and overdue before the priority, and the
-- plain due date where the list sorted on `coalesce(due_date, '9999-12-31')`. Every page was a
-- sort of all of the municipality's matching tasks — with a year of closed tasks, all of them
-- when no status was asked for. The planner never used `tasks_queue` for any query (the
-- open-task reads of metrics, monitoring and rule-set activation go through
-- `tasks_one_open_per_household`, which holds exactly the tasks that are not closed), yet every
-- new task was entered into it.
--
-- The list is now in queue order (see 020: overdue first, then priority, then due date, none
-- last, then id), with the tasks still to be worked (open, claimed) before closed ones, and
-- `tasks_listing` holds every task in that order per municipality. Every key sorts ascending,
-- so a page's cursor is a row comparison PostgreSQL starts the index range at. A filter (status,
-- team, assignee, a consultant's teams) is checked while the range is walked in order, which
-- ends as soon as the page is full; a status filter also bounds the range to the closed or the
-- other part.
--
-- A coordinator's claim and queue (all open, unassigned tasks of the municipality, in queue
-- order) walk the part still to be worked of the same index, passing over the tasks in
-- progress (claimed, or assigned) before the first open one, so `tasks_claimable_municipality`
-- goes too: two index entries fewer for every new task, one more for every task in the list.
-- Consultants keep `tasks_claimable_team`: claiming is their hot path, and the tasks in
-- progress gather at the front of the queue (the highest first are claimed first), where a
-- walk would pass over all of them at every claim.

drop index tasks_queue;
drop index tasks_claimable_municipality;
create index tasks_listing on tasks
  (municipality_code, (status = 'closed'), (not overdue), (-(priority::bigint)), (coalesce(due_date, 'infinity'::date)), id);
