package store_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/openstack-placement-go/placement/internal/placement"
	"github.com/openstack-placement-go/placement/internal/store"
	"github.com/openstack-placement-go/placement/internal/testutil"
)

func newProvider(t *testing.T, pool *pgxpool.Pool) string {
	t.Helper()
	u := uuid.NewString()
	ctx := context.Background()
	var id int
	if err := pool.QueryRow(ctx, `INSERT INTO resource_providers (created_at, uuid, name, generation)
		VALUES (now() AT TIME ZONE 'UTC', $1, $1, 0) RETURNING id`, u).Scan(&id); err != nil {
		t.Fatalf("insert provider: %v", err)
	}
	if _, err := pool.Exec(ctx, `UPDATE resource_providers SET root_provider_id = id WHERE id = $1`, id); err != nil {
		t.Fatalf("set root: %v", err)
	}
	return u
}

// providerStore returns a store on a fresh seeded database, its pool, and
// the UUID of a new provider in it.
func providerStore(t *testing.T) (*store.Store, *pgxpool.Pool, string) {
	t.Helper()
	st, pool := rpStore(t)
	return st, pool, newProvider(t, pool)
}

// allocate writes an allocation row directly (the allocation API is not
// needed to test the inventory rules).
func allocate(t *testing.T, pool *pgxpool.Pool, rpUUID, class string, used int) {
	t.Helper()
	if _, err := pool.Exec(context.Background(), `INSERT INTO allocations (created_at, resource_provider_id, consumer_id, resource_class_id, used)
		SELECT now() AT TIME ZONE 'UTC', rp.id, $3, rc.id, $4 FROM resource_providers rp, resource_classes rc
		WHERE rp.uuid = $1 AND rc.name = $2`, rpUUID, class, uuid.NewString(), used); err != nil {
		t.Fatalf("allocate: %v", err)
	}
}

func generation(t *testing.T, st *store.Store, rpUUID string) int {
	t.Helper()
	p, err := st.ProviderByUUID(context.Background(), rpUUID)
	if err != nil {
		t.Fatalf("provider: %v", err)
	}
	return p.Generation
}

// wantGeneration checks the provider's generation; why, when not empty,
// says why want is expected.
func wantGeneration(t *testing.T, st *store.Store, rpUUID string, want int, why string) {
	t.Helper()
	if why != "" {
		why = " (" + why + ")"
	}
	if got := generation(t, st, rpUUID); got != want {
		t.Errorf("generation = %d, want %d%s", got, want, why)
	}
}

func inventories(t *testing.T, st *store.Store, rpUUID string) map[string]placement.Inventory {
	t.Helper()
	ctx := context.Background()
	p, err := st.ProviderByUUID(ctx, rpUUID)
	if err != nil {
		t.Fatalf("provider: %v", err)
	}
	invs, _, err := st.Inventories(ctx, p)
	if err != nil {
		t.Fatalf("inventories: %v", err)
	}
	return invs
}

