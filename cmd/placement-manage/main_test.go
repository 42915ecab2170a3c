package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openstack-placement-go/placement/internal/testdb"
	"github.com/openstack-placement-go/placement/internal/testutil"
)

func runCmd(args ...string) testutil.Result { return testutil.Run(run, args...) }

func TestRun_UsageErrors(t *testing.T) {
	t.Parallel()
	testutil.WantRuns(t, run, []testutil.RunCase{
		{"no command is an error", nil, 1, "", "placement-manage: missing command (try --help)\n"},
		{"an unknown command is an error", []string{"frobnicate"}, 1, "", "placement-manage: unknown command \"frobnicate\" (try --help)\n"},
		{"db alone is an error", []string{"db"}, 1, "", "placement-manage: missing db subcommand (sync, version, stamp, online_data_migrations) (try --help)\n"},
		{"db sync takes no arguments", []string{"db", "sync", "x"}, 1, "", "placement-manage: db sync takes no arguments, got \"x\" (try --help)\n"},
		{"db stamp needs a revision", []string{"db", "stamp"}, 1, "", "placement-manage: db stamp takes exactly one revision (try --help)\n"},
		{"a zero max count is invalid input", []string{"db", "online_data_migrations", "--max-count", "0"}, 127, "Must supply a positive value for max_count\n", ""},
		{"a non-numeric max count is invalid input", []string{"db", "online_data_migrations", "--max-count=x"}, 127, "Must supply a positive value for max_count\n", ""},
		{"--max-count needs a value", []string{"db", "online_data_migrations", "--max-count"}, 1, "", "placement-manage: --max-count: expected one argument (try --help)\n"},
		{"db check_trees takes only --repair", []string{"db", "check_trees", "--fix"}, 1, "", "placement-manage: unknown argument \"--fix\" for db check_trees (try --help)\n"},
		{"--provider needs a value", []string{"explain", "resources=VCPU:1", "--provider"}, 1, "", "placement-manage: --provider: expected one argument (try --help)\n"},
		{"a config file option without value is an error", []string{"--config-file"}, 1, "", "placement-manage: --config-file: expected one argument\n"},
	})
}

