package store_test

import (
	"context"
	"errors"
	"maps"
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

// A new consumer is inserted with the write's locks. When another write
// creates the same consumer after this write found it missing, the
// INSERT does nothing and the write starts again: from 1.28 it then fails
// on the consumer generation (null, but the consumer exists), below 1.28
// it replaces the other write's allocations, as upstream does either way.
func TestSetAllocations_ConsumerCreatedBeforeLock(t *testing.T) {
	ctx := context.Background()
	st, pool, rp := providerStore(t)
	if _, err := st.SetInventories(ctx, rp, 0, map[string]placement.Inventory{"VCPU": inv(8)}); err != nil {
		t.Fatal(err)
	}
	// The project and user exist: a write that inserts them holds them
	// until it ends, and the racing write would wait for it.
	if err := st.SetAllocations(ctx, placement.AllocationSet{{ConsumerUUID: uuid.NewString(), ProjectID: "p", UserID: "u",
		Allocations: map[string]map[string]int{rp: {"VCPU": 1}}}}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name     string
		checkGen bool
		wantErr  bool
		wantUsed int
	}{
		{name: "1.28+", checkGen: true, wantErr: true, wantUsed: 2},
		{name: "before 1.28", checkGen: false, wantUsed: 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			consumer := uuid.NewString()
			write := func(ctx context.Context, vcpu int) error {
				return st.SetAllocations(ctx, placement.AllocationSet{{ConsumerUUID: consumer, ProjectID: "p", UserID: "u",
					CheckGeneration: tt.checkGen, Allocations: map[string]map[string]int{rp: {"VCPU": vcpu}}}})
			}
			var raced bool
			store.SetBeforeLockHook(t, func() {
				if raced {
					return
				}
				raced = true
				// Had this write inserted the consumer already, the racing
				// INSERT would wait for it: a deadline, not a hang.
				rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				defer cancel()
				if err := write(rctx, 2); err != nil {
					t.Errorf("racing write: %v", err)
				}
			})
			err := write(ctx, 3)
			if tt.wantErr {
				wantErr(t, err, placement.Conflict, placement.CodeConcurrentUpdate, "consumer generation conflict - expected 1 but got None")
			} else if err != nil {
				t.Fatal(err)
			}
			var used, consumers int
			err = pool.QueryRow(ctx, `SELECT COALESCE(sum(used), 0), (SELECT count(*) FROM consumers WHERE uuid = $1)
				FROM allocations WHERE consumer_id = $1`, consumer).Scan(&used, &consumers)
			if err != nil || used != tt.wantUsed || consumers != 1 {
				t.Fatalf("allocated %d, %d consumer rows (%v), want %d and 1", used, consumers, err, tt.wantUsed)
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
	if c := store.Classify(err); placement.KindOf(c) != placement.Unavailable || c.Error() != store.MsgPoolTimeout {
		t.Errorf("a write finding no free slot within pool_timeout: %v, want the 503 %q", c, store.MsgPoolTimeout)
	}
	stop()
	done.Wait()
	if err := s.RetryAllocations(context.Background(), func(pgx.Tx) error { return nil }); err != nil {
		t.Errorf("a write once the slots are free: %v", err)
	}
}

// The capacity rules of the write path (checkRows), through SetAllocations
// against the database: units, reserved, the allocation ratio in float64
// as Python computes it, several consumers of one write on one provider,
// and the over-capacity relief. A refused write changes nothing and is not
// retried.
func TestSetAllocations_CapacityRules(t *testing.T) {
	ctx := context.Background()
	st, pool := rpStore(t)
	var retries []string
	st.OnRetry = func(reason string) { retries = append(retries, reason) }
	vcpu := func(total, reserved, minUnit, maxUnit, step int, ratio float64) map[string]placement.Inventory {
		return map[string]placement.Inventory{"VCPU": {Total: total, Reserved: reserved, MinUnit: minUnit, MaxUnit: maxUnit, StepSize: step, AllocationRatio: ratio}}
	}
	const (
		exceeds   = "The requested amount would exceed the capacity."
		violates  = "The requested amount would violate inventory constraints."
		noInv     = "Inventory for 'MEMORY_MB' on resource provider"
		unlimited = 2147483647
	)
	tests := []struct {
		name     string
		inv      map[string]placement.Inventory
		others   int            // VCPU that another consumer uses
		before   int            // VCPU the written consumer holds before the write
		shrinkTo int            // then the VCPU total becomes this (0: unchanged)
		write    map[string]int // the write, on the provider
		second   int            // VCPU of a second new consumer in the same write
		wantMsg  string         // "" for success
	}{
		{name: "fits", inv: vcpu(8, 0, 1, unlimited, 1, 1), others: 4, write: map[string]int{"VCPU": 4}},
		{name: "over capacity", inv: vcpu(8, 0, 1, unlimited, 1, 1), others: 6, write: map[string]int{"VCPU": 3}, wantMsg: exceeds},
		{name: "reserved", inv: vcpu(8, 4, 1, unlimited, 1, 1), write: map[string]int{"VCPU": 5}, wantMsg: exceeds},
		{name: "ratio fits", inv: vcpu(8, 0, 1, unlimited, 1, 1.5), write: map[string]int{"VCPU": 12}},
		{name: "ratio over", inv: vcpu(8, 0, 1, unlimited, 1, 1.5), write: map[string]int{"VCPU": 13}, wantMsg: exceeds},
		// 10 × 0.3 is 3.0000000000000004 in float64, as in Python.
		{name: "float capacity", inv: vcpu(10, 0, 1, unlimited, 1, 0.3), write: map[string]int{"VCPU": 3}},
		{name: "below min_unit", inv: vcpu(8, 0, 2, unlimited, 1, 1), write: map[string]int{"VCPU": 1}, wantMsg: violates},
		{name: "above max_unit", inv: vcpu(8, 0, 1, 4, 1, 1), write: map[string]int{"VCPU": 5}, wantMsg: violates},
		{name: "off step", inv: vcpu(8, 0, 1, unlimited, 2, 1), write: map[string]int{"VCPU": 3}, wantMsg: violates},
		{name: "on step", inv: vcpu(8, 0, 1, unlimited, 2, 1), write: map[string]int{"VCPU": 4}},
		{name: "no inventory of a class", inv: vcpu(8, 0, 1, unlimited, 1, 1), write: map[string]int{"VCPU": 1, "MEMORY_MB": 1}, wantMsg: noInv},
		{name: "two consumers fill it", inv: vcpu(8, 0, 1, unlimited, 1, 1), write: map[string]int{"VCPU": 4}, second: 4},
		{name: "two consumers overfill it", inv: vcpu(8, 0, 1, unlimited, 1, 1), write: map[string]int{"VCPU": 4}, second: 5, wantMsg: exceeds},
		{name: "replace within capacity", inv: vcpu(8, 0, 1, unlimited, 1, 1), others: 2, before: 6, write: map[string]int{"VCPU": 6}},
		{name: "over capacity, shrink", inv: vcpu(8, 0, 1, unlimited, 1, 1), before: 6, shrinkTo: 4, write: map[string]int{"VCPU": 5}},
		{name: "over capacity, grow", inv: vcpu(8, 0, 1, unlimited, 1, 1), before: 6, shrinkTo: 4, write: map[string]int{"VCPU": 7}, wantMsg: exceeds},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rp := newProvider(t, pool)
			gen, err := st.SetInventories(ctx, rp, 0, tt.inv)
			if err != nil {
				t.Fatal(err)
			}
			if tt.others > 0 {
				allocate(t, pool, rp, "VCPU", tt.others)
			}
			consumer, second := uuid.NewString(), uuid.NewString()
			claim := func(c string, allocs map[string]int) placement.ConsumerAllocations {
				return placement.ConsumerAllocations{ConsumerUUID: c, ProjectID: "p", UserID: "u",
					Allocations: map[string]map[string]int{rp: allocs}}
			}
			if tt.before > 0 {
				if err := st.SetAllocations(ctx, placement.AllocationSet{claim(consumer, map[string]int{"VCPU": tt.before})}); err != nil {
					t.Fatal(err)
				}
			}
			if tt.shrinkTo > 0 {
				shrunk := maps.Clone(tt.inv)
				v := shrunk["VCPU"]
				v.Total = tt.shrinkTo
				shrunk["VCPU"] = v
				if _, err := st.SetInventories(ctx, rp, gen+1, shrunk); err != nil {
					t.Fatal(err)
				}
			}
			set := placement.AllocationSet{claim(consumer, tt.write)}
			if tt.second > 0 {
				set = append(set, claim(second, map[string]int{"VCPU": tt.second}))
			}
			retries = nil
			err = st.SetAllocations(ctx, set)
			if tt.wantMsg != "" {
				wantErr(t, err, placement.Conflict, placement.CodeUndefined, tt.wantMsg)
				if !errors.Is(err, store.ErrAllocationInvalid) {
					t.Errorf("error %v is not ErrAllocationInvalid", err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if len(retries) > 0 {
				t.Errorf("retried: %q", retries)
			}
			want := tt.before
			if tt.wantMsg == "" {
				want = tt.write["VCPU"]
			}
			var used int
			if err := pool.QueryRow(ctx, `SELECT COALESCE(sum(used), 0) FROM allocations WHERE consumer_id = $1`, consumer).Scan(&used); err != nil || used != want {
				t.Fatalf("the consumer holds %d VCPU (%v), want %d", used, err, want)
			}
		})
	}
}

// An allocation write whose backend is terminated after its checks, as
// the batch that writes and commits goes out, committed nothing: withTx
// learns that from another connection (pg_xact_status) and writes again,
// where before it could only answer that the outcome was unknown (503).
func TestSetAllocations_BackendTerminatedAtCommit(t *testing.T) {
	ctx := context.Background()
	st, pool, rp := providerStore(t)
	if _, err := st.SetInventories(ctx, rp, 0, map[string]placement.Inventory{"VCPU": inv(8)}); err != nil {
		t.Fatal(err)
	}
	terminated := 0
	store.SetBeforeWritesHook(t, func() {
		if terminated > 0 {
			return
		}
		// The write's own backend, idle in its transaction.
		err := pool.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid()
			AND state = 'idle in transaction' AND backend_xid IS NOT NULL`).Scan(&terminated)
		if err != nil || terminated != 1 {
			t.Errorf("terminated %d backends (%v), want the writer's", terminated, err)
		}
	})
	consumer := uuid.NewString()
	err := st.SetAllocations(ctx, placement.AllocationSet{{ConsumerUUID: consumer, ProjectID: "p", UserID: "u",
		CheckGeneration: true, Allocations: map[string]map[string]int{rp: {"VCPU": 3}}}})
	if err != nil {
		t.Fatalf("write after its backend was terminated: %v, want it written again", err)
	}
	var used int
	if err := pool.QueryRow(ctx, `SELECT COALESCE(sum(used), 0) FROM allocations WHERE consumer_id = $1`, consumer).Scan(&used); err != nil || used != 3 {
		t.Fatalf("allocated %d (%v), want 3, once", used, err)
	}
}

// xactStatus tells a committed transaction from an aborted one, knows
// nothing of one another server start ran, waits for a terminated backend
// to abort its transaction, and gives up ("") on one still in progress.
func TestXactStatus(t *testing.T) {
	ctx := context.Background()
	st, pool := rpStore(t)
	type xact struct{ id, started string }
	xactOf := func(tx pgx.Tx) xact {
		var x xact
		if err := tx.QueryRow(ctx, `SELECT pg_current_xact_id()::text, pg_postmaster_start_time()::text`).Scan(&x.id, &x.started); err != nil {
			t.Fatal(err)
		}
		return x
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	committed := xactOf(tx)
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if tx, err = pool.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	aborted := xactOf(tx)
	tx.Rollback(ctx)
	otherServer := xact{committed.id, "2000-01-01 00:00:00+00"} // restarted, or failed over, since
	for x, want := range map[xact]string{committed: "committed", aborted: "aborted", {}: "", otherServer: ""} {
		if got := st.XactStatus(ctx, x.id, x.started); got != want {
			t.Errorf("status of %v = %q, want %q", x, got, want)
		}
	}

	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if tx, err = conn.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	running := xactOf(tx)
	start := time.Now()
	if got := st.XactStatus(ctx, running.id, running.started); got != "" || time.Since(start) < 500*time.Millisecond {
		t.Errorf("status of a running transaction = %q after %s, want \"\" after waiting", got, time.Since(start))
	}
	if _, err := pool.Exec(ctx, `SELECT pg_terminate_backend($1)`, conn.Conn().PgConn().PID()); err != nil {
		t.Fatal(err)
	}
	if got := st.XactStatus(ctx, running.id, running.started); got != "aborted" {
		t.Errorf("status of a terminated backend's transaction = %q, want aborted", got)
	}
}
