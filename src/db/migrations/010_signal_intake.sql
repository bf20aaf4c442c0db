-- Signal intake: what a batch needs beyond 001_initial.

-- JSON rejections are reported by item index, CSV rejections by row (line number); the batch
-- read needs to know which. The source alone does not tell: the CLI sends either format.
alter table signal_batches add column format text not null default 'json' check (format in ('json', 'csv'));

-- A heartbeat: every committed chunk moves it. A batch still 'processing' whose heartbeat is
-- old was abandoned (the process died mid-upload); it is marked failed and its Idempotency-Key
-- may be used again.
alter table signal_batches add column updated_at timestamptz not null default now();
create index signal_batches_processing on signal_batches (updated_at) where status = 'processing';

-- A CSV import that broke off (broken quoting, too many rows): the row (line number) where it
-- stopped, so the stored answer names it again when the request is retried with its key.
alter table signal_batches add column failed_row integer;
