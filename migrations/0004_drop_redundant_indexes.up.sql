-- Upstream master's alembic revision a082b8bb98d0: drop the five indexes
-- that duplicate a unique constraint's index. No query needs them, and each
-- costs every write to its table. IF EXISTS: a database the Python service
-- already moved to a082b8bb98d0 is adopted as version 1 and passes through
-- here again. 8.0.0's alembic does not know a082b8bb98d0; see "Rolling back
-- to the Python service" in api-ref/operations.md.
DROP INDEX IF EXISTS inventories_resource_provider_id_idx;
DROP INDEX IF EXISTS inventories_resource_provider_resource_class_idx;
DROP INDEX IF EXISTS ix_placement_aggregates_uuid;
DROP INDEX IF EXISTS resource_providers_name_idx;
DROP INDEX IF EXISTS resource_providers_uuid_idx;

CREATE TABLE IF NOT EXISTS alembic_version (
    version_num character varying(32) NOT NULL,
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
DELETE FROM alembic_version;
INSERT INTO alembic_version (version_num) VALUES ('a082b8bb98d0');
