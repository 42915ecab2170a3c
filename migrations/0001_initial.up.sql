-- The upstream schema at alembic revision 422ece571366 (spec 09 §2, §7),
-- including the five indexes that duplicate unique constraints, which
-- upstream master drops in a082b8bb98d0 and we in 0004.
-- Sequences come from serial: <table>_id_seq, AS integer, owned by id.
-- Timestamps have no server defaults on purpose: the application sets them.

CREATE TABLE resource_classes (
    created_at timestamp without time zone,
    updated_at timestamp without time zone,
    id serial NOT NULL,
    name character varying(255) NOT NULL,
    CONSTRAINT resource_classes_pkey PRIMARY KEY (id),
    CONSTRAINT uniq_resource_classes0name UNIQUE (name)
);

CREATE TABLE resource_providers (
    created_at timestamp without time zone,
    updated_at timestamp without time zone,
    id serial NOT NULL,
    uuid character varying(36) NOT NULL,
    name character varying(200),
    generation integer,
    root_provider_id integer,
    parent_provider_id integer,
    CONSTRAINT resource_providers_pkey PRIMARY KEY (id),
    -- name before uuid, as upstream creates them: with both taken, an
    -- INSERT then fails on the name, as it does upstream.
    CONSTRAINT uniq_resource_providers0name UNIQUE (name),
    CONSTRAINT uniq_resource_providers0uuid UNIQUE (uuid),
    CONSTRAINT resource_providers_root_provider_id_fkey
        FOREIGN KEY (root_provider_id) REFERENCES resource_providers (id),
    CONSTRAINT resource_providers_parent_provider_id_fkey
        FOREIGN KEY (parent_provider_id) REFERENCES resource_providers (id)
);
CREATE INDEX resource_providers_root_provider_id_idx ON resource_providers (root_provider_id);
CREATE INDEX resource_providers_parent_provider_id_idx ON resource_providers (parent_provider_id);
CREATE INDEX resource_providers_uuid_idx ON resource_providers (uuid);
CREATE INDEX resource_providers_name_idx ON resource_providers (name);

CREATE TABLE inventories (
    created_at timestamp without time zone,
    updated_at timestamp without time zone,
    id serial NOT NULL,
    resource_provider_id integer NOT NULL,
    resource_class_id integer NOT NULL,
    total integer NOT NULL,
    reserved integer NOT NULL,
    min_unit integer NOT NULL,
    max_unit integer NOT NULL,
    step_size integer NOT NULL,
    allocation_ratio double precision NOT NULL,
    CONSTRAINT inventories_pkey PRIMARY KEY (id),
    CONSTRAINT uniq_inventories0resource_provider_resource_class
        UNIQUE (resource_provider_id, resource_class_id)
);
CREATE INDEX inventories_resource_class_id_idx ON inventories (resource_class_id);
CREATE INDEX inventories_resource_provider_id_idx ON inventories (resource_provider_id);
CREATE INDEX inventories_resource_provider_resource_class_idx
    ON inventories (resource_provider_id, resource_class_id);

CREATE TABLE allocations (
    created_at timestamp without time zone,
    updated_at timestamp without time zone,
    id serial NOT NULL,
    resource_provider_id integer NOT NULL,
    consumer_id character varying(36) NOT NULL,
    resource_class_id integer NOT NULL,
    used integer NOT NULL,
    CONSTRAINT allocations_pkey PRIMARY KEY (id)
);
CREATE INDEX allocations_resource_provider_class_used_idx
    ON allocations (resource_provider_id, resource_class_id, used);
CREATE INDEX allocations_resource_class_id_idx ON allocations (resource_class_id);
CREATE INDEX allocations_consumer_id_idx ON allocations (consumer_id);

CREATE TABLE placement_aggregates (
    created_at timestamp without time zone,
    updated_at timestamp without time zone,
    id serial NOT NULL,
    uuid character varying(36),
    CONSTRAINT placement_aggregates_pkey PRIMARY KEY (id),
    CONSTRAINT uniq_placement_aggregates0uuid UNIQUE (uuid)
);
CREATE INDEX ix_placement_aggregates_uuid ON placement_aggregates (uuid);

