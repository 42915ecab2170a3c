package main

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/openstack-placement-go/placement/internal/testutil"
)

// MixedStats is the outcome of a claim run under read load.
type MixedStats struct {
	Claims  ClaimStats
	Readers Summary // latency of the readers' requests while the claims ran
	Reads   int
}

// Mixed runs a claim run (see Claim) with claimers schedulers while readers
// clients send readQuery back to back until the claims are done. Clients
// are spread over the servers round-robin.
func Mixed(ctx context.Context, clients []*Client, claimQuery, readQuery string, claimers, readers, total int) (MixedStats, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu      sync.Mutex
		samples []time.Duration
		readErr error
		wg      sync.WaitGroup
	)
	for i := range readers {
		c := clients[i%len(clients)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf bytes.Buffer
			var mine []time.Duration
			for ctx.Err() == nil {
				d, err := timedGet(ctx, c, readQuery, &buf)
				if err != nil {
					if ctx.Err() == nil {
						mu.Lock()
						readErr = err
						mu.Unlock()
						cancel()
					}
					break
				}
				mine = append(mine, d)
			}
			mu.Lock()
			samples = append(samples, mine...)
			mu.Unlock()
		}()
	}
	cs, err := claimOn(ctx, clients, claimQuery, claimers, total)
	cancel()
	wg.Wait()
	if err == nil {
		err = readErr
	}
	return MixedStats{Claims: cs, Readers: Summarize(samples), Reads: len(samples)}, err
}

// claimOn is Claim with the claimers spread over several servers.
func claimOn(ctx context.Context, clients []*Client, query string, claimers, total int) (ClaimStats, error) {
	if len(clients) == 1 {
		return Claim(ctx, clients[0], query, claimers, total)
	}
	var (
		mu    sync.Mutex
		stats ClaimStats
		first error
		wg    sync.WaitGroup
	)
	start := time.Now()
	for i, c := range clients {
		n := claimers / len(clients)
		if i < claimers%len(clients) {
			n++
		}
		share := total * n / claimers
		if i == len(clients)-1 {
			share = total - total*(claimers-n)/claimers
		}
		if n == 0 || share == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			cs, err := Claim(ctx, c, query, n, share)
			mu.Lock()
			defer mu.Unlock()
			stats.Claimed += cs.Claimed
			stats.Conflicts += cs.Conflicts
			stats.Exhausted += cs.Exhausted
			stats.Consumers = append(stats.Consumers, cs.Consumers...)
			if err != nil && first == nil {
				first = err
			}
		}()
	}
	wg.Wait()
	stats.Elapsed = time.Since(start)
	return stats, first
}

// mixed loads --mixed-n flat providers once and runs, on 1 and then on 3
// processes over that database: claims alone, then claims against
// --mixed-readers readers of the limit=5 query. Ours only: the reference
// cannot load tens of thousands of providers in reasonable time.
func (r *runner) mixed(ctx context.Context, sd side) {
	n := r.o.MixedN
	prefix := fmt.Sprintf("mixed N=%d", n)
	srv := r.acquireOurs(ctx, sd, prefix, "")
	if srv == nil {
		return
	}
	conns := max(r.o.Workers, r.o.Claimers+r.o.MixedReaders)
	c := NewClient(srv.URL, r.o.Token, conns)
	var consumers []string
	var d *Dataset
	defer func() { r.release(ctx, sd, srv, c, d, consumers) }()
	r.logf("%s: loading %s", sd.label, prefix)
	start := time.Now()
	var err error
	if srv.DBURL != "" {
		d, err = bulkLoadFlat(ctx, srv.DBURL, n, 0)
	} else {
		d, err = loadFlat(ctx, c, testutil.RandHex(3), n, r.o.Workers)
	}
	if err != nil {
		r.fail(sd, prefix+" loading", err)
		return
	}
	r.logf("%s: loaded %d providers in %s", sd.label, n, time.Since(start).Round(time.Millisecond))
	// Warm the cache (the first request after a bulk load reads every tree).
	if _, _, err := Latency(ctx, c, d.LimitQuery, r.o.Warmups, 1); err != nil {
		r.fail(sd, prefix, err)
		return
	}
	clients := []*Client{c}
	for _, procs := range r.o.MixedProcs {
		for len(clients) < procs {
			if sd.more == nil || srv.DBURL == "" {
				r.logf("%s: %d processes need servers the bench starts; skipped", sd.label, procs)
				return
			}
			more, err := sd.more(ctx, srv.DBURL)
			if err != nil {
				r.fail(sd, "starting another server", err)
				return
			}
			defer func() { _ = more.Stop() }()
			mc := NewClient(more.URL, r.o.Token, conns)
			if _, _, err := Latency(ctx, mc, d.LimitQuery, r.o.Warmups, 1); err != nil {
				r.fail(sd, prefix, err)
				return
			}
			clients = append(clients, mc)
		}
		p := fmt.Sprintf("%s, %d process", prefix, procs)
		if procs > 1 {
			p += "es"
		}
		r.logf("%s: %s: %d claims by %d claimers alone", sd.label, p, r.o.Claims, r.o.Claimers)
		alone, err := claimOn(ctx, clients, d.LimitQuery, r.o.Claimers, r.o.Claims)
		consumers = append(consumers, alone.Consumers...)
		if err != nil {
			r.fail(sd, p+" claims", err)
			return
		}
		r.res.Set(fmt.Sprintf("%s: claim rate c=%d, no readers", p, r.o.Claimers), "claims/s", Higher, sd.ref, Rate(alone.Claimed, alone.Elapsed))
		r.logf("%s: %s: %d claims by %d claimers against %d readers", sd.label, p, r.o.Claims, r.o.Claimers, r.o.MixedReaders)
		ms_, err := Mixed(ctx, clients, d.LimitQuery, d.LimitQuery, r.o.Claimers, r.o.MixedReaders, r.o.Claims)
		consumers = append(consumers, ms_.Claims.Consumers...)
		if err != nil {
			r.fail(sd, p+" mixed", err)
			return
		}
		r.res.Set(fmt.Sprintf("%s: claim rate c=%d, %d readers", p, r.o.Claimers, r.o.MixedReaders), "claims/s", Higher, sd.ref, Rate(ms_.Claims.Claimed, ms_.Claims.Elapsed))
		r.res.Set(p+": reader latency p50", "ms", Lower, sd.ref, ms(ms_.Readers.Median))
		r.res.Set(p+": reader latency p99", "ms", Lower, sd.ref, ms(ms_.Readers.P99))
		r.res.Set(p+": reads during the claims", "", Neither, sd.ref, float64(ms_.Reads))
		r.logf("%s: %s: %d claims in %s, readers p50 %.2f ms, %d reads", sd.label, p, ms_.Claims.Claimed,
			ms_.Claims.Elapsed.Round(time.Millisecond), ms(ms_.Readers.Median), ms_.Reads)
	}
	r.setRSS(sd, srv, prefix)
}
