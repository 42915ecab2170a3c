// Package store holds all SQL of the service, over PostgreSQL with pgx.
//
// Rules: every exported method runs in its own transaction (withTx) and
// translates database errors into *placement.Error at this boundary:
// missing rows become NotFound, unique violations become the Conflict the
// endpoint documents, and generation mismatches become Conflict with
// placement.concurrent_update. Timestamps are naive UTC set by the
// application (never by triggers or column defaults), as upstream does.
// Provider and consumer generations are compare-and-swap updates
// (UPDATE … WHERE generation = $old); zero rows updated means someone else
// got there first.
package store
