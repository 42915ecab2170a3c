DROP TABLE IF EXISTS placement_changes;
