package store

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// RetryAllocations exposes the allocation retry loop to store_test.
func (s *Store) RetryAllocations(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return s.retryAllocations(ctx, fn)
}

// ErrRetryable is the provider-conflict signal of the retry loop.
var ErrRetryable = errRetryable

// SetBeforeLockHook makes fn run in allocation writes right before their
// locks are taken, until the test ends.
func SetBeforeLockHook(t interface{ Cleanup(func()) }, fn func()) {
	testHookBeforeLock = fn
	t.Cleanup(func() { testHookBeforeLock = nil })
}

// SetBeforeWritesHook makes fn run in allocation writes right before the
// batch that writes and commits, until the test ends.
func SetBeforeWritesHook(t interface{ Cleanup(func()) }, fn func()) {
	testHookBeforeWrites = fn
	t.Cleanup(func() { testHookBeforeWrites = nil })
}

// XactStatus exposes xactStatus to store_test.
func (s *Store) XactStatus(ctx context.Context, xid, started string) string {
	return s.xactStatus(ctx, xid, started)
}

// WriteSlots is how many write transactions s runs at once.
func WriteSlots(s *Store) int { return cap(s.writers) }
