// Package migrations embeds the numbered golang-migrate SQL files that
// create the Placement schema. Version 1 is upstream's alembic revision
// 422ece571366, the head of the reference release (8.0.0), and version 4
// upstream master's head a082b8bb98d0; each up migration keeps the
// alembic_version row at the equivalent revision so that upstream tooling
// keeps working on the same database.
package migrations

import "embed"

// FS holds the NNNN_name.up.sql / .down.sql files, for golang-migrate's iofs
// source.
//
//go:embed *.sql
var FS embed.FS
