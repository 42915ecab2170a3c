package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/openstack-placement-go/placement/internal/transfer"
)

// transferArgs are the arguments of db import and db export.
type transferArgs struct {
	url    string // --from (import) or --to (export): a MySQL URL
	force  bool
	dryRun bool
}

// parseTransfer parses `db import --from URL` and `db export --to URL`,
// each with optional --force and --dry-run.
func parseTransfer(sub string, args []string) (command, error) {
	bad := func(format string, a ...any) (command, error) {
		return command{}, fmt.Errorf(format+" (try --help)", a...)
	}
	urlFlag := map[string]string{"import": "--from", "export": "--to"}[sub]
	c := command{name: sub}
	for i := 0; i < len(args); i++ {
		name, value, hasValue := strings.Cut(args[i], "=")
		switch name {
		case "--force", "--dry-run":
			if hasValue {
				return bad("%s takes no value", name)
			}
			if name == "--force" {
				c.transfer.force = true
			} else {
				c.transfer.dryRun = true
			}
		case urlFlag:
			if value, hasValue = optionValue(args, &i, value, hasValue); !hasValue {
				return bad("%s: expected a MySQL URL", name)
			}
			c.transfer.url = value
		default:
			return bad("unknown argument %q for db %s", args[i], sub)
		}
	}
	if c.transfer.url == "" {
		return bad("db %s needs %s mysql+pymysql://USER:PASSWORD@HOST:PORT/placement", sub, urlFlag)
	}
	return c, nil
}

// runTransfer runs db import or db export against the configured
// PostgreSQL database (dsn). Exit 0 when the copy verified (or the dry run
// found nothing wrong), 1 otherwise.
func runTransfer(ctx context.Context, cmd command, dsn string, stdout io.Writer, fail func(error) int) int {
	o := transfer.Options{Force: cmd.transfer.force, DryRun: cmd.transfer.dryRun, Out: stdout}
	var err error
	if cmd.name == "import" {
		err = transfer.Import(ctx, cmd.transfer.url, dsn, o)
	} else {
		err = transfer.Export(ctx, dsn, cmd.transfer.url, o)
	}
	if errors.Is(err, transfer.ErrMismatch) {
		fmt.Fprintln(stdout, "the tables marked NO differ: do not switch over; investigate and run again (with --force)")
	}
	if err != nil {
		return fail(err)
	}
	return 0
}
