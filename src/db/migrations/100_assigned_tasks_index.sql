-- The index of a consultant's tasks holds assigned tasks only. Every query that uses it asks
-- for one assignee (`assignee_key_id = …`), which a task without one never matches, yet every
-- new task, unassigned as almost all are, was entered into it: one index insert per evaluated
-- household for nothing.

drop index tasks_assignee;
create index tasks_assignee on tasks (assignee_key_id) where status <> 'closed' and assignee_key_id is not null;
