-- Web pages: server-side sessions for people who sign in with an API key.
--
-- The browser holds only a random session token (in an HttpOnly, SameSite=Strict cookie); the
-- database holds its SHA-256, the key it acts for and the per-session CSRF secret. The API key
-- itself is never stored in the cookie or here: a stolen cookie is worth one session, not a key.

create table web_sessions (
  id bigint generated always as identity primary key,
  token_hash bytea not null unique,
  api_key_id uuid not null references api_keys(id) on delete cascade,
  -- Rendered into every form of the session as a hidden field and compared on every POST.
  csrf_secret text not null,
  created_at timestamptz not null default now(),
  last_seen_at timestamptz not null default now(),
  -- Absolute end of the session; an idle session ends earlier (see src/web/session.ts).
  expires_at timestamptz not null
);
create index web_sessions_key on web_sessions (api_key_id);
create index web_sessions_expires on web_sessions (expires_at);

-- A revoked (or rotated) key ends its sessions at once. The session lookup also joins on
-- `revoked_at is null`; this trigger removes the rows so nothing is left to resurrect.
create function web_sessions_end_for_revoked_key() returns trigger language plpgsql as $$
begin
  delete from web_sessions where api_key_id = new.id;
  return null;
end $$;
create trigger api_keys_revoked_end_web_sessions after update of revoked_at on api_keys
  for each row when (new.revoked_at is not null and old.revoked_at is null)
  execute function web_sessions_end_for_revoked_key();
