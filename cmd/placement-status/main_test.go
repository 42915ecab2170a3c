package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openstack-placement-go/placement/internal/testdb"
	"github.com/openstack-placement-go/placement/internal/testutil"
)

func TestMain(m *testing.M) { testdb.Main(m) }

func runCmd(args ...string) testutil.Result { return testutil.Run(run, args...) }

// writeConfig writes placement.conf (and policy.yaml, when policy is not
// "") into a new directory and returns the config file's path.
func writeConfig(t *testing.T, conf, policy string) string {
	t.Helper()
	dir := t.TempDir()
	if policy != "" {
		if err := os.WriteFile(filepath.Join(dir, "policy.yaml"), []byte(policy), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	f := filepath.Join(dir, "placement.conf")
	if err := os.WriteFile(f, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestRun_CommandLine(t *testing.T) {
	t.Parallel()
	testutil.WantRunsContaining(t, run, []testutil.RunCase{
		{"no command is a usage error", nil, 2, "", "expected \"upgrade check [--json]\""},
		{"upgrade without check is a usage error", []string{"upgrade"}, 2, "", "expected \"upgrade check [--json]\""},
		{"an unknown option is a usage error", []string{"upgrade", "check", "--yaml"}, 2, "", "expected \"upgrade check [--json]\""},
		{"help goes to stdout", []string{"--help"}, 0, "upgrade check [--json]", ""},
		{"a config file option without value is a usage error", []string{"--config-file"}, 2, "", "--config-file: expected one argument"},
	})
}

func TestRun_UnreachableDatabaseIsAnError(t *testing.T) {
	t.Parallel()
	f := writeConfig(t, "[placement_database]\nconnection = postgresql://nobody@127.0.0.1:1/none?connect_timeout=2\n", "")
	got := runCmd("--config-file", f, "upgrade", "check")
	if got.Code != 255 || !strings.HasPrefix(got.Stdout, "Error:\n") {
		t.Errorf("upgrade check = %+v; want 255 and Error: on stdout", got)
	}
}

// successTable is what upstream's placement-status prints on a clean
// database, plus our schema check.
func successTable() string {
	return `+-------------------------------------------------------+
| Upgrade Check Results                                 |
+-------------------------------------------------------+
| Check: Missing Root Provider IDs                      |
| Result: Success                                       |
| Details: None                                         |
+-------------------------------------------------------+
| Check: Incomplete Consumers                           |
| Result: Success                                       |
| Details: None                                         |
+-------------------------------------------------------+
| Check: Policy File JSON to YAML Migration             |
| Result: Success                                       |
| Details: None                                         |
+-------------------------------------------------------+
| Check: Database Schema                                |
| Result: Success                                       |
| Details: up to date (version 4, alembic a082b8bb98d0) |
+-------------------------------------------------------+
`
}

func TestRun_Checks(t *testing.T) {
	t.Parallel()
	dsn := testdb.New(t)
	sql := func(s string) {
		t.Helper()
		testdb.Exec(t, dsn, s)
	}
	conf := "[placement_database]\nconnection = " + dsn + "\n"

	t.Run("a clean database passes", func(t *testing.T) {
		f := writeConfig(t, conf, "\"placement:resource_providers:list\": \"rule:admin_api\"\n")
		got := runCmd("--config-file", f, "upgrade", "check")
		if want := successTable(); got.Code != 0 || got.Stdout != want || got.Stderr != "" {
			t.Errorf("upgrade check = %d\n%s%s\nwant 0\n%s", got.Code, got.Stdout, got.Stderr, want)
		}
	})

	t.Run("incomplete consumers are a warning", func(t *testing.T) {
		sql(`INSERT INTO resource_providers (uuid, name, generation) VALUES ('11111111-1111-1111-1111-111111111111', 'a', 0);
UPDATE resource_providers SET root_provider_id = id;
INSERT INTO allocations (resource_provider_id, consumer_id, resource_class_id, used)
SELECT id, c, 0, 1 FROM resource_providers, unnest(ARRAY['orphan-a', 'orphan-b', 'orphan-c']) AS c`)
		f := writeConfig(t, conf, "")
		got := runCmd("--config-file", f, "upgrade", "check", "--json")
		want := `{"name": "Upgrade Check Results", "checks": [` +
			`{"check": "Missing Root Provider IDs", "result": 0, "details": null}, ` +
			`{"check": "Incomplete Consumers", "result": 1, "details": "There are 3 incomplete consumers table records for existing allocations. Run the \"placement-manage db online_data_migrations\" command."}, ` +
			`{"check": "Policy File JSON to YAML Migration", "result": 0, "details": null}, ` +
			`{"check": "Database Schema", "result": 0, "details": "up to date (version 4, alembic a082b8bb98d0)"}]}` + "\n"
		if got.Code != 1 || got.Stdout != want || got.Stderr != "" {
			t.Errorf("upgrade check --json = %d\n%s%s\nwant 1\n%s", got.Code, got.Stdout, got.Stderr, want)
		}
	})

	// The table up to the schema check is byte for byte what upstream's
	// placement-status 8.0.0 prints for the same database and files.
	t.Run("a provider without root and a JSON policy file are failures", func(t *testing.T) {
		sql(`UPDATE resource_providers SET root_provider_id = NULL`)
		f := writeConfig(t, conf, "{\"placement:resource_providers:list\": \"rule:admin_api\"}\n")
		got := runCmd("--config-file", f, "upgrade", "check")
		want := `+----------------------------------------------------------------------+
| Upgrade Check Results                                                |
+----------------------------------------------------------------------+
| Check: Missing Root Provider IDs                                     |
| Result: Failure                                                      |
| Details: There is at least one resource provider table record which  |
|   misses its root provider id. Run the "placement-manage db          |
|   online_data_migrations" command.                                   |
+----------------------------------------------------------------------+
| Check: Incomplete Consumers                                          |
| Result: Warning                                                      |
| Details: There are 3 incomplete consumers table records for existing |
|   allocations. Run the "placement-manage db                          |
|   online_data_migrations" command.                                   |
+----------------------------------------------------------------------+
| Check: Policy File JSON to YAML Migration                            |
| Result: Failure                                                      |
| Details: Your policy file is JSON-formatted which is deprecated. You |
|   need to switch to YAML-formatted file. Use the                     |
|   ` + "``oslopolicy-convert-json-to-yaml``" + ` tool to convert the            |
|   existing JSON-formatted files to YAML in a backwards-              |
|   compatible manner: https://docs.openstack.org/oslo.policy/         |
|   latest/cli/oslopolicy-convert-json-to-yaml.html.                   |
+----------------------------------------------------------------------+
`
		if got.Code != 2 || !strings.HasPrefix(got.Stdout, want) || got.Stderr != "" {
			t.Errorf("upgrade check = %d\n%s%s\nwant 2 and a table starting\n%s", got.Code, got.Stdout, got.Stderr, want)
		}
	})

	t.Run("a schema that needs db sync is a warning", func(t *testing.T) {
		sql(`DELETE FROM allocations; UPDATE resource_providers SET root_provider_id = id; DROP TABLE schema_migrations`)
		f := writeConfig(t, conf, "")
		got := runCmd("--config-file", f, "upgrade", "check")
		want := "| Details: needs 'placement-manage db sync' (version none, alembic |\n|   a082b8bb98d0; this release needs version 4)"
		if got.Code != 1 || !strings.Contains(got.Stdout, "| Result: Warning ") || !strings.Contains(got.Stdout, want) {
			t.Errorf("upgrade check = %d\n%s%s\nwant 1 with %q", got.Code, got.Stdout, got.Stderr, want)
		}
	})
}
