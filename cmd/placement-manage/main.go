// Command placement-manage is the operator tool for the Placement database,
// command-compatible with upstream's placement-manage and placement-status:
//
//	placement-manage [--config-file F ...] [--config-dir D] db sync
//	placement-manage ... db version
//	placement-manage ... db stamp <revision>
//	placement-manage ... db online_data_migrations [--max-count N]
//	placement-manage ... db check_trees [--repair]
//	placement-manage ... db import --from MYSQL-URL [--force] [--dry-run]
//	placement-manage ... db export --to MYSQL-URL [--force] [--dry-run]
//	placement-manage ... status            (alias: upgrade check; same as placement-status upgrade check)
//	placement-manage ... explain QUERY [--provider NAME] [--microversion X.Y]
//	placement-manage ... capacity [--aggregate UUID] [--resource-class RC]
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/openstack-placement-go/placement/internal/config"
	"github.com/openstack-placement-go/placement/internal/migrate"
	"github.com/openstack-placement-go/placement/internal/store"
	"github.com/openstack-placement-go/placement/internal/textbox"
	"github.com/openstack-placement-go/placement/internal/upgradecheck"
	"github.com/openstack-placement-go/placement/internal/version"
)

func main() {
	os.Exit(run(os.Args[1:], os.Environ(), os.Stdout, os.Stderr))
}

const usage = `usage: placement-manage [--config-file FILE ...] [--config-dir DIR] COMMAND

commands:
  db sync                                  migrate the database schema to the latest version
                                           (alembic a082b8bb98d0, upstream master's head)
  db version                               print the schema's (alembic-equivalent) revision
  db stamp REVISION                        record REVISION (alembic revision, head, base or
                                           schema version) as applied without running DDL
  db online_data_migrations [--max-count N]
                                           fix legacy data (exit 0 done, 1 more left, 2 errors, 127 bad input)
  db check_trees [--repair]                list providers whose stored root disagrees with their
                                           parents (left by concurrent moves in the Python service);
                                           --repair fixes them (exit 0 none left, 1 some left)
  db import --from MYSQL-URL [--force] [--dry-run]
                                           copy a MySQL/MariaDB Placement database into this one
  db export --to MYSQL-URL [--force] [--dry-run]
                                           copy this database into a MySQL schema made by db sync
  status | upgrade check                   placement-status upgrade check: report problems to fix
                                           before upgrading (exit 0 ok, 1 warning, 2 failure)
  explain QUERY [--provider NAME] [--microversion X.Y]
                                           the funnel of GET /allocation_candidates?QUERY (at the
                                           latest microversion by default): providers and roots
                                           left after each filter; with --provider (uuid or name)
                                           the first step that provider's tree fails, and why
  capacity [--aggregate UUID] [--resource-class RC]
                                           per resource class: total, reserved, usable capacity,
                                           used and free over all providers (or those in one
                                           aggregate), and the ten fullest providers
`

// Exit codes of online_data_migrations, as upstream.
const (
	exitMore     = 1
	exitFailed   = 2
	exitBadInput = 127
)

// command is a parsed command line, minus the config options.
type command struct {
	name     string // "sync", "version", "stamp", "online", "trees", "status"
	revision string // stamp
	repair   bool   // trees
	maxCount int    // online; 0 = until complete
	badCount bool   // online: --max-count was not a positive integer
	transfer transferArgs
	explain  explainArgs // explain, capacity
}

