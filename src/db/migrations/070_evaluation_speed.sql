-- Evaluation speed. Writing a household's task checked two foreign keys (its household and
-- municipality) and linking each signal to the task a third; each check is a row lookup and a
-- row lock, together about a third of the database's work per evaluated household. As in
-- 060_intake_speed.sql, what they guarded is kept otherwise: the evaluation writes a task for
-- the household it has locked and the municipality that household belongs to, and links the
-- household's own signals to it in the same transaction; households and municipalities are
-- never deleted (060), and now tasks neither (retention anonymises, it never deletes them).

alter table tasks drop constraint tasks_household_id_fkey;
alter table tasks drop constraint tasks_municipality_code_fkey;
alter table signals drop constraint signals_task_id_fkey;

create trigger tasks_kept before delete on tasks for each row execute function refuse_delete();
