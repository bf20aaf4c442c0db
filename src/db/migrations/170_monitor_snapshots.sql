-- The work stock at the end of each day, per municipality and team: what live monitoring
-- cannot rebuild later (which tasks were claimed or overdue on a past day). One row per day,
-- municipality and team ('' for tasks without a team); a later snapshot of the same day
-- replaces the earlier one. Counts only, no personal data: retention leaves it alone.
create table monitor_snapshots (
  taken_on date not null,
  municipality_code text not null references municipalities(code),
  team text not null,
  tasks_open integer not null,
  tasks_claimed integer not null,
  tasks_overdue integer not null,
  oldest_open_since timestamptz,
  taken_at timestamptz not null,
  primary key (municipality_code, taken_on, team)
);
