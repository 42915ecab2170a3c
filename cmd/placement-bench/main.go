// Command placement-bench measures a Placement endpoint over HTTP: how fast
// providers load, allocation candidate latency and throughput, how fast
// concurrent schedulers claim, whether any provider ended up over capacity,
// and the server's memory. With a reference endpoint it runs everything
// against both and prints ours/reference ratios.
//
//	placement-bench [--target URL | --server-bin bin/placement-api] \
//	    [--reference URL | --reference-script serve-upstream.sh] \
//	    [--scenario flat,nested] [--n 1000] [--scale 1000,5000,...] [--requests 30]
//
// Without --target it starts bin/placement-api on a fresh database (created
// with pgx on --db-url) for every scenario and scale; with
// --reference-script it restarts the Python reference (which recreates its
// database) the same way. Servers given by URL are shared: the bench uses new
// uuids and names and deletes what it created afterwards (unless --keep).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/openstack-placement-go/placement/internal/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(Bench{Stdout: os.Stdout, Stderr: os.Stderr}.Run(ctx, os.Args[1:]))
}

// Bench is the placement-bench program.
type Bench struct {
	Stdout, Stderr io.Writer
}

// Options are the command-line settings.
type Options struct {
	Target, PIDFile                      string
	PID                                  int
	Reference, RefPIDFile, RefScript     string
	RefPID, RefPort, RefMaxScale         int
	ServerBin, DBURL, ExtraConf, WorkDir string
	Token                                string
	Scenarios                            []string
	N                                    int
	Scales                               []int
	Requests, ScaleRequests, Warmups     int
	Concurrency, Claimers, Claims        int
	Workers                              int
	Duration                             time.Duration
	Keep                                 bool
	WideRequests                         int
	WideShapes                           []int
	MixedN, MixedReaders                 int
	MixedProcs                           []int
	ScaleProviders                       []int
	ScaleAllocs                          int
}

// side is one of the two endpoints under test.
type side struct {
	label   string
	ref     bool
	url     string
	pid     int
	pidFile string
	start   func(context.Context) (*Server, error) // nil: use url
	// more starts another process on the database of a server start
	// made (the mixed scenario's multi-process run); nil when unavailable.
	more func(ctx context.Context, dbURL string) (*Server, error)
}

// Run parses args, runs the benchmark and prints the table; it returns the
// exit code (1 if any measurement failed or a provider is over capacity).
func (b Bench) Run(ctx context.Context, args []string) int {
	o, code := b.parseOptions(args)
	if code != 0 {
		return code
	}
	work, err := os.MkdirTemp("", "placement-bench-")
	if err != nil {
		fmt.Fprintln(b.Stderr, "placement-bench:", err)
		return 1
	}
	defer os.RemoveAll(work)
	o.WorkDir = work
	sides, err := b.sides(ctx, &o)
	if err != nil {
		fmt.Fprintln(b.Stderr, "placement-bench:", err)
		return 1
	}
	r := &runner{o: o, log: b.Stderr, res: &Results{}}
	r.runAll(ctx, sides)
	b.report(o, r, len(sides) > 1)
	if len(r.failures) > 0 {
		return 1
	}
	return 0
}

