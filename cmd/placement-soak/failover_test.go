package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/openstack-placement-go/placement/internal/devdb"
	"github.com/openstack-placement-go/placement/internal/testdb"
	"github.com/openstack-placement-go/placement/internal/testutil"
)

// failoverRecovery is how soon every process must serve again after the
// old primary has stopped.
const failoverRecovery = 5 * time.Second

// TestFailover runs the soak load through two API processes whose
// database URL names a primary and its synchronous streaming standby
// (target_session_attrs=read-write), promotes the standby under load and
// stops the old primary. Every acknowledged write must be on the new
// primary, the processes must serve again within failoverRecovery without
// a restart, and no request may get a 500.
func TestFailover(t *testing.T) {
	if os.Getenv("PLACEMENT_FAILOVER") != "1" {
		t.Skip("set PLACEMENT_FAILOVER=1 (make failover): creates a primary and a standby PostgreSQL cluster")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// The primary commits only once the standby has the WAL.
	primary, standby, env := failoverEnv(ctx, t, 2, "synchronous_commit=on", "synchronous_standby_names='*'")
	defer env.Close()

	s := NewSoak(env, Options{Clients: 8, Seed: 13})
	if err := s.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	loadCtx, stopLoad := context.WithTimeout(ctx, 15*time.Second)
	defer stopLoad()
	var fault Fault
	go func() {
		defer stopLoad()
		time.Sleep(4 * time.Second)
		fault = Fault{Kind: "promote standby, stop primary", Start: time.Since(start)}
		if err := standby.Promote(context.Background()); err != nil {
			fault.Err = err
			return
		}
		if err := primary.Stop(context.Background()); err != nil {
			fault.Err = err
			return
		}
		fault.End = time.Since(start)
		fault.Recovery = env.measureRecovery(s, false)
		fault.Failed = s.Stats.Failures(fault.Start, time.Since(start))
		// Keep the load going on the new primary for a while.
		select {
		case <-loadCtx.Done():
		case <-time.After(5 * time.Second):
		}
	}()
	s.RunLoad(loadCtx)
	elapsed := time.Since(start)
	<-loadCtx.Done()

	if fault.Err != nil {
		t.Fatalf("failover: %v", fault.Err)
	}
	conn := testdb.Connect(t, standby.URL("placement"))
	var inRecovery bool
	if err := conn.QueryRow(ctx, `SELECT pg_is_in_recovery()`).Scan(&inRecovery); err != nil || inRecovery {
		t.Fatalf("the standby is not a primary: in recovery %v, %v", inRecovery, err)
	}
	conn.Close(ctx)

	checks := s.Check(ctx)
	var out bytes.Buffer
	ok := Report(&out, s, []*Fault{&fault}, checks, elapsed)
	t.Log("\n" + out.String())
	if !ok {
		t.Error("invariant checks failed (report above)")
	}
	for i, d := range fault.Recovery {
		if d < 0 || d > failoverRecovery {
			t.Errorf("process %d recovered after %v, want at most %v", i, d, failoverRecovery)
		}
	}
	if s.Stats.Count("claim", "204") == 0 {
		t.Error("no claim succeeded")
	}
}

// failoverEnv builds placement-api and starts a primary with primarySettings,
// its streaming standby, and procs API processes whose database URL names
// both (target_session_attrs=read-write). The standby names no standby of
// its own: promoted, it is alone, and a failover manager would name a new
// standby when there is one. The clusters stop when the test ends; the
// caller closes env.
func failoverEnv(ctx context.Context, t *testing.T, procs int, primarySettings ...string) (primary, standby devdb.Cluster, env *Env) {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "placement-api")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/openstack-placement-go/placement/cmd/placement-api").CombinedOutput(); err != nil {
		t.Fatalf("go build placement-api: %v\n%s", err, out)
	}
	p1, _ := testutil.FreePort()
	p2, _ := testutil.FreePort()
	primary = devdb.Cluster{Dir: filepath.Join(dir, "primary"), Port: p1, Settings: primarySettings}
	standby = devdb.Cluster{Dir: filepath.Join(dir, "standby"), Port: p2,
		Settings: []string{"synchronous_commit=on"}, StandbyOf: p1}
	if err := primary.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { primary.Stop(context.Background()) })
	if err := standby.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { standby.Stop(context.Background()) })
	if err := devdb.CreateDatabase(ctx, primary.URL("postgres"), "placement"); err != nil {
		t.Fatal(err)
	}
	env = &Env{
		opts:    Options{ServerBin: bin, Keep: true},
		workDir: dir,
		DBURL:   fmt.Sprintf("postgresql://postgres@127.0.0.1:%d,127.0.0.1:%d/placement?sslmode=disable&target_session_attrs=read-write", p1, p2),
	}
	for i := 0; i < procs; i++ {
		p, err := env.newProc(i)
		if err != nil {
			t.Fatal(err)
		}
		env.Procs = append(env.Procs, p)
		if err := p.Start(ctx, i == 0); err != nil {
			env.Close()
			t.Fatalf("starting process %d: %v (log: %s)", i, err, filepath.Join(dir, fmt.Sprintf("api-%d.log", i)))
		}
	}
	return primary, standby, env
}

