-- Removes the change capture (0003_change_capture.up.sql). The service's
-- candidate cache then serves nothing: without capture it answers every
-- candidates request from the database. To remove this service's objects
-- altogether (e.g. after going back to the Python service for good), run
-- this file and then 0002_placement_changes.down.sql.
DO $$
DECLARE
    t text;
BEGIN
    FOR t IN SELECT format('DROP TRIGGER IF EXISTS %I ON %I', tg.tgname, c.relname)
             FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid
             WHERE tg.tgname LIKE 'placement\_capture\_%'
               AND c.relnamespace = current_schema()::regnamespace LOOP
        EXECUTE t;
    END LOOP;
END $$;
DROP FUNCTION IF EXISTS placement_capture_by_provider();
DROP FUNCTION IF EXISTS placement_capture_providers();
DROP FUNCTION IF EXISTS placement_capture_provider_update();
DROP FUNCTION IF EXISTS placement_capture_everything();
DROP FUNCTION IF EXISTS placement_changes_prune();
DROP TABLE IF EXISTS placement_changes_marks;
