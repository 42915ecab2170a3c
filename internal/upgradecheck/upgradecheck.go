// Package upgradecheck runs the checks of "placement-status upgrade check"
// and prints them as oslo.upgradecheck does: a prettytable, or JSON with
// --json.
package upgradecheck

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/openstack-placement-go/placement/internal/config"
	"github.com/openstack-placement-go/placement/internal/migrate"
)

// CheckPolicyJSON is the name of oslo.upgradecheck's common policy check.
const CheckPolicyJSON = "Policy File JSON to YAML Migration"

const policyJSONDetails = "Your policy file is JSON-formatted which is deprecated. You need to switch to YAML-formatted file. Use the ``oslopolicy-convert-json-to-yaml`` tool to convert the existing JSON-formatted files to YAML in a backwards-compatible manner: https://docs.openstack.org/oslo.policy/latest/cli/oslopolicy-convert-json-to-yaml.html."

// Run runs upstream's checks in upstream's order (missing root provider
// ids, incomplete consumers, JSON policy file) and then ours (database
// schema), for the database at dsn (a pgx URL) and the policy file cfg
// names. err is set only when a check could not run.
func Run(ctx context.Context, dsn string, cfg *config.Config) ([]migrate.CheckResult, error) {
	results, err := migrate.CheckData(ctx, dsn)
	if err != nil {
		return nil, err
	}
	policy, err := checkPolicyJSON(cfg)
	if err != nil {
		return nil, err
	}
	schema, err := migrate.CheckSchemaResult(ctx, dsn)
	if err != nil {
		return nil, err
	}
	return append(results, policy, schema), nil
}

// Worst returns the highest code among results, which is the exit code of
// placement-status.
func Worst(results []migrate.CheckResult) migrate.CheckCode {
	worst := migrate.CheckSuccess
	for _, r := range results {
		worst = max(worst, r.Code)
	}
	return worst
}

// checkPolicyJSON fails when the policy file exists and holds JSON, like
// oslo.upgradecheck's common_checks.check_policy_json.
func checkPolicyJSON(cfg *config.Config) (migrate.CheckResult, error) {
	r := migrate.CheckResult{Name: CheckPolicyJSON}
	path := findFile(cfg, cfg.Policy.PolicyFile)
	if path == "" {
		return r, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return r, fmt.Errorf("read policy file: %w", err)
	}
	if json.Valid(data) {
		r.Code, r.Details = migrate.CheckFailure, policyJSONDetails
	}
	return r, nil
}

// findFile locates name as oslo.config's ConfigOpts.find_file does: in the
// directories of the config files, the last loaded first, then in
// ~/.placement, ~, /etc/placement and /etc. It returns "" if there is no
// such file.
func findFile(cfg *config.Config, name string) string {
	if name == "" {
		return ""
	}
	var dirs []string
	for i := len(cfg.ConfigDirs) - 1; i >= 0; i-- {
		dirs = append(dirs, cfg.ConfigDirs[i])
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, ".placement"), home)
	}
	dirs = append(dirs, "/etc/placement", "/etc")
	for _, d := range dirs {
		p := name
		if !filepath.IsAbs(name) {
			p = filepath.Join(d, name)
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// title is oslo.upgradecheck's display_title.
const title = "Upgrade Check Results"

// WriteTable prints results as oslo.upgradecheck's one-column prettytable
// with a rule between rows and left-aligned cells, the details wrapped at
// 60 characters with continuation lines indented two spaces.
func WriteTable(w io.Writer, results []migrate.CheckResult) error {
	rows := make([][]string, 0, len(results))
	width := len(title)
	for _, r := range results {
		details := "None"
		if r.Details != "" {
			details = strings.Join(wrap(r.Details, 60, "  "), "\n")
		}
		cell := fmt.Sprintf("Check: %s\nResult: %s\nDetails: %s", r.Name, r.Code, details)
		lines := strings.Split(cell, "\n")
		for _, l := range lines {
			width = max(width, runeLen(l))
		}
		rows = append(rows, lines)
	}
	var b strings.Builder
	rule := "+" + strings.Repeat("-", width+2) + "+\n"
	line := func(s string) {
		b.WriteString("| " + s + strings.Repeat(" ", width-runeLen(s)) + " |\n")
	}
	b.WriteString(rule)
	line(title)
	b.WriteString(rule)
	for _, lines := range rows {
		for _, l := range lines {
			line(l)
		}
		b.WriteString(rule)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON prints results as oslo.upgradecheck does with --json: one line
// of {"name": ..., "checks": [{"check", "result", "details"}]}, with
// Python's json.dumps separators and null for no details.
func WriteJSON(w io.Writer, results []migrate.CheckResult) error {
	var b strings.Builder
	b.WriteString(`{"name": ` + pyString(title) + `, "checks": [`)
	for i, r := range results {
		if i > 0 {
			b.WriteString(", ")
		}
		details := "null"
		if r.Details != "" {
			details = pyString(r.Details)
		}
		fmt.Fprintf(&b, `{"check": %s, "result": %d, "details": %s}`, pyString(r.Name), int(r.Code), details)
	}
	b.WriteString("]}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// pyString encodes s as Python's json.dumps does by default (ensure_ascii):
// non-ASCII as \uXXXX escapes, and "<", ">", "&" left alone.
func pyString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20 || (r >= 0x7f && r <= 0xffff):
			fmt.Fprintf(&b, `\u%04x`, r)
		case r > 0xffff:
			r -= 0x10000
			fmt.Fprintf(&b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// ExitError is placement-status's exit code when the checks could not run,
// as oslo.upgradecheck's run(): 255, so that it is not taken for a check's
// code.
const ExitError = 255

// Command runs the checks against the database and policy file of cfg,
// prints them (as JSON when asJSON) on stdout and returns the exit code:
// the worst check's code, or ExitError with "Error:" and the cause on
// stdout, as oslo.upgradecheck prints its traceback there.
func Command(ctx context.Context, cfg *config.Config, asJSON bool, stdout io.Writer) int {
	results, err := run(ctx, cfg)
	if err == nil {
		if asJSON {
			err = WriteJSON(stdout, results)
		} else {
			err = WriteTable(stdout, results)
		}
	}
	if err != nil {
		fmt.Fprintf(stdout, "Error:\n%s\n", err)
		return ExitError
	}
	return int(Worst(results))
}

func run(ctx context.Context, cfg *config.Config) ([]migrate.CheckResult, error) {
	dsn, err := cfg.DSN()
	if err != nil {
		return nil, err
	}
	return Run(ctx, dsn, cfg)
}
