package main

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/openstack-placement-go/placement/internal/placement"
	"github.com/openstack-placement-go/placement/internal/store"
	"github.com/openstack-placement-go/placement/internal/testdb"
	"github.com/openstack-placement-go/placement/internal/testutil"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testdb.Cleanup()
	os.Exit(code)
}

const (
	cn1UUID = "c0000001-0000-4000-8000-000000000000"
	cn2UUID = "c0000002-0000-4000-8000-000000000000"
	aggUUID = "a0000001-0000-4000-8000-000000000000"
)

// explainWorld fills a fresh database through the store:
//
//	cn1  VCPU 16 (reserved 2, ratio 2), MEMORY_MB 4096 (reserved 512, ratio 1.5)
//	     HW_CPU_X86_AVX2, in aggregate aggUUID; 14 VCPU and 1024 MEMORY_MB used
//	cn2  VCPU 8, MEMORY_MB 2048; 2 VCPU used
//
// and returns the store and a config file for it.
func explainWorld(t *testing.T) (*store.Store, string) {
	t.Helper()
	dsn := testdb.New(t)
	ctx := context.Background()
	pool, err := store.Open(ctx, dsn, store.PoolOptions{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	st := store.New(pool)
	check := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	inv := func(total, reserved int, ratio float64) placement.Inventory {
		return placement.Inventory{Total: total, Reserved: reserved, MinUnit: 1, MaxUnit: total, StepSize: 1, AllocationRatio: ratio}
	}
	_, err = st.CreateProvider(ctx, store.NewProvider{UUID: cn1UUID, Name: "cn1"})
	check(err)
	gen, err := st.SetInventories(ctx, cn1UUID, 0, map[string]placement.Inventory{"VCPU": inv(16, 2, 2), "MEMORY_MB": inv(4096, 512, 1.5)})
	check(err)
	ts, err := st.SetProviderTraits(ctx, cn1UUID, gen, []string{"HW_CPU_X86_AVX2"})
	check(err)
	gen = ts.Generation
	_, err = st.SetProviderAggregates(ctx, cn1UUID, []string{aggUUID}, &gen)
	check(err)
	_, err = st.CreateProvider(ctx, store.NewProvider{UUID: cn2UUID, Name: "cn2"})
	check(err)
	_, err = st.SetInventories(ctx, cn2UUID, 0, map[string]placement.Inventory{"VCPU": inv(8, 0, 1), "MEMORY_MB": inv(2048, 0, 1)})
	check(err)
	check(st.SetAllocations(ctx, placement.AllocationSet{{
		ConsumerUUID: "d0000001-0000-4000-8000-000000000000", ProjectID: "p", UserID: "u",
		Allocations: map[string]map[string]int{cn1UUID: {"VCPU": 14, "MEMORY_MB": 1024}},
	}, {
		ConsumerUUID: "d0000002-0000-4000-8000-000000000000", ProjectID: "p", UserID: "u",
		Allocations: map[string]map[string]int{cn2UUID: {"VCPU": 2}},
	}}))
	return st, writeConfig(t, "[placement_database]\nconnection = "+dsn+"\n")
}

func TestExplainAndCapacity(t *testing.T) {
	t.Parallel()
	st, f := explainWorld(t)
	cmd := func(args ...string) testutil.Result { return runCmd(append([]string{"--config-file", f}, args...)...) }
	want := func(t *testing.T, got testutil.Result, stdout string) {
		t.Helper()
		if got.Code != 0 || got.Stdout != stdout || got.Stderr != "" {
			t.Fatalf("got %d, stderr %q, stdout\n%s\nwant stdout\n%s", got.Code, got.Stderr, got.Stdout, stdout)
		}
	}

	t.Run("explain prints the funnel and why a provider fails", func(t *testing.T) {
		// cn1 has 28 - 14 = 14 VCPU free, cn2 8 - 2 = 6.
		want(t, cmd("explain", "resources=VCPU:8&required=HW_CPU_X86_AVX2", "--provider", "cn2"), `At microversion 1.39.

Unsuffixed group:
+----------------------------------------------+-----------+---------+-------+
| Step                                         | Providers | Sharing | Roots |
+----------------------------------------------+-----------+---------+-------+
| inventory of VCPU                            |         2 |       0 |     2 |
| capacity of VCPU                             |         1 |       0 |     1 |
| min_unit, max_unit, step_size of VCPU        |         1 |       0 |     1 |
| required traits on any provider of the group |         1 |       0 |     1 |
+----------------------------------------------+-----------+---------+-------+

Combined:
+--------------------------------+-----------+---------+-------+------------+
| Step                           | Providers | Sharing | Roots | Candidates |
+--------------------------------+-----------+---------+-------+------------+
| every group                    |         1 |       0 |     1 |            |
| amounts of all groups together |         1 |       0 |     1 |            |
| candidates returned            |         1 |       0 |     1 |          1 |
+--------------------------------+-----------+---------+-------+------------+

Provider cn2 (`+cn2UUID+`, root `+cn2UUID+`): fails at step "capacity of VCPU" of the unsuffixed group:
  VCPU: requested 8, free 6 (capacity 8, used 2)
`)
	})

	t.Run("explain at a microversion, a provider by uuid", func(t *testing.T) {
		got := cmd("explain", "?resources1=VCPU:1&resources2=MEMORY_MB:1&group_policy=isolate", "--microversion", "1.25", "--provider", cn1UUID)
		if got.Code != 0 || !strings.Contains(got.Stdout, "At microversion 1.25.\n\nGroup 1:\n") ||
			!strings.Contains(got.Stdout, "fails at combined step \"group_policy=isolate\":\n  the suffixed groups cannot each be placed on a different provider\n") {
			t.Fatalf("got %d, stderr %q, stdout\n%s", got.Code, got.Stderr, got.Stdout)
		}
	})

	t.Run("explain an unknown class the endpoint never reaches", func(t *testing.T) {
		got := cmd("explain", "resources1=VCPU:100&resources2=CUSTOM_NOPE:1&group_policy=none", "--provider", "cn1")
		if got.Code != 0 || !strings.Contains(got.Stdout, "| inventory of CUSTOM_NOPE ") ||
			!strings.Contains(got.Stdout, "fails at step \"capacity of VCPU\" of group 1:\n  VCPU: requested 100, free 14 (capacity 28, used 14)\n") {
			t.Fatalf("got %d, stderr %q, stdout\n%s", got.Code, got.Stderr, got.Stdout)
		}
	})

	t.Run("explain reports what the endpoint rejects", func(t *testing.T) {
		for _, tc := range []struct{ args []string }{
			{[]string{"explain", "resources=VCPU:1&required=in:A,B", "--microversion", "1.38"}},
			{[]string{"explain", "resources=CUSTOM_NOPE:1"}},
			{[]string{"explain", "resources=VCPU:1", "--provider", "cn9"}},
			{[]string{"explain", "resources=VCPU:1", "--microversion", "1.9"}},
			{[]string{"explain"}},
			{[]string{"capacity", "--resource-class", "CUSTOM_NOPE"}},
		} {
			got := cmd(tc.args...)
			if got.Code != 1 || got.Stdout != "" || strings.Count(got.Stderr, "\n") != 1 {
				t.Errorf("%q: got %d, %q, %q", tc.args, got.Code, got.Stdout, got.Stderr)
			}
		}
	})

	t.Run("capacity over all providers", func(t *testing.T) {
		// VCPU: (16-2)*2 + 8 = 36 usable, 16 used; MEMORY_MB:
		// (4096-512)*1.5 + 2048 = 7424 usable, 1024 used.
		want(t, cmd("capacity"), `Capacity of all providers:
+----------------+-----------+-------+----------+----------+------+------+
| Resource class | Providers | Total | Reserved | Capacity | Used | Free |
+----------------+-----------+-------+----------+----------+------+------+
| MEMORY_MB      |         2 |  6144 |      512 |     7424 | 1024 | 6400 |
| VCPU           |         2 |    24 |        2 |       36 |   16 |   20 |
+----------------+-----------+-------+----------+----------+------+------+

The 2 fullest providers (by their fullest inventory):
+----------+--------------------------------------+----------------+------+----------+-------+
| Provider | UUID                                 | Resource class | Used | Capacity |  Full |
+----------+--------------------------------------+----------------+------+----------+-------+
| cn1      | `+cn1UUID+` | VCPU           |   14 |       28 | 50.0% |
| cn2      | `+cn2UUID+` | VCPU           |    2 |        8 | 25.0% |
+----------+--------------------------------------+----------------+------+----------+-------+
`)
	})

	t.Run("capacity of one aggregate and class", func(t *testing.T) {
		got := cmd("capacity", "--aggregate", aggUUID, "--resource-class=MEMORY_MB")
		if got.Code != 0 || !strings.Contains(got.Stdout, "Capacity of the providers in aggregate "+aggUUID+":\n") ||
			!strings.Contains(got.Stdout, "| MEMORY_MB      |         1 |  4096 |      512 |     5376 | 1024 | 4352 |\n") ||
			!strings.Contains(got.Stdout, "The 1 fullest providers") {
			t.Fatalf("got %d, stderr %q, stdout\n%s", got.Code, got.Stderr, got.Stdout)
		}
		got = cmd("capacity", "--aggregate", "a0000009-0000-4000-8000-000000000000")
		if got.Code != 0 || got.Stdout != "No inventory on the providers in aggregate a0000009-0000-4000-8000-000000000000.\n" {
			t.Fatalf("got %d, %q, %q", got.Code, got.Stdout, got.Stderr)
		}
	})

	t.Run("capacity's used is the sum of the providers' usages", func(t *testing.T) {
		invs, err := st.InventoryUsages(context.Background(), "", "")
		if err != nil {
			t.Fatal(err)
		}
		for _, inv := range invs {
			_, usages, err := st.ProviderUsages(context.Background(), inv.ProviderUUID)
			if err != nil {
				t.Fatal(err)
			}
			if usages[inv.Class] != inv.Used {
				t.Errorf("%s %s: used %d, GET /resource_providers/{uuid}/usages says %d", inv.ProviderName, inv.Class, inv.Used, usages[inv.Class])
			}
		}
		if len(invs) != 4 {
			t.Errorf("%d inventories, want 4", len(invs))
		}
	})
}
