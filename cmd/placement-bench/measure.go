package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// candidates is the part of a GET /allocation_candidates response (1.34+)
// the bench uses.
type candidates struct {
	AllocationRequests []struct {
		Allocations map[string]struct {
			Resources map[string]int `json:"resources"`
		} `json:"allocations"`
	} `json:"allocation_requests"`
	ProviderSummaries map[string]json.RawMessage `json:"provider_summaries"`
}

// bodySink receives a response body: a reused *bytes.Buffer, or a
// *chunkedBody for a large body read once.
type bodySink interface {
	Reset()
	ReadFrom(io.Reader) (int64, error)
	String() string
}

// timedGet sends one GET and returns its wall time, including reading the
// whole body (into buf, which is reused so that the bench's own allocation
// and garbage collection stay out of the measurement) but not decoding it.
func timedGet(ctx context.Context, c *Client, path string, buf bodySink) (time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Base+path, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("X-Auth-Token", c.Token)
	req.Header.Set("OpenStack-API-Version", "placement "+version)
	buf.Reset()
	start := time.Now()
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return 0, err
	}
	_, err = buf.ReadFrom(resp.Body)
	resp.Body.Close()
	elapsed := time.Since(start)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, &StatusError{Method: http.MethodGet, Path: path, Status: resp.StatusCode, Body: buf.String()}
	}
	return elapsed, nil
}

// Latency sends warmups unmeasured requests and then n sequential ones. It
// returns their distribution and the number of allocation requests in the
// last response.
func Latency(ctx context.Context, c *Client, path string, warmups, n int) (Summary, int, error) {
	var samples []time.Duration
	var buf bytes.Buffer
	for i := range warmups + n {
		if i == warmups {
			runtime.GC() // start the measured requests with the bench's own heap clean
		}
		d, err := timedGet(ctx, c, path, &buf)
		if err != nil {
			return Summary{}, 0, err
		}
		if i >= warmups {
			samples = append(samples, d)
		}
	}
	var cands candidates
	if err := json.Unmarshal(buf.Bytes(), &cands); err != nil {
		return Summary{}, 0, fmt.Errorf("decoding candidates: %w", err)
	}
	return Summarize(samples), len(cands.AllocationRequests), nil
}

// Throughput runs concurrency clients sending path back to back for the
// duration and returns completed requests per second.
func Throughput(ctx context.Context, c *Client, path string, concurrency int, duration time.Duration) (float64, error) {
	var done atomic.Int64
	start := time.Now()
	deadline := start.Add(duration)
	err := fanOut(ctx, concurrency, func(ctx context.Context) error {
		var buf bytes.Buffer
		for time.Now().Before(deadline) && ctx.Err() == nil {
			if _, err := timedGet(ctx, c, path, &buf); err != nil {
				return err
			}
			done.Add(1)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return Rate(int(done.Load()), time.Since(start)), nil
}

// ClaimStats is the outcome of a claim run.
type ClaimStats struct {
	Claimed   int
	Conflicts int // 409s answered to PUT /allocations, each retried
	Exhausted int // claims given up because no candidate was left
	Elapsed   time.Duration
	Consumers []string
}

// errNoCandidates means the candidates query returned nothing to claim.
var errNoCandidates = errors.New("no allocation candidates left")

// Claim runs claimers goroutines that together make total claims the way a
// scheduler does: GET candidates (limit=5), PUT /allocations/{new consumer}
// with the first allocation request, on 409 the next one, and fresh
// candidates once all five failed.
func Claim(ctx context.Context, c *Client, limitQuery string, claimers, total int) (ClaimStats, error) {
	var (
		mu    sync.Mutex
		stats ClaimStats
	)
	project, user := uuid.NewString(), uuid.NewString()
	claimOne := func(ctx context.Context) (string, int, error) {
		conflicts := 0
		for round := 0; round < 20; round++ {
			var cands candidates
			if err := c.Do(ctx, http.MethodGet, limitQuery, version, nil, &cands); err != nil {
				return "", conflicts, err
			}
			if len(cands.AllocationRequests) == 0 {
				return "", conflicts, errNoCandidates
			}
			for _, ar := range cands.AllocationRequests {
				consumer := uuid.NewString()
				body := map[string]any{
					"allocations":         ar.Allocations,
					"consumer_generation": nil,
					"project_id":          project,
					"user_id":             user,
					"consumer_type":       "INSTANCE",
				}
				err := c.Do(ctx, http.MethodPut, "/allocations/"+consumer, version, body, nil)
				if err == nil {
					return consumer, conflicts, nil
				}
				var se *StatusError
				if errors.As(err, &se) && se.Status == http.StatusConflict {
					conflicts++
					continue
				}
				return "", conflicts, err
			}
		}
		return "", conflicts, errNoCandidates
	}
	start := time.Now()
	err := parallel(ctx, total, claimers, func(ctx context.Context, _ int) error {
		consumer, conflicts, err := claimOne(ctx)
		mu.Lock()
		defer mu.Unlock()
		stats.Conflicts += conflicts
		switch {
		case errors.Is(err, errNoCandidates):
			stats.Exhausted++
			return nil
		case err != nil:
			return err
		}
		stats.Claimed++
		stats.Consumers = append(stats.Consumers, consumer)
		return nil
	})
	stats.Elapsed = time.Since(start)
	return stats, err
}

// OverCapacity reads every provider's inventories and usages and returns
// how many use more of some class than (total - reserved) × allocation_ratio,
// and the total units used of each class.
func OverCapacity(ctx context.Context, c *Client, providers []Provider, workers int) (int, map[string]int, error) {
	var (
		mu   sync.Mutex
		over int
		used = map[string]int{}
	)
	err := parallel(ctx, len(providers), workers, func(ctx context.Context, i int) error {
		id := providers[i].UUID
		var inv struct {
			Inventories map[string]struct {
				Total           int     `json:"total"`
				Reserved        int     `json:"reserved"`
				AllocationRatio float64 `json:"allocation_ratio"`
			} `json:"inventories"`
		}
		var usage struct {
			Usages map[string]int `json:"usages"`
		}
		if err := c.Do(ctx, http.MethodGet, "/resource_providers/"+id+"/inventories", version, nil, &inv); err != nil {
			return err
		}
		if err := c.Do(ctx, http.MethodGet, "/resource_providers/"+id+"/usages", version, nil, &usage); err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		bad := false
		for rc, u := range usage.Usages {
			used[rc] += u
			in, ok := inv.Inventories[rc]
			if u > 0 && (!ok || float64(u) > float64(in.Total-in.Reserved)*in.AllocationRatio) {
				bad = true
			}
		}
		if bad {
			over++
		}
		return nil
	})
	return over, used, err
}
