package policy

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateSample = flag.Bool("update-sample", false, "rewrite api-ref/samples/policy.yaml")

const sampleHeader = `# policy.yaml: the rules placement-api enforces, with their defaults
# (upstream master's, used unless placement-api runs with
# --policy-defaults=zed). Every rule is commented out: uncomment and edit
# only those you want to change; the others keep their defaults.
#
# Check strings use oslo.policy's language: role:NAME (case-insensitive),
# rule:NAME, project_id:%(project_id)s, user_id:%(user_id)s,
# system_scope:all, any credential KEY:VALUE, @ (allow), ! (deny), and,
# or, not, parentheses. The target of every rule is the caller's own
# project and user, except placement:usages, whose target project_id is
# the project_id query parameter of GET /usages.
#
# Overriding a rule drops its deprecated fallback. With
# enforce_new_defaults = false (the default is true) a base rule that is
# not overridden is "(<default>) or (role:admin)".
#
# A malformed rule, a reference to an undefined rule or a cycle stops
# placement-api at start-up (and is logged and ignored when the file is
# re-read while running).
#
# /metrics on the API address is guarded by admin_api.
#
# Example: let members of project "infra" with role "placement_ops" create
# providers:
#"placement:resource_providers:create": "role:admin or (role:placement_ops and project_id:infra)"
`

// sample renders the sample policy file from MasterDefaults.
func sample() string {
	var b strings.Builder
	b.WriteString(sampleHeader)
	for _, d := range MasterDefaults() {
		b.WriteString("\n")
		if d.Description != "" {
			fmt.Fprintf(&b, "# %s\n", d.Description)
		}
		if d.Operations != "" {
			for _, op := range strings.Split(d.Operations, ", ") {
				fmt.Fprintf(&b, "# %s\n", op)
			}
		}
		fmt.Fprintf(&b, "# Scope: %s\n", strings.Join(d.Scopes, ", "))
		if d.Deprecated != "" {
			fmt.Fprintf(&b, "# Deprecated fallback while enforce_new_defaults = false: %q\n", d.Deprecated)
		}
		fmt.Fprintf(&b, "#%q: %q\n", d.Name, d.Check)
	}
	return b.String()
}

// TestSamplePolicyFile keeps api-ref/samples/policy.yaml in step with the
// defaults; go test ./internal/policy -run Sample -update-sample rewrites it.
func TestSamplePolicyFile(t *testing.T) {
	path := filepath.Join("..", "..", "api-ref", "samples", "policy.yaml")
	want := sample()
	if *updateSample {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("%s is out of date: run go test ./internal/policy -run Sample -update-sample", path)
	}
	// Uncommented, the sample is a valid policy file.
	dir := t.TempDir()
	var lines []string
	for _, l := range strings.Split(strings.TrimPrefix(want, sampleHeader), "\n") {
		if strings.HasPrefix(l, `#"`) {
			lines = append(lines, strings.TrimPrefix(l, "#"))
		}
	}
	writeFile(t, filepath.Join(dir, "policy.yaml"), strings.Join(lines, "\n"))
	if _, err := New(Options{PolicyFile: filepath.Join(dir, "policy.yaml")}); err != nil {
		t.Fatal(err)
	}
}
