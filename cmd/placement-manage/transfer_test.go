package main

import (
	"testing"

	"github.com/openstack-placement-go/placement/internal/testutil"
)

func TestParseTransfer(t *testing.T) {
	t.Parallel()
	const u = "mysql+pymysql://placement:pw@db:3306/placement?charset=utf8"
	tests := []struct {
		name string
		args []string
		want command
	}{
		{"import takes --from URL", []string{"db", "import", "--from", u},
			command{name: "import", transfer: transferArgs{url: u}}},
		{"import takes --from=URL with --force and --dry-run", []string{"db", "import", "--force", "--from=" + u, "--dry-run"},
			command{name: "import", transfer: transferArgs{url: u, force: true, dryRun: true}}},
		{"export takes --to URL", []string{"db", "export", "--to", u, "--force"},
			command{name: "export", transfer: transferArgs{url: u, force: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseCommand(tt.args)
			if err != nil || got != tt.want {
				t.Errorf("parseCommand(%q) = %+v, %v; want %+v", tt.args, got, err, tt.want)
			}
		})
	}
}

func TestRun_TransferUsageErrors(t *testing.T) {
	t.Parallel()
	testutil.WantRuns(t, run, []testutil.RunCase{
		{"import needs --from", []string{"db", "import"},
			1, "", "placement-manage: db import needs --from mysql+pymysql://USER:PASSWORD@HOST:PORT/placement (try --help)\n"},
		{"export does not take --from", []string{"db", "export", "--from", "mysql://u@h/p"},
			1, "", "placement-manage: unknown argument \"--from\" for db export (try --help)\n"},
		{"--to needs a value", []string{"db", "export", "--to"},
			1, "", "placement-manage: --to: expected a MySQL URL (try --help)\n"},
		{"--force takes no value", []string{"db", "import", "--force=yes", "--from", "mysql://u@h/p"},
			1, "", "placement-manage: --force takes no value (try --help)\n"},
	})
}
