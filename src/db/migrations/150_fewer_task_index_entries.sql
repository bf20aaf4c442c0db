-- Two index entries fewer for every new task.
--
-- `tasks_escalation` (due date of the tasks not closed and not overdue) served only the daily
-- escalation run, which now walks the part of `tasks_listing` (120) still to be worked and not
-- overdue, one municipality at a time, and compares the due date on the index entry: what it
-- reads is the open work of the municipality, which the run touched through the other index as
-- well.
--
-- `tasks_household` held every task by household, while `tasks_one_open_per_household` already
-- holds the one that is not closed. It now holds the closed ones only; a household's tasks are
-- read as the open one from the unique index and the closed ones from this one (see
-- HOUSEHOLD_TASKS in db/tasks.ts). A task enters it when it is closed — the update that closes a
-- task writes a new entry into every index anyway, so closing costs what it did.

drop index tasks_escalation;
drop index tasks_household;
create index tasks_household_closed on tasks (household_id, closed_at desc) where status = 'closed';
