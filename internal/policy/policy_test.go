package policy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openstack-placement-go/placement/internal/auth"
	"github.com/openstack-placement-go/placement/internal/placement"
	"github.com/openstack-placement-go/placement/internal/testutil"
)

var (
	admin         = auth.Identity{UserID: "admin", ProjectID: "admin", Roles: []string{"admin"}}
	service       = auth.Identity{UserID: "nova", ProjectID: "service", Roles: []string{"service"}}
	reader        = auth.Identity{UserID: "r", ProjectID: "p1", Roles: []string{"reader"}}
	member        = auth.Identity{UserID: "m", ProjectID: "p1", Roles: []string{"member", "reader"}}
	nobody        = auth.Identity{UserID: "x", ProjectID: "p1"}
	systemAdmin   = auth.Identity{UserID: "sa", SystemScope: "all", Roles: []string{"admin", "reader"}}
	systemReader  = auth.Identity{UserID: "sr", SystemScope: "all", Roles: []string{"reader"}}
	domainAdmin   = auth.Identity{UserID: "da", DomainID: "d1", Roles: []string{"admin"}}
	upperAdmin    = auth.Identity{UserID: "A", ProjectID: "p", Roles: []string{"ADMIN"}}
	own           = map[string]string{"project_id": "p1"}
	other         = map[string]string{"project_id": "p2"}
	providersList = "placement:resource_providers:list"
)

func engine(t *testing.T, opts Options) *Engine {
	t.Helper()
	e, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return e
}

func TestEngine_Defaults(t *testing.T) {
	t.Parallel()
	master := engine(t, Options{})
	masterNew := engine(t, Options{EnforceNewDefaults: true})
	masterStrict := engine(t, Options{EnforceNewDefaults: true, EnforceScope: true})
	zed := engine(t, Options{Defaults: SetZed})
	zedStrict := engine(t, Options{Defaults: SetZed, EnforceNewDefaults: true, EnforceScope: true})
	tests := []struct {
		name    string
		e       *Engine
		rule    string
		id      auth.Identity
		target  map[string]string
		allowed bool
	}{
		{"admin may list providers", master, providersList, admin, own, true},
		{"role names are case-insensitive", master, providersList, upperAdmin, own, true},
		{"admin may reshape with legacy fallbacks", master, RuleReshaper, admin, own, true},
		{"admin may not reshape with new defaults only", masterNew, RuleReshaper, admin, own, false},
		{"service may reshape", masterNew, RuleReshaper, service, own, true},
		{"service may list providers", masterNew, providersList, service, own, true},
		{"admin may explain candidates", masterStrict, RuleDiagnostics, admin, own, true},
		{"service may not explain candidates", master, RuleDiagnostics, service, own, false},
		{"a reader may not explain candidates", master, RuleDiagnostics, reader, own, false},
		{"zed: a system reader may not explain candidates", zed, RuleDiagnostics, systemReader, own, false},
		{"a role-less user may do nothing", master, "placement:traits:list", nobody, own, false},
		{"a reader may read usages of its project", master, RuleUsages, reader, own, true},
		{"a reader may read usages of its project with new defaults", masterStrict, RuleUsages, reader, own, true},
		{"a reader may not read usages of another project", master, RuleUsages, reader, other, false},
		{"a reader may not read usages without a project", master, RuleUsages, reader, map[string]string{"project_id": ""}, false},
		{"a reader may not list providers", master, providersList, reader, own, false},
		{"a member may not list providers", master, providersList, member, own, false},
		{"a system admin passes master's rules without scope enforcement", master, providersList, systemAdmin, own, true},
		{"a system admin is refused by master's project scope", masterStrict, providersList, systemAdmin, own, false},
		{"a domain admin is refused by master's project scope", masterStrict, providersList, domainAdmin, own, false},
		{"an unknown rule is denied", master, "placement:nope", admin, own, false},
		{"zed: admin may do everything while deprecated rules count", zed, "placement:allocations:update", admin, own, true},
		{"zed: service may do nothing", zed, providersList, service, own, false},
		{"zed: a system reader may read", zed, providersList, systemReader, own, true},
		{"zed: a system reader may not write", zed, "placement:resource_providers:create", systemReader, own, false},
		{"zed: a project reader may read usages of its project", zed, RuleUsages, reader, own, true},
		{"zed strict: a project admin is refused by system scope", zedStrict, providersList, admin, own, false},
		{"zed strict: a system admin may write", zedStrict, "placement:resource_providers:create", systemAdmin, own, true},
		{"zed strict: a project reader may read usages", zedStrict, RuleUsages, reader, own, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.e.Enforce(tt.rule, tt.id, tt.target)
			if (err == nil) != tt.allowed {
				t.Fatalf("Enforce(%s) = %v, want allowed=%v", tt.rule, err, tt.allowed)
			}
			if err == nil {
				return
			}
			if placement.KindOf(err) != placement.Forbidden {
				t.Fatalf("denial kind = %v, want Forbidden", placement.KindOf(err))
			}
			if want := "Policy does not allow " + tt.rule + " to be performed."; err.Error() != want {
				t.Fatalf("message = %q, want %q", err.Error(), want)
			}
		})
	}
}

