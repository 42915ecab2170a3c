// Command placement-soak drives a mixed, concurrent load through several
// placement-api processes sharing one database while it injects faults
// (terminated backends, PostgreSQL restarts and outages, killed API
// processes), then checks from the database and through every process that
// no acknowledged write was lost, no rejected write took effect, no
// provider is over capacity and the candidate caches are current.
//
//	placement-soak [--duration 180s] [--processes 3] [--clients 24] [--seed 1]
//	               [--server-bin bin/placement-api] [--data-dir .data/soak --port 25450 | --db-url URL]
//	               [--no-faults]
//
// By default it creates and owns a throwaway PostgreSQL cluster, so that it
// may restart and stop it; with --db-url it uses an existing server and only
// terminates backends and kills API processes. It exits 1 on any invariant
// violation or HTTP 500.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// Options are the command-line settings.
type Options struct {
	Duration  time.Duration
	Processes int
	Clients   int
	Seed      int64
	ServerBin string
	DataDir   string
	Port      int
	DBURL     string
	NoFaults  bool
	Keep      bool
}

func main() {
	var o Options
	flag.DurationVar(&o.Duration, "duration", 180*time.Second, "how long the load runs")
	flag.IntVar(&o.Processes, "processes", 3, "API processes on the one database")
	flag.IntVar(&o.Clients, "clients", 24, "concurrent clients, spread over the processes")
	flag.Int64Var(&o.Seed, "seed", 1, "seed of the load's random choices")
	flag.StringVar(&o.ServerBin, "server-bin", "bin/placement-api", "the placement-api binary")
	flag.StringVar(&o.DataDir, "data-dir", ".data/soak", "directory of the owned PostgreSQL cluster, configs and logs")
	// Below Linux's ephemeral range (32768-60999): while the server is
	// stopped, an outgoing connection could take its port.
	flag.IntVar(&o.Port, "port", 25450, "port of the owned PostgreSQL cluster")
	flag.StringVar(&o.DBURL, "db-url", "", "use this PostgreSQL server (a user that may create databases) instead of an owned cluster; no restart faults")
	flag.BoolVar(&o.NoFaults, "no-faults", false, "inject no faults (throughput measurement)")
	flag.BoolVar(&o.Keep, "keep", false, "leave the database and the owned cluster running afterwards")
	flag.Parse()
	if o.Processes < 1 || o.Clients < 1 || o.Duration <= 0 {
		fmt.Fprintln(os.Stderr, "placement-soak: --processes, --clients and --duration must be positive")
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ok, err := Run(ctx, o, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "placement-soak:", err)
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}

// Run sets up the database and the processes, runs the load and the
// faults, checks the invariants and prints the report. It reports whether
// every check passed.
func Run(ctx context.Context, o Options, out *os.File) (bool, error) {
	env, err := NewEnv(ctx, o)
	if err != nil {
		return false, err
	}
	defer env.Close()

	s := NewSoak(env, o)
	if err := s.Setup(ctx); err != nil {
		return false, fmt.Errorf("setup: %w", err)
	}
	fmt.Fprintf(out, "placement-soak: %d processes, %d clients, %s, seed %d, faults %v\n",
		o.Processes, o.Clients, o.Duration, o.Seed, !o.NoFaults)

	start := time.Now()
	loadCtx, cancel := context.WithTimeout(ctx, o.Duration)
	faultsDone := make(chan []*Fault, 1)
	go func() {
		if o.NoFaults {
			faultsDone <- nil
			return
		}
		faultsDone <- env.RunFaults(loadCtx, s, start)
	}()
	sessions := make(chan []string, 1)
	go func() { sessions <- env.WatchSessions(loadCtx) }()
	s.RunLoad(loadCtx)
	elapsed := time.Since(start)
	cancel()
	faults := <-faultsDone
	s.StuckSessions = <-sessions

	if err := env.Recover(ctx); err != nil {
		return false, fmt.Errorf("bringing everything back after the load: %w", err)
	}
	s.ServerRetried = s.ServerRetries()
	checks := s.Check(ctx)
	return Report(out, s, faults, checks, elapsed), nil
}
