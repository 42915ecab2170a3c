package gabbits

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/openstack-placement-go/placement/internal/store"
	"github.com/openstack-placement-go/placement/internal/testdb"
	"github.com/openstack-placement-go/placement/internal/testserver"
)

// fleet is a few service instances on one database: cached ones with
// their own pools, stores and caches, an oracle that loads candidates per
// request, and a pool for writing behind their backs.
type fleet struct {
	client
	cached []*httptest.Server
	oracle *httptest.Server
	db     *pgxpool.Pool
	logs   *testserver.Buffer
}

func newFleet(t testing.TB) *fleet {
	t.Helper()
	dsn := testdb.New(t)
	f := &fleet{client: client{t, &http.Client{}}, logs: &testserver.Buffer{}}
	logger := slog.New(slog.NewTextHandler(f.logs, nil))
	for i := range 3 {
		cached := i < 2
		srv := testserver.Start(t, dsn, testserver.Options{Logger: logger, Store: func(s *store.Store) { s.CandidateCache = cached }})
		if cached {
			f.cached = append(f.cached, srv)
		} else {
			f.oracle = srv
		}
	}
	pool, err := store.Open(context.Background(), dsn, store.PoolOptions{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	f.db = pool
	return f
}

// vcpuProvider creates a root provider with total VCPU through srv and
// returns its uuid.
func (f *fleet) vcpuProvider(srv *httptest.Server, total int) string {
	f.t.Helper()
	rp := uuid.NewString()
	f.must(srv, 200, "POST", "/resource_providers", map[string]any{"name": rp, "uuid": rp})
	f.must(srv, 200, "PUT", "/resource_providers/"+rp+"/inventories", map[string]any{
		"resource_provider_generation": 0,
		"inventories":                  map[string]any{"VCPU": map[string]any{"total": total}}})
	return rp
}

// sql runs statements, on one connection, as a writer other than this
// service.
func (f *fleet) sql(stmts ...string) {
	f.t.Helper()
	ctx := context.Background()
	conn, err := f.db.Acquire(ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	defer conn.Release()
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			f.t.Fatalf("%s: %v", s, err)
		}
	}
}

// agree checks that every cached instance answers query exactly as the
// per-request loader does, and returns the number of candidates.
func (f *fleet) agree(query string) int {
	f.t.Helper()
	n, want := f.candidates(f.oracle, query)
	for i, srv := range f.cached {
		m, got := f.candidates(srv, query)
		if m != n || fmt.Sprint(got) != fmt.Sprint(want) {
			f.t.Fatalf("%s: instance %d has %d candidates %v, the database %d %v", query, i, m, got, n, want)
		}
	}
	return n
}

// warm makes every cached instance load query's answer.
func (f *fleet) warm(query string) {
	f.t.Helper()
	for _, srv := range f.cached {
		f.candidates(srv, query)
	}
}

// TestCandidateCache_RebuildKeepsChangesMadeInPlace: what refreshes put
// in place (a provider created; then a trait set on it, a child added to
// its tree, an allocation; then a provider deleted; then the child
// un-parented) is still there after a later refresh that must rebuild the
// snapshot (a provider inserted by hand with an id below the highest), on
// every instance.
func TestCandidateCache_RebuildKeepsChangesMadeInPlace(t *testing.T) {
	f := newFleet(t)
	const q = "resources=VCPU:1"
	doomed := f.vcpuProvider(f.cached[0], 4)
	f.warm(q)

	kept := f.vcpuProvider(f.cached[0], 8)
	f.warm(q) // kept appended
	f.must(f.cached[0], 201, "PUT", "/traits/CUSTOM_KEPT", nil)
	f.must(f.cached[0], 200, "PUT", "/resource_providers/"+kept+"/traits", map[string]any{
		"resource_provider_generation": 1, "traits": []string{"CUSTOM_KEPT"}})
	child := uuid.NewString()
	f.must(f.cached[0], 200, "POST", "/resource_providers", map[string]any{"name": child, "uuid": child, "parent_provider_uuid": kept})
	f.must(f.cached[0], 200, "PUT", "/resource_providers/"+child+"/inventories", map[string]any{
		"resource_provider_generation": 0,
		"inventories":                  map[string]any{"VGPU": map[string]any{"total": 2}}})
	f.must(f.cached[0], 204, "PUT", "/allocations/"+uuid.NewString(), map[string]any{
		"allocations":         map[string]any{kept: map[string]any{"resources": map[string]int{"VCPU": 6}}},
		"consumer_generation": nil, "project_id": uuid.NewString(), "user_id": uuid.NewString(), "consumer_type": "INSTANCE"})
	// kept has 2 VCPU free, doomed 4, the child 2 VGPU.
	check := func(when string, want map[string]int) {
		t.Helper()
		for query, n := range want {
			if got := f.agree(query); got != n {
				t.Fatalf("%s: %s has %d candidates, want %d", when, query, got, n)
			}
		}
	}
	check("applied in place", map[string]int{q: 2, "resources=VCPU:3": 1, q + "&required=CUSTOM_KEPT": 1, q + "&resources1=VGPU:1": 1})
	f.must(f.cached[0], 204, "DELETE", "/resource_providers/"+doomed, nil)
	check("deleted in place", map[string]int{q: 1, "resources=VCPU:3": 0, q + "&required=CUSTOM_KEPT": 1, q + "&resources1=VGPU:1": 1})
	f.must(f.cached[0], 200, "PUT", "/resource_providers/"+child, map[string]any{"name": child, "parent_provider_uuid": nil})
	moved := map[string]int{q: 1, "resources=VCPU:3": 0, q + "&required=CUSTOM_KEPT": 1, q + "&resources1=VGPU:1": 0, "resources=VGPU:1": 1}
	check("un-parented in place", moved)
	byHand := func(above int) {
		f.sql(fmt.Sprintf(`INSERT INTO resource_providers (id, uuid, name, generation, root_provider_id, created_at)
			SELECT max(id) + %[1]d, '%[2]s', '%[2]s', 0, max(id) + %[1]d, now() FROM resource_providers`, above, uuid.NewString()))
	}
	byHand(10)
	check("a provider far above the others", moved)
	byHand(-5)
	check("after a rebuild", moved)
}

// TestCandidateCache_MoveFreesSource: a consumer moved from A to B frees
// A at once, on the instance that wrote and on another one.
func TestCandidateCache_MoveFreesSource(t *testing.T) {
	f := newFleet(t)
	a, b := f.cached[0], f.cached[1]
	rps := []string{f.vcpuProvider(a, 16), f.vcpuProvider(a, 16)}
	consumer := uuid.NewString()
	put := func(rp string, gen any) {
		f.must(a, 204, "PUT", "/allocations/"+consumer, map[string]any{
			"allocations": map[string]any{rp: map[string]any{"resources": map[string]int{"VCPU": 16}}},
			"project_id":  "p", "user_id": "u", "consumer_generation": gen, "consumer_type": "INSTANCE"})
	}
	put(rps[0], nil)
	inA := "resources=VCPU:1&in_tree=" + rps[0]
	f.warm(inA)
	if n := f.agree(inA); n != 0 {
		t.Fatalf("A full: %d candidates", n)
	}
	put(rps[1], 1)
	for i, srv := range []*httptest.Server{b, a} {
		if n, _ := f.candidates(srv, inA); n != 1 {
			t.Fatalf("instance %d after the move: %d candidates in A's tree, want 1", i, n)
		}
	}
	if n := f.agree("resources=VCPU:1&in_tree=" + rps[1]); n != 0 {
		t.Fatalf("B after the move: %d candidates, want 0", n)
	}
}

// TestCandidateCache_ForeignWriters changes the database with plain SQL in
// the shapes the Python service writes, and checks that the next
// candidates request on every instance reflects each change.
func TestCandidateCache_ForeignWriters(t *testing.T) {
	f := newFleet(t)
	rp, agg := uuid.NewString(), uuid.NewString()
	const q = "resources=VCPU:1,MEMORY_MB:512"
	f.warm(q)
	if n := f.agree(q); n != 0 {
		t.Fatalf("empty: %d candidates", n)
	}

	// Create a provider as upstream does: insert, then set its root.
	f.sql(fmt.Sprintf(`INSERT INTO resource_providers (uuid, name, generation, created_at) VALUES ('%s', 'foreign', 0, now())`, rp),
		fmt.Sprintf(`UPDATE resource_providers SET root_provider_id = id WHERE uuid = '%s'`, rp))
	if n := f.agree(q); n != 0 {
		t.Fatalf("provider without inventory: %d candidates", n)
	}
	rpID := fmt.Sprintf(`(SELECT id FROM resource_providers WHERE uuid = '%s')`, rp)
	class := func(name string) string {
		return fmt.Sprintf(`(SELECT id FROM resource_classes WHERE name = '%s')`, name)
	}
	f.sql(`BEGIN`,
		fmt.Sprintf(`INSERT INTO inventories (resource_provider_id, resource_class_id, total, reserved, min_unit, max_unit, step_size, allocation_ratio, created_at)
			VALUES (%s, %s, 8, 0, 1, 8, 1, 1.0, now()), (%s, %s, 4096, 0, 1, 4096, 1, 1.0, now())`, rpID, class("VCPU"), rpID, class("MEMORY_MB")),
		fmt.Sprintf(`UPDATE resource_providers SET generation = generation + 1 WHERE uuid = '%s'`, rp),
		`COMMIT`)
	if n := f.agree(q); n != 1 {
		t.Fatalf("after inventory: %d candidates, want 1", n)
	}

	// A consumer with allocations (projects, users, consumers, allocations).
	consumer := uuid.NewString()
	f.sql(`INSERT INTO projects (external_id) VALUES ('fp') ON CONFLICT DO NOTHING`,
		`INSERT INTO users (external_id) VALUES ('fu') ON CONFLICT DO NOTHING`,
		fmt.Sprintf(`INSERT INTO consumers (uuid, project_id, user_id, generation) SELECT '%s', p.id, u.id, 0
			FROM projects p, users u WHERE p.external_id = 'fp' AND u.external_id = 'fu'`, consumer),
		fmt.Sprintf(`INSERT INTO allocations (resource_provider_id, consumer_id, resource_class_id, used, created_at)
			VALUES (%s, '%s', %s, 8, now())`, rpID, consumer, class("VCPU")))
	if n := f.agree(q); n != 0 {
		t.Fatalf("after a foreign allocation of every VCPU: %d candidates, want 0", n)
	}
	f.sql(fmt.Sprintf(`DELETE FROM allocations WHERE consumer_id = '%s'`, consumer))
	if n := f.agree(q); n != 1 {
		t.Fatalf("after deleting it: %d candidates, want 1", n)
	}
	// An operator's hand fix.
	f.sql(fmt.Sprintf(`UPDATE inventories SET reserved = 8 WHERE resource_provider_id = %s AND resource_class_id = %s`, rpID, class("VCPU")))
	if n := f.agree(q); n != 0 {
		t.Fatalf("after reserving every VCPU: %d candidates, want 0", n)
	}
	f.sql(fmt.Sprintf(`UPDATE inventories SET reserved = 0 WHERE resource_provider_id = %s`, rpID))

	// Traits and aggregates.
	f.sql(fmt.Sprintf(`INSERT INTO resource_provider_traits (trait_id, resource_provider_id, created_at)
		SELECT id, %s, now() FROM traits WHERE name = 'HW_CPU_X86_AVX2'`, rpID))
	if n := f.agree(q + "&required=HW_CPU_X86_AVX2"); n != 1 {
		t.Fatalf("after adding a trait: %d candidates, want 1", n)
	}
	f.sql(fmt.Sprintf(`DELETE FROM resource_provider_traits WHERE resource_provider_id = %s`, rpID))
	if n := f.agree(q + "&required=HW_CPU_X86_AVX2"); n != 0 {
		t.Fatalf("after removing it: %d candidates, want 0", n)
	}
	f.sql(fmt.Sprintf(`INSERT INTO placement_aggregates (uuid, created_at) VALUES ('%s', now())`, agg),
		fmt.Sprintf(`INSERT INTO resource_provider_aggregates (resource_provider_id, aggregate_id, created_at)
			SELECT %s, id, now() FROM placement_aggregates WHERE uuid = '%s'`, rpID, agg))
	if n := f.agree(q + "&member_of=" + agg); n != 1 {
		t.Fatalf("after joining an aggregate: %d candidates, want 1", n)
	}
	// Renaming an aggregate's uuid by hand invalidates everything.
	other := uuid.NewString()
	f.sql(fmt.Sprintf(`UPDATE placement_aggregates SET uuid = '%s' WHERE uuid = '%s'`, other, agg))
	if n := f.agree(q + "&member_of=" + other); n != 1 {
		t.Fatalf("after renaming the aggregate: %d candidates, want 1", n)
	}

	// A child provider, re-parented away by hand.
	child := uuid.NewString()
	f.sql(fmt.Sprintf(`INSERT INTO resource_providers (uuid, name, generation, root_provider_id, parent_provider_id, created_at)
		SELECT '%s', 'foreign child', 0, id, id, now() FROM resource_providers WHERE uuid = '%s'`, child, rp),
		fmt.Sprintf(`INSERT INTO inventories (resource_provider_id, resource_class_id, total, reserved, min_unit, max_unit, step_size, allocation_ratio)
			SELECT id, %s, 4, 0, 1, 4, 1, 1.0 FROM resource_providers WHERE uuid = '%s'`, class("SRIOV_NET_VF"), child))
	if n := f.agree(q + ",SRIOV_NET_VF:1"); n != 1 {
		t.Fatalf("after adding a child: %d candidates, want 1", n)
	}
	f.sql(fmt.Sprintf(`UPDATE resource_providers SET parent_provider_id = NULL, root_provider_id = id WHERE uuid = '%s'`, child))
	if n := f.agree(q + ",SRIOV_NET_VF:1"); n != 0 {
		t.Fatalf("after moving the child out: %d candidates, want 0", n)
	}

	// Delete the provider as upstream does.
	f.sql(`BEGIN`,
		fmt.Sprintf(`DELETE FROM inventories WHERE resource_provider_id = %s`, rpID),
		fmt.Sprintf(`DELETE FROM resource_provider_aggregates WHERE resource_provider_id = %s`, rpID),
		fmt.Sprintf(`DELETE FROM resource_provider_traits WHERE resource_provider_id = %s`, rpID),
		fmt.Sprintf(`DELETE FROM resource_providers WHERE uuid = '%s'`, rp),
		`COMMIT`)
	if n := f.agree(q); n != 0 {
		t.Fatalf("after deleting the provider: %d candidates, want 0", n)
	}
	// A truncate invalidates everything.
	if n := f.agree("resources=SRIOV_NET_VF:1"); n != 1 {
		t.Fatalf("the moved child: %d candidates, want 1", n)
	}
	f.sql(`TRUNCATE inventories`)
	if n := f.agree("resources=SRIOV_NET_VF:1"); n != 0 {
		t.Fatalf("after TRUNCATE: %d candidates, want 0", n)
	}
	if strings.Contains(f.logs.String(), "capture") {
		t.Errorf("capture complaints with the capture in place:\n%s", f.logs)
	}
}

// TestCandidateCache_WithoutCapture: with a capture trigger disabled, the
// instances answer from the database (never stale), say so once, and
// trust their cache again once the capture is back.
func TestCandidateCache_WithoutCapture(t *testing.T) {
	f := newFleet(t)
	rp := f.vcpuProvider(f.cached[0], 4)
	const q = "resources=VCPU:4"
	f.warm(q)
	if n := f.agree(q); n != 1 {
		t.Fatalf("before: %d candidates", n)
	}
	f.sql(`ALTER TABLE allocations DISABLE TRIGGER placement_capture_insert`)
	f.sql(fmt.Sprintf(`INSERT INTO allocations (resource_provider_id, consumer_id, resource_class_id, used)
		SELECT rp.id, 'c1', rc.id, 1 FROM resource_providers rp, resource_classes rc WHERE rp.uuid = '%s' AND rc.name = 'VCPU'`, rp))
	for range 3 {
		if n := f.agree(q); n != 0 {
			t.Fatalf("capture disabled: %d candidates, want 0 (stale cache)", n)
		}
	}
	if got := strings.Count(f.logs.String(), "change capture triggers are missing"); got != len(f.cached) {
		t.Errorf("%d complaints, want one per instance:\n%s", got, f.logs)
	}
	f.sql(`ALTER TABLE allocations ENABLE ALWAYS TRIGGER placement_capture_insert`)
	f.sql(`DELETE FROM allocations WHERE consumer_id = 'c1'`)
	if n := f.agree(q); n != 1 {
		t.Fatalf("capture back: %d candidates, want 1", n)
	}
	if got := strings.Count(f.logs.String(), "change capture is back"); got != len(f.cached) {
		t.Errorf("%d recoveries logged, want one per instance:\n%s", got, f.logs)
	}
}

// TestCandidateCache_ReadYourWritesUnderLoad: while readers keep every
// instance's shared change checks busy, a request sent after a write
// returned (to another instance, or behind the service's back) sees it.
// Each step raises the VCPU total by one and asks for exactly the new
// total, which only the new inventory can serve.
func TestCandidateCache_ReadYourWritesUnderLoad(t *testing.T) {
	f := newFleet(t)
	rp := f.vcpuProvider(f.cached[0], 1)
	stop := make(chan struct{})
	var busy sync.WaitGroup
	for i := range 6 {
		srv := f.cached[i%len(f.cached)]
		busy.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				f.call(srv, "1.39", "GET", "/allocation_candidates?resources=VCPU:1", nil)
			}
		})
	}
	defer func() { close(stop); busy.Wait() }()
	for total := 2; total <= 40; total++ {
		if total%2 == 0 {
			gen := total - 1
			f.must(f.cached[total%len(f.cached)], 200, "PUT", "/resource_providers/"+rp+"/inventories", map[string]any{
				"resource_provider_generation": gen,
				"inventories":                  map[string]any{"VCPU": map[string]any{"total": total}}})
		} else {
			f.sql(fmt.Sprintf(`UPDATE inventories SET total = %d WHERE resource_provider_id = (SELECT id FROM resource_providers WHERE uuid = '%s')`, total, rp),
				fmt.Sprintf(`UPDATE resource_providers SET generation = generation + 1 WHERE uuid = '%s'`, rp))
		}
		var readers sync.WaitGroup
		for i := range 4 {
			srv := f.cached[i%len(f.cached)]
			readers.Go(func() {
				st, out := f.call(srv, "1.39", "GET", fmt.Sprintf("/allocation_candidates?resources=VCPU:%d", total), nil)
				if reqs, _ := out["allocation_requests"].([]any); st != 200 || len(reqs) != 1 {
					t.Errorf("total %d: %d %d candidates after the write returned, want 200 and 1", total, st, len(reqs))
				}
			})
		}
		readers.Wait()
		if t.Failed() {
			return
		}
	}
}

