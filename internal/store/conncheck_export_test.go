package store

// IdleConnAlive exposes the pool's pre-use check to conncheck_test.go.
var IdleConnAlive = idleConnAlive
