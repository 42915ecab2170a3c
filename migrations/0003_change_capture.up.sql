-- Change capture for the allocation-candidates cache, in the database
-- itself: every committed change that can alter a candidates answer appends
-- rows to placement_changes in the writer's own transaction, whoever the
-- writer is (this service, the Python service on the same database, SQL
-- typed by hand). internal/store/changes.go reads the log; its comment
-- states what the log guarantees and why.
--
-- Upstream's tables are unchanged: only triggers are added to them, owned
-- by the role that ran the migration and running with its rights (SECURITY
-- DEFINER), so a writer with its own database role needs no privilege on
-- our tables. The triggers are ENABLE ALWAYS: they fire under
-- session_replication_role = replica too (logical replication, restores).
--
-- Cost, measured with pgbench (a claim: one generation bump and three
-- allocation rows in one transaction, then their delete; 4 clients):
-- statement-level triggers with transition tables ~795 tps, row-level
-- ~715 tps, no capture ~890 tps. Statement level logs one row per provider
-- and statement instead of one per row, so it is used wherever rows come
-- in sets. Updates of resource_providers are row-level with a WHEN clause:
-- the frequent generation bumps then never call a function at all.
--
-- Every trigger is named placement_capture_*; the service counts them
-- (captureTriggers in internal/store/changes.go) before trusting the log.
-- The whole file is idempotent: db sync applies it again to repair a
-- database whose triggers were dropped or disabled, and the NULL row at
-- the end makes every cache reload, since changes may have been missed.

-- Samples for pruning: the xmin of a snapshot and a time after it was
-- taken.
CREATE TABLE IF NOT EXISTS placement_changes_marks (
    snapshot_xmin xid8 NOT NULL,
    taken_at timestamptz NOT NULL
);

-- placement_changes_prune deletes the change rows no cache can still need,
-- so that the log stays bounded even when no instance of this service runs
-- (e.g. after a rollback to the Python service). The rule, with H = 15
-- minutes (changeHorizon in changes.go; the two must match): delete rows
-- whose txid is below the xmin of a mark taken at least H before this
-- statement. A cache reads the log incrementally only if its previous
-- refresh began less than H before its current snapshot, so every
-- transaction it has not seen yet had a txid at or above such a mark's
-- xmin. One pruner at a time (an advisory lock it does not wait for);
-- a new mark at most every 10 seconds.
CREATE OR REPLACE FUNCTION placement_changes_prune() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    mark placement_changes_marks%ROWTYPE;
BEGIN
    IF NOT pg_try_advisory_xact_lock(1886151011) THEN
        RETURN;
    END IF;
    SELECT * INTO mark FROM placement_changes_marks
    WHERE taken_at <= statement_timestamp() - interval '15 minutes'
    ORDER BY taken_at DESC LIMIT 1;
    IF FOUND THEN
        DELETE FROM placement_changes WHERE txid < mark.snapshot_xmin;
        DELETE FROM placement_changes_marks WHERE taken_at < mark.taken_at;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM placement_changes_marks
                   WHERE taken_at > statement_timestamp() - interval '10 seconds') THEN
        INSERT INTO placement_changes_marks
        VALUES (pg_snapshot_xmin(pg_current_snapshot()), clock_timestamp());
    END IF;
END $$;

-- Rows of inventories, allocations and the provider trait and aggregate
-- links name their provider in resource_provider_id. Here and for
-- providers, one call in a hundred also prunes: the log is pruned as long
-- as anybody writes, at a cost spread thinly over the writes.
CREATE OR REPLACE FUNCTION placement_capture_by_provider() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO placement_changes (resource_provider_id, created_at)
        SELECT DISTINCT resource_provider_id, now() AT TIME ZONE 'UTC' FROM new_rows;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO placement_changes (resource_provider_id, created_at)
        SELECT DISTINCT resource_provider_id, now() AT TIME ZONE 'UTC' FROM old_rows;
    ELSE
        INSERT INTO placement_changes (resource_provider_id, created_at)
        SELECT resource_provider_id, now() AT TIME ZONE 'UTC' FROM old_rows
        UNION
        SELECT resource_provider_id, now() AT TIME ZONE 'UTC' FROM new_rows;
    END IF;
    IF random() < 0.01 THEN
        PERFORM placement_changes_prune();
    END IF;
    RETURN NULL;
END $$;

-- Providers created or deleted (statement level).
CREATE OR REPLACE FUNCTION placement_capture_providers() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO placement_changes (resource_provider_id, created_at)
        SELECT id, now() AT TIME ZONE 'UTC' FROM new_rows;
    ELSE
        INSERT INTO placement_changes (resource_provider_id, created_at)
        SELECT id, now() AT TIME ZONE 'UTC' FROM old_rows;
    END IF;
    IF random() < 0.01 THEN
        PERFORM placement_changes_prune();
    END IF;
    RETURN NULL;
END $$;

