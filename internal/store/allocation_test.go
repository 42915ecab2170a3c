package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/openstack-placement-go/placement/internal/placement"
	"github.com/openstack-placement-go/placement/internal/store"
	"github.com/openstack-placement-go/placement/internal/testdb"
)

func TestRetryAllocations(t *testing.T) {
	s := store.New(testdb.Pool(t, 2))
	s.ConflictRetries = 4
	var retries []string
	s.OnRetry = func(reason string) { retries = append(retries, reason) }
	consumerConflict := &placement.Error{Kind: placement.Conflict, Code: placement.CodeConcurrentUpdate, Message: "consumer generation conflict - expected 1 but got None"}

	tests := []struct {
		name      string
		failures  []error // returned by the first attempts, then nil
		wantCalls int
		wantErr   error
	}{
		{name: "provider conflicts are retried until success", failures: []error{store.ErrRetryable, store.ErrRetryable}, wantCalls: 3},
		{name: "serialization failures and deadlocks are retried",
			failures:  []error{&pgconn.PgError{Code: pgerrcode.SerializationFailure}, &pgconn.PgError{Code: pgerrcode.DeadlockDetected}},
			wantCalls: 3},
		{name: "provider conflicts give up after the configured attempts",
			failures:  []error{store.ErrRetryable, store.ErrRetryable, store.ErrRetryable, store.ErrRetryable, store.ErrRetryable},
			wantCalls: 4, wantErr: store.ErrAllocationConcurrentUpdate},
		{name: "a consumer generation conflict is never retried", failures: []error{consumerConflict}, wantCalls: 1, wantErr: consumerConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			retries = nil
			calls := 0
			err := s.RetryAllocations(context.Background(), func(pgx.Tx) error {
				calls++
				if calls <= len(tt.failures) {
					return tt.failures[calls-1]
				}
				return nil
			})
			if calls != tt.wantCalls {
				t.Errorf("attempts = %d, want %d", calls, tt.wantCalls)
			}
			if len(retries) != tt.wantCalls-1 {
				t.Errorf("OnRetry heard %v, want %d restarts", retries, tt.wantCalls-1)
			}
			if !errors.Is(err, tt.wantErr) && !(err == nil && tt.wantErr == nil) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == store.ErrAllocationConcurrentUpdate && err.Error() != store.MsgConcurrentUpdate {
				t.Errorf("message = %q", err.Error())
			}
		})
	}
}
