-- Which task a signal belongs to, in a narrow table of its own instead of signals.task_id.
--
-- Every evaluation links each new signal to its task. As a column on signals that was an
-- update of a wide row (the resident's details included) on a full page: PostgreSQL wrote a
-- new copy of the row and a new entry in every index of signals, about a fifth of the
-- database's work per evaluated household. Linking is now an insert of two numbers. A signal
-- belongs to at most one task (the primary key); a task's signals are one index range away.
-- As in 070_evaluation_speed.sql there are no foreign keys: the evaluation links its own
-- locked household's signals to the task it has just written, tasks are never deleted (070),
-- and from now on signals neither: retention anonymises them.

create table task_signals (
  signal_id bigint primary key,
  task_id bigint not null
);

insert into task_signals (signal_id, task_id) select id, task_id from signals where task_id is not null;

create index task_signals_task on task_signals (task_id);

alter table signals drop column task_id;

create trigger signals_kept before delete on signals for each row execute function refuse_delete();
