package upgradecheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openstack-placement-go/placement/internal/config"
	"github.com/openstack-placement-go/placement/internal/migrate"
)

// TestWriteJSON compares with Python's json.dumps of the same dict, as
// oslo.upgradecheck prints it.
func TestWriteJSON(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	err := WriteJSON(&b, []migrate.CheckResult{
		{Name: "Café <&>", Code: migrate.CheckFailure, Details: "say \"hi\"\\\\ \t😀 \x7f"},
		{Name: "B"},
	})
	want := `{"name": "Upgrade Check Results", "checks": [{"check": "Caf\u00e9 <&>", "result": 2, "details": "say \"hi\"\\\\ \t\ud83d\ude00 \u007f"}, {"check": "B", "result": 0, "details": null}]}` + "\n"
	if err != nil || b.String() != want {
		t.Errorf("WriteJSON = %q, %v\nwant %q", b.String(), err, want)
	}
}

func TestWorst(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		codes []migrate.CheckCode
		want  migrate.CheckCode
	}{
		{"no checks is success", nil, migrate.CheckSuccess},
		{"a warning beats success", []migrate.CheckCode{migrate.CheckSuccess, migrate.CheckWarning}, migrate.CheckWarning},
		{"a failure beats a later warning", []migrate.CheckCode{migrate.CheckFailure, migrate.CheckWarning}, migrate.CheckFailure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var results []migrate.CheckResult
			for _, c := range tt.codes {
				results = append(results, migrate.CheckResult{Name: "x", Code: c})
			}
			if got := Worst(results); got != tt.want {
				t.Errorf("Worst = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCheckPolicyJSON(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, body string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	jsonFile := write("json-policy.yaml", `{"placement:resource_providers:list": "rule:admin_api"}`)
	write("yaml-policy.yaml", `"placement:resource_providers:list": "rule:admin_api"`+"\n")
	write("empty.yaml", "")
	tests := []struct {
		name string
		file string
		dirs []string
		want migrate.CheckCode
	}{
		{"a JSON file named relative to a config directory fails", "json-policy.yaml", []string{dir}, migrate.CheckFailure},
		{"a JSON file named by absolute path fails", jsonFile, nil, migrate.CheckFailure},
		{"a YAML file passes", "yaml-policy.yaml", []string{dir}, migrate.CheckSuccess},
		{"an empty file is not JSON", "empty.yaml", []string{dir}, migrate.CheckSuccess},
		{"a missing file passes", "missing-policy-4f1d.yaml", []string{dir}, migrate.CheckSuccess},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := config.Defaults()
			cfg.Policy.PolicyFile = tt.file
			cfg.ConfigDirs = tt.dirs
			r, err := checkPolicyJSON(cfg)
			if err != nil || r.Code != tt.want || r.Name != CheckPolicyJSON {
				t.Fatalf("checkPolicyJSON = %+v, %v; want code %v", r, err, tt.want)
			}
			if tt.want == migrate.CheckFailure && r.Details != policyJSONDetails {
				t.Errorf("details = %q", r.Details)
			}
		})
	}
}
