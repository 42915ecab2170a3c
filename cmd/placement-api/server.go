package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/openstack-placement-go/placement/internal/api"
	"github.com/openstack-placement-go/placement/internal/version"
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
	svc, err := build(ctx, cfg, o, logs.Logger)
	if err != nil {
		return fail(err)
	}
	// Closed after serve has drained the in-flight requests.
	defer svc.pool.Close()
	if err := m.serve(ctx, svc, o, logs.Logger); err != nil {
		return fail(err)
	}
	return 0
}

// serve listens on o.bind (and on o.metricsBind, if set) and serves svc
// until ctx is cancelled or serving fails; then it stops accepting and lets
// in-flight requests finish, for up to 30 s.
func (m Main) serve(ctx context.Context, svc *service, o options, logger *slog.Logger) error {
	ln, err := net.Listen("tcp", o.bind)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", o.bind, err)
	}
	srv := &http.Server{
		Handler:           svc.handler,
		ReadHeaderTimeout: 30 * time.Second,
		ReadTimeout:       60 * time.Second,
		// Generous: a large allocation-candidates query may take a while.
		WriteTimeout: 5 * time.Minute,
		IdleTimeout:  120 * time.Second,
		ErrorLog:     slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	servers := []*http.Server{srv}
	if o.metricsBind != "" {
		mln, err := net.Listen("tcp", o.metricsBind)
		if err != nil {
			ln.Close()
			return fmt.Errorf("listen on %s: %w", o.metricsBind, err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", svc.metrics)
		msrv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second}
		servers = append(servers, msrv)
		logger.Info("placement-api metrics listening", "address", mln.Addr().String())
		go msrv.Serve(mln)
	}
	logger.Info("placement-api listening", "address", ln.Addr().String(), "version", version.String())
	if o.dev {
		fmt.Fprintf(m.Stdout, "\nPlacement is up. Try:\n  curl -s http://%s/ -H 'OpenStack-API-Version: placement latest'\n  curl -s http://%s/resource_providers -H 'X-Auth-Token: admin' -H 'OpenStack-API-Version: placement latest'\n\n", ln.Addr(), ln.Addr())
	}
	errc := make(chan error, 1)
	// api.Listener answers a malformed Content-Length in the API's error format.
	go func() { errc <- srv.Serve(api.Listener(ln, srv.Handler)) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("placement-api shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, s := range servers {
		if err := s.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("shutdown: %w", err)
		}
	}
	return nil
}
