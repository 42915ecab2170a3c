package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/openstack-placement-go/placement/internal/auth"
	"github.com/openstack-placement-go/placement/internal/logging"
	"github.com/openstack-placement-go/placement/internal/microversion"
	"github.com/openstack-placement-go/placement/internal/placement"
	"github.com/openstack-placement-go/placement/internal/web"
)

// The middleware chain, outermost first, mirrors upstream's deploy.py:
//
//	recoverer → requestID → accessLog → instrument → recoverer → CORS →
//	operations → authenticate → negotiate → limitBody → rejectNUL →
//	checkContent → router
//
// so a request without credentials gets 401 before any microversion or
// routing error, and microversion errors happen before routing. The body
// limit and the NUL check come after negotiate so that their errors carry
// a code from 1.23 on, like every other error. A panic below instrument
// is a 500 with the request's id, in the access log and the metrics, as
// upstream's fault wrapper inside its request log; the outer recoverer
// catches what the outer middleware itself might raise. CORS sits
// outside authentication (preflights need no token); operations answers
// /healthcheck without authentication and /metrics behind admin_api.

// recoverer turns a panic into a 500 in the error format instead of a
// dropped connection, and logs it with its stack to logger.
func recoverer(logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if p := recover(); p != nil {
					if p == http.ErrAbortHandler {
						panic(p)
					}
					// As upstream's fault_wrap logs it, with the request id
					// the answer tells the client to look for.
					logger.LogAttrs(r.Context(), slog.LevelError, fmt.Sprintf("Placement API unexpected error: %v", p),
						slog.String(logging.LoggerAttr, "placement.fault_wrap"),
						slog.String("request_id", web.RequestID(r.Context())),
						slog.String(logging.StackAttr, string(debug.Stack())))
					writeError(w, r, errors.New("panic"))
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
}

var globalRequestID = regexp.MustCompile(`^req-[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}$`)

type globalIDKey struct{}

// requestID assigns the local request id, records an acceptable global one,
// and replaces a missing or "*/*" Accept by application/json as upstream does.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := "req-" + uuid.NewString()
		w.Header().Set("X-Openstack-Request-Id", id)
		ctx := web.WithRequestID(r.Context(), id)
		if g := r.Header.Get("X-Openstack-Request-Id"); globalRequestID.MatchString(g) {
			ctx = contextWithGlobalID(ctx, g)
		}
		if a := r.Header.Get("Accept"); a == "" || a == "*/*" {
			r.Header.Set("Accept", "application/json")
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// statusRecorder remembers the status and length for the access log.
type statusRecorder struct {
	http.ResponseWriter
	status int
	length int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.length += n
	return n, err
}

// serve has next answer r through s, then calls done. A handler that
// aborts its response once the status is sent (http.ErrAbortHandler, a
// streamed answer that failed) panics past next: done is called then too,
// as such a response went out, and the panic goes on.
func (s *statusRecorder) serve(next http.Handler, r *http.Request, done func()) {
	returned := false
	defer func() {
		if !returned && s.status != 0 {
			done()
		}
	}()
	next.ServeHTTP(s, r)
	returned = true
	done()
}

// accessLog writes one line per request with upstream's fields, and with
// debug on one more when the request starts, as upstream does.
func accessLog(logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			if logger.Enabled(r.Context(), slog.LevelDebug) {
				logging.LogRequestStart(r.Context(), logger, r.RemoteAddr, r.Method, r.URL.RequestURI(),
					web.RequestID(r.Context()), globalIDFrom(r.Context()))
			}
			rec := &statusRecorder{ResponseWriter: w}
			ctx, who := auth.WithRecorder(r.Context())
			rec.serve(next, r.WithContext(ctx), func() { logRequest(logger, r, rec, who, start) })
		})
	}
}

// logRequest writes the access log line of r.
func logRequest(logger *slog.Logger, r *http.Request, rec *statusRecorder, who *auth.Recorder, start time.Time) {
	version := "-"
	if v := rec.Header().Get(microversion.Header); v != "" {
		version = v[len(microversion.ServiceType)+1:]
	}
	id := who.Identity()
	logging.LogRequest(r.Context(), logger, logging.Request{
		Remote: r.RemoteAddr, Method: r.Method, URI: r.URL.RequestURI(),
		Status: rec.status, Length: rec.length, Microversion: version,
		RequestID: web.RequestID(r.Context()), GlobalRequestID: globalIDFrom(r.Context()),
		User: id.UserID, Project: id.ProjectID, Duration: time.Since(start),
	})
}

// authenticate applies a.Auth (noauth2 by default): "/" and the OpenAPI
// description are open, everything else needs credentials. The rejections
// (401, or 503 when Keystone is unreachable) are the upstream
// middleware's, deliberately not in the Placement error format.
func (a *API) authenticate(next http.Handler) http.Handler {
	authn := a.Auth
	if authn == nil {
		authn = auth.NoAuth2{}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" || r.URL.Path == "" || r.URL.Path == openAPIPath {
			next.ServeHTTP(w, r)
			return
		}
		id, ok := authn.Authenticate(w, r)
		if !ok {
			return
		}
		next.ServeHTTP(w, r.WithContext(auth.NewContext(r.Context(), id)))
	})
}

// negotiate parses OpenStack-API-Version; failures are 400 or 406 without
// version headers, success puts the version in the context and echoes it.
func negotiate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := microversion.FromHeader(r.Header.Values(microversion.Header))
		if err != nil {
			body := errorBody{RequestID: web.RequestID(r.Context())}
			var unsupported *microversion.UnsupportedError
			if errors.As(err, &unsupported) {
				body.Status = http.StatusNotAcceptable
				body.MaxVersion, body.MinVersion = microversion.Max.String(), microversion.Min.String()
			} else {
				body.Status = http.StatusBadRequest
			}
			body.Title = http.StatusText(body.Status)
			body.message = "Invalid microversion: " + err.Error()
			body.Detail = detail(body.Status, r, body.message)
			writeErrorBody(w, r, body)
			return
		}
		w.Header().Set(microversion.Header, microversion.ServiceType+" "+v.String())
		w.Header().Add("Vary", "openstack-api-version")
		next.ServeHTTP(w, r.WithContext(microversion.NewContext(r.Context(), v)))
	})
}

// rejectNUL answers 400 when the path or a header carries a NUL byte
// (web.CheckNUL), which the database could not store; the query string is
// left to the handlers, as upstream leaves it. It runs after negotiate so
// that the error carries a code from 1.23 on.
func rejectNUL(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := web.CheckNUL(r); err != nil {
			writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// checkContent applies upstream's dispatcher-level body checks.
func checkContent(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if cl := r.Header.Get("Content-Length"); cl != "" {
			n, err := strconv.Atoi(cl)
			if err != nil {
				writeError(w, r, placement.E(placement.Invalid, "content-length header must be an integer"))
				return
			}
			if n > 0 && r.Header.Get("Content-Type") == "" {
				writeError(w, r, placement.E(placement.Invalid, "content-type header required when content-length > 0"))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func contextWithGlobalID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, globalIDKey{}, id)
}

func globalIDFrom(ctx context.Context) string {
	if id, ok := ctx.Value(globalIDKey{}).(string); ok {
		return id
	}
	return "-"
}