// parseOptions reads the command line; a non-zero code is the exit code
// of a bad one (the message is written already).
func (b Bench) parseOptions(args []string) (Options, int) {
	var o Options
	fs := flag.NewFlagSet("placement-bench", flag.ContinueOnError)
	fs.SetOutput(b.Stderr)
	fs.StringVar(&o.Target, "target", "", "URL of the Placement service to measure; empty: start --server-bin on a fresh database per run")
	fs.IntVar(&o.PID, "pid", 0, "pid of the --target server, for its RSS")
	fs.StringVar(&o.PIDFile, "pid-file", "", "pid file of the --target server, for its RSS")
	fs.StringVar(&o.Reference, "reference", "", "URL of a reference Placement service to compare with")
	fs.IntVar(&o.RefPID, "reference-pid", 0, "pid of the --reference server")
	fs.StringVar(&o.RefPIDFile, "reference-pid-file", "", "pid file of the --reference server")
	fs.StringVar(&o.RefScript, "reference-script", "", "serve-upstream.sh: start a fresh reference per run instead of --reference")
	fs.IntVar(&o.RefPort, "reference-port", 18190, "port for the reference started by --reference-script")
	fs.StringVar(&o.ServerBin, "server-bin", "bin/placement-api", "placement-api binary to start when --target is empty (built if missing)")
	defDB := os.Getenv("TEST_DATABASE_URL")
	if defDB == "" {
		defDB = "postgres://postgres@127.0.0.1:55433/postgres"
	}
	fs.StringVar(&o.DBURL, "db-url", defDB, "PostgreSQL URL where the bench may create databases for its own servers")
	fs.StringVar(&o.ExtraConf, "server-conf", "", "file appended to the generated placement.conf (e.g. pool sizes)")
	fs.StringVar(&o.Token, "token", "admin", "X-Auth-Token (noauth2: admin)")
	scenarios := fs.String("scenario", "flat,nested", "scenarios to run: flat, nested, wide, mixed, scale (empty for none)")
	fs.IntVar(&o.N, "n", 1000, "compute nodes (flat) and trees of 7 providers (nested)")
	scales := fs.String("scale", "", "flat sizes for the latency-vs-size series, e.g. 1000,5000,10000,50000 (empty: skip)")
	fs.IntVar(&o.Requests, "requests", 30, "sequential requests per latency measurement")
	fs.IntVar(&o.RefMaxScale, "reference-max-scale", 0, "skip the reference for --scale sizes above this (0: no limit): the Python service loads large sizes slowly")
	fs.IntVar(&o.ScaleRequests, "scale-requests", 10, "sequential requests per latency measurement of the --scale series")
	fs.IntVar(&o.Warmups, "warmups", 3, "unmeasured requests before each latency measurement")
	fs.IntVar(&o.Concurrency, "concurrency", 10, "clients of the throughput measurement")
	fs.DurationVar(&o.Duration, "duration", 10*time.Second, "length of the throughput measurement")
	fs.IntVar(&o.Claimers, "claimers", 10, "concurrent claimers")
	fs.IntVar(&o.Claims, "claims", 200, "claims to make in total")
	fs.IntVar(&o.Workers, "workers", 16, "concurrent requests while loading, checking and cleaning up")
	fs.BoolVar(&o.Keep, "keep", false, "leave the created data on servers given by URL")
	fs.IntVar(&o.WideRequests, "wide-requests", 5, "measured requests per wide query (a first request over a minute is the only one)")
	wideShapes := fs.String("wide-shapes", "1,2,3,4", "wide shapes to run, numbered as in docs/performance.md")
	fs.IntVar(&o.MixedN, "mixed-n", 50000, "providers of the mixed scenario")
	fs.IntVar(&o.MixedReaders, "mixed-readers", 10, "concurrent candidate readers of the mixed scenario")
	mixedProcs := fs.String("mixed-processes", "1,3", "server processes over one database for the mixed scenario, in order")
	scaleProviders := fs.String("scale-providers", "10000,100000", "provider counts of the scale scenario")
	fs.IntVar(&o.ScaleAllocs, "scale-allocations", 10, "allocation rows per provider in the scale scenario")
	if err := fs.Parse(args); err != nil {
		return o, 2
	}
	o.Scenarios = config.SplitList(*scenarios)
	for _, s := range o.Scenarios {
		if !contains([]string{"flat", "nested", "wide", "mixed", "scale"}, s) {
			fmt.Fprintf(b.Stderr, "placement-bench: unknown scenario %q (flat, nested, wide, mixed, scale)\n", s)
			return o, 2
		}
	}
	for _, l := range []struct {
		flag string
		in   string
		out  *[]int
	}{{"--scale", *scales, &o.Scales}, {"--mixed-processes", *mixedProcs, &o.MixedProcs}, {"--scale-providers", *scaleProviders, &o.ScaleProviders}, {"--wide-shapes", *wideShapes, &o.WideShapes}} {
		for _, s := range config.SplitList(l.in) {
			n, err := strconv.Atoi(s)
			if err != nil || n <= 0 {
				fmt.Fprintf(b.Stderr, "placement-bench: bad %s entry %q\n", l.flag, s)
				return o, 2
			}
			*l.out = append(*l.out, n)
		}
	}
	for _, w := range o.WideShapes {
		if w > len(WideShapes) {
			fmt.Fprintf(b.Stderr, "placement-bench: no wide shape %d (1-%d)\n", w, len(WideShapes))
			return o, 2
		}
	}
	if o.Reference != "" && o.RefScript != "" {
		fmt.Fprintln(b.Stderr, "placement-bench: --reference and --reference-script exclude each other")
		return o, 2
	}
	return o, 0
}

