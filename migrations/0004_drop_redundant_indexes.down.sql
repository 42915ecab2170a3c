-- Back to upstream's 422ece571366 (the head of 8.0.0): recreate the five
-- indexes as 0001 created them.
CREATE INDEX IF NOT EXISTS inventories_resource_provider_id_idx ON inventories (resource_provider_id);
CREATE INDEX IF NOT EXISTS inventories_resource_provider_resource_class_idx
    ON inventories (resource_provider_id, resource_class_id);
CREATE INDEX IF NOT EXISTS ix_placement_aggregates_uuid ON placement_aggregates (uuid);
CREATE INDEX IF NOT EXISTS resource_providers_name_idx ON resource_providers (name);
CREATE INDEX IF NOT EXISTS resource_providers_uuid_idx ON resource_providers (uuid);

CREATE TABLE IF NOT EXISTS alembic_version (
    version_num character varying(32) NOT NULL,
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
DELETE FROM alembic_version;
INSERT INTO alembic_version (version_num) VALUES ('422ece571366');
