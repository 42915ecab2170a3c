package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
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
	deadlock := &pgconn.PgError{Code: pgerrcode.DeadlockDetected}
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
		{name: "deadlocks give up after the configured attempts",
			failures:  []error{deadlock, deadlock, deadlock, deadlock, deadlock},
			wantCalls: 4, wantErr: deadlock},
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

// A consumer changed by another write after this write checked its
// generation, but before this write locked it, fails the write as a
// concurrent update and leaves the other write's allocations in place;
// so does a consumer deleted in that window.
func TestSetAllocations_ConsumerChangedBeforeLock(t *testing.T) {
	ctx := context.Background()
	st, pool, rp := providerStore(t)
	if _, err := st.SetInventories(ctx, rp, 0, map[string]placement.Inventory{"VCPU": inv(8)}); err != nil {
		t.Fatal(err)
	}
	consumer := uuid.NewString()
	write := func(vcpu int, gen *int) error {
		allocs := map[string]map[string]int{}
		if vcpu > 0 {
			allocs[rp] = map[string]int{"VCPU": vcpu}
		}
		return st.SetAllocations(ctx, placement.AllocationSet{{ConsumerUUID: consumer, ProjectID: "p", UserID: "u",
			Generation: gen, CheckGeneration: true, Allocations: allocs}})
	}
	if err := write(1, nil); err != nil {
		t.Fatal(err)
	}
	one := 1
	for _, racing := range []struct {
		name string
		vcpu int // the racing write's amount; 0 removes the consumer
	}{{"changed", 2}, {"deleted", 0}} {
		t.Run(racing.name, func(t *testing.T) {
			if racing.name == "deleted" { // start again from a new consumer at generation 1
				if err := st.DeleteAllocations(ctx, consumer); err != nil {
					t.Fatal(err)
				}
				if err := write(1, nil); err != nil {
					t.Fatal(err)
				}
			}
			var raced bool
			store.SetBeforeLockHook(t, func() {
				if raced {
					return
				}
				raced = true
				if err := write(racing.vcpu, &one); err != nil {
					t.Errorf("racing write: %v", err)
				}
			})
			err := write(3, &one)
			wantErr(t, err, placement.Conflict, placement.CodeConcurrentUpdate, store.MsgConsumerConcurrentUpdate)
			var used int
			err = pool.QueryRow(ctx, `SELECT COALESCE(sum(used), 0) FROM allocations WHERE consumer_id = $1`, consumer).Scan(&used)
			if err != nil || used != racing.vcpu {
				t.Fatalf("allocated %d (%v), want the racing write's %d", used, err, racing.vcpu)
			}
		})
	}
}

// While every write slot is taken, another write transaction waits for
// one, and gives up with the pool-timeout 503 after pool_timeout.
func TestWriteSlots(t *testing.T) {
	s := store.New(testdb.Pool(t, 40))
	s.SetPoolTimeout(time.Second)
	slots := store.WriteSlots(s)
	var (
		mu      sync.Mutex
		active  int
		release = make(chan struct{})
		done    sync.WaitGroup
	)
	for range slots {
		done.Go(func() {
			err := s.RetryAllocations(context.Background(), func(pgx.Tx) error {
				mu.Lock()
				active++
				mu.Unlock()
				<-release
				mu.Lock()
				active--
				mu.Unlock()
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	var once sync.Once
	stop := func() { once.Do(func() { close(release) }) }
	defer func() { stop(); done.Wait() }()
	running := func() int {
		mu.Lock()
		defer mu.Unlock()
		return active
	}
	for deadline := time.Now().Add(10 * time.Second); running() < slots && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // a transaction beyond the slots would have started by now
	if n := running(); n != slots {
		t.Fatalf("%d write transactions run at once, want the %d slots", n, slots)
	}
	err := s.RetryAllocations(context.Background(), func(pgx.Tx) error { return nil })
	if placement.KindOf(err) != placement.Unavailable || err.Error() != store.MsgPoolTimeout {
		t.Errorf("a write finding no free slot within pool_timeout: %v, want the 503 %q", err, store.MsgPoolTimeout)
	}
	stop()
	done.Wait()
	if err := s.RetryAllocations(context.Background(), func(pgx.Tx) error { return nil }); err != nil {
		t.Errorf("a write once the slots are free: %v", err)
	}
}