CREATE TABLE resource_provider_aggregates (
    created_at timestamp without time zone,
    updated_at timestamp without time zone,
    resource_provider_id integer NOT NULL,
    aggregate_id integer NOT NULL,
    CONSTRAINT resource_provider_aggregates_pkey PRIMARY KEY (resource_provider_id, aggregate_id)
);
CREATE INDEX resource_provider_aggregates_aggregate_id_idx
    ON resource_provider_aggregates (aggregate_id);

CREATE TABLE traits (
    created_at timestamp without time zone,
    updated_at timestamp without time zone,
    id serial NOT NULL,
    name character varying(255) NOT NULL,
    CONSTRAINT traits_pkey PRIMARY KEY (id),
    CONSTRAINT uniq_traits0name UNIQUE (name)
);

CREATE TABLE resource_provider_traits (
    created_at timestamp without time zone,
    updated_at timestamp without time zone,
    trait_id integer NOT NULL,
    resource_provider_id integer NOT NULL,
    CONSTRAINT resource_provider_traits_pkey PRIMARY KEY (trait_id, resource_provider_id),
    CONSTRAINT resource_provider_traits_trait_id_fkey
        FOREIGN KEY (trait_id) REFERENCES traits (id),
    CONSTRAINT resource_provider_traits_resource_provider_id_fkey
        FOREIGN KEY (resource_provider_id) REFERENCES resource_providers (id)
);
CREATE INDEX resource_provider_traits_resource_provider_trait_idx
    ON resource_provider_traits (resource_provider_id, trait_id);

CREATE TABLE projects (
    created_at timestamp without time zone,
    updated_at timestamp without time zone,
    id serial NOT NULL,
    external_id character varying(255) NOT NULL,
    CONSTRAINT projects_pkey PRIMARY KEY (id),
    CONSTRAINT uniq_projects0external_id UNIQUE (external_id)
);

CREATE TABLE users (
    created_at timestamp without time zone,
    updated_at timestamp without time zone,
    id serial NOT NULL,
    external_id character varying(255) NOT NULL,
    CONSTRAINT users_pkey PRIMARY KEY (id),
    CONSTRAINT uniq_users0external_id UNIQUE (external_id)
);

CREATE TABLE consumer_types (
    created_at timestamp without time zone,
    updated_at timestamp without time zone,
    id serial NOT NULL,
    name character varying(255) NOT NULL,
    CONSTRAINT consumer_types_pkey PRIMARY KEY (id),
    CONSTRAINT uniq_consumer_types0name UNIQUE (name)
);

CREATE TABLE consumers (
    created_at timestamp without time zone,
    updated_at timestamp without time zone,
    id serial NOT NULL,
    uuid character varying(36) NOT NULL,
    project_id integer NOT NULL,
    user_id integer NOT NULL,
    generation integer DEFAULT 0 NOT NULL,
    consumer_type_id integer,
    CONSTRAINT consumers_pkey PRIMARY KEY (id),
    CONSTRAINT uniq_consumers0uuid UNIQUE (uuid),
    CONSTRAINT consumers_consumer_type_id_fkey
        FOREIGN KEY (consumer_type_id) REFERENCES consumer_types (id)
);
CREATE INDEX consumers_project_id_uuid_idx ON consumers (project_id, uuid);
CREATE INDEX consumers_project_id_user_id_uuid_idx ON consumers (project_id, user_id, uuid);
CREATE INDEX consumers_consumer_type_id_idx ON consumers (consumer_type_id);

-- Keep upstream's alembic bookkeeping in step so that upstream's
-- placement-manage sees the equivalent revision.
CREATE TABLE IF NOT EXISTS alembic_version (
    version_num character varying(32) NOT NULL,
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
DELETE FROM alembic_version;
INSERT INTO alembic_version (version_num) VALUES ('422ece571366');
