-- The valid items or rows of a batch that were not stored because their signal (same partner
-- and external id) was stored before or earlier in the batch, one row each, so that an
-- integrator can tell them from the accepted ones. The external id is the integrator's own
-- reference, never personal data.
create table signal_batch_duplicates (
  batch_id uuid not null references signal_batches(id) on delete cascade,
  position integer not null, -- JSON: the item index; CSV: the line number (header = 1)
  external_id text not null,
  primary key (batch_id, position)
);
