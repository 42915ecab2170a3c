// Command placement-status reports whether a deployment is ready for an
// upgrade, as upstream's command of that name (oslo.upgradecheck):
//
//	placement-status [--config-file F ...] [--config-dir D] upgrade check [--json]
//
// The exit code is 0 when every check succeeded, 1 for a warning, 2 for a
// failure and 255 when the checks could not run.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/openstack-placement-go/placement/internal/config"
	"github.com/openstack-placement-go/placement/internal/upgradecheck"
	"github.com/openstack-placement-go/placement/internal/version"
)

func main() {
	os.Exit(run(os.Args[1:], os.Environ(), os.Stdout, os.Stderr))
}

const usage = `usage: placement-status [--config-file FILE ...] [--config-dir DIR] upgrade check [--json]

Report problems to fix before upgrading Placement. Exit code: 0 success,
1 warning, 2 failure, 255 if the checks could not run.
`

// exitUsage is argparse's exit code for a bad command line.
const exitUsage = 2

// run executes placement-status with args (without the program name) and
// returns the exit code.
func run(args, environ []string, stdout, stderr io.Writer) int {
	files, rest, err := config.ParseArgs(args)
	if err != nil {
		fmt.Fprintf(stderr, "%splacement-status: error: %s\n", usage, err)
		return exitUsage
	}
	if slices.Contains(rest, "-h") || slices.Contains(rest, "--help") {
		fmt.Fprint(stdout, usage)
		return 0
	}
	if slices.Equal(rest, []string{"--version"}) {
		fmt.Fprintln(stdout, version.String())
		return 0
	}
	asJSON, ok := parseCommand(rest)
	if !ok {
		fmt.Fprintf(stderr, "%splacement-status: error: expected \"upgrade check [--json]\", got %q\n", usage, rest)
		return exitUsage
	}
	cfg, warnings, err := config.Load(files, environ)
	if err != nil {
		fmt.Fprintf(stderr, "placement-status: %s\n", err)
		return upgradecheck.ExitError
	}
	for _, w := range warnings {
		fmt.Fprintf(stderr, "placement-status: warning: %s\n", w)
	}
	return upgradecheck.Command(context.Background(), cfg, asJSON, stdout)
}

// parseCommand accepts "upgrade check" with an optional --json anywhere
// after "upgrade", as oslo.upgradecheck's argparse subcommand does.
func parseCommand(args []string) (asJSON, ok bool) {
	if len(args) < 2 || args[0] != "upgrade" {
		return false, false
	}
	var positional []string
	for _, a := range args[1:] {
		if a == "--json" {
			asJSON = true
			continue
		}
		positional = append(positional, a)
	}
	return asJSON, len(positional) == 1 && positional[0] == "check"
}
