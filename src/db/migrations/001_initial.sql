-- vroegsein schema. PostgreSQL is the source of truth; the queue only carries ids.

create table municipalities (
  code text primary key check (code ~ '^[0-9]{4}$'),
  name text not null,
  active_rule_set_version integer,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

-- A PC4 area is served by one municipality; intake looks the municipality up here.
create table municipality_areas (
  postcode_area text primary key check (postcode_area ~ '^[1-9][0-9]{3}$'),
  municipality_code text not null references municipalities(code) on delete cascade
);

create table teams (
  municipality_code text not null references municipalities(code) on delete cascade,
  id text not null check (id ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  name text not null,
  postcode_areas text[] not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (municipality_code, id)
);

create table api_keys (
  id uuid primary key default gen_random_uuid(),
  -- sha-256 of the key: keys are 32 random bytes, so a plain hash is enough and allows lookup.
  key_hash bytea not null unique,
  key_prefix text not null,
  role text not null check (role in ('integrator', 'consultant', 'coordinator', 'admin')),
  municipality_code text references municipalities(code),
  partner_types text[],
  teams text[],
  label text not null,
  created_at timestamptz not null default now(),
  last_used_at timestamptz,
  revoked_at timestamptz
);

create table households (
  id bigint generated always as identity primary key,
  address_key text not null unique,
  municipality_code text references municipalities(code),
  postcode text not null,
  house_number integer not null,
  house_letter text,
  house_number_addition text,
  street text,
  city text,
  -- Set when new signals arrive, cleared by the evaluation that handled them. The sweeper
  -- re-enqueues households that wait too long, so a lost job loses nothing.
  evaluation_pending_since timestamptz,
  evaluated_at timestamptz,
  created_at timestamptz not null default now()
);
create index households_pending on households (evaluation_pending_since) where evaluation_pending_since is not null;
create index households_municipality on households (municipality_code);

create table signal_batches (
  id uuid primary key default gen_random_uuid(),
  api_key_id uuid references api_keys(id),
  source text not null check (source in ('api-json', 'api-csv', 'feed', 'cli')),
  file_name text,
  status text not null default 'processing' check (status in ('processing', 'completed', 'failed')),
  idempotency_key text,
  request_hash text,
  received integer not null default 0,
  accepted integer not null default 0,
  duplicates integer not null default 0,
  rejected integer not null default 0,
  response_status integer,
  failure text,
  created_at timestamptz not null default now(),
  completed_at timestamptz
);
create unique index signal_batches_idempotency on signal_batches (api_key_id, idempotency_key) where idempotency_key is not null;
create index signal_batches_key on signal_batches (api_key_id, created_at desc);

create table signal_batch_rejections (
  batch_id uuid not null references signal_batches(id) on delete cascade,
  position integer not null, -- JSON: the item index; CSV: the line number (header = 1)
  errors jsonb not null,
  primary key (batch_id, position)
);

create table tasks (
  id bigint generated always as identity primary key,
  household_id bigint not null references households(id),
  municipality_code text not null references municipalities(code),
  status text not null check (status in ('open', 'claimed', 'closed')),
  priority integer not null default 0,
  due_date date,
  team text,
  assignee_key_id uuid references api_keys(id),
  channel text,
  result text,
  suppressed boolean not null default false,
  explanation jsonb not null default '{}',
  rule_set_version integer,
  overdue boolean not null default false,
  picked_up_date date,
  matched_on date not null default current_date,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  claimed_at timestamptz,
  closed_at timestamptz
);
-- One open task per household: the database itself refuses a second one.
create unique index tasks_one_open_per_household on tasks (household_id) where status <> 'closed';
create index tasks_queue on tasks (municipality_code, status, overdue desc, priority desc, due_date, id) where status <> 'closed';
create index tasks_household on tasks (household_id, closed_at desc);
create index tasks_assignee on tasks (assignee_key_id) where status <> 'closed';

create table signals (
  id bigint generated always as identity primary key,
  batch_id uuid not null references signal_batches(id),
  household_id bigint not null references households(id),
  municipality_code text references municipalities(code),
  task_id bigint references tasks(id),
  partner_type text not null,
  partner_name text not null default '',
  external_id text not null,
  signal_date date not null,
  origin_date date,
  amount_cents bigint not null check (amount_cents >= 0),
  crisis boolean not null default false,
  warm_handover boolean not null default false,
  end_of_supply boolean not null default false,
  status text not null default 'not_yet_picked_up',
  bsn text,
  initials text,
  prefix text,
  surname text,
  birth_date date,
  gender text,
  phone text,
  email text,
  received_at timestamptz not null default now(),
  -- The same partner's same signal is stored once, however often it is sent.
  constraint signals_partner_external_id unique (partner_type, partner_name, external_id)
);
create index signals_household on signals (household_id, signal_date);
create index signals_task on signals (task_id) where task_id is not null;
create index signals_received on signals (municipality_code, received_at);

create table contact_attempts (
  id bigint generated always as identity primary key,
  task_id bigint not null references tasks(id),
  channel text not null,
  reached boolean not null,
  attempt_date date not null,
  day_part text,
  recorded_by uuid references api_keys(id),
  created_at timestamptz not null default now()
);
create index contact_attempts_task on contact_attempts (task_id, attempt_date);

create table task_notes (
  id bigint generated always as identity primary key,
  task_id bigint not null references tasks(id),
  text text not null,
  author_key_id uuid references api_keys(id),
  created_at timestamptz not null default now()
);
create index task_notes_task on task_notes (task_id);

create table task_history (
  id bigint generated always as identity primary key,
  task_id bigint not null references tasks(id),
  actor_key_id uuid references api_keys(id),
  action text not null,
  detail jsonb not null default '{}',
  at timestamptz not null default now()
);
create index task_history_task on task_history (task_id, at);

create table rule_sets (
  municipality_code text not null references municipalities(code) on delete cascade,
  version integer not null,
  name text not null,
  definition jsonb not null,
  note text,
  author_key_id uuid references api_keys(id),
  author_label text,
  created_at timestamptz not null default now(),
  primary key (municipality_code, version)
);

create table audit_events (
  id bigint generated always as identity primary key,
  at timestamptz not null default now(),
  actor_key_id uuid,
  actor_label text,
  action text not null,
  object_type text not null,
  object_id text,
  municipality_code text,
  result text not null,
  origin text,
  request_id text
);
create index audit_events_at on audit_events (at);
create index audit_events_actor on audit_events (actor_key_id, at);

-- The audit log is append-only: the database itself refuses to change or remove a record.
create function audit_events_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'audit_events is append-only';
end $$;
create trigger audit_events_no_update before update or delete on audit_events
  for each row execute function audit_events_append_only();
create trigger audit_events_no_truncate before truncate on audit_events
  for each statement execute function audit_events_append_only();
