-- Intake speed. A foreign-key check is a row lookup and a row lock per inserted signal; the
-- four below cost about a quarter of the database's work per signal, and they guard nothing
-- the application can get wrong: a signal's batch is inserted by the same intake just before
-- it, its household by the same statement (src/db/signals.ts), and a municipality code comes
-- from municipality_areas, which references municipalities itself. What the foreign keys also
-- guaranteed — that a referenced batch, household or municipality never disappears — is kept
-- by refusing their deletion (retention anonymises households, it never deletes them).

alter table signals drop constraint signals_batch_id_fkey;
alter table signals drop constraint signals_household_id_fkey;
alter table signals drop constraint signals_municipality_code_fkey;
alter table households drop constraint households_municipality_code_fkey;

create function refuse_delete() returns trigger language plpgsql as $$
begin
  raise exception '% rows are never deleted: signals refer to them', tg_table_name
    using errcode = 'restrict_violation';
end $$;

create trigger signal_batches_kept before delete on signal_batches for each row execute function refuse_delete();
create trigger households_kept before delete on households for each row execute function refuse_delete();
create trigger municipalities_kept before delete on municipalities for each row execute function refuse_delete();

-- One index on the time of receipt instead of two: the monitoring, export and simulation
-- queries (a municipality and a period) read it as well as retention and the metrics (a period,
-- every municipality) do. Every index is one more entry to write per signal.
drop index signals_received;
drop index signals_not_purged_received;
create index signals_received on signals (received_at, municipality_code);

-- No query selects households by municipality (they are reached through their signals and
-- tasks); the index only cost a write per new household.
drop index households_municipality;
