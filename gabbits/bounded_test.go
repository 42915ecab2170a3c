package gabbits

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/openstack-placement-go/placement/internal/api"
	"github.com/openstack-placement-go/placement/internal/policy"
	"github.com/openstack-placement-go/placement/internal/testserver"
	"github.com/openstack-placement-go/placement/internal/testutil"
)

// wideClient talks to srv as admin at the latest microversion.
type wideClient struct {
	t   *testing.T
	srv *httptest.Server
}

func (c wideClient) do(ctx context.Context, method, path string, body any) (int, []byte, error) {
	req, err := testserver.Request(ctx, "latest", method, c.srv.URL+path, body)
	if err != nil {
		return 0, nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, data, err
}

func (c wideClient) must(want int, method, path string, body any) {
	c.t.Helper()
	got, data, err := c.do(context.Background(), method, path, body)
	if err != nil || got != want {
		c.t.Fatalf("%s %s: %d %s %v, want %d", method, path, got, data, err, want)
	}
}

// wideTree creates issue 11's tree: a root with VCPU 64 and 12 children
// with CUSTOM_GPU 6. It returns the query of eight granular groups of
// CUSTOM_GPU:1 (12^8, about 430 million candidates).
func (c wideClient) wideTree() string { return c.wideTreeOf(12) }

// wideTreeOf is wideTree with children children.
func (c wideClient) wideTreeOf(children int) string {
	c.must(201, "PUT", "/resource_classes/CUSTOM_GPU", nil)
	root := uuid.NewString()
	c.must(200, "POST", "/resource_providers", map[string]any{"name": "root", "uuid": root})
	c.must(200, "PUT", "/resource_providers/"+root+"/inventories", map[string]any{
		"resource_provider_generation": 0, "inventories": map[string]any{"VCPU": map[string]int{"total": 64}}})
	for i := 0; i < children; i++ {
		child := uuid.NewString()
		c.must(200, "POST", "/resource_providers", map[string]any{"name": fmt.Sprintf("gpu%d", i), "uuid": child, "parent_provider_uuid": root})
		c.must(200, "PUT", "/resource_providers/"+child+"/inventories", map[string]any{
			"resource_provider_generation": 0, "inventories": map[string]any{"CUSTOM_GPU": map[string]int{"total": 6}}})
	}
	q := "/allocation_candidates?resources=VCPU:1&group_policy=none"
	for i := 1; i <= 8; i++ {
		q += fmt.Sprintf("&resources%d=CUSTOM_GPU:1", i)
	}
	return q
}

// TestAllocationCandidates_WideTreeIsBounded is issue 11's reproduction.
// The request must end in the budget's 400 within seconds while GET /
// keeps answering. randomize_allocation_candidates makes it hold every
// candidate; in generation order they are streamed (see
// TestAllocationCandidates_StreamedPastTheTimeout).
func TestAllocationCandidates_WideTreeIsBounded(t *testing.T) {
	t.Parallel()
	srv := startServer(t, policy.Default(), func(o *api.Options) {
		o.Placement.AllocationCandidatesMemoryLimitMB = 64
		o.Placement.RandomizeAllocationCandidates = true
		o.Placement.AllocationCandidatesTimeout = time.Minute
	})
	c := wideClient{t, srv}
	q := c.wideTree()

	// GET / every 20 ms while the wide request runs.
	stopPings := testutil.PingEvery(http.DefaultClient, srv.URL+"/", 20*time.Millisecond)

	start := time.Now()
	status, body, err := c.do(context.Background(), "GET", q, nil)
	took := time.Since(start)
	pings := stopPings()
	if err != nil {
		t.Fatal(err)
	}
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
	if len(pings.Failures) > 0 {
		t.Errorf("GET / failed during the wide request: %v", pings.Failures)
	}
	t.Logf("wide request: %d in %v; GET / answered %d times, slowest %v", status, took, pings.Count, pings.Slowest)
	c.must(200, "GET", "/allocation_candidates?resources=VCPU:1&resources1=CUSTOM_GPU:1&group_policy=none&limit=1", nil)
}

// TestAllocationCandidates_StopsWhenClientGoesAway: a client that gives
// up ends the wide request's generation, which the access log shows as
// the request finishing (503) shortly after. The 1 GiB budget only keeps a
// regression from eating the machine: reaching it would log a 400.
func TestAllocationCandidates_StopsWhenClientGoesAway(t *testing.T) {
	t.Parallel()
	var log testserver.Buffer
	srv := startServer(t, policy.Default(), func(o *api.Options) {
		o.Placement.AllocationCandidatesMemoryLimitMB = 1024
		o.Logger = slog.New(slog.NewTextHandler(&log, nil))
	})
	c := wideClient{t, srv}
	q := c.wideTree()

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, _, err := c.do(ctx, "GET", q, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("wide request: %v, want the client's deadline", err)
	}
	gaveUp := time.Now()
	line := regexp.MustCompile(`logger=placement.requestlog .*msg_args.REQUEST_URI="/allocation_candidates\?[^"]*resources8=[^"]*" msg_args.status=(\d+) .*duration=(\S+)`)
	for {
		if m := line.FindStringSubmatch(log.String()); m != nil {
			// 503 if the client left before the answer started, 200 if
			// the streamed answer had started (which is likely).
			if m[1] != "503" && m[1] != "200" {
				t.Errorf("wide request logged status %s, want 503 (client gone) or 200 (stream aborted)", m[1])
			}
			t.Logf("server finished the wide request %v after the client gave up (duration %s)", time.Since(gaveUp), m[2])
			break
		}
		if time.Since(gaveUp) > 10*time.Second {
			t.Fatalf("the server was still generating 10s after the client gave up")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if strings.Contains(log.String(), "level=ERROR") {
		t.Errorf("a client going away was logged as an error:\n%s", log.String())
	}
}

// TestAllocationCandidates_StreamedIsNotHeld: in generation order the
// candidates are streamed as they are found, so the 65,436 candidates
// that a 1 MiB budget refuses when randomised (allocation-candidates-bounded.yaml)
// are answered within it.
func TestAllocationCandidates_StreamedIsNotHeld(t *testing.T) {
	t.Parallel()
	srv := startServer(t, policy.Default(), func(o *api.Options) {
		o.Placement.AllocationCandidatesMemoryLimitMB = 1
	})
	c := wideClient{t, srv}
	q := c.wideTreeOf(4)
	status, body, err := c.do(context.Background(), "GET", q, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		AllocationRequests []json.RawMessage `json:"allocation_requests"`
		ProviderSummaries  map[string]any    `json:"provider_summaries"`
	}
	if err := json.Unmarshal(body, &got); status != 200 || err != nil ||
		len(got.AllocationRequests) != 65436 || len(got.ProviderSummaries) != 5 {
		t.Fatalf("streamed request: %d, %d candidates, %d summaries, %v; want 200, 65436, 5",
			status, len(got.AllocationRequests), len(got.ProviderSummaries), err)
	}
}

// TestAllocationCandidates_StreamedPastTheTimeout: a streamed answer whose
// generation outlives allocation_candidates_timeout after its status went
// out ends in a dropped connection, never in a body that parses; the
// access log still records it and GET / keeps answering.
func TestAllocationCandidates_StreamedPastTheTimeout(t *testing.T) {
	t.Parallel()
	var log testserver.Buffer
	srv := startServer(t, policy.Default(), func(o *api.Options) {
		o.Placement.AllocationCandidatesTimeout = 500 * time.Millisecond
		o.Logger = slog.New(slog.NewTextHandler(&log, nil))
	})
	c := wideClient{t, srv}
	q := c.wideTree()
	start := time.Now()
	status, body, err := c.do(context.Background(), "GET", q, nil)
	took := time.Since(start)
	if status != 200 || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("wide request: %d, %v, want 200 and an unexpected EOF", status, err)
	}
	if json.Valid(body) || !strings.HasPrefix(string(body), `{"allocation_requests": [{`) {
		t.Errorf("wide request's body (%d bytes) is %.100s…, want a truncated answer", len(body), body)
	}
	if took > 20*time.Second {
		t.Errorf("wide request took %v", took)
	}
	line := regexp.MustCompile(`logger=placement.requestlog .*msg_args.REQUEST_URI="/allocation_candidates\?[^"]*resources8=[^"]*" msg_args.status=200 `)
	if !line.MatchString(log.String()) {
		t.Errorf("the aborted request is not in the access log:\n%s", log.String())
	}
	if strings.Contains(log.String(), "level=ERROR") {
		t.Errorf("the aborted request was logged as an error:\n%s", log.String())
	}
	c.must(200, "GET", "/", nil)
}
