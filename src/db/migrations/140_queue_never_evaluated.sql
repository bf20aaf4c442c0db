-- Whether a queued household was created by the intake that queued it and never evaluated
-- since: such a household has no tasks and none of its signals is linked to one (only an
-- evaluation opens tasks, and it takes the household off this queue in the same transaction).
-- The evaluation then skips looking up tasks and links it knows it will not find: in a burst of
-- new addresses that was an index probe in `tasks` per household and one in `task_signals` per
-- signal. Rows queued for any other reason (a new signal for a known household, a rule-set
-- activation) and the rows already queued say false, which only means "look".

alter table evaluation_queue add column never_evaluated boolean not null default false;