// run executes placement-manage with args (without the program name) and
// returns the exit code.
func run(args, environ []string, stdout, stderr io.Writer) int {
	fail := func(err error) int {
		msg := strings.Join(strings.Fields(err.Error()), " ")
		if store.ConfigHint(err) != "" {
			// db sync and stamp hold an advisory lock across transactions:
			// the exec mode that serves placement-api is not enough here.
			msg += " (behind PgBouncer's transaction pooling? point placement-manage at PostgreSQL itself, or at session pooling)"
		}
		fmt.Fprintf(stderr, "placement-manage: %s\n", msg)
		return 1
	}
	files, rest, err := config.ParseArgs(args)
	if err != nil {
		return fail(err)
	}
	if len(rest) == 1 && (rest[0] == "-h" || rest[0] == "--help" || rest[0] == "help") {
		fmt.Fprint(stdout, usage)
		return 0
	}
	if len(rest) == 1 && rest[0] == "--version" {
		fmt.Fprintln(stdout, version.String())
		return 0
	}
	cmd, err := parseCommand(rest)
	if err != nil {
		return fail(err)
	}
	if cmd.badCount {
		// Upstream prints this on stdout.
		fmt.Fprintln(stdout, "Must supply a positive value for max_count")
		return exitBadInput
	}
	cfg, warnings, err := config.Load(files, environ)
	if err != nil {
		return fail(err)
	}
	for _, w := range warnings {
		fmt.Fprintf(stderr, "placement-manage: warning: %s\n", w)
	}
	dsn, err := cfg.DSN()
	if err != nil {
		return fail(err)
	}

	ctx := context.Background()
	switch cmd.name {
	case "sync":
		if err := migrate.Sync(ctx, dsn); err != nil {
			return fail(err)
		}
	case "version":
		rev, err := migrate.Revision(ctx, dsn)
		if err != nil {
			return fail(err)
		}
		if rev == "" {
			rev = "None" // what upstream prints for an unversioned database
		}
		fmt.Fprintln(stdout, rev)
	case "stamp":
		if err := migrate.Stamp(ctx, dsn, cmd.revision); err != nil {
			return fail(err)
		}
	case "import", "export":
		return runTransfer(ctx, cmd, dsn, stdout, fail)
	case "online":
		return onlineDataMigrations(ctx, dsn, cmd.maxCount, cfg, stdout, fail)
	case "trees":
		return checkTrees(ctx, dsn, cmd.repair, stdout, fail)
	case "explain":
		return runExplain(ctx, cmd.explain, cfg, dsn, stdout, fail)
	case "capacity":
		return runCapacity(ctx, cmd.explain, dsn, stdout, fail)
	case "status":
		// The same checks and table as placement-status upgrade check.
		return upgradecheck.Command(ctx, cfg, false, stdout)
	}
	return 0
}

// parseCommand parses what remains after the config options.
func parseCommand(args []string) (command, error) {
	bad := func(format string, a ...any) (command, error) {
		return command{}, fmt.Errorf(format+" (try --help)", a...)
	}
	if len(args) == 0 {
		return bad("missing command")
	}
	switch {
	case args[0] == "status" && len(args) == 1,
		args[0] == "upgrade" && len(args) == 2 && args[1] == "check":
		return command{name: "status"}, nil
	case args[0] == "explain" || args[0] == "capacity":
		return parseExplain(args[0], args[1:])
	case args[0] != "db":
		return bad("unknown command %q", strings.Join(args, " "))
	case len(args) < 2:
		return bad("missing db subcommand (sync, version, stamp, online_data_migrations)")
	}
	sub, rest := args[1], args[2:]
	switch sub {
	case "sync", "version":
		if len(rest) > 0 {
			return bad("db %s takes no arguments, got %q", sub, strings.Join(rest, " "))
		}
		return command{name: sub}, nil
	case "stamp":
		if len(rest) != 1 {
			return bad("db stamp takes exactly one revision")
		}
		return command{name: "stamp", revision: rest[0]}, nil
	case "import", "export":
		return parseTransfer(sub, rest)
	case "check_trees":
		switch {
		case len(rest) == 0:
			return command{name: "trees"}, nil
		case len(rest) == 1 && rest[0] == "--repair":
			return command{name: "trees", repair: true}, nil
		}
		return bad("unknown argument %q for db check_trees", strings.Join(rest, " "))
	case "online_data_migrations":
		c := command{name: "online"}
		for i := 0; i < len(rest); i++ {
			name, value, hasValue := strings.Cut(rest[i], "=")
			if name != "--max-count" {
				return bad("unknown argument %q for db online_data_migrations", rest[i])
			}
			if value, hasValue = optionValue(rest, &i, value, hasValue); !hasValue {
				return bad("--max-count: expected one argument")
			}
			// Like upstream, a value that is not a positive integer is
			// invalid input (exit 127), not a usage error.
			n, err := strconv.Atoi(value)
			c.maxCount, c.badCount = n, err != nil || n < 1
		}
		return c, nil
	}
	return bad("unknown db subcommand %q", sub)
}