func TestRun_Help(t *testing.T) {
	t.Parallel()
	got := runCmd("--help")
	if got.Code != 0 || !strings.Contains(got.Stdout, "db online_data_migrations") || got.Stderr != "" {
		t.Errorf("--help = %+v", got)
	}
}

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "placement.conf")
	if err := os.WriteFile(f, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestRun_MissingConnection(t *testing.T) {
	t.Parallel()
	f := writeConfig(t, "[api]\nauth_strategy = noauth2\n")
	got := runCmd("--config-file", f, "db", "sync")
	if got.Code != 1 || !strings.Contains(got.Stderr, "[placement_database] connection") || strings.Count(got.Stderr, "\n") != 1 {
		t.Errorf("db sync without connection = %+v", got)
	}
}

func TestRun_DatabaseCommands(t *testing.T) {
	t.Parallel()
	dsn := testdb.Empty(t)
	f := writeConfig(t, "[placement_database]\nconnection = "+dsn+"\n")
	cmd := func(args ...string) testutil.Result { return runCmd(append([]string{"--config-file", f}, args...)...) }
	sql := func(s string) {
		t.Helper()
		testdb.Exec(t, dsn, s)
	}
	want := func(got testutil.Result, code int, stdout string) {
		t.Helper()
		if got.Code != code || got.Stdout != stdout || got.Stderr != "" {
			t.Fatalf("got %d, %q, %q; want %d, %q, no stderr", got.Code, got.Stdout, got.Stderr, code, stdout)
		}
	}

	want(cmd("db", "version"), 0, "None\n")
	want(cmd("db", "sync"), 0, "")
	want(cmd("db", "version"), 0, "a082b8bb98d0\n")
	want(cmd("db", "sync"), 0, "")
	want(cmd("db", "version"), 0, "a082b8bb98d0\n")

	got := cmd("status")
	if got.Code != 0 || !strings.Contains(got.Stdout, "| Check: Missing Root Provider IDs") || !strings.Contains(got.Stdout, "| Details: up to date (version 4, alembic a082b8bb98d0)") {
		t.Fatalf("status = %d\n%s%s", got.Code, got.Stdout, got.Stderr)
	}

	sql(`INSERT INTO resource_providers (uuid, name, generation) VALUES ('11111111-1111-1111-1111-111111111111', 'a', 0), ('22222222-2222-2222-2222-222222222222', 'b', 0)`)
	got = cmd("upgrade", "check")
	if got.Code != 2 || !strings.Contains(got.Stdout, "| Result: Failure") {
		t.Fatalf("upgrade check with legacy data = %d\n%s%s", got.Code, got.Stdout, got.Stderr)
	}

	want(cmd("db", "online_data_migrations", "--max-count", "1"), 1,
		"1 rows matched query set_root_provider_ids, 1 migrated\n"+
			"+-----------------------+-------------+-----------+\n"+
			"|       Migration       | Total Found | Completed |\n"+
			"+-----------------------+-------------+-----------+\n"+
			"| set_root_provider_ids |      1      |     1     |\n"+
			"+-----------------------+-------------+-----------+\n")
	want(cmd("db", "online_data_migrations"), 0,
		"Running batches of 50 until complete\n"+
			"1 rows matched query set_root_provider_ids, 1 migrated\n"+
			"+-----------------------------+-------------+-----------+\n"+
			"|          Migration          | Total Found | Completed |\n"+
			"+-----------------------------+-------------+-----------+\n"+
			"|    set_root_provider_ids    |      1      |     1     |\n"+
			"| create_incomplete_consumers |      0      |     0     |\n"+
			"+-----------------------------+-------------+-----------+\n")
	if got := cmd("status"); got.Code != 0 {
		t.Fatalf("status after online migrations = %d\n%s", got.Code, got.Stdout)
	}

	// A database at upstream master's head: stamp records it as version 1,
	// and sync adopts it as version 1 and runs our migrations (the
	// golang-migrate table is dropped to look like a database the Python
	// service created).
	want(cmd("db", "stamp", "a082b8bb98d0"), 0, "")
	want(cmd("db", "version"), 0, "a082b8bb98d0\n")
	sql(`DROP TABLE schema_migrations`)
	want(cmd("db", "version"), 0, "a082b8bb98d0\n")
	want(cmd("db", "sync"), 0, "")
	want(cmd("db", "version"), 0, "a082b8bb98d0\n")
	got = cmd("status")
	if got.Code != 0 || !strings.Contains(got.Stdout, "| Details: up to date (version 4, alembic a082b8bb98d0)") {
		t.Fatalf("status at a082b8bb98d0 = %d\n%s%s", got.Code, got.Stdout, got.Stderr)
	}

	// Going back to 8.0.0: its alembic needs 422ece571366.
	want(cmd("db", "stamp", "422ece571366"), 0, "")
	want(cmd("db", "version"), 0, "422ece571366\n")
	want(cmd("db", "stamp", "head"), 0, "")
	want(cmd("db", "version"), 0, "a082b8bb98d0\n")
	got = cmd("db", "stamp", "nope")
	if got.Code != 1 || !strings.Contains(got.Stderr, `unknown revision "nope"`) {
		t.Fatalf("stamp nope = %+v", got)
	}
	got = cmd("db", "stamp", "5")
	if got.Code != 1 || !strings.Contains(got.Stderr, "unknown schema version 5 (latest is 4)") {
		t.Fatalf("stamp 5 = %+v", got)
	}
	want(cmd("db", "stamp", "base"), 0, "")
	want(cmd("db", "version"), 0, "None\n")
	want(cmd("db", "stamp", "422ece571366"), 0, "")
	want(cmd("db", "sync"), 0, "")
	want(cmd("db", "version"), 0, "a082b8bb98d0\n")
}

func TestRun_CheckTrees(t *testing.T) {
	t.Parallel()
	dsn := testdb.Migrated(t)
	f := writeConfig(t, "[placement_database]\nconnection = "+dsn+"\n")
	if got := runCmd("--config-file", f, "db", "check_trees"); got.Code != 0 || !strings.Contains(got.Stdout, "agrees") {
		t.Fatalf("check_trees of a consistent database = %+v", got)
	}
	testdb.Exec(t, dsn, `
INSERT INTO resource_providers (id, uuid, name, generation, created_at) VALUES
	(1, '00000000-0000-0000-0000-000000000001', 'r1', 0, now()),
	(2, '00000000-0000-0000-0000-000000000002', 'r2', 0, now());
UPDATE resource_providers SET root_provider_id = 1;`)
	got := runCmd("--config-file", f, "db", "check_trees")
	if got.Code != 1 || !strings.Contains(got.Stdout, "00000000-0000-0000-0000-000000000002") || !strings.Contains(got.Stdout, "1 providers left") {
		t.Errorf("check_trees = %+v", got)
	}
	got = runCmd("--config-file", f, "db", "check_trees", "--repair")
	if got.Code != 0 || !strings.Contains(got.Stdout, "1 providers repaired.") {
		t.Errorf("check_trees --repair = %+v", got)
	}
	if got := runCmd("--config-file", f, "db", "check_trees"); got.Code != 0 {
		t.Errorf("check_trees after the repair = %+v", got)
	}
}