func TestDefaultsParse(t *testing.T) {
	t.Parallel()
	for _, set := range [][]RuleDefault{MasterDefaults(), ZedDefaults()} {
		apis := 0
		for _, d := range set {
			if strings.HasPrefix(d.Name, "placement:") {
				apis++
			}
			for _, s := range []string{d.Check, d.Deprecated} {
				if _, err := Parse(s); err != nil {
					t.Errorf("%s: %v", d.Name, err)
				}
			}
		}
		if apis != 34 { // upstream's 33 and placement:diagnostics:allocation_candidates
			t.Errorf("%d per-API rules, want 34", apis)
		}
	}
	Default()
}

func TestEngine_EffectiveRule(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts Options
		rule string
		want string
	}{
		{"deprecated fallback is or-ed in", Options{}, "service_api", "(role:service or role:admin)"},
		{"new defaults only", Options{EnforceNewDefaults: true}, "service_api", "role:service"},
		{"a rule without deprecation is unchanged", Options{}, "admin_api", "role:admin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := engine(t, tt.opts).Effective(tt.rule)
			if !ok || got != tt.want {
				t.Fatalf("Effective(%s) = %q, %v; want %q", tt.rule, got, ok, tt.want)
			}
		})
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	creds := auth.Identity{UserID: "u1", ProjectID: "p1", Roles: []string{"Reader", "member"}, SystemScope: ""}
	tests := []struct {
		name   string
		rule   string
		target map[string]string
		want   bool
	}{
		{"empty always allows", "", nil, true},
		{"@ allows", "@", nil, true},
		{"! denies", "!", nil, false},
		{"role matches case-insensitively", "role:READER", nil, true},
		{"missing role", "role:admin", nil, false},
		{"role from target", "role:%(r)s", map[string]string{"r": "member"}, true},
		{"project_id against the target", "project_id:%(project_id)s", map[string]string{"project_id": "p1"}, true},
		{"project_id against another target", "project_id:%(project_id)s", map[string]string{"project_id": "p2"}, false},
		{"missing target key denies", "project_id:%(project_id)s", map[string]string{}, false},
		{"user_id constant", "user_id:u1", nil, true},
		{"generic list credential", "roles:member", nil, true},
		{"generic check is case-sensitive", "roles:Member", nil, false},
		{"system_scope needs a system token", "system_scope:all", nil, false},
		{"is_admin_project defaults to True", "is_admin_project:True", nil, true},
		{"literal kind", "'x':%(v)s", map[string]string{"v": "x"}, true},
		{"literal True", "True:%(enabled)s", map[string]string{"enabled": "True"}, true},
		{"percent escape", "user_id:u%%1", nil, false},
		{"and", "role:reader and project_id:p1", nil, true},
		{"and fails", "role:reader and project_id:p2", nil, false},
		{"or", "role:admin or role:member", nil, true},
		{"not", "not role:admin", nil, true},
		{"not not", "not not role:admin", nil, false},
		{"and binds tighter than or", "role:admin and role:x or role:member", nil, true},
		{"and binds tighter than or on the right", "role:member or role:admin and role:x", nil, true},
		{"parentheses", "(role:admin or role:member) and user_id:u1", nil, true},
		{"parentheses stuck to checks", "((role:admin) or (role:member))", nil, true},
		{"keywords are case-insensitive", "role:admin OR role:member", nil, true},
		{"not with parentheses", "not (role:admin or role:member)", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Parse(tt.rule)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.rule, err)
			}
			ev := &evaluation{rules: map[string]check{}, creds: credentials(creds), target: tt.target}
			if got := c.eval(ev); got != tt.want {
				t.Fatalf("%q (%s) = %v, want %v", tt.rule, c, got, tt.want)
			}
		})
	}
}

