package gabbits

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/openstack-placement-go/placement/internal/api"
)

// TestAllocationCandidates_WideTreeIsBounded is issue 11's reproduction:
// one root with VCPU and 12 children with CUSTOM_GPU 6, asked for eight
// granular groups of CUSTOM_GPU:1 (about 430 million candidates). The
// request must end in the budget's 400 within seconds while GET / keeps
// answering.
func TestAllocationCandidates_WideTreeIsBounded(t *testing.T) {
	t.Parallel()
	srv := startServer(t, func(o *api.Options) {
		o.Placement.AllocationCandidatesMemoryLimitMB = 64
		o.Placement.AllocationCandidatesTimeout = time.Minute
	})
	do := func(method, path string, body any) (int, []byte) {
		t.Helper()
		var r io.Reader
		if body != nil {
			data, _ := json.Marshal(body)
			r = bytes.NewReader(data)
		}
		req, _ := http.NewRequest(method, srv.URL+path, r)
		req.Header.Set("X-Auth-Token", "admin")
		req.Header.Set("OpenStack-API-Version", "placement latest")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, data
	}
	must := func(want int, method, path string, body any) {
		t.Helper()
		if got, data := do(method, path, body); got != want {
			t.Fatalf("%s %s: %d %s, want %d", method, path, got, data, want)
		}
	}
	must(201, "PUT", "/resource_classes/CUSTOM_GPU", nil)
	root := uuid.NewString()
	must(200, "POST", "/resource_providers", map[string]any{"name": "root", "uuid": root})
	must(200, "PUT", "/resource_providers/"+root+"/inventories", map[string]any{
		"resource_provider_generation": 0, "inventories": map[string]any{"VCPU": map[string]int{"total": 64}}})
	for i := 0; i < 12; i++ {
		child := uuid.NewString()
		must(200, "POST", "/resource_providers", map[string]any{"name": fmt.Sprintf("gpu%d", i), "uuid": child, "parent_provider_uuid": root})
		must(200, "PUT", "/resource_providers/"+child+"/inventories", map[string]any{
			"resource_provider_generation": 0, "inventories": map[string]any{"CUSTOM_GPU": map[string]int{"total": 6}}})
	}

	// GET / every 20 ms while the wide request runs.
	done := make(chan struct{})
	var (
		wg       sync.WaitGroup
		slowest  time.Duration
		failures []string
		pings    int
	)
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
			start := time.Now()
			resp, err := http.Get(srv.URL + "/")
			took := time.Since(start)
			pings++
			slowest = max(slowest, took)
			if err != nil {
				failures = append(failures, err.Error())
				continue
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				failures = append(failures, resp.Status)
			}
		}
	})

	q := "/allocation_candidates?resources=VCPU:1&group_policy=none"
	for i := 1; i <= 8; i++ {
		q += fmt.Sprintf("&resources%d=CUSTOM_GPU:1", i)
	}
	start := time.Now()
	status, body := do("GET", q, nil)
	took := time.Since(start)
	close(done)
	wg.Wait()

	var e struct {
		Errors []struct{ Code, Detail string }
	}
	if err := json.Unmarshal(body, &e); status != 400 || err != nil || len(e.Errors) != 1 ||
		e.Errors[0].Code != "placement.allocation_candidates.memory_limit" ||
		!strings.Contains(e.Errors[0].Detail, "would need more than the 64 MiB") {
		t.Errorf("wide request: %d %.300s, want 400 coded placement.allocation_candidates.memory_limit", status, body)
	}
	// Reaching 64 MiB takes well under a second; leave room for the race
	// detector and a busy machine.
	if took > 20*time.Second {
		t.Errorf("wide request took %v", took)
	}
	if len(failures) > 0 {
		t.Errorf("GET / failed during the wide request: %v", failures)
	}
	t.Logf("wide request: %d in %v; GET / answered %d times, slowest %v", status, took, pings, slowest)
	must(200, "GET", "/allocation_candidates?resources=VCPU:1&resources1=CUSTOM_GPU:1&group_policy=none&limit=1", nil)
}
