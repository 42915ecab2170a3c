package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/openstack-placement-go/placement/internal/api"
	"github.com/openstack-placement-go/placement/internal/auth"
	"github.com/openstack-placement-go/placement/internal/config"
	"github.com/openstack-placement-go/placement/internal/devdb"
	"github.com/openstack-placement-go/placement/internal/engine"
	"github.com/openstack-placement-go/placement/internal/logging"
	"github.com/openstack-placement-go/placement/internal/metrics"
	"github.com/openstack-placement-go/placement/internal/migrate"
	"github.com/openstack-placement-go/placement/internal/policy"
	"github.com/openstack-placement-go/placement/internal/store"
	"github.com/openstack-placement-go/placement/internal/version"
)

// Main is the placement-api program, a struct so tests can run it.
type Main struct {
	Stdout, Stderr io.Writer
}

// Run parses args, loads the configuration, prepares the database and
// serves until ctx is cancelled. It returns the process exit code.
func (m Main) Run(ctx context.Context, args, environ []string) int {
	logger := slog.New(slog.NewTextHandler(m.Stderr, nil))
	slog.SetDefault(logger)
	fail := func(format string, a ...any) int {
		fmt.Fprintf(m.Stderr, "placement-api: "+format+"\n", a...)
		return 1
	}

	files, rest, err := config.ParseArgs(args)
	if err != nil {
		return fail("%v", err)
	}
	fs := flag.NewFlagSet("placement-api", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	bind := fs.String("bind", "127.0.0.1:8778", "listen address HOST:PORT")
	urlPrefix := fs.String("url-prefix", "", "serve the API under this path, e.g. /placement (links and Location include it)")
	policyDefaults := fs.String("policy-defaults", policy.SetMaster, "registered policy defaults: master (upstream 2023.1+) or zed (placement 8.0.0)")
	metricsBind := fs.String("metrics-bind", "", "serve /metrics without authentication on this HOST:PORT as well (on the API address it needs the admin_api rule)")
	maxBody := fs.Int64("max-body-bytes", api.DefaultMaxBodyBytes, "largest request body accepted (413 beyond; negative: no limit)")
	dev := fs.Bool("dev", false, "development mode: local PostgreSQL under .data/ when no database is configured, noauth2 by default")
	showVersion := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(rest); err != nil {
		return 2
	}
	if *showVersion {
		fmt.Fprintln(m.Stdout, version.String())
		return 0
	}
	cfg, warnings, err := config.Load(files, environ)
	if err != nil {
		return fail("%v", err)
	}
	logs, err := logging.Open(logging.Options{
		Debug: cfg.Default.Debug, File: cfg.Default.LogFile, Dir: cfg.Default.LogDir,
		UseStderr: cfg.Default.UseStderr, JSON: cfg.Default.UseJSON, Program: "placement-api",
	}, m.Stderr)
	if err != nil {
		return fail("%v", err)
	}
	defer logs.Close()
	logger = logs.Logger
	slog.SetDefault(logger)
	stopReopen := reopenOnHangup(logs)
	defer stopReopen()
	for _, w := range warnings {
		logger.Warn(w)
	}
	if *dev {
		if err := devDefaults(ctx, cfg, environ, m.Stdout); err != nil {
			return fail("%v", err)
		}
	}
	var authn auth.Authenticator = auth.NoAuth2{}
	if cfg.API.AuthStrategy == "keystone" {
		k, err := auth.NewKeystone(cfg.KeystoneAuthtoken, logger)
		if err != nil {
			return fail("%v", err)
		}
		authn = k
	} else {
		logger.Warn("[api] auth_strategy = noauth2: no credentials are checked; never use this in production")
	}
	enforcer, err := policy.New(policy.Options{
		Defaults:           *policyDefaults,
		EnforceScope:       cfg.Policy.EnforceScope,
		EnforceNewDefaults: cfg.Policy.EnforceNewDefaults,
		PolicyFile:         cfg.Policy.PolicyFile,
		PolicyDirs:         cfg.Policy.PolicyDirs,
		ConfigDirs:         cfg.ConfigDirs,
		DefaultRule:        cfg.Policy.PolicyDefaultRule,
		Logger:             logger,
	})
	if err != nil {
		return fail("policy ([oslo_policy]): %v", err)
	}
	dsn, err := cfg.DSN()
	if err != nil {
		return fail("%v", err)
	}
	pool, err := openWithRetry(ctx, dsn, cfg, logger)
	if err != nil {
		return fail("connecting to the database ([placement_database] connection): %v", err)
	}
	defer pool.Close()
	if err := prepareSchema(ctx, dsn, cfg.Database.SyncOnStartup, logger); err != nil {
		return fail("%v", err)
	}
	if err := store.SeedStandard(ctx, pool); err != nil {
		return fail("synchronising standard resource classes and traits: %v", err)
	}
	st := store.New(pool)
	st.Logger = logger
	st.ConflictRetries = cfg.Placement.AllocationConflictRetryCount
	st.CandidateCache = cfg.Placement.CandidateCache
	// pool_timeout unset waits 30 s, as SQLAlchemy's pool does under oslo.db.
	poolTimeout := cfg.Database.PoolTimeout
	if poolTimeout == 0 {
		poolTimeout = 30
	}
	st.SetPoolTimeout(time.Duration(poolTimeout) * time.Second)

	reg := metrics.NewRegistry()
	metrics.RegisterPool(reg, pool.Stat)
	pm := metrics.NewPlacement(reg)
	st.OnRetry = func(reason string) { pm.ConflictRetries.With(reason).Inc() }
	a := api.New(st, api.Options{
		URLPrefix:    *urlPrefix,
		ProxyHeaders: cfg.Middleware.EnableProxyHeadersParsing,
		Placement:    placementOptions(cfg),
		Policy:       enforcer,
		Logger:       logger,
		Auth:         authn,
		CORS: api.CORSOptions{
			AllowedOrigin:    cfg.CORS.AllowedOrigin,
			AllowCredentials: cfg.CORS.AllowCredentials,
			ExposeHeaders:    cfg.CORS.ExposeHeaders,
			MaxAge:           cfg.CORS.MaxAge,
			AllowMethods:     cfg.CORS.AllowMethods,
			AllowHeaders:     cfg.CORS.AllowHeaders,
		},
		Metrics:      pm,
		MaxBodyBytes: *maxBody,
	})
	ln, err := net.Listen("tcp", *bind)
	if err != nil {
		return fail("listen on %s: %v", *bind, err)
	}
	srv := &http.Server{
		Handler:           a.Handler(),
		ReadHeaderTimeout: 30 * time.Second,
		ReadTimeout:       60 * time.Second,
		// Generous: a large allocation-candidates query may take a while.
		WriteTimeout: 5 * time.Minute,
		IdleTimeout:  120 * time.Second,
		ErrorLog:     slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	servers := []*http.Server{srv}
	if *metricsBind != "" {
		mln, err := net.Listen("tcp", *metricsBind)
		if err != nil {
			return fail("listen on %s: %v", *metricsBind, err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", reg.Handler())
		msrv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second}
		servers = append(servers, msrv)
		logger.Info("placement-api metrics listening", "address", mln.Addr().String())
		go msrv.Serve(mln)
	}
	logger.Info("placement-api listening", "address", ln.Addr().String(), "version", version.String())
	if *dev {
		fmt.Fprintf(m.Stdout, "\nPlacement is up. Try:\n  curl -s http://%s/ -H 'OpenStack-API-Version: placement latest'\n  curl -s http://%s/resource_providers -H 'X-Auth-Token: admin' -H 'OpenStack-API-Version: placement latest'\n\n", ln.Addr(), ln.Addr())
	}
	errc := make(chan error, 1)
	// api.Listener answers a malformed Content-Length in the API's error format.
	go func() { errc <- srv.Serve(api.Listener(ln, srv.Handler)) }()
	select {
	case err := <-errc:
		return fail("serve: %v", err)
	case <-ctx.Done():
	}
	// Stop accepting, let in-flight requests finish (up to 30s), then the
	// deferred pool.Close runs.
	logger.Info("placement-api shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, s := range servers {
		if err := s.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fail("shutdown: %v", err)
		}
	}
	return 0
}

// prepareSchema makes sure this binary can serve on the database's schema.
// A current schema passes. An empty or older one (including one only the
// Python service's "db sync" created) is migrated when sync is set
// ([placement_database] sync_on_startup) and otherwise refused with one line
// naming placement-manage db sync, rather than answering 500 to every
// request that touches a missing table. A schema a newer release migrated
// is served with a warning: during a rolling upgrade the database is synced
// first and older processes keep serving (and restarting) until they are
// replaced, which works because migrations only add. Dirty and unknown
// schemas are refused.
// placementOptions turns the [placement] options into what the handlers
// take.
func placementOptions(cfg *config.Config) api.PlacementOptions {
	return api.PlacementOptions{
		IncompleteConsumerProjectID:       cfg.Placement.IncompleteConsumerProjectID,
		IncompleteConsumerUserID:          cfg.Placement.IncompleteConsumerUserID,
		RandomizeAllocationCandidates:     cfg.Placement.RandomizeAllocationCandidates,
		MaxAllocationCandidates:           engine.MaxCandidatesFromConfig(cfg.Placement.MaxAllocationCandidates),
		AllocationCandidatesStrategy:      engine.StrategyFromConfig(cfg.Placement.AllocationCandidatesGenerationStrategy),
		AllocationCandidatesMemoryLimitMB: cfg.Placement.AllocationCandidatesMemoryLimitMB,
		AllocationCandidatesTimeout:       time.Duration(cfg.Placement.AllocationCandidatesTimeout) * time.Second,
	}
}

func prepareSchema(ctx context.Context, dsn string, sync bool, logger *slog.Logger) error {
	st, err := migrate.CheckSchema(ctx, dsn)
	if err != nil {
		return fmt.Errorf("checking the database schema: %w", err)
	}
	switch st.State {
	case migrate.SchemaCurrent:
		return nil
	case migrate.SchemaAhead:
		logger.Warn("database schema is newer than this release; serving anyway (rolling upgrade?): upgrade this placement-api, and do not run this release's placement-manage db sync",
			"schema", st.String(), "release_schema_version", st.Latest)
		return nil
	case migrate.SchemaEmpty, migrate.SchemaBehind:
		if !sync {
			return st.Err()
		}
		logger.Info("migrating the database schema ([placement_database] sync_on_startup = true)",
			"schema", st.String(), "target_version", st.Latest)
		if err := migrate.Sync(ctx, dsn); err != nil {
			return fmt.Errorf("database sync: %w", err)
		}
		return nil
	}
	return st.Err()
}

// devDefaults fills in what `make run` needs on a fresh machine.
func devDefaults(ctx context.Context, cfg *config.Config, environ []string, stdout io.Writer) error {
	if len(cfg.Files) == 0 && !hasEnv(environ, "OS_API__AUTH_STRATEGY") {
		cfg.API.AuthStrategy = "noauth2"
	}
	cfg.Database.SyncOnStartup = true
	if cfg.Database.Connection != "" {
		return nil
	}
	c := devdb.Cluster{Dir: ".data/pg", Port: 55433}
	fmt.Fprintf(stdout, "No [placement_database] connection configured: using a local PostgreSQL under %s (port %d).\n", c.Dir, c.Port)
	if err := c.Ensure(ctx); err != nil {
		return err
	}
	if err := devdb.CreateDatabase(ctx, c.URL("postgres"), "placement"); err != nil {
		return err
	}
	cfg.Database.Connection = c.URL("placement")
	return nil
}

func hasEnv(environ []string, name string) bool {
	for _, kv := range environ {
		if k, _, _ := strings.Cut(kv, "="); strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

// openWithRetry connects, retrying as [placement_database] max_retries and
// retry_interval say (-1 retries forever).
func openWithRetry(ctx context.Context, dsn string, cfg *config.Config, logger *slog.Logger) (*pgxpool.Pool, error) {
	opts := store.PoolOptions{
		MaxConns:        int32(cfg.Database.MaxPoolSize + max(cfg.Database.MaxOverflow, 0)),
		MaxConnLifetime: time.Duration(cfg.Database.ConnectionRecycleTime) * time.Second,
	}
	for attempt := 0; ; attempt++ {
		pool, err := store.Open(ctx, dsn, opts)
		if err == nil {
			return pool, nil
		}
		if cfg.Database.MaxRetries >= 0 && attempt >= cfg.Database.MaxRetries {
			return nil, err
		}
		logger.Warn("database not reachable, retrying", "error", err, "attempt", attempt+1)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Duration(cfg.Database.RetryInterval) * time.Second):
		}
	}
}

// reopenOnHangup reopens the log file on every SIGHUP (logrotate's
// postrotate signal) until the returned function is called.
func reopenOnHangup(logs *logging.Logger) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-hup:
				if err := logs.Reopen(); err != nil {
					fmt.Fprintln(os.Stderr, "placement-api: reopening the log file:", err)
				} else {
					logs.Info("log file reopened")
				}
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(hup)
		close(done)
	}
}
