package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/openstack-placement-go/placement/internal/testutil"
)

// runner runs scenarios against sides and collects results and failures.
type runner struct {
	o        Options
	log      io.Writer
	res      *Results
	failures []string
	runs     int
	digests  map[string][2]string // candidate set digests by metric prefix: ours, reference
}

func (r *runner) logf(format string, a ...any) {
	fmt.Fprintf(r.log, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, a...)...)
}

func (r *runner) fail(sd side, what string, err error) {
	msg := fmt.Sprintf("%s %s: %v", sd.label, what, err)
	r.logf("FAILED %s", msg)
	r.failures = append(r.failures, msg)
}

// acquire returns a fresh server for sd, or its shared URL.
func (r *runner) acquire(ctx context.Context, sd side) (*Server, error) {
	if sd.start != nil {
		r.logf("%s: starting a server on a fresh database", sd.label)
		return sd.start(ctx)
	}
	return &Server{URL: sd.url, PID: sd.pid, PIDFile: sd.pidFile}, nil
}

// release stops a server the bench started, or deletes the data from a
// shared one.
func (r *runner) release(ctx context.Context, sd side, srv *Server, c *Client, d *Dataset, consumers []string) {
	if srv.Stop != nil {
		if err := srv.Stop(); err != nil {
			r.fail(sd, "stopping the server", err)
		}
		return
	}
	if r.o.Keep || d == nil {
		return
	}
	r.logf("%s: deleting %d providers and %d consumers", sd.label, len(d.Providers), len(consumers))
	if err := cleanup(context.WithoutCancel(ctx), c, d, consumers, r.o.Workers); err != nil {
		r.fail(sd, "cleanup", err)
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// acquireOurs is acquire for a scenario only our server runs (the
// reference cannot load its sizes in reasonable time, why says): for the
// reference it logs the skip and returns nil, as on a failure.
func (r *runner) acquireOurs(ctx context.Context, sd side, prefix, why string) *Server {
	if sd.ref {
		r.logf("reference: skipping %s (the Python service loads 10–30 providers/s%s)", prefix, why)
		return nil
	}
	srv, err := r.acquire(ctx, sd)
	if err != nil {
		r.fail(sd, "starting the server", err)
		return nil
	}
	return srv
}

// setLatency records one latency distribution as three rows.
func (r *runner) setLatency(sd side, prefix string, s Summary) {
	r.res.Set(prefix+" min", "ms", Lower, sd.ref, ms(s.Min))
	r.res.Set(prefix+" median", "ms", Lower, sd.ref, ms(s.Median))
	r.res.Set(prefix+" p95", "ms", Lower, sd.ref, ms(s.P95))
}

// loadAndQuery loads a scenario and measures both candidate queries; the
// metric names start with prefix.
func (r *runner) loadAndQuery(ctx context.Context, sd side, c *Client, scenario, prefix string, n, requests int) (*Dataset, error) {
	load := loadFlat
	if scenario == "nested" {
		load = loadNested
	}
	r.runs++
	run := fmt.Sprintf("%d-%s", r.runs, testutil.RandHex(3))
	r.logf("%s: loading %s", sd.label, prefix)
	start := time.Now()
	d, err := load(ctx, c, run, n, r.o.Workers)
	if err != nil {
		return nil, fmt.Errorf("loading: %w", err)
	}
	elapsed := time.Since(start)
	rate := Rate(len(d.Providers), elapsed)
	r.logf("%s: loaded %d providers in %s (%.0f/s)", sd.label, len(d.Providers), elapsed.Round(time.Millisecond), rate)
	r.res.Set(prefix+": load rate", "providers/s", Higher, sd.ref, rate)

	sum, count, err := Latency(ctx, c, d.Query, r.o.Warmups, requests)
	if err != nil {
		return d, fmt.Errorf("candidates: %w", err)
	}
	r.res.Set(prefix+": candidates returned", "", Neither, sd.ref, float64(count))
	r.setLatency(sd, prefix+": latency", sum)
	r.logf("%s: %d candidates, median %.1f ms", sd.label, count, ms(sum.Median))

	sum, _, err = Latency(ctx, c, d.LimitQuery, r.o.Warmups, requests)
	if err != nil {
		return d, fmt.Errorf("candidates with limit=5: %w", err)
	}
	r.setLatency(sd, prefix+": limit=5 latency", sum)
	return d, nil
}

func (r *runner) setRSS(sd side, srv *Server, prefix string) {
	if kib, ok := srv.RSS(); ok {
		r.res.Set(prefix+": server RSS", "MiB", Lower, sd.ref, float64(kib)/1024)
	}
}

// scenario runs one full scenario against one side.
func (r *runner) scenario(ctx context.Context, sd side, scenario string) {
	prefix := fmt.Sprintf("%s N=%d", scenario, r.o.N)
	if scenario == "nested" {
		prefix = fmt.Sprintf("nested N=%d×7", r.o.N)
	}
	srv, err := r.acquire(ctx, sd)
	if err != nil {
		r.fail(sd, "starting the server", err)
		return
	}
	c := NewClient(srv.URL, r.o.Token, max(r.o.Workers, r.o.Concurrency, r.o.Claimers))
	var consumers []string
	d, err := r.loadAndQuery(ctx, sd, c, scenario, prefix, r.o.N, r.o.Requests)
	defer func() { r.release(ctx, sd, srv, c, d, consumers) }()
	if err != nil {
		r.fail(sd, prefix, err)
		return
	}

	tput, err := Throughput(ctx, c, d.LimitQuery, r.o.Concurrency, r.o.Duration)
	if err != nil {
		r.fail(sd, prefix+" throughput", err)
	} else {
		r.res.Set(fmt.Sprintf("%s: throughput c=%d, limit=5", prefix, r.o.Concurrency), "req/s", Higher, sd.ref, tput)
		r.logf("%s: throughput %.1f req/s", sd.label, tput)
	}

	r.logf("%s: %d claims by %d claimers", sd.label, r.o.Claims, r.o.Claimers)
	cs, err := Claim(ctx, c, d.LimitQuery, r.o.Claimers, r.o.Claims)
	consumers = cs.Consumers
	if err != nil {
		r.fail(sd, prefix+" claims", err)
	} else {
		r.res.Set(fmt.Sprintf("%s: claim rate c=%d", prefix, r.o.Claimers), "claims/s", Higher, sd.ref, Rate(cs.Claimed, cs.Elapsed))
		r.res.Set(prefix+": claims made", "", Neither, sd.ref, float64(cs.Claimed))
		r.res.Set(prefix+": claim 409s retried", "", Neither, sd.ref, float64(cs.Conflicts))
		r.logf("%s: %d claims in %s, %d conflicts, %d without candidates", sd.label, cs.Claimed, cs.Elapsed.Round(time.Millisecond), cs.Conflicts, cs.Exhausted)
	}

	over, used, err := OverCapacity(ctx, c, d.Providers, r.o.Workers)
	if err != nil {
		r.fail(sd, prefix+" capacity check", err)
	} else {
		r.res.Set(prefix+": over-capacity providers", "must be 0", Neither, sd.ref, float64(over))
		if over > 0 {
			r.fail(sd, prefix+" capacity check", fmt.Errorf("%d providers over capacity", over))
		}
		// Every claim takes exactly one VCPU (and one FPGA when nested).
		if used["VCPU"] != cs.Claimed {
			r.fail(sd, prefix+" capacity check", fmt.Errorf("%d VCPU in use after %d claims", used["VCPU"], cs.Claimed))
		}
	}
	r.setRSS(sd, srv, prefix)
}

// scale loads n flat providers and measures candidate latency only.
func (r *runner) scale(ctx context.Context, sd side, n int) {
	prefix := fmt.Sprintf("flat N=%d", n)
	srv, err := r.acquire(ctx, sd)
	if err != nil {
		r.fail(sd, "starting the server", err)
		return
	}
	c := NewClient(srv.URL, r.o.Token, r.o.Workers)
	d, err := r.loadAndQuery(ctx, sd, c, "flat", prefix, n, r.o.ScaleRequests)
	defer r.release(ctx, sd, srv, c, d, nil)
	if err != nil {
		r.fail(sd, prefix, err)
		return
	}
	r.setRSS(sd, srv, prefix)
}
