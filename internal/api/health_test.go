package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/openstack-placement-go/placement/internal/placement"
)

func TestHealthcheck(t *testing.T) {
	t.Parallel()
	up := testAPI(Options{})
	down := testAPI(Options{Health: func(context.Context) error { return errors.New("dial tcp 10.0.0.1:5432: connection refused") }})
	tests := []struct {
		name   string
		h      http.Handler
		method string
		status int
		body   string
	}{
		{"GET while the database answers", up, "GET", 200, "OK\n"},
		{"HEAD while the database answers", up, "HEAD", 200, ""},
		{"GET while the database is down", down, "GET", 503, "database unavailable\n"},
		{"HEAD while the database is down", down, "HEAD", 503, ""},
		{"POST is not allowed", up, "POST", 405, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := serve(tt.h, tt.method, "/healthcheck", nil) // no token: no authentication
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d", rec.Code, tt.status)
			}
			if tt.status == 405 {
				if rec.Header().Get("Allow") != "GET, HEAD" {
					t.Fatalf("Allow = %q", rec.Header().Get("Allow"))
				}
				return
			}
			if rec.Body.String() != tt.body {
				t.Fatalf("body = %q, want %q", rec.Body.String(), tt.body)
			}
			if strings.Contains(rec.Body.String(), "10.0.0.1") {
				t.Fatal("the reason leaks connection details")
			}
		})
	}
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	h := testAPI(Options{MaxBodyBytes: 10})
	req := httptest.NewRequest("POST", "/resource_classes", strings.NewReader(`{"name": "CUSTOM_TOO_LONG_FOR_THE_LIMIT"}`))
	req.Header.Set("X-Auth-Token", "admin")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("OpenStack-API-Version", "placement 1.39")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status = %d, want 413; body %s", rec.Code, rec.Body)
	}
	for _, want := range []string{`"status":413`, `"title":"Request Entity Too Large"`, "larger than the 10 bytes this service accepts", `"request_id":"req-`, `"code":"placement.undefined_code"`} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("body %s lacks %s", rec.Body, want)
		}
	}
	// A chunked body (no Content-Length) fails when read: the same 413.
	req = httptest.NewRequest("POST", "/resource_classes", io.MultiReader(strings.NewReader(`{"name": "CUSTOM_TOO_LONG_FOR_THE_LIMIT"}`)))
	req.ContentLength = -1
	req.Header.Set("X-Auth-Token", "admin")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("OpenStack-API-Version", "placement 1.39")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), `"code":"placement.undefined_code"`) {
		t.Fatalf("chunked: status = %d, body %s; want 413 with a code", rec.Code, rec.Body)
	}
	// Before 1.23 there is no code.
	req = httptest.NewRequest("POST", "/resource_classes", strings.NewReader(`{"name": "CUSTOM_TOO_LONG_FOR_THE_LIMIT"}`))
	req.Header.Set("X-Auth-Token", "admin")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("OpenStack-API-Version", "placement 1.22")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge || strings.Contains(rec.Body.String(), `"code"`) {
		t.Fatalf("1.22: status = %d, body %s; want 413 without a code", rec.Code, rec.Body)
	}
	// Without authentication, 401 comes first.
	req = httptest.NewRequest("POST", "/resource_classes", strings.NewReader(`{"name": "CUSTOM_TOO_LONG_FOR_THE_LIMIT"}`))
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("status = %d, want 401", rec.Code)
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want placement.Kind
	}{
		{"a database error goes through the store", fmt.Errorf("listing: %w", &pgconn.PgError{Code: pgerrcode.ConnectionFailure}), placement.Unavailable},
		{"an internal error with a database cause", &placement.Error{Kind: placement.Internal, Err: &pgconn.PgError{Code: pgerrcode.UntranslatableCharacter}}, placement.Invalid},
		{"a placement error keeps its kind", placement.E(placement.NotFound, "x"), placement.NotFound},
		{"an over-long body", fmt.Errorf("reading: %w", &http.MaxBytesError{Limit: 5}), placement.TooLarge},
		{"anything else", errors.New("boom"), placement.Internal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := placement.KindOf(classify(tt.err)); got != tt.want {
				t.Fatalf("kind = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAccessLogCarriesIdentityNotTokens(t *testing.T) {
	t.Parallel()
	var buf strings.Builder
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(lockedWriter{&mu, &buf}, nil))
	h := testAPI(Options{Logger: logger})
	global := "req-12345678-1234-1234-1234-123456789abc"
	serve(h, "GET", "/resource_providers", map[string]string{
		"X-Auth-Token": "alice:proj1", "X-Openstack-Request-Id": global, "X-Roles": "reader",
	})
	mu.Lock()
	line := buf.String()
	mu.Unlock()
	for _, want := range []string{"user=alice", "project=proj1", "global_request_id=" + global, "status=403", "request_id=req-"} {
		if !strings.Contains(line, want) {
			t.Errorf("access log %q lacks %s", line, want)
		}
	}
	if strings.Contains(line, "alice:proj1") {
		t.Errorf("access log %q carries the token", line)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestHealthcheck_DisabledByFile: while the operator's file exists the
// probe answers 503, whatever the database says; removed, 200 again.
func TestHealthcheck_DisabledByFile(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "disable")
	h := testAPI(Options{HealthDisableFile: file})
	if rec := serve(h, "GET", "/healthcheck", nil); rec.Code != 200 {
		t.Fatalf("without the file: %d %q", rec.Code, rec.Body)
	}
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if rec := serve(h, "GET", "/healthcheck", nil); rec.Code != 503 || rec.Body.String() != "DISABLED BY FILE\n" {
		t.Errorf("with the file: %d %q, want 503 DISABLED BY FILE", rec.Code, rec.Body)
	}
	os.Remove(file)
	if rec := serve(h, "GET", "/healthcheck", nil); rec.Code != 200 {
		t.Errorf("after removing the file: %d %q", rec.Code, rec.Body)
	}
}