// runAll runs every scenario on every side, then the --scale series.
func (r *runner) runAll(ctx context.Context, sides []side) {
	o := r.o
	for _, sc := range o.Scenarios {
		for _, sd := range sides {
			switch sc {
			case "wide":
				r.wide(ctx, sd)
			case "mixed":
				r.mixed(ctx, sd)
			case "scale":
				for _, n := range o.ScaleProviders {
					r.bigScale(ctx, sd, n)
				}
			default:
				r.scenario(ctx, sd, sc)
			}
		}
	}
	for _, n := range o.Scales {
		if n == o.N && contains(o.Scenarios, "flat") {
			continue // the flat scenario measured this size already
		}
		for _, sd := range sides {
			if sd.ref && o.RefMaxScale > 0 && n > o.RefMaxScale {
				r.logf("reference: skipping N=%d (--reference-max-scale %d)", n, o.RefMaxScale)
				continue
			}
			r.scale(ctx, sd, n)
		}
	}
}

// report prints the table and the failures.
func (b Bench) report(o Options, r *runner, compare bool) {
	fmt.Fprintln(b.Stdout)
	fmt.Fprintf(b.Stdout, "placement-bench, microversion %s", version)
	if len(o.Scenarios) > 0 {
		fmt.Fprintf(b.Stdout, "; %s; flat/nested at n=%d: %d requests after %d warm-ups, throughput c=%d for %s, %d claims by %d claimers",
			strings.Join(o.Scenarios, "+"), o.N, o.Requests, o.Warmups, o.Concurrency, o.Duration, o.Claims, o.Claimers)
	}
	if len(o.Scales) > 0 {
		fmt.Fprintf(b.Stdout, "; scale %v: %d requests after %d warm-ups", o.Scales, o.ScaleRequests, o.Warmups)
	}
	fmt.Fprint(b.Stdout, "\n\n")
	Render(b.Stdout, r.res, compare)
	if len(r.failures) > 0 {
		fmt.Fprintln(b.Stdout, "\nFailures:")
		for _, f := range r.failures {
			fmt.Fprintln(b.Stdout, "  -", f)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// sides builds "ours" and, if asked, "reference"; it builds the server
// binary when it has to start our server and the binary is missing.
func (b Bench) sides(ctx context.Context, o *Options) ([]side, error) {
	ours := side{label: "ours", url: o.Target, pid: o.PID, pidFile: o.PIDFile}
	if o.Target == "" {
		bin := o.ServerBin
		if _, err := os.Stat(bin); err != nil {
			bin = o.WorkDir + "/placement-api"
			fmt.Fprintf(b.Stderr, "building %s\n", bin)
			cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/placement-api")
			cmd.Stdout, cmd.Stderr = b.Stderr, b.Stderr
			if err := cmd.Run(); err != nil {
				return nil, fmt.Errorf("building placement-api (run from the repository root or pass --server-bin): %w", err)
			}
		}
		srv := &OurServer{Bin: bin, AdminURL: o.DBURL, ExtraConf: o.ExtraConf, WorkDir: o.WorkDir}
		ours.start = srv.Start
		ours.more = srv.StartOn
	}
	sides := []side{ours}
	switch {
	case o.Reference != "":
		sides = append(sides, side{label: "reference", ref: true, url: o.Reference, pid: o.RefPID, pidFile: o.RefPIDFile})
	case o.RefScript != "":
		rs := &ReferenceServer{Script: o.RefScript, Port: o.RefPort}
		sides = append(sides, side{label: "reference", ref: true, start: rs.Start})
	}
	return sides, nil
}
