-- Our own table, unknown to upstream (which tolerates extra tables): the
-- change log behind the in-process allocation-candidates cache
-- (internal/store/changes.go). Every write that changes what the cache
-- holds appends one row per touched provider in its own transaction; a NULL
-- provider id invalidates every cache. The alembic_version row stays at
-- 422ece571366. IF NOT EXISTS: a database stamped back to version 1 (e.g.
-- 'db stamp a082b8bb98d0') keeps the table and must sync again cleanly.
CREATE TABLE IF NOT EXISTS placement_changes (
    id bigserial PRIMARY KEY,
    txid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    resource_provider_id integer,
    created_at timestamp without time zone
);
CREATE INDEX IF NOT EXISTS placement_changes_txid_idx ON placement_changes (txid);