// TestCandidateCache_CommittedAfterRefresh: a transaction in progress when
// an instance refreshed, and committed afterwards, is seen by the next
// request. Its id is below the refreshed snapshot's xmax, so only the
// check of the snapshot's in-progress list can find its change.
func TestCandidateCache_CommittedAfterRefresh(t *testing.T) {
	f := newFleet(t)
	a := f.vcpuProvider(f.cached[0], 1)
	b := f.vcpuProvider(f.cached[0], 1)
	f.warm("resources=VCPU:1")
	ctx := context.Background()
	tx, err := f.db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `UPDATE inventories SET total = 8
		WHERE resource_provider_id = (SELECT id FROM resource_providers WHERE uuid = $1)`, a); err != nil {
		t.Fatal(err)
	}
	f.sql(fmt.Sprintf(`UPDATE inventories SET total = 2 WHERE resource_provider_id = (SELECT id FROM resource_providers WHERE uuid = '%s')`, b))
	if n := f.agree("resources=VCPU:2"); n != 1 { // every instance refreshes while the transaction runs
		t.Fatalf("%d candidates for VCPU:2, want 1", n)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if n := f.agree("resources=VCPU:8"); n != 1 {
		t.Fatalf("%d candidates for VCPU:8 after the commit, want 1", n)
	}
}
