package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/openstack-placement-go/placement/internal/placement"
	"github.com/openstack-placement-go/placement/internal/store"
	"github.com/openstack-placement-go/placement/internal/testdb"
)

// TestPoolTimeout: with every connection taken, a statement waits
// pool_timeout and then fails as Unavailable (503); once a connection is
// free again statements run.
func TestPoolTimeout(t *testing.T) {
	pool := testdb.Pool(t, 1)
	s := store.New(pool)
	s.SetPoolTimeout(200 * time.Millisecond)
	ctx := context.Background()
	held, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = s.ResourceClasses(ctx)
	if placement.KindOf(err) != placement.Unavailable || time.Since(start) < 200*time.Millisecond {
		t.Fatalf("with the pool exhausted: %v after %v, want Unavailable after pool_timeout", err, time.Since(start))
	}
	held.Release()
	if _, err := s.ResourceClasses(ctx); err != nil {
		t.Fatalf("with a free connection: %v", err)
	}
	if _, err := s.ProviderByUUID(ctx, "00000000-0000-0000-0000-000000000000"); placement.KindOf(err) != placement.NotFound {
		t.Fatalf("unknown provider: %v, want NotFound", err)
	}
	// Every connection went back to the pool.
	if st := pool.Stat(); st.AcquiredConns() != 0 {
		t.Errorf("%d connections still acquired", st.AcquiredConns())
	}
}
