package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/openstack-placement-go/placement/internal/metrics"
)

func TestMetrics(t *testing.T) {
	t.Parallel()
	reg := metrics.NewRegistry()
	h := testAPI(Options{Metrics: metrics.NewPlacement(reg)})
	admin := map[string]string{"X-Auth-Token": "admin", "OpenStack-API-Version": "placement 1.20"}
	serve(h, "GET", "/", map[string]string{"OpenStack-API-Version": "placement 1.20"})
	serve(h, "GET", "/resource_providers/"+strings.Repeat("a", 8), map[string]string{"X-Auth-Token": "nobody", "OpenStack-API-Version": "placement 1.20"})
	serve(h, "GET", "/no/such/thing", admin)
	serve(h, "GET", "/allocation_candidates?resources=VCPU", admin) // 400
	serve(h, "BREW", "/resource_providers", nil)                    // any token is a method
	serve(h, "BREW2", "/no/such/thing", admin)

	if rec := serve(h, "GET", "/metrics", nil); rec.Code != 401 {
		t.Fatalf("/metrics without a token = %d, want 401", rec.Code)
	}
	if rec := serve(h, "GET", "/metrics", map[string]string{"X-Auth-Token": "nobody"}); rec.Code != 403 || !strings.Contains(rec.Body.String(), "Policy does not allow admin_api to be performed.") {
		t.Fatalf("/metrics for a non-admin = %d %s, want 403", rec.Code, rec.Body)
	}
	rec := serve(h, "GET", "/metrics", admin)
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("/metrics = %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	body := rec.Body.String()
	for _, want := range []string{
		`placement_http_requests_total{method="GET",microversion="1.20",route="/",status="200"} 1`,
		`placement_http_requests_total{method="GET",microversion="1.20",route="/resource_providers/{uuid}",status="403"} 1`,
		`placement_http_requests_total{method="GET",microversion="1.20",route="unmatched",status="404"} 1`,
		`placement_http_requests_total{method="GET",microversion="-",route="/metrics",status="401"} 1`,
		`placement_http_request_duration_seconds_bucket{method="GET",microversion="1.20",route="/",status="200",le="+Inf"} 1`,
		`placement_http_errors_total{code="placement.undefined_code",status="403"} 2`,
		"# TYPE placement_allocation_candidates_duration_seconds histogram",
		`placement_allocation_candidates_duration_seconds_count{status="400"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s\n%s", want, body)
		}
	}
	// OpenMetrics for a scraper that asks for it.
	om := map[string]string{"Accept": "application/openmetrics-text; version=1.0.0"}
	for k, v := range admin {
		om[k] = v
	}
	if rec := serve(h, "GET", "/metrics", om); rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/openmetrics-text") || !strings.HasSuffix(rec.Body.String(), "# EOF\n") {
		t.Errorf("/metrics with OpenMetrics asked for = %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	if strings.Contains(body, "aaaaaaaa") {
		t.Error("a raw path leaked into the labels")
	}
	if strings.Contains(body, "BREW") || !strings.Contains(body, `method="other"`) {
		t.Error("a method HTTP does not define is a label value of its own, not other")
	}
}

// TestStatusRecorderServe: done runs once after the handler, and once when
// the handler aborts after sending its status (the panic goes on), but not
// when it panics before anything went out.
func TestStatusRecorderServe(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		h         http.HandlerFunc
		panics    bool
		doneCalls int
	}{
		{"a plain answer", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }, false, 1},
		{"an abort after the status", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusOK)
			panic(http.ErrAbortHandler)
		}, true, 1},
		{"a panic before the status", func(http.ResponseWriter, *http.Request) { panic("boom") }, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			calls := 0
			panicked := func() (p bool) {
				defer func() { p = recover() != nil }()
				rec := &statusRecorder{ResponseWriter: httptest.NewRecorder()}
				rec.serve(tt.h, httptest.NewRequest("GET", "/", nil), func() { calls++ })
				return false
			}()
			if panicked != tt.panics || calls != tt.doneCalls {
				t.Errorf("panicked %v, done called %d times; want %v, %d", panicked, calls, tt.panics, tt.doneCalls)
			}
		})
	}
}
