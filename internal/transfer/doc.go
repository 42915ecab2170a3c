// Package transfer copies a Placement database between MySQL/MariaDB (as the
// Python service created it) and this service's PostgreSQL, in both
// directions, and verifies each copy with per-table checksums computed the
// same way on both sides.
//
// The contract: the twelve upstream tables are copied with their ids; the
// source is read in one read-only, repeatable-read transaction and the
// target written in one transaction, so a failed copy leaves the target as
// it was; a target that holds data is refused unless forced. Values travel
// as int64, string, float64, time.Time (UTC) or nil, read from MySQL through
// its text protocol (a FLOAT arrives as MySQL prints it, as pymysql reads
// it). Checksums cover timestamps at whole seconds, what MySQL's DATETIME
// columns hold.
//
// It is a one-shot operator tool (placement-manage db import / db export);
// the service itself only runs on PostgreSQL.
package transfer
