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

	"github.com/jackc/pgx/v5"

	"github.com/openstack-placement-go/placement/internal/devdb"
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
	dir := t.TempDir()
	bin := filepath.Join(dir, "placement-api")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/openstack-placement-go/placement/cmd/placement-api").CombinedOutput(); err != nil {
		t.Fatalf("go build placement-api: %v\n%s", err, out)
	}

	p1, _ := testutil.FreePort()
	p2, _ := testutil.FreePort()
	// The primary commits only once the standby has the WAL. The standby
	// names no standby of its own: promoted, it is alone, and a failover
	// manager would name a new standby when there is one.
	primary := devdb.Cluster{Dir: filepath.Join(dir, "primary"), Port: p1,
		Settings: []string{"synchronous_commit=on", "synchronous_standby_names='*'"}}
	standby := devdb.Cluster{Dir: filepath.Join(dir, "standby"), Port: p2,
		Settings: []string{"synchronous_commit=on"}, StandbyOf: p1}
	if err := primary.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	defer primary.Stop(context.Background())
	if err := standby.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	defer standby.Stop(context.Background())
	if err := devdb.CreateDatabase(ctx, primary.URL("postgres"), "placement"); err != nil {
		t.Fatal(err)
	}

	env := &Env{
		opts:    Options{ServerBin: bin, Keep: true},
		workDir: dir,
		DBURL:   fmt.Sprintf("postgresql://postgres@127.0.0.1:%d,127.0.0.1:%d/placement?sslmode=disable&target_session_attrs=read-write", p1, p2),
	}
	for i := 0; i < 2; i++ {
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
		fault.Recovery = env.measureRecovery(s)
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
	conn, err := pgx.Connect(ctx, standby.URL("placement"))
	if err != nil {
		t.Fatal(err)
	}
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
