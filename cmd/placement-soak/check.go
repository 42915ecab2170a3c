package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Check is one invariant and what broke it.
type Check struct {
	Name       string
	Checked    int // things looked at
	Violations []string
}

func (c *Check) fail(format string, args ...any) {
	c.Violations = append(c.Violations, fmt.Sprintf(format, args...))
}

// Check verifies the invariants once the load has stopped and everything
// is back up.
func (s *Soak) Check(ctx context.Context) []*Check {
	var checks []*Check
	during := &Check{Name: "reads during the load matched the model"}
	s.mu.Lock()
	during.Violations = slices.Clone(s.violations)
	s.mu.Unlock()
	during.Checked = s.Stats.Count("read", "")
	checks = append(checks, during)
	checks = append(checks, s.checkNo500(), s.checkNo400())

	conn, err := pgx.Connect(ctx, s.env.DBURL)
	if err != nil {
		return append(checks, &Check{Name: "database reachable", Violations: []string{err.Error()}})
	}
	defer conn.Close(context.WithoutCancel(ctx))
	checks = append(checks, s.checkCapacity(ctx, conn), s.checkRows(ctx, conn))

	dbState, err := consumersFromDB(ctx, conn)
	if err != nil {
		return append(checks, &Check{Name: "consumers readable", Violations: []string{err.Error()}})
	}
	checks = append(checks, s.checkConsumers("consumers in the database match acknowledged writes", dbState))
	for _, p := range s.env.Procs {
		checks = append(checks, s.checkConsumers(fmt.Sprintf("consumers through process %d match", p.Index), s.consumersFrom(p.URL)))
		checks = append(checks, s.checkAttributes(p))
	}
	checks = append(checks, s.checkCandidates(ctx, conn))
	return checks
}

// ServerRetries sums, over the running processes, the restarts of the
// allocation write transaction after a conflict, by reason, from
// /metrics (counts of a process killed during the load are lost).
func (s *Soak) ServerRetries() map[string]int {
	out := map[string]int{}
	const metric = "placement_allocation_conflict_retries_total{"
	for _, p := range s.env.Procs {
		r := s.client.Do(p.URL, "final", http.MethodGet, "/metrics", "1.0", nil)
		if !r.OK() {
			continue
		}
		for _, line := range strings.Split(string(r.Body), "\n") {
			labels, ok := strings.CutPrefix(line, metric)
			if !ok {
				continue
			}
			labels, value, _ := strings.Cut(labels, "} ")
			reason := strings.Trim(strings.TrimPrefix(labels, "reason="), `"`)
			var n float64
			if _, err := fmt.Sscan(value, &n); err == nil {
				out[reason] += int(n)
			}
		}
	}
	return out
}

// checkNo400: every request the soak sends is valid, so a 400 means the
// service blamed the client for something else (it once answered 400
// "parent provider UUID does not exist." when PostgreSQL shut down during
// a re-parenting).
func (s *Soak) checkNo400() *Check {
	c := &Check{Name: "no HTTP 400 to a valid request", Checked: s.Stats.Count("", "")}
	if n := s.Stats.Count("", "400"); n > 0 {
		c.fail("%d × 400", n)
	}
	s.Stats.mu.Lock()
	c.Violations = append(c.Violations, s.Stats.errors400...)
	s.Stats.mu.Unlock()
	return c
}

func (s *Soak) checkNo500() *Check {
	c := &Check{Name: "no HTTP 500"}
	kinds, labels := s.Stats.Kinds()
	c.Checked = s.Stats.Count("", "")
	for _, l := range labels {
		if strings.HasPrefix(l, "5") && l != "503" {
			for _, k := range kinds {
				if n := s.Stats.Count(k, l); n > 0 {
					c.fail("%d × %s on %s", n, l, k)
				}
			}
		}
	}
	s.Stats.mu.Lock()
	c.Violations = append(c.Violations, s.Stats.errors5x...)
	s.Stats.mu.Unlock()
	return c
}

