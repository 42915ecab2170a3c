// Package engine computes allocation candidates in memory. A Snapshot holds
// provider trees (inventories and their usage, traits, aggregates, sharing
// providers) as the store loaded them; a Request is a GET
// /allocation_candidates query that handler/candidate parsed and
// validated; Generate combines them into allocation requests and provider
// summaries, bounded by the request's limit, the candidate cap, a memory
// budget and the caller's context.
//
// The package does no I/O: it reads no database and parses no HTTP, so its
// tests compare it with a brute-force oracle on generated provider trees.
package engine
