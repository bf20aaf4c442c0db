-- Retention: purged rows keep their anonymous figures (dates, amounts, partner types, results)
-- so monitoring over older periods still adds up; the personal data is gone.
alter table signals add column purged_at timestamptz;
alter table households add column purged_at timestamptz;
create index signals_not_purged_received on signals (received_at) where purged_at is null;
create index tasks_closed_at on tasks (closed_at) where status = 'closed';
create index audit_events_object on audit_events (object_type, object_id);
create index audit_events_municipality on audit_events (municipality_code, at);
