package metrics

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

// scrape returns what Handler(reg) answers to a GET with the given Accept
// header: its Content-Type and body.
func scrape(t *testing.T, reg *Registry, accept string) (string, string) {
	t.Helper()
	req := httptest.NewRequest("GET", "/metrics", nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	rec := httptest.NewRecorder()
	Handler(reg).ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	return rec.Header().Get("Content-Type"), rec.Body.String()
}

func TestPlacement_FamiliesKeepTheirNamesLabelsAndTypes(t *testing.T) {
	t.Parallel()
	reg := NewRegistry()
	p := NewPlacement(reg)
	p.Requests.WithLabelValues("/resource_providers/{uuid}", "GET", "1.20", "200").Inc()
	p.Requests.WithLabelValues("/resource_providers/{uuid}", "GET", "1.20", "200").Add(2)
	p.Requests.WithLabelValues(`/a"b\`, "GET", "-", "404").Inc()
	p.Latency.WithLabelValues("/", "GET", "1.0", "200").Observe(0.05)
	p.Candidates.WithLabelValues("200").Observe(0.5)
	p.Candidates.WithLabelValues("200").Observe(90)
	p.Errors.WithLabelValues("409", "placement.concurrent_update").Inc()
	p.ConflictRetries.WithLabelValues("generation").Inc()
	p.GenerationConflicts.WithLabelValues("/allocations/{consumer_uuid}").Inc()

	typ, body := scrape(t, reg, "")
	if !strings.HasPrefix(typ, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type %q, want the Prometheus text format", typ)
	}
	for _, want := range []string{
		"# TYPE placement_http_requests_total counter",
		`placement_http_requests_total{method="GET",microversion="1.20",route="/resource_providers/{uuid}",status="200"} 3`,
		`placement_http_requests_total{method="GET",microversion="-",route="/a\"b\\",status="404"} 1`,
		"# TYPE placement_http_request_duration_seconds histogram",
		`placement_http_request_duration_seconds_bucket{method="GET",microversion="1.0",route="/",status="200",le="0.005"} 0`,
		`placement_http_request_duration_seconds_bucket{method="GET",microversion="1.0",route="/",status="200",le="0.05"} 1`,
		`placement_http_request_duration_seconds_bucket{method="GET",microversion="1.0",route="/",status="200",le="10"} 1`,
		"# TYPE placement_allocation_candidates_duration_seconds histogram",
		`placement_allocation_candidates_duration_seconds_bucket{status="200",le="60"} 1`,
		`placement_allocation_candidates_duration_seconds_bucket{status="200",le="+Inf"} 2`,
		`placement_allocation_candidates_duration_seconds_sum{status="200"} 90.5`,
		`placement_http_errors_total{code="placement.concurrent_update",status="409"} 1`,
		`placement_allocation_conflict_retries_total{reason="generation"} 1`,
		`placement_generation_conflicts_total{route="/allocations/{consumer_uuid}"} 1`,
		"# TYPE go_goroutines gauge",
		"# TYPE process_cpu_seconds_total counter",
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("the scrape lacks %s\n%s", want, body)
		}
	}
}

func TestHandler_OpenMetricsOnRequest(t *testing.T) {
	t.Parallel()
	reg := NewRegistry()
	NewPlacement(reg).ConflictRetries.WithLabelValues("40001").Inc()
	typ, body := scrape(t, reg, "application/openmetrics-text; version=1.0.0")
	if !strings.HasPrefix(typ, "application/openmetrics-text; version=1.0.0") {
		t.Errorf("Content-Type %q, want OpenMetrics", typ)
	}
	for _, want := range []string{"# TYPE placement_allocation_conflict_retries counter", `placement_allocation_conflict_retries_total{reason="40001"} 1.0`, "# EOF"} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("the OpenMetrics scrape lacks %s\n%s", want, body)
		}
	}
}

func TestRegisterPool_ReadsThePoolAtEveryScrape(t *testing.T) {
	t.Parallel()
	// A pool connects lazily: this one never does, its statistics are zero.
	pool, err := pgxpool.New(context.Background(), "postgres://nobody@127.0.0.1:1/none?connect_timeout=1")
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	reg := NewRegistry()
	reads := 0
	RegisterPool(reg, func() *pgxpool.Stat { reads++; return pool.Stat() })
	_, body := scrape(t, reg, "")
	_, _ = scrape(t, reg, "")
	if reads != 2 {
		t.Errorf("the pool was read %d times in two scrapes, want 2", reads)
	}
	for _, want := range []string{
		"# TYPE placement_db_pool_acquired_connections gauge", "placement_db_pool_acquired_connections 0",
		"# TYPE placement_db_pool_idle_connections gauge", "# TYPE placement_db_pool_total_connections gauge",
		"# TYPE placement_db_pool_max_connections gauge", "# TYPE placement_db_pool_acquires_total counter",
		"# TYPE placement_db_pool_empty_acquires_total counter", "# TYPE placement_db_pool_canceled_acquires_total counter",
		"# TYPE placement_db_pool_acquire_seconds_total counter", "placement_db_pool_acquire_seconds_total 0",
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("the scrape lacks %s\n%s", want, body)
		}
	}
}

func TestNilRegistryGivesNoMetrics(t *testing.T) {
	t.Parallel()
	if p := NewPlacement(nil); p != nil {
		t.Fatal("NewPlacement(nil) should be nil")
	}
	RegisterPool(nil, nil) // does nothing
}
