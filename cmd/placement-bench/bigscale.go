package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"runtime"
	"time"

	"github.com/google/uuid"
)

// writeThenRead measures what one write costs the next candidates request:
// n times, PUT one allocation (untimed) on the next provider and then time
// the limit=5 query, whose request finds the change and refreshes the
// cache.
func writeThenRead(ctx context.Context, c *Client, d *Dataset, n int) (Summary, error) {
	project, user := uuid.NewString(), uuid.NewString()
	var buf bytes.Buffer
	var samples []time.Duration
	runtime.GC()
	for i := range n {
		p := d.Providers[(i*7919)%len(d.Providers)].UUID
		body := map[string]any{
			"allocations":         map[string]any{p: map[string]any{"resources": map[string]int{"DISK_GB": 1}}},
			"consumer_generation": nil,
			"project_id":          project,
			"user_id":             user,
			"consumer_type":       "INSTANCE",
		}
		if err := c.Do(ctx, http.MethodPut, "/allocations/"+uuid.NewString(), version, body, nil); err != nil {
			return Summary{}, err
		}
		t, err := timedGet(ctx, c, d.LimitQuery, &buf)
		if err != nil {
			return Summary{}, err
		}
		samples = append(samples, t)
	}
	return Summarize(samples), nil
}

// bigScale loads n flat providers and --scale-allocations allocation rows
// per provider with the bulk loader and measures the first request (which
// loads the whole cache), candidate latency, RSS, and the refresh cost of
// one write. Ours only: the reference cannot load such sizes in reasonable
// time, and the bulk loader needs a database the bench created.
func (r *runner) bigScale(ctx context.Context, sd side, n int) {
	prefix := fmt.Sprintf("scale N=%d", n)
	srv := r.acquireOurs(ctx, sd, prefix, ": hours for this size")
	if srv == nil {
		return
	}
	defer r.release(ctx, sd, srv, nil, nil, nil)
	if srv.DBURL == "" {
		r.logf("%s: %s needs a server the bench starts (bulk loader); skipped", sd.label, prefix)
		return
	}
	c := NewClient(srv.URL, r.o.Token, r.o.Workers)
	allocs := n * r.o.ScaleAllocs
	r.logf("%s: bulk loading %d providers and %d allocations", sd.label, n, allocs)
	start := time.Now()
	d, err := bulkLoadFlat(ctx, srv.DBURL, n, allocs)
	if err != nil {
		r.fail(sd, prefix+" loading", err)
		return
	}
	elapsed := time.Since(start)
	r.res.Set(fmt.Sprintf("%s: bulk SQL load, %d allocations", prefix, allocs), "s", Lower, sd.ref, elapsed.Seconds())
	var buf bytes.Buffer
	first, err := timedGet(ctx, c, d.LimitQuery, &buf)
	if err != nil {
		r.fail(sd, prefix, err)
		return
	}
	r.res.Set(prefix+": first request (loads the cache)", "ms", Lower, sd.ref, ms(first))
	r.logf("%s: loaded in %s; first request %s", sd.label, elapsed.Round(time.Millisecond), first.Round(time.Millisecond))

	sum, _, err := Latency(ctx, c, d.LimitQuery, r.o.Warmups, r.o.Requests)
	if err != nil {
		r.fail(sd, prefix, err)
		return
	}
	r.setLatency(sd, prefix+": limit=5 latency", sum)
	limit5 := sum.Median
	sum, count, err := Latency(ctx, c, d.Query, r.o.Warmups, r.o.ScaleRequests)
	if err != nil {
		r.fail(sd, prefix, err)
		return
	}
	r.res.Set(prefix+": candidates returned", "", Neither, sd.ref, float64(count))
	r.setLatency(sd, prefix+": latency", sum)
	r.logf("%s: %d candidates, median %.1f ms", sd.label, count, ms(sum.Median))

	after, err := writeThenRead(ctx, c, d, r.o.Requests)
	if err != nil {
		r.fail(sd, prefix+" write then read", err)
		return
	}
	r.res.Set(prefix+": limit=5 latency after one write, median", "ms", Lower, sd.ref, ms(after.Median))
	r.res.Set(prefix+": one write's refresh (difference of medians)", "ms", Lower, sd.ref, ms(after.Median-limit5))
	r.setRSS(sd, srv, prefix)
	if kib, ok := srv.PeakRSS(); ok {
		r.res.Set(prefix+": server peak RSS", "MiB", Lower, sd.ref, float64(kib)/1024)
	}
}
