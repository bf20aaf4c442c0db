-- Indexes for monitoring (GET /v1/monitoring/summary) and the DDAS delivery (GET /v1/exports/ddas,
-- POST /v1/ddas/gegevens). Both read one municipality's period; without these, every request
-- would scan all tasks or all contact attempts ever recorded.

-- Tasks created in a period (monitoring: opened, fired).
create index tasks_municipality_created on tasks (municipality_code, created_at);

-- Tasks closed in a period (monitoring: closed, results, reach). 040's tasks_closed_at has no
-- municipality; this one lets a municipality's period be a single index range.
create index tasks_municipality_closed on tasks (municipality_code, closed_at) where closed_at is not null;

-- Cases of a delivery: a municipality's tasks by matching date, in page order.
create index tasks_municipality_matched on tasks (municipality_code, matched_on, id);

-- "Did any attempt reach the resident?" per closed task (monitoring: reach rate): an index-only probe.
create index contact_attempts_reached on contact_attempts (task_id) where reached;
