-- Retention terms per municipality (its own privacy statement may set them); null means the
-- installation's default (RETENTION_UNTASKED_MONTHS, RETENTION_CLOSED_TASK_MONTHS).
alter table municipalities
  add column retention_untasked_months smallint check (retention_untasked_months between 1 and 120),
  add column retention_closed_task_months smallint check (retention_closed_task_months between 1 and 120);
