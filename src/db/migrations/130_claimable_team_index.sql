-- Only tasks with a team go into `tasks_claimable_team`.
--
-- A consultant's queue and claim read the index one team at a time (`t.team = tm.team`), so a
-- task without a team (its postcode area belongs to no team, or the municipality has no teams)
-- was entered into it and never read from it: coordinators claim those through `tasks_listing`
-- (migration 120). Of the indexes a new task goes into, this was the most expensive to keep
-- (about 6 ms per 1,000 tasks, with its random position by priority and due date). Tasks with a
-- team cost what they did.

drop index tasks_claimable_team;
create index tasks_claimable_team on tasks
  (municipality_code, team, (not overdue), (-(priority::bigint)), (coalesce(due_date, 'infinity'::date)), id)
  where status = 'open' and assignee_key_id is null and team is not null;