func TestParse_Malformed(t *testing.T) {
	t.Parallel()
	testutil.WantErrors(t, func(t *testing.T, rule string) error {
		_, err := Parse(rule)
		return err
	}, []testutil.ErrorCase{
		{"a bare word", "admin", "not of the form kind:match"},
		{"a dangling and", "role:admin and", "ends unexpectedly"},
		{"a leading or", "or role:admin", "unexpected"},
		{"an unclosed parenthesis", "(role:admin or role:x", "missing )"},
		{"an extra parenthesis", "role:admin)", "unexpected"},
		{"two checks in a row", "role:admin role:x", "unexpected"},
		{"a quoted string", `role:admin or "x"`, "quoted string"},
		{"an external check", "http://example.com/check", "not supported"},
		{"a bad substitution", "project_id:%(project_id)d", "unsupported"},
		{"a bare percent", "project_id:%s", "unsupported"},
		{"an empty rule name", "rule:", "names no rule"},
		{"an empty kind", ":x", "empty kind"},
	})
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestEngine_PolicyFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "policy.yaml"), `
"placement:resource_providers:create": "role:admin or (role:placement_ops and project_id:infra)"
"admin_or_service_api": "role:admin or role:service or role:placement_ops"
"placement:usages": "@"
"service_api": "role:service"
`)
	writeFile(t, filepath.Join(dir, "policy.d", "10-json.json"), `{"placement:traits:list": "!"}`)
	writeFile(t, filepath.Join(dir, "policy.d", "20-yaml.yaml"), `"placement:traits:show": "rule:custom"
custom: "role:custom"`)
	e := engine(t, Options{PolicyFile: "policy.yaml", PolicyDirs: []string{"policy.d"}, ConfigDirs: []string{"/nonexistent", dir}, ReloadInterval: -1})
	ops := auth.Identity{UserID: "o", ProjectID: "infra", Roles: []string{"placement_ops"}}
	tests := []struct {
		name    string
		rule    string
		id      auth.Identity
		target  map[string]string
		allowed bool
	}{
		{"an override applies", "placement:resource_providers:create", ops, map[string]string{"project_id": "infra"}, true},
		{"an override of a base rule applies to every user", providersList, ops, own, true},
		{"an override allows everyone", RuleUsages, nobody, other, true},
		{"policy_dirs apply after the file", "placement:traits:list", admin, own, false},
		{"rules defined in a file can be referenced", "placement:traits:show", auth.Identity{Roles: []string{"custom"}}, own, true},
		{"an overridden base rule loses its deprecated fallback", RuleReshaper, admin, own, false},
		{"the overridden base rule still applies", RuleReshaper, service, own, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := e.Enforce(tt.rule, tt.id, tt.target); (err == nil) != tt.allowed {
				t.Fatalf("Enforce(%s) = %v, want allowed=%v", tt.rule, err, tt.allowed)
			}
		})
	}
	if got, _ := e.Effective("admin_or_service_api"); got != "(role:admin or role:service or role:placement_ops)" {
		t.Fatalf("override kept a fallback: %s", got)
	}
}

func TestEngine_BadPolicyFile(t *testing.T) {
	t.Parallel()
	testutil.WantErrors(t, func(t *testing.T, data string) error {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "policy.yaml"), data)
		_, err := New(Options{PolicyFile: filepath.Join(dir, "policy.yaml")})
		return err
	}, []testutil.ErrorCase{
		{"a malformed rule", `"placement:traits:list": "role:admin or"`, `policy "placement:traits:list"`},
		{"an undefined reference", `"placement:traits:list": "rule:nope"`, `undefined rule "nope"`},
		{"a cycle", "a: rule:b\nb: rule:a\n", "cycle"},
		{"not a mapping", "- a\n- b\n", "policy file"},
		{"a non-string rule", "a: [1]\n", "must be a check string"},
		{"bad YAML", "a: 'x\n", "policy file"},
	})
}

func TestEngine_MissingFileIsFine(t *testing.T) {
	t.Parallel()
	e := engine(t, Options{PolicyFile: "policy.yaml", PolicyDirs: []string{"policy.d"}, ConfigDirs: []string{t.TempDir()}})
	if err := e.Enforce(providersList, admin, own); err != nil {
		t.Fatal(err)
	}
}

func TestEngine_Reload(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "policy.yaml")
	writeFile(t, path, `"placement:traits:list": "!"`)
	e := engine(t, Options{PolicyFile: path, ReloadInterval: time.Nanosecond})
	if err := e.Enforce("placement:traits:list", admin, own); err == nil {
		t.Fatal("override not applied")
	}
	writeFile(t, path, `"placement:traits:list": "@"  `)
	os.Chtimes(path, time.Now().Add(time.Minute), time.Now().Add(time.Minute))
	time.Sleep(time.Millisecond)
	if err := e.Enforce("placement:traits:list", nobody, own); err != nil {
		t.Fatalf("changed file not reloaded: %v", err)
	}
	writeFile(t, path, `"placement:traits:list": "role:admin and"`)
	os.Chtimes(path, time.Now().Add(2*time.Minute), time.Now().Add(2*time.Minute))
	if err := e.Reload(); err == nil {
		t.Fatal("malformed reload accepted")
	}
	if err := e.Enforce("placement:traits:list", nobody, own); err != nil {
		t.Fatalf("previous rules not kept after a bad reload: %v", err)
	}
	os.Remove(path)
	if err := e.Reload(); err != nil {
		t.Fatal(err)
	}
	if err := e.Enforce("placement:traits:list", nobody, own); err == nil {
		t.Fatal("removed file still applies")
	}
}
