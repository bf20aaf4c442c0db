-- Intake speed: a foreign-key check is a row lookup and a row lock per inserted signal, and
-- three of them cost about a fifth of the database's work per signal. These three guard
-- nothing the application can get wrong: a signal's batch is inserted by the same intake just
-- before it, and a municipality code comes from municipality_areas, which references
-- municipalities itself. What the foreign keys also guaranteed — that a referenced batch or
-- municipality never disappears — is kept by refusing their deletion. signals.household_id
-- keeps its foreign key: households are written in the same statement and that link is the
-- one everything else reads through.

alter table signals drop constraint signals_batch_id_fkey;
alter table signals drop constraint signals_municipality_code_fkey;
alter table households drop constraint households_municipality_code_fkey;

create function refuse_delete() returns trigger language plpgsql as $$
begin
  raise exception '% rows are never deleted: signals and households refer to them', tg_table_name
    using errcode = 'restrict_violation';
end $$;

create trigger signal_batches_kept before delete on signal_batches for each row execute function refuse_delete();
create trigger municipalities_kept before delete on municipalities for each row execute function refuse_delete();