func onlineDataMigrations(ctx context.Context, dsn string, maxCount int, cfg *config.Config, stdout io.Writer, fail func(error) int) int {
	results, ran, failed, err := migrate.OnlineDataMigrations(ctx, dsn, migrate.OnlineOptions{
		MaxCount:            maxCount,
		IncompleteProjectID: cfg.Placement.IncompleteConsumerProjectID,
		IncompleteUserID:    cfg.Placement.IncompleteConsumerUserID,
		Log:                 stdout,
	})
	if err != nil {
		return fail(err)
	}
	rows := make([][]string, 0, len(results))
	for _, r := range results {
		rows = append(rows, []string{r.Name, strconv.Itoa(r.Found), strconv.Itoa(r.Done)})
	}
	textbox.Write(stdout, []string{"Migration", "Total Found", "Completed"}, rows, textbox.Centre)
	// With --max-count, rows migrated in this batch outweigh errors: the
	// remaining work may unblock the failing migration (upstream's rule).
	if failed && !(maxCount > 0 && ran > 0) {
		fmt.Fprintln(stdout, "Some migrations failed unexpectedly. Check log for details.")
		return exitFailed
	}
	if ran > 0 {
		return exitMore
	}
	return 0
}

// checkTrees reports the providers whose stored root disagrees with their
// parentage and, with repair, fixes those outside a parent loop. It exits
// 0 when none is left, 1 otherwise.
func checkTrees(ctx context.Context, dsn string, repair bool, stdout io.Writer, fail func(error) int) int {
	problems, err := migrate.CheckTrees(ctx, dsn, repair)
	if err != nil {
		return fail(err)
	}
	if len(problems) == 0 {
		fmt.Fprintln(stdout, "Every resource provider's root agrees with its parents.")
		return 0
	}
	rows := make([][]string, 0, len(problems))
	left := 0
	for _, p := range problems {
		root := p.Root
		if root == "" {
			root, left = "(in a parent loop)", left+1
		} else if !repair {
			left++
		}
		rows = append(rows, []string{p.UUID, p.StoredRoot, root})
	}
	textbox.Write(stdout, []string{"Resource Provider", "Stored Root", "Root By Parents"}, rows, textbox.Centre)
	if repair {
		fmt.Fprintf(stdout, "%d providers repaired.\n", len(problems)-left)
	}
	if left > 0 {
		fmt.Fprintf(stdout, "%d providers left: ", left)
		if repair {
			fmt.Fprintln(stdout, "break each parent loop (UPDATE resource_providers SET parent_provider_id = NULL for one of its providers), then run this again.")
		} else {
			fmt.Fprintln(stdout, "run 'placement-manage db check_trees --repair'.")
		}
		return 1
	}
	return 0
}

// optionValue returns the value of the option args[*i], which
// strings.Cut(args[*i], "=") split into value and hasValue: the part after
// "=" when there is one, else the next argument, which it consumes. The
// bool is false when the option has neither.
func optionValue(args []string, i *int, value string, hasValue bool) (string, bool) {
	if hasValue {
		return value, true
	}
	if *i+1 >= len(args) {
		return "", false
	}
	*i++
	return args[*i], true
}
