// Package gabbits runs the YAML HTTP tests in this directory, each file
// against its own fresh database and in-process server, and holds the Go
// tests and benchmarks that drive the service through HTTP (several
// instances on one database, the candidate cache, load).
package gabbits

import (
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openstack-placement-go/placement/internal/api"
	"github.com/openstack-placement-go/placement/internal/engine"
	"github.com/openstack-placement-go/placement/internal/gabbi"
	"github.com/openstack-placement-go/placement/internal/policy"
	"github.com/openstack-placement-go/placement/internal/testdb"
	"github.com/openstack-placement-go/placement/internal/testserver"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// TestGabbits runs every gabbits/*.yaml as a parallel subtest named after
// the file.
func TestGabbits(t *testing.T) {
	files, err := filepath.Glob("*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no gabbit files found: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(file, ".yaml")
		t.Run(name, func(t *testing.T) {
			// GABBI_TARGET_URL runs the files against another Placement,
			// such as the reference service, as a differential check.
			if target := os.Getenv("GABBI_TARGET_URL"); target != "" {
				gabbi.RunFile(t, file, gabbi.Options{BaseURL: target, Fixtures: fixtures})
				return
			}
			t.Parallel()
			srv := startServer(t, policyFor(t, file), serverOptions[name])
			gabbi.RunFile(t, file, gabbi.Options{BaseURL: srv.URL, Fixtures: fixtures, Check: checkOpenAPI})
		})
	}
}

// policyFor returns the policy enforcer a gabbit file runs under, as
// upstream master's functional tests configure it: files with the
// SecureRBACPolicyFixture run with the defaults this service ships (both
// [oslo_policy] switches on); all others are legacy-RBAC tests, run with
// enforce_new_defaults = false and scope enforced.
func policyFor(t *testing.T, file string) policy.Enforcer {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "- SecureRBACPolicyFixture") {
		return policy.Default()
	}
	e, err := policy.New(policy.Options{ReloadInterval: -1, EnforceScope: true, EnforceNewDefaults: false})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// serverOptions configures the service of the files that test a
// non-default option, by file name.
var serverOptions = map[string]func(*api.Options){
	// allocation_candidates_memory_limit_mb = 1 and
	// randomize_allocation_candidates, which holds every candidate.
	"allocation-candidates-bounded": func(o *api.Options) {
		o.Placement.AllocationCandidatesMemoryLimitMB = 1
		o.Placement.RandomizeAllocationCandidates = true
	},
	// [placement] max_allocation_candidates = 0.
	"allocation-candidates-cap-zero": func(o *api.Options) {
		o.Placement.MaxAllocationCandidates = engine.MaxCandidatesFromConfig(0)
	},
	// [placement] allocation_candidates_generation_strategy = breadth-first
	// and max_allocation_candidates = 4.
	"allocation-candidates-breadth-first": func(o *api.Options) {
		o.Placement.AllocationCandidatesStrategy = engine.BreadthFirst
		o.Placement.MaxAllocationCandidates = engine.MaxCandidatesFromConfig(4)
	},
	// Every request is past a deadline of a nanosecond.
	"allocation-candidates-timeout": func(o *api.Options) { o.Placement.AllocationCandidatesTimeout = time.Nanosecond },
}

// startServer starts an in-process service on a fresh database, under
// enforcer, with configure (if not nil) applied to its options.
func startServer(t *testing.T, enforcer policy.Enforcer, configure func(*api.Options)) *httptest.Server {
	t.Helper()
	var logger *slog.Logger
	if testing.Verbose() && os.Getenv("GABBI_LOG") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return testserver.Start(t, testdb.New(t), testserver.Options{Logger: logger, API: func(o *api.Options) {
		o.Policy = enforcer
		if configure != nil {
			configure(o)
		}
	}})
}
