-- Drops everything 0001 created, alembic_version included: the database is
-- back to the state before any Placement migration.
DROP TABLE IF EXISTS consumers;
DROP TABLE IF EXISTS consumer_types;
DROP TABLE IF EXISTS users;
DROP TABLE IF EXISTS projects;
DROP TABLE IF EXISTS resource_provider_traits;
DROP TABLE IF EXISTS traits;
DROP TABLE IF EXISTS resource_provider_aggregates;
DROP TABLE IF EXISTS placement_aggregates;
DROP TABLE IF EXISTS allocations;
DROP TABLE IF EXISTS inventories;
DROP TABLE IF EXISTS resource_providers;
DROP TABLE IF EXISTS resource_classes;
DROP TABLE IF EXISTS alembic_version;
