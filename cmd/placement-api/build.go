package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/openstack-placement-go/placement/internal/api"
	"github.com/openstack-placement-go/placement/internal/auth"
	"github.com/openstack-placement-go/placement/internal/config"
	"github.com/openstack-placement-go/placement/internal/engine"
	"github.com/openstack-placement-go/placement/internal/metrics"
	"github.com/openstack-placement-go/placement/internal/migrate"
	"github.com/openstack-placement-go/placement/internal/policy"
	"github.com/openstack-placement-go/placement/internal/store"
)

// service is what build assembles: the API, the handler of /metrics on
// its own address, and the pool behind both, which the caller closes.
type service struct {
	handler http.Handler
	metrics http.Handler
	pool    *pgxpool.Pool
	// stopKeeping stops the goroutine that keeps the candidate cache
	// young (store.KeepCandidateCacheYoung) and waits for it.
	stopKeeping func()
}

// close stops the service's background work and closes its pool.
func (s *service) close() {
	s.stopKeeping()
	s.pool.Close()
}

// build sets up authentication and policy, connects to the database,
// checks (or migrates) its schema, seeds the standard resource classes and
// traits, and assembles the store, the metrics and the API.
func build(ctx context.Context, cfg *config.Config, o options, logger *slog.Logger) (*service, error) {
	var authn auth.Authenticator = auth.NoAuth2{}
	if cfg.API.AuthStrategy == "keystone" {
		k, err := auth.NewKeystone(cfg.KeystoneAuthtoken, logger)
		if err != nil {
			return nil, err
		}
		authn = k
	} else {
		logger.Warn("[api] auth_strategy = noauth2: no credentials are checked; never use this in production")
	}
	enforcer, err := policy.New(policy.Options{
		Defaults:           o.policyDefaults,
		EnforceScope:       cfg.Policy.EnforceScope,
		EnforceNewDefaults: cfg.Policy.EnforceNewDefaults,
		PolicyFile:         cfg.Policy.PolicyFile,
		PolicyDirs:         cfg.Policy.PolicyDirs,
		ConfigDirs:         cfg.ConfigDirs,
		DefaultRule:        cfg.Policy.PolicyDefaultRule,
		Logger:             logger,
	})
	if err != nil {
		return nil, fmt.Errorf("policy ([oslo_policy]): %w", err)
	}
	pool, err := openDatabase(ctx, cfg, logger)
	if err != nil {
		return nil, err
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
	warmCandidates(ctx, st, logger)

	reg := metrics.NewRegistry()
	metrics.RegisterPool(reg, pool.Stat)
	pm := metrics.NewPlacement(reg)
	st.OnRetry = func(reason string) { pm.ConflictRetries.WithLabelValues(reason).Inc() }
	a := api.New(st, api.Options{
		URLPrefix:         o.urlPrefix,
		ProxyHeaders:      cfg.Middleware.EnableProxyHeadersParsing,
		HealthDisableFile: cfg.Healthcheck.DisableByFilePath,
		Placement:         placementOptions(cfg),
		Policy:            enforcer,
		Logger:            logger,
		Auth:              authn,
		CORS: api.CORSOptions{
			AllowedOrigin:    cfg.CORS.AllowedOrigin,
			AllowCredentials: cfg.CORS.AllowCredentials,
			ExposeHeaders:    cfg.CORS.ExposeHeaders,
			MaxAge:           cfg.CORS.MaxAge,
			AllowMethods:     cfg.CORS.AllowMethods,
			AllowHeaders:     cfg.CORS.AllowHeaders,
		},
		Metrics:      pm,
		MaxBodyBytes: o.maxBody,
	})
	keep, stop := context.WithCancel(ctx)
	kept := make(chan struct{})
	go func() { defer close(kept); st.KeepCandidateCacheYoung(keep) }()
	stopKeeping := func() { stop(); <-kept }
	return &service{handler: a.Handler(), metrics: metrics.Handler(reg), pool: pool, stopKeeping: stopKeeping}, nil
}

// warmCandidates loads the candidate cache before the process listens, so
// that the first candidate requests after a start or restart do not wait
// for it (about 1.5 s at 100,000 providers). Failing is not fatal: the
// first request loads it then.
func warmCandidates(ctx context.Context, st *store.Store, logger *slog.Logger) {
	start := time.Now()
	notifyStatus(ctx, "loading the allocation-candidates cache")
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	n, err := st.WarmCandidateCache(ctx)
	if err != nil {
		logger.Warn("candidate cache not loaded at start; the first candidates request loads it", "error", err)
		return
	}
	if n > 0 {
		logger.Info("candidate cache loaded", "providers", n, "took", time.Since(start).Round(time.Millisecond))
	}
}

// openDatabase connects, makes sure the schema is one this binary can
// serve (prepareSchema) and seeds the standard resource classes and
// traits. The pool is closed again if any of that fails.
func openDatabase(ctx context.Context, cfg *config.Config, logger *slog.Logger) (*pgxpool.Pool, error) {
	dsn, err := cfg.DSN()
	if err != nil {
		return nil, err
	}
	pool, err := openWithRetry(ctx, dsn, cfg, logger)
	if err != nil {
		return nil, fmt.Errorf("connecting to the database ([placement_database] connection): %w", err)
	}
	err = prepareSchema(ctx, dsn, cfg.Database.SyncOnStartup, logger)
	if err == nil {
		if err = store.SeedStandard(ctx, pool); err != nil {
			err = fmt.Errorf("synchronising standard resource classes and traits: %w", err)
		}
	}
	if err != nil {
		pool.Close()
		if hint := store.ConfigHint(err); hint != "" {
			err = fmt.Errorf("%w (%s)", err, hint)
		}
		return nil, err
	}
	return pool, nil
}

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
		notifyStatus(ctx, "migrating the database schema (%s) to version %d", st.String(), st.Latest)
		if err := migrate.Sync(ctx, dsn); err != nil {
			return fmt.Errorf("database sync: %w", err)
		}
		return nil
	}
	return st.Err()
}

// poolSize is the most connections a process opens: max_pool_size plus
// max_overflow, 100 for an unlimited overflow (-1), and at least one.
func poolSize(size, overflow int) int32 {
	if overflow < 0 {
		overflow = 100
	}
	return int32(max(size+overflow, 1))
}

// openWithRetry connects, retrying as [placement_database] max_retries and
// retry_interval say (-1 retries forever).
func openWithRetry(ctx context.Context, dsn string, cfg *config.Config, logger *slog.Logger) (*pgxpool.Pool, error) {
	opts := store.PoolOptions{
		MaxConns:        poolSize(cfg.Database.MaxPoolSize, cfg.Database.MaxOverflow),
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
		notifyStatus(ctx, "waiting for the database (attempt %d): %v", attempt+1, err)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Duration(cfg.Database.RetryInterval) * time.Second):
		}
	}
}
