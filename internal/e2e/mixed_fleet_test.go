// Package e2e holds end-to-end tests against the real Python Placement
// service (Debian's python3-placement under uwsgi). They run under
// `make e2e`, which installs the packages; `go test` alone skips them
// unless PLACEMENT_E2E=1.
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/openstack-placement-go/placement/internal/migrate"
	"github.com/openstack-placement-go/placement/internal/store"
	"github.com/openstack-placement-go/placement/internal/testdb"
	"github.com/openstack-placement-go/placement/internal/testserver"
	"github.com/openstack-placement-go/placement/internal/testutil"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// requireE2E skips the test unless PLACEMENT_E2E=1.
func requireE2E(t *testing.T) {
	t.Helper()
	if os.Getenv("PLACEMENT_E2E") != "1" {
		t.Skip("PLACEMENT_E2E=1 runs the end-to-end tests (make e2e)")
	}
}

// python starts the Python service on dsn's database and returns its URL.
func python(t *testing.T, dsn string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return pythonOn(t, fmt.Sprintf("postgresql+psycopg2://%s@%s%s", u.User.Username(), u.Host, u.Path))
}

// pythonOn starts the Python service on an oslo.db connection URL and
// returns its URL.
func pythonOn(t *testing.T, connection string) string {
	t.Helper()
	for _, f := range []string{"/usr/bin/placement-api", "/usr/bin/uwsgi"} {
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("%s missing: make e2e installs python3-placement and uwsgi", f)
		}
	}
	dir := t.TempDir()
	conf := fmt.Sprintf("[api]\nauth_strategy = noauth2\n[placement_database]\nconnection = %s\n", connection)
	if err := os.WriteFile(filepath.Join(dir, "placement.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t).String()
	cmd := exec.Command("uwsgi", "--plugin", "python3", "--http-socket", addr,
		"--wsgi-file", "/usr/bin/placement-api", "--processes", "2", "--threads", "4",
		"--master", "--die-on-term", "--add-header", "Connection: close")
	cmd.Env = append(os.Environ(), "OS_PLACEMENT_CONFIG_DIR="+dir)
	// Some of upstream's answers depend on the order of a set of strings,
	// which CPython randomises per process (allocation candidates with
	// several sharing providers: TestDifferentialSharing's world 7082
	// gives 2 candidates under PYTHONHASHSEED 0 and 3, 3 under 1 and 2).
	// A fixed seed makes a failing run repeatable; set PYTHONHASHSEED to
	// try others.
	if os.Getenv("PYTHONHASHSEED") == "" {
		cmd.Env = append(cmd.Env, "PYTHONHASHSEED=0")
	}
	logFile, err := os.Create(filepath.Join(dir, "uwsgi.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	start(t, cmd, 10*time.Second, fileText(logFile.Name()))
	base := "http://" + addr
	waitUp(t, base, 30*time.Second)
	return base
}

// ours starts an instance of this service on dsn.
func ours(t *testing.T, dsn string, cached bool) string {
	t.Helper()
	return testserver.Start(t, dsn, testserver.Options{Store: func(s *store.Store) { s.CandidateCache = cached }}).URL
}

type client struct {
	t *testing.T
}

func (c client) call(base, method, path string, body any) (int, map[string]any) {
	c.t.Helper()
	return testserver.Client{T: c.t}.CallJSON("1.39", method, base+path, body)
}

func (c client) must(base string, want int, method, path string, body any) map[string]any {
	c.t.Helper()
	st, out := c.call(base, method, path, body)
	if st != want {
		c.t.Fatalf("%s %s%s = %d %v, want %d", method, base, path, st, out, want)
	}
	return out
}

// TestMixedFleet writes through the Python service while two cached
// instances of ours answer candidates: after every write, their answers
// equal the per-request loader's and the Python service's own.
func TestMixedFleet(t *testing.T) {
	requireE2E(t)
	dsn := testdb.New(t)
	py := python(t, dsn)
	cached := []string{ours(t, dsn, true), ours(t, dsn, true)}
	oracle := ours(t, dsn, false)
	c := client{t}

	// agree compares the candidates of query on every server and returns
	// their number.
	agree := func(step, query string) int {
		t.Helper()
		path := "/allocation_candidates?" + query
		want := c.must(oracle, 200, "GET", path, nil)
		n := len(want["allocation_requests"].([]any))
		pyOut := c.must(py, 200, "GET", path, nil)
		if m := len(pyOut["allocation_requests"].([]any)); m != n {
			t.Fatalf("%s: the Python service has %d candidates, our loader %d", step, m, n)
		}
		if g, w := fmt.Sprint(pyOut["provider_summaries"]), fmt.Sprint(want["provider_summaries"]); g != w {
			t.Fatalf("%s: provider summaries differ:\nPython %s\nours   %s", step, g, w)
		}
		for i, srv := range cached {
			got := c.must(srv, 200, "GET", path, nil)
			if g, w := fmt.Sprint(got), fmt.Sprint(want); g != w {
				t.Fatalf("%s: cached instance %d is stale:\n got %s\nwant %s", step, i, g, w)
			}
		}
		return n
	}
	const q = "resources=VCPU:1,MEMORY_MB:256"
	agree("empty", q)

	var rps []string
	for i := range 3 {
		rp := uuid.NewString()
		rps = append(rps, rp)
		c.must(py, 200, "POST", "/resource_providers", map[string]any{"name": fmt.Sprintf("py-%d", i), "uuid": rp})
		c.must(py, 200, "PUT", "/resource_providers/"+rp+"/inventories", map[string]any{
			"resource_provider_generation": 0,
			"inventories": map[string]any{
				"VCPU":      map[string]any{"total": 4},
				"MEMORY_MB": map[string]any{"total": 1024}}})
	}
	if n := agree("providers created by Python", q); n != 3 {
		t.Fatalf("%d candidates, want 3", n)
	}

	consumer := uuid.NewString()
	claim := func(rp string, gen any) {
		c.must(py, 204, "PUT", "/allocations/"+consumer, map[string]any{
			"allocations": map[string]any{rp: map[string]any{"resources": map[string]int{"VCPU": 4, "MEMORY_MB": 256}}},
			"project_id":  uuid.NewString(), "user_id": uuid.NewString(), "consumer_generation": gen,
			"consumer_type": "INSTANCE"})
	}
	claim(rps[0], nil)
	if n := agree("claim by Python", q); n != 2 {
		t.Fatalf("%d candidates after filling one provider, want 2", n)
	}
	claim(rps[1], 1)
	agree("move by Python", "resources=VCPU:1&in_tree="+rps[0])
	if n := agree("move by Python", q); n != 2 {
		t.Fatalf("%d candidates after the move, want 2", n)
	}

	// Our write, Python's view, then Python's writes again.
	other := uuid.NewString()
	c.must(cached[0], 204, "PUT", "/allocations/"+other, map[string]any{
		"allocations": map[string]any{rps[2]: map[string]any{"resources": map[string]int{"VCPU": 4}}},
		"project_id":  uuid.NewString(), "user_id": uuid.NewString(), "consumer_generation": nil,
		"consumer_type": "INSTANCE"})
	if n := agree("claim by us", q); n != 1 {
		t.Fatalf("%d candidates after our claim, want 1", n)
	}

	c.must(py, 201, "PUT", "/traits/CUSTOM_MIXED", nil)
	gen := c.must(py, 200, "GET", "/resource_providers/"+rps[0], nil)["generation"]
	c.must(py, 200, "PUT", "/resource_providers/"+rps[0]+"/traits", map[string]any{
		"resource_provider_generation": gen, "traits": []string{"CUSTOM_MIXED"}})
	if n := agree("traits by Python", q+"&required=CUSTOM_MIXED"); n != 1 {
		t.Fatalf("%d candidates with the trait, want 1", n)
	}
	agg := uuid.NewString()
	gen = c.must(py, 200, "GET", "/resource_providers/"+rps[0], nil)["generation"]
	c.must(py, 200, "PUT", "/resource_providers/"+rps[0]+"/aggregates", map[string]any{
		"resource_provider_generation": gen, "aggregates": []string{agg}})
	if n := agree("aggregates by Python", q+"&member_of="+agg); n != 1 {
		t.Fatalf("%d candidates in the aggregate, want 1", n)
	}

	child := uuid.NewString()
	c.must(py, 200, "POST", "/resource_providers", map[string]any{"name": "py-child", "uuid": child, "parent_provider_uuid": rps[0]})
	c.must(py, 200, "PUT", "/resource_providers/"+child+"/inventories", map[string]any{
		"resource_provider_generation": 0,
		"inventories":                  map[string]any{"SRIOV_NET_VF": map[string]any{"total": 8}}})
	if n := agree("child by Python", q+",SRIOV_NET_VF:1"); n != 1 {
		t.Fatalf("%d candidates with a VF, want 1", n)
	}
	c.must(py, 200, "PUT", "/resource_providers/"+child, map[string]any{"name": "py-child", "parent_provider_uuid": nil})
	if n := agree("child un-parented by Python", q+",SRIOV_NET_VF:1"); n != 0 {
		t.Fatalf("%d candidates after un-parenting, want 0", n)
	}

	c.must(py, 204, "DELETE", "/allocations/"+consumer, nil)
	c.must(py, 204, "DELETE", "/resource_providers/"+child, nil)
	c.must(py, 204, "DELETE", "/resource_providers/"+rps[0], nil)
	if n := agree("deletes by Python", q); n != 1 {
		t.Fatalf("%d candidates after the deletes, want 1", n)
	}
	if st, _ := c.call(cached[1], "GET", "/resource_providers/"+rps[0], nil); st != 404 {
		t.Fatalf("deleted provider: %d", st)
	}
	if strings.Contains(fmt.Sprint(c.must(cached[1], 200, "GET", "/allocation_candidates?resources=VCPU:1", nil)), rps[0]) {
		t.Fatal("a provider deleted by the Python service is still offered")
	}
}

// TestMixedFleet_ConcurrentWrites has clients write inventories,
// aggregates, traits and allocations of three providers through the
// Python service and one instance of ours at once, each write naming the
// generation it read from the same server. The two services lock a
// provider's rows in different orders (Python bumps the generation last),
// so some writes deadlock; ours must run its aborted write again and never
// answer 5xx. (The Python service does answer 500 to some of them.)
func TestMixedFleet_ConcurrentWrites(t *testing.T) {
	requireE2E(t)
	dsn := testdb.New(t)
	servers := []string{python(t, dsn), ours(t, dsn, true)}
	c := client{t}
	var rps []string
	for i := range 3 {
		rp := uuid.NewString()
		rps = append(rps, rp)
		c.must(servers[1], 200, "POST", "/resource_providers", map[string]any{"name": fmt.Sprintf("rp-%d", i), "uuid": rp})
	}
	traits := []string{"CUSTOM_MIX_A", "CUSTOM_MIX_B", "CUSTOM_MIX_C"}
	for _, tr := range traits {
		c.must(servers[1], 201, "PUT", "/traits/"+tr, nil)
	}
	aggs := []string{uuid.NewString(), uuid.NewString(), uuid.NewString()}

	// write makes one write of kind op (0–3) to rp through base, with the
	// generation read there first; it returns the status of the write.
	write := func(base string, op, n int, rp string) int {
		st, p := tryCall(t, base, "GET", "/resource_providers/"+rp, nil)
		if st != 200 {
			return st
		}
		gen := p["generation"]
		switch op {
		case 0:
			st, _ = tryCall(t, base, "PUT", "/resource_providers/"+rp+"/inventories", map[string]any{
				"resource_provider_generation": gen,
				"inventories": map[string]any{"VCPU": map[string]any{"total": 64 + n%8},
					"MEMORY_MB": map[string]any{"total": 65536}}})
		case 1:
			st, _ = tryCall(t, base, "PUT", "/resource_providers/"+rp+"/aggregates", map[string]any{
				"resource_provider_generation": gen, "aggregates": aggs[:1+n%3]})
		case 2:
			st, _ = tryCall(t, base, "PUT", "/resource_providers/"+rp+"/traits", map[string]any{
				"resource_provider_generation": gen, "traits": traits[:1+n%3]})
		default:
			other := rps[(slices.Index(rps, rp)+1+n%2)%len(rps)]
			st, _ = tryCall(t, base, "PUT", "/allocations/"+uuid.NewString(), map[string]any{
				"allocations": map[string]any{
					rp:    map[string]any{"resources": map[string]int{"VCPU": 1}},
					other: map[string]any{"resources": map[string]int{"VCPU": 1}}},
				"project_id": uuid.NewString(), "user_id": uuid.NewString(),
				"consumer_generation": nil, "consumer_type": "INSTANCE"})
		}
		return st
	}
	hammer(t, servers, func(base string, w, k int) int {
		n := w + 12*k
		return write(base, n/2%4, n, rps[n/8%len(rps)])
	})
}

// TestMixedFleet_ConcurrentTreeChanges has clients create, delete and move
// providers, create and delete traits and set provider traits through the
// Python service and ours at once. Writes that race a delete must get a
// 4xx from ours, never a foreign key error as a 500.
func TestMixedFleet_ConcurrentTreeChanges(t *testing.T) {
	requireE2E(t)
	dsn := testdb.New(t)
	servers := []string{python(t, dsn), ours(t, dsn, true)}
	rps := []string{uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()}
	traits := []string{"CUSTOM_TREE_A", "CUSTOM_TREE_B"}
	hammer(t, servers, func(base string, w, k int) int {
		n := w*7 + k*13
		rp, other, trait := rps[n%len(rps)], rps[n/5%len(rps)], traits[n%len(traits)]
		var st int
		switch n / 25 % 6 {
		case 0:
			body := map[string]any{"name": "tree-" + rp[:8], "uuid": rp}
			if other != rp && n%2 == 0 {
				body["parent_provider_uuid"] = other
			}
			st, _ = tryCall(t, base, "POST", "/resource_providers", body)
		case 1:
			st, _ = tryCall(t, base, "DELETE", "/resource_providers/"+rp, nil)
		case 2:
			var parent any = other
			if other == rp {
				parent = nil
			}
			st, _ = tryCall(t, base, "PUT", "/resource_providers/"+rp, map[string]any{"name": "tree-" + rp[:8], "parent_provider_uuid": parent})
		case 3:
			st, _ = tryCall(t, base, "PUT", "/traits/"+trait, nil)
		case 4:
			st, _ = tryCall(t, base, "DELETE", "/traits/"+trait, nil)
		default:
			var p map[string]any
			if st, p = tryCall(t, base, "GET", "/resource_providers/"+rp, nil); st == 200 {
				st, _ = tryCall(t, base, "PUT", "/resource_providers/"+rp+"/traits", map[string]any{
					"resource_provider_generation": p["generation"], "traits": []string{trait}})
			}
		}
		return st
	})
	// The Python service moves providers without locking their trees, so
	// the hammer may leave stored roots that disagree with the parents:
	// placement-manage db check_trees --repair must leave none.
	ctx := context.Background()
	found, err := migrate.CheckTrees(ctx, dsn, true)
	if err != nil {
		t.Fatal(err)
	}
	left, err := migrate.CheckTrees(ctx, dsn, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("check_trees --repair: %d providers with a wrong root, %d left after the repair", len(found), len(left))
	for _, p := range left {
		if p.Root != "" {
			t.Errorf("not repaired: %+v", p)
		}
	}
}

// tryCall sends one request as admin at 1.39 with a deadline and returns
// its status (0: no answer) and body, without failing the test: the Python
// service fails some requests.
func tryCall(t *testing.T, base, method, path string, body any) (int, map[string]any) {
	req, err := testserver.Request(context.Background(), "1.39", method, base+path, body)
	if err != nil {
		t.Error(err)
		return 0, nil
	}
	resp, err := hammerClient.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

var hammerClient = &http.Client{Timeout: 30 * time.Second}

// hammer has 12 clients call op for 15 s, each alternating between the
// Python service (servers[0]) and ours (servers[1]); op(base, client,
// iteration) returns the status of what it sent. Ours must never answer
// 5xx or not at all, and must answer both 2xx and 4xx (the clients really
// raced).
func hammer(t *testing.T, servers []string, op func(base string, w, k int) int) {
	t.Helper()
	var (
		mu     sync.Mutex
		counts = map[string]int{} // "<server> <status class>"
		ours5x []string
	)
	deadline := time.Now().Add(15 * time.Second)
	testutil.Concurrently(12, func(w int) error {
		for k := 0; time.Now().Before(deadline); k++ {
			srv := (w + k) % 2
			st := op(servers[srv], w, k)
			mu.Lock()
			counts[fmt.Sprintf("%s %dxx", []string{"python", "ours"}[srv], st/100)]++
			if srv == 1 && (st >= 500 || st == 0) {
				ours5x = append(ours5x, fmt.Sprintf("client %d, iteration %d: %d", w, k, st))
			}
			mu.Unlock()
		}
		return nil
	})
	t.Logf("answers: %v", counts)
	if len(ours5x) > 0 {
		t.Fatalf("%d requests to our service failed with a server error: %v", len(ours5x), ours5x[:min(len(ours5x), 10)])
	}
	if counts["ours 2xx"] == 0 || counts["ours 4xx"] == 0 {
		t.Fatalf("no contention measured: %v", counts)
	}
}
