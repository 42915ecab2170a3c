package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openstack-placement-go/placement/internal/migrate"
	"github.com/openstack-placement-go/placement/internal/testdb"
	"github.com/openstack-placement-go/placement/internal/testserver"
)

// started is a placement-api running in the test process.
type started struct {
	base   string // http://HOST:PORT
	stderr *testserver.Buffer
	stop   func() int // cancels Run and returns its exit code; idempotent
}

var listening = regexp.MustCompile(`placement-api listening address=(\S+)`)

// serving starts placement-api as start does and fails the test unless it
// listens and answers.
func serving(t *testing.T, dsn, extra string) started {
	t.Helper()
	s, code := start(t, dsn, extra)
	if s.base == "" {
		t.Fatalf("placement-api exited %d:\n%s", code, s.stderr)
	}
	wantServes(t, s.base)
	return s
}

// start runs placement-api against dsn with extra lines appended to
// [placement_database]. If it exits before listening, start returns its
// exit code and stderr with base "".
func start(t *testing.T, dsn, extra string) (started, int) {
	t.Helper()
	return startArgs(t, dsn, extra)
}

// startArgs is start with more command-line arguments.
func startArgs(t *testing.T, dsn, extra string, args ...string) (started, int) {
	t.Helper()
	conf := filepath.Join(t.TempDir(), "placement.conf")
	text := "[api]\nauth_strategy = noauth2\n[placement_database]\nconnection = " + dsn + "\nmax_retries = 0\n" + extra
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stderr := &testserver.Buffer{}
	done := make(chan int, 1)
	go func() {
		done <- Main{Stdout: io.Discard, Stderr: stderr}.Run(ctx, append([]string{"--config-file", conf, "--bind", "127.0.0.1:0"}, args...), nil)
	}()
	var code int
	var once sync.Once
	s := started{stderr: stderr, stop: func() int {
		once.Do(func() { cancel(); code = <-done })
		return code
	}}
	deadline := time.After(60 * time.Second)
	for {
		if m := listening.FindStringSubmatch(stderr.String()); m != nil {
			s.base = "http://" + m[1]
			t.Cleanup(func() { s.stop() })
			return s, 0
		}
		select {
		case c := <-done:
			cancel()
			return s, c
		case <-deadline:
			cancel()
			t.Fatalf("placement-api neither listened nor exited within 60s; stderr:\n%s", stderr)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// call sends one admin request at the latest microversion and returns the
// status and body.
func call(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Auth-Token", "admin")
	req.Header.Set("OpenStack-API-Version", "placement latest")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// wantServes checks that the writes and the candidates query that answered
// 500 on an unsynced schema work.
func wantServes(t *testing.T, base string) {
	t.Helper()
	const rp = "11111111-2222-3333-4444-555555555555"
	steps := []struct {
		method, path, body string
		status             int
		contains           string
	}{
		{"GET", "/resource_providers", "", 200, `"resource_providers": []`},
		{"POST", "/resource_providers", `{"name": "cn1", "uuid": "` + rp + `"}`, 200, rp},
		{"PUT", "/resource_providers/" + rp + "/inventories", `{"resource_provider_generation": 0, "inventories": {"VCPU": {"total": 8}}}`, 200, `"VCPU"`},
		{"GET", "/allocation_candidates?resources=VCPU:2", "", 200, rp},
	}
	for _, s := range steps {
		status, body := call(t, s.method, base+s.path, s.body)
		if status != s.status || !strings.Contains(body, s.contains) {
			t.Fatalf("%s %s = %d %s; want %d containing %q", s.method, s.path, status, body, s.status, s.contains)
		}
	}
}

// refusal returns the lines placement-api itself printed (not the logger's).
func refusal(stderr string) []string {
	var lines []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "placement-api: ") {
			lines = append(lines, l)
		}
	}
	return lines
}

func TestRun_SchemaCheck(t *testing.T) {
	t.Parallel()
	refusalBehind := fmt.Sprintf("placement-api: database schema is behind this release (version none, alembic 422ece571366; this release needs version %d): run 'placement-manage db sync' (or set [placement_database] sync_on_startup = true)", migrate.LatestVersion)

	t.Run("a database only the Python service synced is refused with one line", func(t *testing.T) {
		t.Parallel()
		dsn := testdb.Python(t)
		s, code := start(t, dsn, "")
		if s.base != "" || code != 1 {
			t.Fatalf("placement-api started (%q) or exited %d; want exit 1", s.base, code)
		}
		if got := refusal(s.stderr.String()); len(got) != 1 || got[0] != refusalBehind {
			t.Errorf("refusal lines = %q\nwant one: %q", got, refusalBehind)
		}
		st, err := migrate.CheckSchema(context.Background(), dsn)
		if err != nil || st.State != migrate.SchemaBehind {
			t.Errorf("after the refusal CheckSchema = %+v, %v; want still behind", st, err)
		}
	})
	t.Run("an empty database is refused with one line", func(t *testing.T) {
		t.Parallel()
		s, code := start(t, testdb.Empty(t), "sync_on_startup = false\n")
		want := "placement-api: database has no Placement schema yet: run 'placement-manage db sync' (or set [placement_database] sync_on_startup = true)"
		if got := refusal(s.stderr.String()); s.base != "" || code != 1 || len(got) != 1 || got[0] != want {
			t.Errorf("placement-api = %q, exit %d, refusal %q; want exit 1 and %q", s.base, code, got, want)
		}
	})
	t.Run("a dirty database is refused even with sync_on_startup", func(t *testing.T) {
		t.Parallel()
		dsn := testdb.Migrated(t)
		testdb.Exec(t, dsn, `UPDATE schema_migrations SET dirty = true`)
		s, code := start(t, dsn, "sync_on_startup = true\n")
		if got := refusal(s.stderr.String()); s.base != "" || code != 1 || len(got) != 1 || !strings.Contains(got[0], "marked dirty") {
			t.Errorf("placement-api = %q, exit %d, refusal %q; want exit 1 naming the dirty flag", s.base, code, got)
		}
	})
	t.Run("with sync_on_startup a Python-only database is migrated and served", func(t *testing.T) {
		t.Parallel()
		dsn := testdb.Python(t)
		s := serving(t, dsn, "sync_on_startup = true\n")
		st, err := migrate.CheckSchema(context.Background(), dsn)
		if err != nil || st.State != migrate.SchemaCurrent || st.Alembic != migrate.RevisionDropIndexes {
			t.Errorf("CheckSchema = %+v, %v; want current at alembic %s", st, err, migrate.RevisionDropIndexes)
		}
		if code := s.stop(); code != 0 {
			t.Errorf("exit code after shutdown = %d", code)
		}
	})
	t.Run("with sync_on_startup an empty database is migrated and served", func(t *testing.T) {
		t.Parallel()
		serving(t, testdb.Empty(t), "sync_on_startup = true\n")
	})
	t.Run("a current database is served without sync_on_startup", func(t *testing.T) {
		t.Parallel()
		s := serving(t, testdb.Migrated(t), "")
		if strings.Contains(s.stderr.String(), "migrating the database schema") {
			t.Errorf("placement-api migrated a current database:\n%s", s.stderr)
		}
	})
	t.Run("a schema a newer release migrated is served with a warning, and not synced", func(t *testing.T) {
		t.Parallel()
		dsn := testdb.Migrated(t)
		testdb.Exec(t, dsn, `UPDATE schema_migrations SET version = version + 1`)
		s := serving(t, dsn, "sync_on_startup = true\n")
		if !strings.Contains(s.stderr.String(), ` WARNING placement [-] database schema is newer than this release`) {
			t.Errorf("no warning about the newer schema:\n%s", s.stderr)
		}
		st, err := migrate.CheckSchema(context.Background(), dsn)
		if err != nil || st.State != migrate.SchemaAhead || st.Version != int(migrate.LatestVersion)+1 {
			t.Errorf("CheckSchema = %+v, %v; want the newer version left as it was", st, err)
		}
	})
}

// TestWithDeadline_CancelsTheStatement: a request still waiting on the
// database when its answer could no longer be written has its statement
// cancelled, and the session goes back to the pool.
func TestWithDeadline_CancelsTheStatement(t *testing.T) {
	pool := testdb.Pool(t, 1)
	var waited time.Duration
	h := withDeadline(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		_, err := pool.Exec(r.Context(), `SELECT pg_sleep(60)`)
		waited = time.Since(start)
		if err == nil {
			t.Error("pg_sleep(60) was not cancelled")
		}
	}), 200*time.Millisecond)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	if waited > 10*time.Second {
		t.Fatalf("the statement ran %v past a 200 ms deadline", waited)
	}
	// The pool's one session is usable, and nothing sleeps on the server.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var sleeping int
	err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
		WHERE datname = current_database() AND query LIKE 'SELECT pg_sleep%' AND state = 'active'`).Scan(&sleeping)
	if err != nil || sleeping != 0 {
		t.Fatalf("after the deadline: %d statements sleeping, %v", sleeping, err)
	}
}