// TestFailover_LostWrites promotes an asynchronous standby that missed the
// primary's last write, a claim the API process's candidate cache had
// already seen. On the new primary the claim never happened, and its
// transaction ids are handed out again, so the cache's bookkeeping of
// which transactions it has seen no longer holds. The candidates must
// follow the new primary at once: the lost claim's capacity is free, and
// new claims count.
func TestFailover_LostWrites(t *testing.T) {
	if os.Getenv("PLACEMENT_FAILOVER") != "1" {
		t.Skip("set PLACEMENT_FAILOVER=1 (make failover): creates a primary and a standby PostgreSQL cluster")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	primary, standby, env := failoverEnv(ctx, t, 1)
	defer env.Close()

	c := newClient(newStats(), 2)
	base := env.Procs[0].URL
	const rp = "5e0d6a32-8f1c-4b7a-9e3d-2c6f0a1b4d57"
	must := func(r Resp, what string) {
		t.Helper()
		if !r.OK() {
			t.Fatalf("%s: %d %s %v", what, r.Status, r.Body, r.Err)
		}
	}
	claim := func(consumer string, vcpu int) Resp {
		return c.Do(base, "claim", "PUT", "/allocations/"+consumer, "1.39", map[string]any{
			"allocations":         map[string]any{rp: map[string]any{"resources": map[string]int{"VCPU": vcpu}}},
			"consumer_generation": nil,
			"consumer_type":       "INSTANCE",
			"project_id":          "6c1b3f0e-0d4a-4d2b-8a53-3f9a1e2b7c10",
			"user_id":             "0b5f2a7e-61d4-4c8e-9d3a-7e2f4a1c9b86",
		})
	}
	// candidates returns how many candidates a request for one VCPU gets.
	candidates := func() (int, Resp) {
		r := c.Do(base, "candidates", "GET", "/allocation_candidates?resources=VCPU:1", "1.39", nil)
		var body struct {
			AllocationRequests []any `json:"allocation_requests"`
		}
		if r.OK() {
			if err := r.Decode(&body); err != nil {
				t.Fatal(err)
			}
		}
		return len(body.AllocationRequests), r
	}
	wantCandidates := func(want int, when string) {
		t.Helper()
		if n, r := candidates(); !r.OK() || n != want {
			t.Fatalf("%s: %d candidates (status %d %s), want %d", when, n, r.Status, r.Body, want)
		}
	}

	must(c.Do(base, "setup", "POST", "/resource_providers", "1.39", map[string]any{"uuid": rp, "name": "lost-writes"}), "create provider")
	must(c.Do(base, "setup", "PUT", "/resource_providers/"+rp+"/inventories", "1.39", map[string]any{
		"resource_provider_generation": 0, "inventories": map[string]any{"VCPU": map[string]int{"total": 4}},
	}), "set inventory")
	wantCandidates(1, "before the failover")

	// Let the standby catch up, then cut it off: what the primary commits
	// from now on is lost.
	replayed(t, primary, standby)
	detach(t, standby)
	must(claim("a3c0f4e2-1b7d-4e5a-8c69-0d2e3f4a5b61", 4), "the claim the failover loses")
	wantCandidates(0, "after the claim, before the failover")

	if err := primary.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := standby.Promote(ctx); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(failoverRecovery)
	for {
		n, r := candidates()
		if r.OK() {
			if n != 1 {
				t.Fatalf("after the failover: %d candidates, want 1: the claim was lost with the old primary", n)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no answer %v after the failover: %d %s %v", failoverRecovery, r.Status, r.Body, r.Err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// New claims on the new primary reuse the lost claim's transaction ids.
	must(claim("7d2e9b14-3c5f-4a08-b6e1-9f0a2c4d6e83", 1), "a claim on the new primary")
	wantCandidates(1, "after one VCPU of four is claimed on the new primary")
	must(claim("e4b8c2d6-0a1f-4937-8e5b-6c3d2a1f0e94", 3), "a second claim on the new primary")
	wantCandidates(0, "after all four VCPUs are claimed on the new primary")
}

// replayed waits until standby has replayed everything primary has written.
func replayed(t *testing.T, primary, standby devdb.Cluster) {
	t.Helper()
	conn := testdb.Connect(t, primary.URL("postgres"))
	defer conn.Close(context.Background())
	var lsn string
	if err := conn.QueryRow(context.Background(), `SELECT pg_current_wal_lsn()::text`).Scan(&lsn); err != nil {
		t.Fatal(err)
	}
	poll(t, standby.URL("postgres"), `SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn`, lsn)
}

// detach stops standby's replication: it keeps what it has and receives
// nothing more.
func detach(t *testing.T, standby devdb.Cluster) {
	t.Helper()
	testdb.Exec(t, standby.URL("postgres"), `ALTER SYSTEM SET primary_conninfo = ''`)
	testdb.Exec(t, standby.URL("postgres"), `SELECT pg_reload_conf()`)
	poll(t, standby.URL("postgres"), `SELECT NOT EXISTS (SELECT FROM pg_stat_wal_receiver)`)
}

// poll runs the boolean query q on url until it is true, for ten seconds.
func poll(t *testing.T, url, q string, args ...any) {
	t.Helper()
	conn := testdb.Connect(t, url)
	defer conn.Close(context.Background())
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var ok bool
		if err := conn.QueryRow(context.Background(), q, args...).Scan(&ok); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still false after 10 s", q)
		}
	}
}
