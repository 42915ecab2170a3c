package gabbits

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
)

// BenchmarkClaims runs the placement-bench claim workload (10 claimers:
// candidates with limit=5, PUT the first that fits) in process, for
// profiling the claim path.
func BenchmarkClaims(b *testing.B) {
	srv, c := benchServer(b)
	for range 200 {
		c.computeNode(srv)
	}
	const query = "resources=VCPU:1,DISK_GB:10,MEMORY_MB:256&limit=5"
	b.ResetTimer()
	var n atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			for n.Add(1) <= int64(b.N) {
				for done := false; !done; {
					out := c.must(srv, 200, "GET", "/allocation_candidates?"+query, nil)
					reqs, _ := out["allocation_requests"].([]any)
					for _, ar := range reqs {
						body := map[string]any{"allocations": ar.(map[string]any)["allocations"],
							"consumer_generation": nil, "project_id": "p", "user_id": "u", "consumer_type": "INSTANCE"}
						if st, _ := c.call(srv, "1.39", "PUT", "/allocations/"+uuid.NewString(), body); st == 204 {
							done = true
							break
						}
					}
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "claims/s")
}