-- A provider re-parented, renamed or given a new uuid (row level; the
-- WHEN clause of the trigger leaves generation bumps out). The old id is
-- logged too, should an UPDATE ever change it.
CREATE OR REPLACE FUNCTION placement_capture_provider_update() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO placement_changes (resource_provider_id, created_at)
    SELECT DISTINCT id, now() AT TIME ZONE 'UTC' FROM (VALUES (OLD.id), (NEW.id)) v(id);
    RETURN NULL;
END $$;

-- A change every cache must reload for: a resource class, trait or
-- aggregate renamed or deleted, or a table truncated (a NULL provider id).
CREATE OR REPLACE FUNCTION placement_capture_everything() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO placement_changes (resource_provider_id, created_at)
    VALUES (NULL, now() AT TIME ZONE 'UTC');
    RETURN NULL;
END $$;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['inventories', 'allocations', 'resource_provider_traits',
                             'resource_provider_aggregates'] LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS placement_capture_insert ON %I', t);
        EXECUTE format('CREATE TRIGGER placement_capture_insert AFTER INSERT ON %I
            REFERENCING NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION placement_capture_by_provider()', t);
        EXECUTE format('DROP TRIGGER IF EXISTS placement_capture_delete ON %I', t);
        EXECUTE format('CREATE TRIGGER placement_capture_delete AFTER DELETE ON %I
            REFERENCING OLD TABLE AS old_rows
            FOR EACH STATEMENT EXECUTE FUNCTION placement_capture_by_provider()', t);
        EXECUTE format('DROP TRIGGER IF EXISTS placement_capture_update ON %I', t);
        EXECUTE format('CREATE TRIGGER placement_capture_update AFTER UPDATE ON %I
            REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION placement_capture_by_provider()', t);
    END LOOP;

    DROP TRIGGER IF EXISTS placement_capture_insert ON resource_providers;
    CREATE TRIGGER placement_capture_insert AFTER INSERT ON resource_providers
        REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION placement_capture_providers();
    DROP TRIGGER IF EXISTS placement_capture_delete ON resource_providers;
    CREATE TRIGGER placement_capture_delete AFTER DELETE ON resource_providers
        REFERENCING OLD TABLE AS old_rows
        FOR EACH STATEMENT EXECUTE FUNCTION placement_capture_providers();
    DROP TRIGGER IF EXISTS placement_capture_update ON resource_providers;
    CREATE TRIGGER placement_capture_update AFTER UPDATE ON resource_providers
        FOR EACH ROW
        WHEN (OLD.id IS DISTINCT FROM NEW.id
              OR OLD.uuid IS DISTINCT FROM NEW.uuid
              OR OLD.name IS DISTINCT FROM NEW.name
              OR OLD.parent_provider_id IS DISTINCT FROM NEW.parent_provider_id
              OR OLD.root_provider_id IS DISTINCT FROM NEW.root_provider_id)
        EXECUTE FUNCTION placement_capture_provider_update();

    DROP TRIGGER IF EXISTS placement_capture_update ON resource_classes;
    CREATE TRIGGER placement_capture_update AFTER UPDATE ON resource_classes
        FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.name IS DISTINCT FROM NEW.name)
        EXECUTE FUNCTION placement_capture_everything();
    DROP TRIGGER IF EXISTS placement_capture_update ON traits;
    CREATE TRIGGER placement_capture_update AFTER UPDATE ON traits
        FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.name IS DISTINCT FROM NEW.name)
        EXECUTE FUNCTION placement_capture_everything();
    DROP TRIGGER IF EXISTS placement_capture_update ON placement_aggregates;
    CREATE TRIGGER placement_capture_update AFTER UPDATE ON placement_aggregates
        FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.uuid IS DISTINCT FROM NEW.uuid)
        EXECUTE FUNCTION placement_capture_everything();
    FOREACH t IN ARRAY ARRAY['resource_classes', 'traits', 'placement_aggregates'] LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS placement_capture_delete ON %I', t);
        EXECUTE format('CREATE TRIGGER placement_capture_delete AFTER DELETE ON %I
            FOR EACH ROW EXECUTE FUNCTION placement_capture_everything()', t);
    END LOOP;

    FOREACH t IN ARRAY ARRAY['resource_providers', 'inventories', 'allocations',
                             'resource_provider_traits', 'resource_provider_aggregates',
                             'resource_classes', 'traits', 'placement_aggregates'] LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS placement_capture_truncate ON %I', t);
        EXECUTE format('CREATE TRIGGER placement_capture_truncate AFTER TRUNCATE ON %I
            FOR EACH STATEMENT EXECUTE FUNCTION placement_capture_everything()', t);
    END LOOP;

    FOR t IN SELECT format('ALTER TABLE %I ENABLE ALWAYS TRIGGER %I', c.relname, tg.tgname)
             FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid
             WHERE tg.tgname LIKE 'placement\_capture\_%'
               AND c.relnamespace = current_schema()::regnamespace LOOP
        EXECUTE t;
    END LOOP;
END $$;

INSERT INTO placement_changes (resource_provider_id, created_at) VALUES (NULL, now() AT TIME ZONE 'UTC');
