package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/openstack-placement-go/placement/internal/placement"
	"github.com/openstack-placement-go/placement/internal/store"
	"github.com/openstack-placement-go/placement/internal/web"
)

// DefaultMaxBodyBytes is the default request body limit (1 MiB); the
// largest real bodies (POST /reshaper, POST /allocations for a big
// migration) are a few tens of KiB.
const DefaultMaxBodyBytes = 1 << 20

// healthTimeout bounds the database ping of /healthcheck.
const healthTimeout = 3 * time.Second

// msgBodyTooLarge is the 413 message; API like every other message.
const msgBodyTooLarge = "The request body is larger than the %d bytes this service accepts."

// operations serves /healthcheck (no authentication) and /metrics (behind
// the admin_api rule) ahead of the API proper.
func (a *API) operations(next http.Handler) http.Handler {
	metrics := a.authenticate(http.HandlerFunc(a.serveMetrics))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthcheck":
			a.serveHealth(w, r)
		case "/metrics":
			if a.Metrics == nil {
				next.ServeHTTP(w, r)
				return
			}
			metrics.ServeHTTP(w, r)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// serveHealth answers GET and HEAD /healthcheck: 200 "OK" when the
// database answers a ping, 503 with the reason otherwise, and 503
// "DISABLED BY FILE" while the operator's disable file exists.
func (a *API) serveHealth(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, r, errMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	status, body := http.StatusOK, "OK\n"
	if a.disabledByFile() {
		status, body = http.StatusServiceUnavailable, "DISABLED BY FILE\n"
	} else if a.Health != nil {
		ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
		err := a.Health(ctx)
		cancel()
		if err != nil {
			a.logger().WarnContext(r.Context(), "health check failed", "error", err, "request_id", web.RequestID(r.Context()))
			status, body = http.StatusServiceUnavailable, "database unavailable\n"
		}
	}
	w.WriteHeader(status)
	if r.Method == http.MethodGet {
		io.WriteString(w, body)
	}
}

// disabledByFile reports whether the operator's disable file exists.
func (a *API) disabledByFile() bool {
	if a.HealthDisableFile == "" {
		return false
	}
	_, err := os.Stat(a.HealthDisableFile)
	return err == nil
}

// limitBody caps the request body: a declared Content-Length over the limit
// is refused at once, a longer chunked body fails when read and the
// renderer answers 413.
//
// Either way the rest of the body, up to drainBytes, is then read and
// discarded (within the server's read timeout). Most HTTP clients
// (Python's http.client and urllib, curl without Expect) send the whole
// body before they read the answer; closing the connection on unread data
// resets it, and such a client never sees the 413, only a broken pipe. A
// client that sent "Expect: 100-continue" has not sent the body and is not
// asked for it.
func (a *API) limitBody(next http.Handler) http.Handler {
	limit := a.MaxBodyBytes
	if limit == 0 {
		limit = DefaultMaxBodyBytes
	}
	if limit < 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := &countingBody{ReadCloser: r.Body}
		if r.ContentLength > limit {
			writeError(w, r, placement.E(placement.TooLarge, msgBodyTooLarge, limit))
		} else {
			r.Body = http.MaxBytesReader(w, body, limit)
			next.ServeHTTP(w, r)
		}
		if (r.ContentLength > limit || body.n > limit) && r.ContentLength <= drainBytes &&
			!strings.EqualFold(r.Header.Get("Expect"), "100-continue") {
			io.CopyN(io.Discard, body, drainBytes) //nolint:errcheck // best effort: a failure closes the connection as before
		}
	})
}

// drainBytes bounds how much of an over-long body limitBody reads and
// discards so that the client can read the 413; a longer one is cut off.
const drainBytes = 64 << 20

// countingBody counts the bytes read from a request body.
type countingBody struct {
	io.ReadCloser
	n int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	return n, err
}

// classifyRequest is classify for the renderer: a database that is down
// or refuses the work for now, or that aborted a write more often than it
// was retried, is logged (as a warning: it is not a bug of ours) with the
// cause and the request id.
func classifyRequest(r *http.Request, err error) error {
	c := classify(err)
	if c != err {
		switch placement.KindOf(c) {
		case placement.Unavailable:
			slog.WarnContext(r.Context(), "database unavailable", "error", err, "request_id", web.RequestID(r.Context()))
		case placement.Conflict:
			slog.WarnContext(r.Context(), "database aborted the transaction after its retries", "error", err, "request_id", web.RequestID(r.Context()))
		}
	}
	return c
}

// classify turns errors the handlers did not classify into the kinds the
// client should see: an over-long body is 413, and the store names the
// database errors the client should see (an unreachable database is 503,
// text it cannot store is 400).
func classify(err error) error {
	if err == nil {
		return nil
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return &placement.Error{Kind: placement.TooLarge, Message: fmt.Sprintf(msgBodyTooLarge, tooBig.Limit), Err: err}
	}
	var pe *placement.Error
	if errors.As(err, &pe) && pe.Kind != placement.Internal {
		return err
	}
	return store.Classify(err)
}
