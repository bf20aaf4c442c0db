-- Explanations as json instead of jsonb. Every evaluation writes a kilobyte of explanation per
-- task, and it is read back whole (the API, the pages) or for its rule names (monitoring),
-- never searched by an index. As json, PostgreSQL checks its syntax and keeps the text as
-- written; as jsonb it built a binary document from it, which cost about half again as much
-- as the rest of writing 500 tasks. The text is also smaller than the binary form. Converting
-- rewrites the table once.

alter table tasks alter column explanation drop default;
alter table tasks alter column explanation type json using explanation::json;
alter table tasks alter column explanation set default '{}';
