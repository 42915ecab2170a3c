// Package testserver runs this service in process for tests: a store on a
// test database behind the API handler and an httptest server, closed when
// the test ends, and a client that calls it as admin.
package testserver

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/openstack-placement-go/placement/internal/api"
	"github.com/openstack-placement-go/placement/internal/store"
)

// Options configure Start. The zero value is the service with its default
// policy and options, logging nowhere, on a pool of 8 connections.
type Options struct {
	// Logger receives the log of the API and of the store (nil: discard).
	Logger *slog.Logger
	// Store, when not nil, changes the store before the server starts
	// (for example its CandidateCache).
	Store func(*store.Store)
	// API, when not nil, changes the API options; it runs after Logger is
	// set, so it may replace the API's logger.
	API func(*api.Options)
}

// Start serves the API on the database dsn (for example testdb.New(t))
// until the test ends.
func Start(t testing.TB, dsn string, o Options) *httptest.Server {
	t.Helper()
	pool, err := store.Open(context.Background(), dsn, store.PoolOptions{MaxConns: 8})
	if err != nil {
		t.Fatalf("testserver: open database: %v", err)
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	st := store.New(pool)
	st.Logger = logger
	if o.Store != nil {
		o.Store(st)
	}
	opts := api.Options{Logger: logger}
	if o.API != nil {
		o.API(&opts)
	}
	srv := httptest.NewServer(api.New(st, opts).Handler())
	t.Cleanup(func() {
		srv.Close()
		pool.Close()
	})
	return srv
}

// Buffer collects what a server logs, safe for the test to read while the
// server writes.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Request returns a request for method url as admin at microversion
// version ("1.39", "latest"), asking for JSON, with body (when not nil)
// encoded as JSON.
func Request(ctx context.Context, version, method, url string, body any) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("x-auth-token", "admin")
	req.Header.Set("openstack-api-version", "placement "+version)
	req.Header.Set("accept", "application/json")
	if body != nil {
		req.Header.Set("content-type", "application/json")
	}
	return req, nil
}

// Client calls a service as admin.
type Client struct {
	T    testing.TB
	HTTP *http.Client // nil: http.DefaultClient
}

// Call sends Request(version, method, url, body) and returns the status
// and the response body. A request that gets no answer fails the test
// (with Errorf, so Call may run on any goroutine) and returns status 0.
func (c Client) Call(version, method, url string, body any) (int, []byte) {
	c.T.Helper()
	req, err := Request(context.Background(), version, method, url, body)
	if err != nil {
		c.T.Errorf("%s %s: %v", method, url, err)
		return 0, nil
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		c.T.Errorf("%s %s: %v", method, url, err)
		return 0, nil
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		c.T.Errorf("%s %s: reading the answer: %v", method, url, err)
	}
	return resp.StatusCode, data
}

// CallJSON is Call with the response body decoded as a JSON object (nil
// when it is not one).
func (c Client) CallJSON(version, method, url string, body any) (int, map[string]any) {
	c.T.Helper()
	st, data := c.Call(version, method, url, body)
	var out map[string]any
	_ = json.Unmarshal(data, &out)
	return st, out
}

// FirstDetail returns the detail of the first error of an error body, ""
// for any other body.
func FirstDetail(doc any) string {
	m, _ := doc.(map[string]any)
	errs, _ := m["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	e, _ := errs[0].(map[string]any)
	d, _ := e["detail"].(string)
	return d
}
