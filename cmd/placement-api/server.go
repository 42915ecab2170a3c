package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/openstack-placement-go/placement/internal/api"
	"github.com/openstack-placement-go/placement/internal/version"
	"github.com/openstack-placement-go/placement/internal/web"
)

// Main is the placement-api program, a struct so tests can run it.
type Main struct {
	Stdout, Stderr io.Writer
}

// Run parses args, loads the configuration, prepares the database and
// serves until ctx is cancelled. It returns the process exit code.
func (m Main) Run(ctx context.Context, args, environ []string) int {
	slog.SetDefault(slog.New(slog.NewTextHandler(m.Stderr, nil)))
	fail := func(err error) int {
		fmt.Fprintf(m.Stderr, "placement-api: %v\n", err)
		return 1
	}
	o, err := m.parseArgs(args)
	switch {
	case errors.Is(err, errUsage):
		return 2
	case err != nil:
		return fail(err)
	case o.version:
		fmt.Fprintln(m.Stdout, version.String())
		return 0
	}
	cfg, logs, err := m.configure(ctx, o, environ)
	if err != nil {
		return fail(err)
	}
	defer logs.Close()
	stopReopen := reopenOnHangup(logs)
	defer stopReopen()
	svc, err := build(withNotify(ctx, environ), cfg, o, logs.Logger)
	if err != nil {
		return fail(err)
	}
	// Closed after serve has drained the in-flight requests.
	defer svc.close()
	if err := m.serve(ctx, svc, o, environ, logs.Logger); err != nil {
		return fail(err)
	}
	return 0
}

// writeTimeout bounds the time to answer a request. Generous: a large
// allocation-candidates query may take a while.
const writeTimeout = 5 * time.Minute

// withDeadline ends a request's work when its answer could no longer be
// written (d, the server's WriteTimeout): a statement still running then
// is cancelled rather than left to hold its pooled session and a
// database backend's CPU.
func withDeadline(h http.Handler, d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

// serve listens (openListeners), over TLS with --tls-cert, and serves svc
// until ctx is cancelled or serving fails; then it drains, for up to 30 s.
// It tells systemd when it is ready and when it stops (sdNotify).
func (m Main) serve(ctx context.Context, svc *service, o options, environ []string, logger *slog.Logger) error {
	var certs *certFiles
	if o.tlsCert != "" {
		c, err := loadCertFiles(o.tlsCert, o.tlsKey, logger)
		if err != nil {
			return err
		}
		certs = c
	}
	passed, err := systemdSockets(environ, os.Getpid(), listenFDsStart)
	if err != nil {
		return err
	}
	ls, err := openListeners(o, passed)
	if err != nil {
		return err
	}
	ln := ls.api
	var states connStates
	srv := &http.Server{
		ConnState:         states.hook,
		Handler:           withDeadline(svc.handler, writeTimeout),
		ReadHeaderTimeout: 30 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	if certs != nil {
		// Links and Location say https (trusted proxy headers still win);
		// r.TLS is not set, as api.Listener hides the *tls.Conn.
		ln = tls.NewListener(ln, certs.tlsConfig())
		srv.ConnContext = func(ctx context.Context, _ net.Conn) context.Context { return web.WithScheme(ctx, "https") }
	}
	servers := []*http.Server{srv}
	if mln := ls.metrics; mln != nil {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", svc.metrics)
		msrv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second}
		servers = append(servers, msrv)
		logger.Info("placement-api metrics listening", "address", mln.Addr().String())
		go msrv.Serve(mln)
	}
	attrs := []any{"address", ln.Addr().String(), "version", version.String()}
	if ls.systemd {
		attrs = append(attrs, "socket", "systemd")
	}
	if certs != nil {
		attrs = append(attrs, "tls", true)
	}
	logger.Info("placement-api listening", attrs...)
	if o.dev {
		fmt.Fprint(m.Stdout, tryMessage(ln.Addr()))
	}
	served := make(chan error, 1)
	// api.Listener answers a malformed Content-Length in the API's error format.
	go func() { served <- srv.Serve(api.Listener(ln, srv.Handler)) }()
	if err := sdNotify(environ, "READY=1\nSTATUS=serving on "+ln.Addr().String()); err != nil {
		logger.Warn("could not tell systemd that placement-api is ready (NOTIFY_SOCKET)", "error", err)
	}
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("placement-api shutting down")
	sdNotify(environ, "STOPPING=1")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := drain(shutdownCtx, srv, &states, ln, served); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	for _, s := range servers[1:] {
		if err := s.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("shutdown: %w", err)
		}
	}
	return nil
}

// tryMessage is what --dev prints once the API listens at addr.
func tryMessage(addr net.Addr) string {
	curl, base := "curl -s", "http://"+addr.String()
	if addr.Network() == "unix" {
		curl, base = "curl -s --unix-socket "+addr.String(), "http://localhost"
	}
	return fmt.Sprintf("\nPlacement is up. Try:\n  %s %s/ -H 'OpenStack-API-Version: placement latest'\n"+
		"  %s %s/resource_providers -H 'X-Auth-Token: admin' -H 'OpenStack-API-Version: placement latest'\n\n",
		curl, base, curl, base)
}
