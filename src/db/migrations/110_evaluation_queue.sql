-- Households waiting for evaluation, in a narrow table of their own instead of
-- households.evaluation_pending_since.
--
-- As a column, the waiting mark was indexed (households_pending), so clearing it after every
-- evaluation was never a HOT update: PostgreSQL wrote a new copy of the household row and a new
-- entry in each of its four indexes, under a row lock taken just for that — about a tenth of the
-- database's work per evaluated household. Now intake inserts a row here and the evaluation
-- deletes it; the delete is the evaluation's claim on the household (FOR UPDATE SKIP LOCKED on
-- this row, see src/db/evaluation.ts), so households are no longer locked or written by it.
--
-- Between bursts the table is nearly empty, so the sweeper and the metrics read it whole; no
-- index on `since`, which every insert would have to pay for. No foreign key, as in
-- 060_intake_speed.sql: a row is inserted by the statement that stored the household's signal,
-- and households are never deleted.

create table evaluation_queue (
  household_id bigint primary key,
  -- Since when the household waits (the oldest of its unevaluated changes).
  since timestamptz not null
);

insert into evaluation_queue (household_id, since)
select id, evaluation_pending_since from households where evaluation_pending_since is not null;

-- evaluated_at was written by every evaluation and read by nothing.
alter table households drop column evaluation_pending_since, drop column evaluated_at;