// rowIDs maps class name → inventories.id of the provider.
func rowIDs(t *testing.T, pool *pgxpool.Pool, rpUUID string) map[string]int {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT rc.name, i.id FROM inventories i
		JOIN resource_classes rc ON rc.id = i.resource_class_id
		JOIN resource_providers rp ON rp.id = i.resource_provider_id WHERE rp.uuid = $1`, rpUUID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var name string
		var id int
		if err := rows.Scan(&name, &id); err != nil {
			t.Fatal(err)
		}
		out[name] = id
	}
	return out
}

func inv(total int) placement.Inventory {
	return placement.Inventory{Total: total, MinUnit: 1, MaxUnit: 2147483647, StepSize: 1, AllocationRatio: 1}
}

// wantErr checks kind, code and message substring of err.
func wantErr(t *testing.T, err error, kind placement.Kind, code, msg string) {
	t.Helper()
	var pe *placement.Error
	if !errors.As(err, &pe) {
		t.Fatalf("error = %v, want *placement.Error", err)
	}
	if pe.Kind != kind || placement.CodeOf(err) != code || !strings.Contains(pe.Message, msg) {
		t.Fatalf("error = kind %d code %s %q, want kind %d code %s containing %q", pe.Kind, placement.CodeOf(err), pe.Message, kind, code, msg)
	}
}

func TestSetInventories_AddUpdateDeleteInPlace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, pool, rp := providerStore(t)

	gen, err := st.SetInventories(ctx, rp, 0, map[string]placement.Inventory{"VCPU": inv(4), "DISK_GB": inv(100)})
	if err != nil || gen != 1 {
		t.Fatalf("first SetInventories = %d, %v", gen, err)
	}
	before := rowIDs(t, pool, rp)

	memory := placement.Inventory{Total: 2048, Reserved: 512, MinUnit: 2, MaxUnit: 1024, StepSize: 2, AllocationRatio: 1.5}
	vcpu := placement.Inventory{Total: 8, MinUnit: 1, MaxUnit: 8, StepSize: 1, AllocationRatio: 16}
	gen, err = st.SetInventories(ctx, rp, 1, map[string]placement.Inventory{"VCPU": vcpu, "MEMORY_MB": memory})
	if err != nil || gen != 2 {
		t.Fatalf("second SetInventories = %d, %v", gen, err)
	}
	wantGeneration(t, st, rp, 2, "one bump per write")
	want := map[string]placement.Inventory{"VCPU": vcpu, "MEMORY_MB": memory}
	if got := inventories(t, st, rp); !reflect.DeepEqual(got, want) {
		t.Errorf("inventories = %+v, want %+v", got, want)
	}
	after := rowIDs(t, pool, rp)
	if after["VCPU"] != before["VCPU"] {
		t.Errorf("VCPU row id changed %d → %d: updates must be in place", before["VCPU"], after["VCPU"])
	}
	if _, ok := after["DISK_GB"]; ok {
		t.Error("DISK_GB not deleted")
	}

	var updated *time.Time
	if err := pool.QueryRow(ctx, `SELECT updated_at FROM inventories WHERE id = $1`, after["VCPU"]).Scan(&updated); err != nil || updated == nil {
		t.Errorf("updated_at of the kept row = %v, %v; want set", updated, err)
	}

	// An unchanged set still bumps the generation; an empty map deletes all.
	if gen, err = st.SetInventories(ctx, rp, 2, want); err != nil || gen != 3 {
		t.Fatalf("unchanged SetInventories = %d, %v", gen, err)
	}
	if gen, err = st.SetInventories(ctx, rp, 3, map[string]placement.Inventory{}); err != nil || gen != 4 {
		t.Fatalf("empty SetInventories = %d, %v", gen, err)
	}
	if got := inventories(t, st, rp); len(got) != 0 {
		t.Errorf("inventories after empty set = %v", got)
	}
}

func TestSetInventories_Errors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, pool, rp := providerStore(t)
	if _, err := st.SetInventories(ctx, rp, 0, map[string]placement.Inventory{"VCPU": inv(4), "DISK_GB": inv(10), "MEMORY_MB": inv(10)}); err != nil {
		t.Fatal(err)
	}

	t.Run("unknown class is a 400 naming it", func(t *testing.T) {
		_, err := st.SetInventories(ctx, rp, 1, map[string]placement.Inventory{"CUSTOM_NOPE": inv(1)})
		wantErr(t, err, placement.Invalid, placement.CodeUndefined,
			"Unknown resource class in inventory for resource provider "+rp+": No such resource class CUSTOM_NOPE.")
	})
	t.Run("stale generation is a concurrent update", func(t *testing.T) {
		_, err := st.SetInventories(ctx, rp, 0, map[string]placement.Inventory{})
		wantErr(t, err, placement.Conflict, placement.CodeConcurrentUpdate, "update conflict: "+store.MsgConcurrentUpdate)
	})
	t.Run("missing provider", func(t *testing.T) {
		_, err := st.SetInventories(ctx, "nope", 0, map[string]placement.Inventory{})
		wantErr(t, err, placement.NotFound, placement.CodeUndefined, "No resource provider with uuid nope found")
	})

	allocate(t, pool, rp, "VCPU", 2)
	allocate(t, pool, rp, "DISK_GB", 8)
	t.Run("removing classes in use lists them in class id order", func(t *testing.T) {
		_, err := st.SetInventories(ctx, rp, 1, map[string]placement.Inventory{"MEMORY_MB": inv(10)})
		wantErr(t, err, placement.Conflict, placement.CodeInventoryInUse,
			"update conflict: Inventory for 'VCPU, DISK_GB' on resource provider '"+rp+"' in use.")
	})
	wantGeneration(t, st, rp, 1, "rolled back after the failures")
	t.Run("shrinking below usage is allowed", func(t *testing.T) {
		gen, err := st.SetInventories(ctx, rp, 1, map[string]placement.Inventory{"VCPU": inv(1), "DISK_GB": inv(1)})
		if err != nil || gen != 2 {
			t.Fatalf("SetInventories = %d, %v", gen, err)
		}
	})
}

func TestReplaceInventories_LeavesGenerationToCaller(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _, rp := providerStore(t)
	if err := st.ReplaceInventoriesForTest(ctx, rp, map[string]placement.Inventory{"VCPU": inv(4)}); err != nil {
		t.Fatal(err)
	}
	wantGeneration(t, st, rp, 0, "")
	err := st.ReplaceInventoriesForTest(ctx, rp, map[string]placement.Inventory{"CUSTOM_NOPE": inv(4)})
	wantErr(t, err, placement.NotFound, placement.CodeUndefined, "No such resource class CUSTOM_NOPE.")
	// Capacity is the endpoints' business, not replaceInventories'.
	if err := st.ReplaceInventoriesForTest(ctx, rp, map[string]placement.Inventory{"VCPU": {Total: 1, Reserved: 5, MinUnit: 1, MaxUnit: 1, StepSize: 1, AllocationRatio: 1}}); err != nil {
		t.Errorf("reserved > total refused: %v", err)
	}
}

func TestCreateInventory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _, rp := providerStore(t)

	gen, err := st.CreateInventory(ctx, rp, "DISK_GB", inv(2048))
	if err != nil || gen != 1 {
		t.Fatalf("CreateInventory = %d, %v", gen, err)
	}
	_, err = st.CreateInventory(ctx, rp, "DISK_GB", inv(1))
	wantErr(t, err, placement.Conflict, placement.CodeConcurrentUpdate,
		`Update conflict: duplicate key value violates unique constraint "uniq_inventories0resource_provider_resource_class"`)
	_, err = st.CreateInventory(ctx, rp, "CUSTOM_NOPE", inv(1))
	wantErr(t, err, placement.Invalid, placement.CodeUndefined,
		"Unable to create inventory for resource provider "+rp+": No such resource class CUSTOM_NOPE.")
	wantGeneration(t, st, rp, 1, "")

	p, _ := st.ProviderByUUID(ctx, rp)
	got, lm, err := st.Inventory(ctx, p, "DISK_GB")
	if err != nil || got != inv(2048) || lm.IsZero() {
		t.Errorf("Inventory = %+v, %v, %v", got, lm, err)
	}
	_, _, err = st.Inventory(ctx, p, "VCPU")
	wantErr(t, err, placement.NotFound, placement.CodeUndefined, "No inventory of class VCPU for "+rp)
}

func TestUpdateInventory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, pool, rp := providerStore(t)
	if _, err := st.CreateInventory(ctx, rp, "VCPU", inv(4)); err != nil {
		t.Fatal(err)
	}
	allocate(t, pool, rp, "VCPU", 4)
	gen, err := st.UpdateInventory(ctx, rp, 1, "VCPU", inv(2))
	if err != nil || gen != 2 {
		t.Fatalf("UpdateInventory (below usage) = %d, %v", gen, err)
	}
	_, err = st.UpdateInventory(ctx, rp, 2, "MEMORY_MB", inv(2))
	wantErr(t, err, placement.Invalid, placement.CodeUndefined,
		"No inventory record with resource class for resource provider "+rp+": No inventory of class MEMORY_MB found.")
	_, err = st.UpdateInventory(ctx, rp, 2, "CUSTOM_NOPE", inv(2))
	wantErr(t, err, placement.NotFound, placement.CodeUndefined, "No such resource class CUSTOM_NOPE.")
	_, err = st.UpdateInventory(ctx, rp, 1, "VCPU", inv(2))
	wantErr(t, err, placement.Conflict, placement.CodeConcurrentUpdate, "update conflict: ")
}

func TestDeleteInventory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, pool, rp := providerStore(t)
	if _, err := st.SetInventories(ctx, rp, 0, map[string]placement.Inventory{"VCPU": inv(4), "DISK_GB": inv(10)}); err != nil {
		t.Fatal(err)
	}
	allocate(t, pool, rp, "VCPU", 1)

	err := st.DeleteInventory(ctx, rp, "VCPU")
	wantErr(t, err, placement.Conflict, placement.CodeConcurrentUpdate,
		"Unable to delete inventory of class VCPU: Inventory for 'VCPU' on resource provider '"+rp+"' in use.")
	err = st.DeleteInventory(ctx, rp, "MEMORY_MB")
	wantErr(t, err, placement.NotFound, placement.CodeUndefined,
		"No inventory of class MEMORY_MB found for delete: No inventory of class MEMORY_MB found for delete")
	err = st.DeleteInventory(ctx, rp, "vcpu")
	wantErr(t, err, placement.NotFound, placement.CodeUndefined, "No inventory of class vcpu found for delete: No such resource class vcpu.")
	if err := st.DeleteInventory(ctx, rp, "DISK_GB"); err != nil {
		t.Fatalf("DeleteInventory: %v", err)
	}
	wantGeneration(t, st, rp, 2, "")
}

func TestDeleteAllInventories(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, pool, rp := providerStore(t)
	if err := st.DeleteAllInventories(ctx, rp); err != nil {
		t.Fatalf("delete of nothing: %v", err)
	}
	wantGeneration(t, st, rp, 1, "bumped even when empty")
	if _, err := st.SetInventories(ctx, rp, 1, map[string]placement.Inventory{"VCPU": inv(4), "DISK_GB": inv(10), "MEMORY_MB": inv(10)}); err != nil {
		t.Fatal(err)
	}
	allocate(t, pool, rp, "DISK_GB", 1)
	allocate(t, pool, rp, "VCPU", 1)
	err := st.DeleteAllInventories(ctx, rp)
	wantErr(t, err, placement.Conflict, placement.CodeInventoryInUse, "Inventory for 'VCPU, DISK_GB' on resource provider '"+rp+"' in use.")
	if strings.HasPrefix(err.Error(), "update conflict") {
		t.Errorf("DELETE all message has the PUT prefix: %v", err)
	}
	if _, err := pool.Exec(ctx, `DELETE FROM allocations`); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteAllInventories(ctx, rp); err != nil {
		t.Fatal(err)
	}
	if got := inventories(t, st, rp); len(got) != 0 {
		t.Errorf("inventories = %v", got)
	}
}

// Concurrent writers with the same generation: exactly one wins, the others
// get placement.concurrent_update, and the generation moves by one.
func TestSetInventories_Concurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _, rp := providerStore(t)
	errs := testutil.Concurrently(6, func(i int) error {
		_, err := st.SetInventories(ctx, rp, 0, map[string]placement.Inventory{"VCPU": inv(i + 1), "DISK_GB": inv(10)})
		return err
	})
	if wins := winners(t, errs); wins != 1 {
		t.Errorf("%d writers won, want 1", wins)
	}
	wantGeneration(t, st, rp, 1, "")
}

// TestSetInventories_DeadlockIsRetried races SetInventories with a writer
// that takes the same locks in the other order, inventory rows before the
// provider row, as the Python service does. PostgreSQL breaks the deadlock
// by aborting our transaction (its deadlock_timeout expires first); the
// write then runs again and, the other writer having bumped the
// generation, answers the generation conflict instead of a database error.
func TestSetInventories_DeadlockIsRetried(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, pool, rp := providerStore(t)
	if _, err := st.SetInventories(ctx, rp, 0, map[string]placement.Inventory{"VCPU": inv(4)}); err != nil {
		t.Fatal(err)
	}
	other, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Rollback(ctx)
	if _, err := other.Exec(ctx, `SET LOCAL deadlock_timeout = '10s'`); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Exec(ctx, `UPDATE inventories SET total = total
		WHERE resource_provider_id = (SELECT id FROM resource_providers WHERE uuid = $1)`, rp); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := st.SetInventories(ctx, rp, 1, map[string]placement.Inventory{"VCPU": inv(8)})
		done <- err
	}()
	// Once our write holds the provider row and waits for the inventory
	// rows, the other writer asks for the provider row.
	waitForLockWait(t, pool, "%FROM inventories%FOR UPDATE%")
	if _, err := other.Exec(ctx, `UPDATE resource_providers SET generation = generation + 1 WHERE uuid = $1`, rp); err != nil {
		t.Fatalf("the other writer was chosen as the deadlock victim: %v", err)
	}
	if err := other.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	err = <-done
	if placement.KindOf(err) != placement.Conflict || !errors.Is(err, store.ErrStaleGeneration) {
		t.Fatalf("SetInventories after a deadlock = %v, want the stale generation conflict of a re-run", err)
	}
	if got := inventories(t, st, rp)["VCPU"].Total; got != 4 {
		t.Errorf("VCPU total = %d, want 4 (unchanged)", got)
	}
}