// checkCapacity: usage never exceeds (total - reserved) × ratio, except
// where the soak shrank the VCPU inventory, where it may stay up to the
// largest capacity there was (over-capacity relief).
func (s *Soak) checkCapacity(ctx context.Context, conn *pgx.Conn) *Check {
	c := &Check{Name: "no provider over capacity"}
	all, err := inventoryUsage(ctx, conn)
	if err != nil {
		c.fail("%v", err)
		return c
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range all {
		c.Checked++
		capacity := int(math.Floor(float64(r.total-r.reserved) * r.ratio))
		if r.used <= capacity {
			continue
		}
		if r.rc == "VCPU" && s.vcpuShrunk[r.rp] {
			if limit := int(float64(s.vcpuMax[r.rp]) * vcpuRatio); r.used <= limit {
				continue
			}
		}
		c.fail("provider %s %s: used %d > capacity %d", r.rp, r.rc, r.used, capacity)
	}
	return c
}

// checkRows looks for rows no write path may leave behind.
func (s *Soak) checkRows(ctx context.Context, conn *pgx.Conn) *Check {
	c := &Check{Name: "no orphaned or duplicate rows"}
	queries := []struct{ what, sql string }{
		{"allocations without a consumer", `SELECT count(*) FROM allocations a WHERE NOT EXISTS (SELECT 1 FROM consumers c WHERE c.uuid = a.consumer_id)`},
		{"consumers without allocations", `SELECT count(*) FROM consumers c WHERE NOT EXISTS (SELECT 1 FROM allocations a WHERE a.consumer_id = c.uuid)`},
		{"duplicate (consumer, provider, class) allocations", `SELECT count(*) FROM (SELECT 1 FROM allocations GROUP BY consumer_id, resource_provider_id, resource_class_id HAVING count(*) > 1) d`},
		{"allocations on missing providers", `SELECT count(*) FROM allocations a WHERE NOT EXISTS (SELECT 1 FROM resource_providers rp WHERE rp.id = a.resource_provider_id)`},
		{"allocations without inventory", `SELECT count(*) FROM allocations a WHERE NOT EXISTS (SELECT 1 FROM inventories i WHERE i.resource_provider_id = a.resource_provider_id AND i.resource_class_id = a.resource_class_id)`},
		{"non-positive allocations", `SELECT count(*) FROM allocations WHERE used <= 0`},
		{"providers whose root is not their parent's root", `SELECT count(*) FROM resource_providers c JOIN resource_providers p ON p.id = c.parent_provider_id WHERE c.root_provider_id IS DISTINCT FROM p.root_provider_id`},
	}
	for _, q := range queries {
		c.Checked++
		var n int
		if err := conn.QueryRow(ctx, q.sql).Scan(&n); err != nil {
			c.fail("%s: %v", q.what, err)
		} else if n > 0 {
			c.fail("%d %s", n, q.what)
		}
	}
	return c
}

func consumersFromDB(ctx context.Context, conn *pgx.Conn) (map[string]CState, error) {
	gens := map[string]int{}
	rows, err := conn.Query(ctx, `SELECT uuid, generation FROM consumers`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var u string
		var g int
		if err := rows.Scan(&u, &g); err != nil {
			return nil, err
		}
		gens[u] = g
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	allocs := map[string]Allocs{}
	rows, err = conn.Query(ctx, `
		SELECT a.consumer_id, rp.uuid, rc.name, a.used FROM allocations a
		JOIN resource_providers rp ON rp.id = a.resource_provider_id
		JOIN resource_classes rc ON rc.id = a.resource_class_id`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var c, rp, rc string
		var n int
		if err := rows.Scan(&c, &rp, &rc, &n); err != nil {
			return nil, err
		}
		if allocs[c] == nil {
			allocs[c] = Allocs{}
		}
		if allocs[c][rp] == nil {
			allocs[c][rp] = map[string]int{}
		}
		allocs[c][rp][rc] += n
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := map[string]CState{}
	for c, a := range allocs {
		g, ok := gens[c]
		if !ok {
			g = -1
		}
		out[c] = CState{Present: true, Gen: g, Allocs: a.String()}
	}
	return out, nil
}

// consumersFrom reads every consumer the soak wrote through one process;
// a failed read is recorded as a state no model allows.
func (s *Soak) consumersFrom(base string) map[string]CState {
	var uuids []string
	for _, c := range s.owned {
		uuids = append(uuids, c.UUID)
	}
	for _, c := range s.shared {
		uuids = append(uuids, c.UUID)
	}
	out := map[string]CState{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	work := make(chan string)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for u := range work {
				st, err := s.readConsumer(base, "final", u)
				if err != nil {
					st = CState{Present: true, Gen: -2, Allocs: err.Error()}
				}
				if st.Present {
					mu.Lock()
					out[u] = st
					mu.Unlock()
				}
			}
		}()
	}
	for _, u := range uuids {
		work <- u
	}
	close(work)
	wg.Wait()
	return out
}

// checkConsumers compares final consumer states with the model: an owned
// consumer is in one of its possible states; a shared one passes
// checkChain.
func (s *Soak) checkConsumers(name string, final map[string]CState) *Check {
	c := &Check{Name: name}
	known := map[string]bool{}
	for _, oc := range s.owned {
		known[oc.UUID] = true
		c.Checked++
		got := final[oc.UUID]
		if !slices.Contains(oc.Possible.States, got) {
			c.fail("consumer %s is %s; acknowledged writes allow only %v", oc.UUID, got, oc.Possible.States)
		}
	}
	for _, sc := range s.shared {
		known[sc.UUID] = true
		c.Checked++
		for _, v := range checkChain(final[sc.UUID], sc.writes, s.FirstGen) {
			c.fail("shared consumer %s: %s", sc.UUID, v)
		}
	}
	for u := range final {
		if !known[u] {
			c.fail("consumer %s was never written by the soak", u)
		}
	}
	return c
}

// checkAttributes reads every provider attribute the soak changed through
// process p.
func (s *Soak) checkAttributes(p *Proc) *Check {
	c := &Check{Name: fmt.Sprintf("provider inventories, traits, aggregates, parents through process %d match", p.Index)}
	keys := make([]string, 0, len(s.attrs))
	for k := range s.attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		what, rp, _ := strings.Cut(k, " ")
		c.Checked++
		var got string
		switch what {
		case "inventory":
			var body struct {
				Inventories map[string]map[string]any `json:"inventories"`
			}
			if err := s.get(p.URL, "/resource_providers/"+rp+"/inventories", allocVersion, &body); err != nil {
				c.fail("%s: %v", k, err)
				continue
			}
			got = canonInventory(body.Inventories)
		case "traits", "aggregates":
			var body struct {
				Traits     []string `json:"traits"`
				Aggregates []string `json:"aggregates"`
			}
			if err := s.get(p.URL, "/resource_providers/"+rp+"/"+what, allocVersion, &body); err != nil {
				c.fail("%s: %v", k, err)
				continue
			}
			got = canonSet(append(body.Traits, body.Aggregates...))
		case "parent":
			var body struct {
				Parent string `json:"parent_provider_uuid"`
			}
			if err := s.get(p.URL, "/resource_providers/"+rp, reparentVer, &body); err != nil {
				c.fail("%s: %v", k, err)
				continue
			}
			got = body.Parent
		}
		if poss := s.attrs[k].States; !slices.Contains(poss, got) {
			c.fail("%s is %q; acknowledged writes allow only %q", k, got, poss)
		}
	}
	return c
}

func (s *Soak) get(base, path, version string, out any) error {
	r := s.client.Do(base, "final", http.MethodGet, path, version, nil)
	if !r.OK() {
		return fmt.Errorf("GET %s: %d %v", path, r.Status, r.Err)
	}
	return r.Decode(out)
}

// checkCandidates asks every process, and one started afresh (its cache
// loaded from the database now), the same candidate queries: the answers
// must be identical, and every provider summary's capacity and usage must
// equal the database's.
func (s *Soak) checkCandidates(ctx context.Context, conn *pgx.Conn) *Check {
	c := &Check{Name: "allocation candidates of every process equal the database's"}
	fresh, err := s.env.StartExtra(ctx)
	if err != nil {
		c.fail("starting a fresh process: %v", err)
		return c
	}
	defer fresh.Stop()
	usage, err := usageFromDB(ctx, conn)
	if err != nil {
		c.fail("%v", err)
		return c
	}
	for i := range candidateQueries {
		q := s.candidateQuery(i)
		want, summaries, err := s.candidatesFrom(fresh.URL, q)
		if err != nil {
			c.fail("fresh process: %s: %v", q, err)
			continue
		}
		for rp, res := range summaries {
			for rc, v := range res {
				c.Checked++
				if db := usage[rp+" "+rc]; db != v {
					c.fail("%s: provider %s %s: summary says %v, database %v", q, rp, rc, v, db)
				}
			}
		}
		for _, p := range s.env.Procs {
			c.Checked++
			got, _, err := s.candidatesFrom(p.URL, q)
			if err != nil {
				c.fail("process %d: %s: %v", p.Index, q, err)
				if strings.Contains(err.Error(), "Client.Timeout") && p.Running() {
					// A hung process: have the Go runtime write where
					// every goroutine waits into its log.
					p.signal(syscall.SIGQUIT, 10*time.Second)
					c.fail("process %d hung: goroutine dump in %s", p.Index, filepath.Join(s.env.workDir, fmt.Sprintf("api-%d.log", p.Index)))
				}
			} else if got != want {
				c.fail("process %d: %s: answer differs from a fresh process's (%d vs %d bytes)", p.Index, q, len(got), len(want))
			}
		}
	}
	// Give the fresh process a moment to be torn down before the summary.
	time.Sleep(10 * time.Millisecond)
	return c
}

// capUsed is a provider summary's figures for one class.
type capUsed struct{ Capacity, Used int }

func usageFromDB(ctx context.Context, conn *pgx.Conn) (map[string]capUsed, error) {
	all, err := inventoryUsage(ctx, conn)
	if err != nil {
		return nil, err
	}
	out := map[string]capUsed{}
	for _, r := range all {
		out[r.rp+" "+r.rc] = capUsed{Capacity: int(float64(r.total-r.reserved) * r.ratio), Used: r.used}
	}
	return out, nil
}

// invUsage is one inventory and what is allocated of it.
type invUsage struct {
	rp, rc                string
	total, reserved, used int
	ratio                 float64
}

// inventoryUsage reads every inventory with its usage.
func inventoryUsage(ctx context.Context, conn *pgx.Conn) ([]invUsage, error) {
	rows, err := conn.Query(ctx, `
		SELECT rp.uuid, rc.name, i.total, i.reserved, i.allocation_ratio, COALESCE(SUM(a.used), 0)
		FROM inventories i
		JOIN resource_providers rp ON rp.id = i.resource_provider_id
		JOIN resource_classes rc ON rc.id = i.resource_class_id
		LEFT JOIN allocations a ON a.resource_provider_id = i.resource_provider_id
			AND a.resource_class_id = i.resource_class_id
		GROUP BY rp.uuid, rc.name, i.total, i.reserved, i.allocation_ratio`)
	if err != nil {
		return nil, err
	}
	var all []invUsage
	for rows.Next() {
		var r invUsage
		if err := rows.Scan(&r.rp, &r.rc, &r.total, &r.reserved, &r.ratio, &r.used); err != nil {
			rows.Close()
			return nil, err
		}
		all = append(all, r)
	}
	return all, rows.Err()
}

// candidatesFrom returns a canonical form of the answer (allocation
// requests sorted) and the provider summaries' figures.
func (s *Soak) candidatesFrom(base, q string) (string, map[string]map[string]capUsed, error) {
	var body struct {
		Requests  []json.RawMessage `json:"allocation_requests"`
		Summaries map[string]struct {
			Resources map[string]capUsed `json:"resources"`
		} `json:"provider_summaries"`
	}
	r := s.client.Do(base, "final", http.MethodGet, "/allocation_candidates?"+q, allocVersion, nil)
	if !r.OK() {
		return "", nil, fmt.Errorf("%d %v", r.Status, r.Err)
	}
	if err := r.Decode(&body); err != nil {
		return "", nil, err
	}
	var reqs []string
	for _, raw := range body.Requests {
		var v any
		_ = json.Unmarshal(raw, &v)
		b, _ := json.Marshal(v) // map keys sorted
		reqs = append(reqs, string(b))
	}
	sort.Strings(reqs)
	var raw struct {
		Summaries any `json:"provider_summaries"`
	}
	_ = json.Unmarshal(r.Body, &raw)
	b, _ := json.Marshal(raw.Summaries) // map keys sorted
	out := map[string]map[string]capUsed{}
	for rp, v := range body.Summaries {
		out[rp] = v.Resources
	}
	return strings.Join(reqs, "\n") + "\n" + string(b), out, nil
}
