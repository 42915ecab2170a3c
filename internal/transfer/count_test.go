package transfer

import (
	"context"
	"testing"

	"github.com/openstack-placement-go/placement/internal/placement"
	"github.com/openstack-placement-go/placement/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

func TestCountPG(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.Pool(t, 1)
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // read only
	counts, err := countPG(ctx, tx)
	if err != nil {
		t.Fatal(err)
	}
	if len(counts) != len(tables) || counts["traits"] != int64(len(placement.StandardTraits)) || counts["resource_providers"] != 0 {
		t.Errorf("countPG on a seeded database = %v", counts)
	}
}
