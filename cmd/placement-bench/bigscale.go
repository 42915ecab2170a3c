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
// n times, make write i (untimed) and then time the limit=5 query, whose
// request finds the change and refreshes the cache.
func writeThenRead(ctx context.Context, c *Client, d *Dataset, n int, write func(i int) error) (Summary, error) {
	var buf bytes.Buffer
	var samples []time.Duration
	runtime.GC()
	for i := range n {
		if err := write(i); err != nil {
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

// scaleWrites are the writes whose refresh the scale scenario measures:
// one allocation on a provider (its usage changes), a trait set on a
// provider (its traits change), a provider created (the cache gains one),
// and deleted again (in the order created: as many as were created).
func scaleWrites(ctx context.Context, c *Client, d *Dataset) []struct {
	name  string
	write func(i int) error
} {
	project, user := uuid.NewString(), uuid.NewString()
	provider := func(i int) string { return d.Providers[(i*7919)%len(d.Providers)].UUID }
	allocation := func(i int) error {
		body := map[string]any{
			"allocations":         map[string]any{provider(i): map[string]any{"resources": map[string]int{"DISK_GB": 1}}},
			"consumer_generation": nil,
			"project_id":          project,
			"user_id":             user,
			"consumer_type":       "INSTANCE",
		}
		return c.Do(ctx, http.MethodPut, "/allocations/"+uuid.NewString(), version, body, nil)
	}
	trait := func(i int) error {
		if i == 0 {
			if err := c.Do(ctx, http.MethodPut, "/traits/CUSTOM_BENCH_REFRESH", version, nil, nil); err != nil {
				return err
			}
		}
		var rp struct {
			Generation int `json:"generation"`
		}
		path := "/resource_providers/" + provider(i)
		if err := c.Do(ctx, http.MethodGet, path, version, nil, &rp); err != nil {
			return err
		}
		body := map[string]any{"traits": []string{"CUSTOM_BENCH_REFRESH"}, "resource_provider_generation": rp.Generation}
		return c.Do(ctx, http.MethodPut, path+"/traits", version, body, nil)
	}
	var created []string
	create := func(i int) error {
		id := uuid.NewString()
		created = append(created, id)
		body := map[string]any{"name": "bench-refresh-" + id, "uuid": id}
		return c.Do(ctx, http.MethodPost, "/resource_providers", version, body, nil)
	}
	remove := func(i int) error {
		return c.Do(ctx, http.MethodDelete, "/resource_providers/"+created[i%len(created)], version, nil, nil)
	}
	return []struct {
		name  string
		write func(i int) error
	}{{"write", allocation}, {"trait write", trait}, {"provider created", create}, {"provider deleted", remove}}
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

	for _, w := range scaleWrites(ctx, c, d) {
		after, err := writeThenRead(ctx, c, d, r.o.Requests, w.write)
		if err != nil {
			r.fail(sd, prefix+" "+w.name+" then read", err)
			return
		}
		r.res.Set(prefix+": limit=5 latency after one "+w.name+", median", "ms", Lower, sd.ref, ms(after.Median))
		r.res.Set(prefix+": one "+w.name+"'s refresh (difference of medians)", "ms", Lower, sd.ref, ms(after.Median-limit5))
	}
	r.setRSS(sd, srv, prefix)
	if kib, ok := srv.PeakRSS(); ok {
		r.res.Set(prefix+": server peak RSS", "MiB", Lower, sd.ref, float64(kib)/1024)
	}
}
