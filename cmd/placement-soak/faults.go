package main

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Fault is one injected fault and how the service came back from it.
type Fault struct {
	Kind       string
	Detail     string
	Start, End time.Duration // since the load started
	Err        error
	// Recovery is, per process, the time from the end of the fault until
	// the first successful request through it (-1: none within a minute).
	Recovery []time.Duration
	// Failed counts the requests that got a 5xx or no answer from the
	// start of the fault until every process had recovered.
	Failed int
}

// The fault kinds, in the order they are injected.
const (
	faultTerminate = "terminate backends"
	faultKillAPI   = "kill -9 API"
	faultRestartDB = "restart PostgreSQL"
	faultStopDB    = "stop PostgreSQL 10s"
	faultReadOnly  = "read-only database 5s"
	faultFreezeDB  = "freeze PostgreSQL 5s"
)

// faultGap is the longest time between faults; the last one ends early enough to
// leave room for recovery before the load stops.
const (
	faultGap     = 12 * time.Second
	faultQuiet   = 8 * time.Second
	dbStopPeriod = 10 * time.Second
	readOnlyFor  = 5 * time.Second
	frozenFor    = 5 * time.Second
	killedFor    = 1 * time.Second
)

// RunFaults injects faults every faultGap, cycling through the kinds (only
// terminations and killed processes without an owned cluster), until ctx
// ends or too little time is left, and returns what happened.
func (e *Env) RunFaults(ctx context.Context, s *Soak, start time.Time) []*Fault {
	deadline, _ := ctx.Deadline()
	gap := min(max(time.Until(deadline)/8, 5*time.Second), faultGap)
	kinds := []string{faultTerminate, faultKillAPI, faultRestartDB, faultStopDB, faultReadOnly, faultFreezeDB}
	if !e.OwnsCluster() {
		kinds = []string{faultTerminate, faultKillAPI, faultReadOnly}
	}
	var faults []*Fault
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return faults
		case <-time.After(gap):
		}
		kind := kinds[i%len(kinds)]
		need := faultQuiet
		switch kind {
		case faultStopDB:
			need += dbStopPeriod
		case faultReadOnly:
			need += readOnlyFor
		case faultFreezeDB:
			need += frozenFor
		}
		if time.Until(deadline) < need {
			return faults
		}
		f := &Fault{Kind: kind, Start: time.Since(start)}
		f.Err = e.inject(ctx, f, i)
		f.End = time.Since(start)
		f.Recovery = e.measureRecovery(s, kind == faultReadOnly)
		f.Failed = s.Stats.Failures(f.Start, time.Since(start))
		faults = append(faults, f)
	}
}

// inject performs the fault; the background context keeps a fault that
// has begun from being abandoned half-way when the load stops.
func (e *Env) inject(_ context.Context, f *Fault, i int) error {
	ctx := context.Background()
	switch f.Kind {
	case faultTerminate:
		n, err := e.TerminateBackends(ctx)
		f.Detail = fmt.Sprintf("%d sessions", n)
		return err
	case faultKillAPI:
		p := e.Procs[(i/4)%len(e.Procs)]
		f.Detail = fmt.Sprintf("process %d", p.Index)
		p.Kill()
		time.Sleep(killedFor)
		return retry(ctx, func() error { return p.Start(ctx, false) })
	case faultRestartDB:
		if err := e.StopDB(ctx); err != nil {
			return err
		}
		return e.StartDB(ctx)
	case faultStopDB:
		if err := e.StopDB(ctx); err != nil {
			return err
		}
		time.Sleep(dbStopPeriod)
		return e.StartDB(ctx)
	case faultFreezeDB:
		thaw, err := e.cluster.Freeze()
		if err != nil {
			return err
		}
		// A frozen server takes the connection (its kernel does) and never
		// answers the start-up: a connection within a second means the
		// freeze missed a process.
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		conn, perr := pgx.Connect(pctx, e.adminURL)
		cancel()
		time.Sleep(frozenFor - time.Second)
		if err := thaw(); err != nil {
			return err
		}
		if perr == nil {
			conn.Close(ctx)
			return fmt.Errorf("PostgreSQL answered while frozen")
		}
		return nil
	case faultReadOnly:
		n, err := e.SetReadOnly(ctx, true)
		f.Detail = fmt.Sprintf("%d sessions", n)
		if err != nil {
			return err
		}
		time.Sleep(readOnlyFor)
		_, err = e.SetReadOnly(ctx, false)
		return err
	}
	return fmt.Errorf("unknown fault %q", f.Kind)
}

// measureRecovery polls every process with a read that needs the database
// until it succeeds; with write, with a write (an existing trait created
// again) instead, for a fault that leaves reads working.
func (e *Env) measureRecovery(s *Soak, write bool) []time.Duration {
	t0 := time.Now()
	out := make([]time.Duration, len(e.Procs))
	var wg sync.WaitGroup
	for i, p := range e.Procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = -1
			for time.Since(t0) < time.Minute {
				r := s.client.Do(p.URL, "probe", http.MethodGet, "/resource_providers/"+s.Roots[0], "1.0", nil)
				if write {
					r = s.client.Do(p.URL, "probe", http.MethodPut, "/traits/CUSTOM_SOAK_RECOVERY", "1.6", nil)
				}
				if r.OK() {
					out[i] = time.Since(t0)
					return
				}
				time.Sleep(10 * time.Millisecond)
			}
		}()
	}
	wg.Wait()
	return out
}
