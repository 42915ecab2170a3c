package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// loadStrings writes each content to its own file and loads them in order,
// with an empty home and /etc so that the machine's files never leak in.
func loadStrings(t *testing.T, contents []string, environ []string) (*Config, []string, error) {
	t.Helper()
	dir := t.TempDir()
	var files []string
	for i, c := range contents {
		files = append(files, writeFile(t, dir, filepath.Join("f"+string(rune('0'+i)), "placement.conf"), c))
	}
	return load(files, append([]string{"HOME=" + dir}, environ...), filepath.Join(dir, "etc"))
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	c := Defaults()
	checks := []struct {
		name      string
		got, want any
	}{
		{"auth_strategy", c.API.AuthStrategy, "keystone"},
		{"connection_recycle_time", c.Database.ConnectionRecycleTime, 3600},
		{"max_retries", c.Database.MaxRetries, 10},
		{"retry_interval", c.Database.RetryInterval, 10},
		{"sync_on_startup", c.Database.SyncOnStartup, false},
		{"max_allocation_candidates", c.Placement.MaxAllocationCandidates, -1},
		{"allocation_candidates_memory_limit_mb", c.Placement.AllocationCandidatesMemoryLimitMB, 256},
		{"allocation_candidates_timeout", c.Placement.AllocationCandidatesTimeout, 60},
		{"generation strategy", c.Placement.AllocationCandidatesGenerationStrategy, "depth-first"},
		{"allocation_conflict_retry_count", c.Placement.AllocationConflictRetryCount, 10},
		{"incomplete_consumer_project_id", c.Placement.IncompleteConsumerProjectID, "00000000-0000-0000-0000-000000000000"},
		{"incomplete_consumer_user_id", c.Placement.IncompleteConsumerUserID, "00000000-0000-0000-0000-000000000000"},
		{"allowed_origin", c.CORS.AllowedOrigin, []string(nil)},
		{"allow_credentials", c.CORS.AllowCredentials, true},
		{"max_age", c.CORS.MaxAge, 3600},
		{"allow_methods", c.CORS.AllowMethods, []string{"GET", "PUT", "POST", "DELETE", "PATCH"}},
		{"expose_headers", c.CORS.ExposeHeaders, []string{"X-Auth-Token", "X-Openstack-Request-Id", "X-Subject-Token", "X-Service-Token", "OpenStack-API-Version"}},
		{"allow_headers", c.CORS.AllowHeaders, []string{"X-Auth-Token", "X-Openstack-Request-Id", "X-Identity-Status", "X-Roles", "X-Service-Catalog", "X-User-Id", "X-Tenant-Id", "OpenStack-API-Version"}},
		{"policy_file", c.Policy.PolicyFile, "policy.yaml"},
		{"policy_dirs", c.Policy.PolicyDirs, []string{"policy.d"}},
		{"policy_default_rule", c.Policy.PolicyDefaultRule, "default"},
		{"enforce_scope", c.Policy.EnforceScope, true},
		{"enforce_new_defaults", c.Policy.EnforceNewDefaults, true},
		{"keystone_authtoken", c.KeystoneAuthtoken, map[string]string{}},
	}
	for _, tc := range checks {
		if !reflect.DeepEqual(tc.got, tc.want) {
			t.Errorf("%s = %#v, want %#v", tc.name, tc.got, tc.want)
		}
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		files    []string
		environ  []string
		want     func(c *Config) // applied to Defaults()
		warnings []string
	}{
		{
			name: "no files and no environment give the defaults",
			want: func(*Config) {},
		},
		{
			name: "a full file sets every option",
			files: []string{`
[DEFAULT]
debug = True
log_file = placement.log
log_dir = /var/log/placement

[api]
auth_strategy = noauth2

[placement_database]
connection = postgresql+psycopg2://placement:secret@db/placement
connection_parameters = sslmode=require
sync_on_startup = yes
max_pool_size = 5
max_overflow = -1
pool_timeout = 30
connection_recycle_time = 600
max_retries = -1
retry_interval = 2

[placement]
randomize_allocation_candidates = on
max_allocation_candidates = 1000
allocation_candidates_memory_limit_mb = 64
allocation_candidates_timeout = 5
allocation_candidates_generation_strategy = breadth-first
allocation_conflict_retry_count = 3
incomplete_consumer_project_id = p
incomplete_consumer_user_id = u

[workarounds]
optimize_for_wide_provider_trees = 1

[cors]
allowed_origin = https://a.example, https://b.example
allow_credentials = false
expose_headers = X-A
max_age = 60
allow_methods = GET
allow_headers = X-B, X-C

[oslo_policy]
policy_file = /etc/placement/policy.yaml
policy_dirs = extra.d
policy_default_rule = rule:admin
enforce_scope = false
enforce_new_defaults = off

[oslo_middleware]
enable_proxy_headers_parsing = true

[keystone_authtoken]
auth_url = http://keystone:5000
Password = pw
`},
			want: func(c *Config) {
				c.Default.Debug = true
				c.Default.LogFile = "placement.log"
				c.Default.LogDir = "/var/log/placement"
				c.API.AuthStrategy = "noauth2"
				c.Database.Connection = "postgresql+psycopg2://placement:secret@db/placement"
				c.Database.ConnectionParameters = "sslmode=require"
				c.Database.SyncOnStartup = true
				c.Database.MaxPoolSize = 5
				c.Database.MaxOverflow = -1
				c.Database.PoolTimeout = 30
				c.Database.ConnectionRecycleTime = 600
				c.Database.MaxRetries = -1
				c.Database.RetryInterval = 2
				c.Placement.RandomizeAllocationCandidates = true
				c.Placement.MaxAllocationCandidates = 1000
				c.Placement.AllocationCandidatesMemoryLimitMB = 64
				c.Placement.AllocationCandidatesTimeout = 5
				c.Placement.AllocationCandidatesGenerationStrategy = "breadth-first"
				c.Placement.AllocationConflictRetryCount = 3
				c.Placement.IncompleteConsumerProjectID = "p"
				c.Placement.IncompleteConsumerUserID = "u"
				c.Workarounds.OptimizeForWideProviderTrees = true
				c.CORS.AllowedOrigin = []string{"https://a.example", "https://b.example"}
				c.CORS.AllowCredentials = false
				c.CORS.ExposeHeaders = []string{"X-A"}
				c.CORS.MaxAge = 60
				c.CORS.AllowMethods = []string{"GET"}
				c.CORS.AllowHeaders = []string{"X-B", "X-C"}
				c.Policy.PolicyFile = "/etc/placement/policy.yaml"
				c.Policy.PolicyDirs = []string{"extra.d"}
				c.Policy.PolicyDefaultRule = "rule:admin"
				c.Policy.EnforceScope = false
				c.Policy.EnforceNewDefaults = false
				c.Middleware.EnableProxyHeadersParsing = true
				c.KeystoneAuthtoken = map[string]string{"auth_url": "http://keystone:5000", "Password": "pw"}
			},
			warnings: []string{"[oslo_policy] enforce_scope = false is deprecated: upstream is removing the option and will always enforce scope; it is honoured for now"},
		},
		{
			name: "a later file wins option by option",
			files: []string{
				"[placement]\nallocation_conflict_retry_count = 3\nmax_allocation_candidates = 50\n[keystone_authtoken]\nauth-url = a\n",
				"[placement]\nallocation_conflict_retry_count = 7\n[keystone_authtoken]\nauth_url = b\n",
			},
			want: func(c *Config) {
				c.Placement.AllocationConflictRetryCount = 7
				c.Placement.MaxAllocationCandidates = 50
				c.KeystoneAuthtoken = map[string]string{"auth_url": "b"}
			},
		},
		{
			name:    "the environment beats the files",
			files:   []string{"[placement_database]\nconnection = postgresql://file/db\n[DEFAULT]\ndebug = false\n"},
			environ: []string{"OS_PLACEMENT_DATABASE__CONNECTION=postgresql://env/db", "OS_DEFAULT__DEBUG=true", "OS_API__AUTH_STRATEGY=noauth2"},
			want: func(c *Config) {
				c.Database.Connection = "postgresql://env/db"
				c.Default.Debug = true
				c.API.AuthStrategy = "noauth2"
			},
		},
		{
			name: "environment names match case-insensitively and the last duplicate wins",
			environ: []string{
				"os_placement__Allocation_Conflict_Retry_Count=4",
				"OS_Default__Debug=yes",
				"OS_KEYSTONE_AUTHTOKEN__AUTH_URL=http://k",
				"OS_CORS__ALLOWED_ORIGIN=https://x,,https://y ",
				"OS_CORS__MAX_AGE=1",
				"OS_CORS__MAX_AGE=2",
				"OS_PLACEMENT_CONFIG_DIR_IS_NOT_AN_OPTION=1",
				"OS_AUTH_URL=http://not-ours",
			},
			want: func(c *Config) {
				c.Placement.AllocationConflictRetryCount = 4
				c.Default.Debug = true
				c.KeystoneAuthtoken = map[string]string{"auth_url": "http://k"}
				c.CORS.AllowedOrigin = []string{"https://x", "https://y"}
				c.CORS.MaxAge = 2
			},
		},
		{
			name:    "the environment replaces every policy_dirs value from the files",
			files:   []string{"[oslo_policy]\npolicy_dirs = a\npolicy_dirs = b\n", "[oslo_policy]\npolicy_dirs = c, d\n"},
			environ: []string{"OS_OSLO_POLICY__POLICY_DIRS=e"},
			want:    func(c *Config) { c.Policy.PolicyDirs = []string{"e"} },
		},
		{
			name:  "policy_dirs accumulates over lines and files like a MultiStrOpt",
			files: []string{"[oslo_policy]\npolicy_dirs = a\npolicy_dirs = b\n", "[oslo_policy]\npolicy_dirs = c, d\n"},
			want:  func(c *Config) { c.Policy.PolicyDirs = []string{"a", "b", "c", "d"} },
		},
		{
			name: "continuation lines join the value with newlines and a blank line ends it",
			files: []string{"[keystone_authtoken]\nmemcached_servers = a:11211,\n   b:11211\n\tc:11211\n\nregion_name = r\n" +
				"[cors]\nallowed_origin = https://a,\n  https://b\n"},
			want: func(c *Config) {
				c.KeystoneAuthtoken = map[string]string{"memcached_servers": "a:11211,\nb:11211\nc:11211", "region_name": "r"}
				c.CORS.AllowedOrigin = []string{"https://a", "https://b"}
			},
		},
		{
			name: "comments start with # or ; at the start of a line only",
			files: []string{"# leading comment\n; another\n[DEFAULT]\n#debug = true\n;debug = true\nlog_dir = /x # not a comment\r\n" +
				"[placement]\n# randomize_allocation_candidates = true\n"},
			want: func(c *Config) { c.Default.LogDir = "/x # not a comment" },
		},
		{
			name:  "one pair of matching surrounding quotes is removed, as oslo's iniparser does",
			files: []string{"[DEFAULT]\nlog_file = \"a b\"\nlog_dir = 'x\"\n[keystone_authtoken]\npassword = \"\"\n"},
			want: func(c *Config) {
				c.Default.LogFile = "a b"
				c.Default.LogDir = "'x\""
				c.KeystoneAuthtoken = map[string]string{"password": ""}
			},
		},
		{
			name:  "key: value works and the first of = and : splits",
			files: []string{"[placement_database]\nconnection: postgresql://u:p@h/d\n[DEFAULT]\nlog_dir = c:/logs\n"},
			want: func(c *Config) {
				c.Database.Connection = "postgresql://u:p@h/d"
				c.Default.LogDir = "c:/logs"
			},
		},
		{
			name:  "option names take - for _ and any case, group names any case but DEFAULT",
			files: []string{"[Placement]\nAllocation-Conflict-Retry-Count = 2\n[OSLO_MIDDLEWARE]\nenable-proxy-headers-parsing = true\n"},
			want: func(c *Config) {
				c.Placement.AllocationConflictRetryCount = 2
				c.Middleware.EnableProxyHeadersParsing = true
			},
		},
		{
			name:     "a lower-case [default] is not the DEFAULT group",
			files:    []string{"[default]\ndebug = true\n"},
			want:     func(*Config) {},
			warnings: []string{"unknown option [default] debug in FILE0 ignored"},
		},
		{
			name:  "an empty integer keeps the default",
			files: []string{"[placement_database]\nmax_retries =\nmax_pool_size =\n"},
			want:  func(*Config) {},
		},
		{
			name:  "a deprecated [DEFAULT] name applies but loses to the current name in the same file",
			files: []string{"[api]\nauth_strategy = keystone\n[DEFAULT]\nauth_strategy = noauth2\nlogfile = old.log\n"},
			want:  func(c *Config) { c.Default.LogFile = "old.log" },
		},
		{
			name:  "a deprecated name in a later file beats the current name in an earlier one",
			files: []string{"[api]\nauth_strategy = keystone\n", "[DEFAULT]\nauth_strategy = noauth2\n"},
			want:  func(c *Config) { c.API.AuthStrategy = "noauth2" },
		},
		{
			name: "options and sections of other OpenStack libraries are accepted silently",
			files: []string{`[DEFAULT]
log_options = true
use_stderr = false
transport_url = rabbit://x
state_path = /var/lib/placement
[placement_database]
connection_debug = 100
connection_trace = true
slave_connection = postgresql://replica/db
mysql_sql_mode = TRADITIONAL
sqlite_synchronous = true
[profiler]
enabled = true
[oslo_messaging_rabbit]
rabbit_ha_queues = true
[oslo_messaging_notifications]
driver = noop
[oslo_policy]
remote_timeout = 60
`},
			want: func(*Config) {},
		},
		{
			name: "unknown groups and options warn once each, naming the file",
			files: []string{
				"[placement]\nnot_an_option = 1\nnot_an_option = 2\n[database]\nconnection = mysql://x\nmax_retries = 3\n",
				"[placement]\nnot_an_option = 3\n",
			},
			environ: []string{"OS_NOPE__THING=1"},
			want:    func(*Config) {},
			warnings: []string{
				"unknown option [placement] not_an_option in FILE0 ignored",
				"unknown option [database] connection in FILE0 ignored",
				"unknown option [database] max_retries in FILE0 ignored",
				"unknown option [placement] not_an_option in FILE1 ignored",
				"unknown option [nope] thing in environment variable OS_NOPE__THING ignored",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, warnings, err := loadStrings(t, tc.files, tc.environ)
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			if len(got.Files) != len(tc.files) {
				t.Errorf("Files = %q, want %d files", got.Files, len(tc.files))
			}
			for i, f := range got.Files {
				for j := range warnings {
					warnings[j] = strings.ReplaceAll(warnings[j], f, "FILE"+string(rune('0'+i)))
				}
			}
			got.Files, got.ConfigDirs = nil, nil
			want := Defaults()
			tc.want(want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("config mismatch\n got: %+v\nwant: %+v", *got, *want)
			}
			if !reflect.DeepEqual(warnings, tc.warnings) {
				t.Errorf("warnings\n got: %q\nwant: %q", warnings, tc.warnings)
			}
		})
	}
}

func TestLoad_Errors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		file    string
		environ []string
		want    string // FILE stands for the file's path
	}{
		{
			name: "a bad integer names the option, the value and the line",
			file: "[placement]\n\nallocation_conflict_retry_count = x\n",
			want: `[placement] allocation_conflict_retry_count: invalid integer "x" in FILE line 3`,
		},
		{
			name: "a bad boolean names the option",
			file: "[DEFAULT]\ndebug = maybe\n",
			want: `[DEFAULT] debug: invalid boolean "maybe" in FILE line 2`,
		},
		{
			name: "an empty boolean is an error, as in oslo.config",
			file: "[cors]\nallow_credentials =\n",
			want: `[cors] allow_credentials: invalid boolean "" in FILE line 2`,
		},
		{
			name: "auth_strategy must be keystone or noauth2",
			file: "[api]\nauth_strategy = noauth\n",
			want: `[api] auth_strategy: invalid value "noauth" (valid: keystone, noauth2) in FILE line 2`,
		},
		{
			name: "choices are case-sensitive",
			file: "[api]\nauth_strategy = Keystone\n",
			want: `[api] auth_strategy: invalid value "Keystone"`,
		},
		{
			name: "the generation strategy must be depth-first or breadth-first",
			file: "[placement]\nallocation_candidates_generation_strategy = random\n",
			want: `[placement] allocation_candidates_generation_strategy: invalid value "random" (valid: depth-first, breadth-first)`,
		},
		{
			name:    "a bad environment value names the variable",
			environ: []string{"OS_API__AUTH_STRATEGY=none"},
			want:    `[api] auth_strategy: invalid value "none" (valid: keystone, noauth2) in environment variable OS_API__AUTH_STRATEGY`,
		},
		{
			name:    "only the final value is validated",
			file:    "[placement]\nmax_allocation_candidates = many\n",
			environ: []string{"OS_PLACEMENT__MAX_ALLOCATION_CANDIDATES=5", "OS_DEFAULT__DEBUG=perhaps"},
			want:    `[DEFAULT] debug: invalid boolean "perhaps" in environment variable OS_DEFAULT__DEBUG`,
		},
		{
			name: "a line without = or : is malformed",
			file: "[DEFAULT]\ndebug true\n",
			want: `FILE line 2: no "=" or ":" found in assignment`,
		},
		{
			name: "an assignment before any section is malformed",
			file: "debug = true\n",
			want: "FILE line 1: section must be started before assignment",
		},
		{
			name: "an indented line with nothing to continue is malformed",
			file: "[DEFAULT]\n  # indented comment\n",
			want: "FILE line 2: unexpected continuation line",
		},
		{
			name: "a section header must end with ]",
			file: "[DEFAULT\n",
			want: "FILE line 1: invalid section (must end with ])",
		},
		{
			name: "a section header needs a name",
			file: "[]\n",
			want: "FILE line 1: empty section name",
		},
		{
			name: "a key cannot be empty",
			file: "[DEFAULT]\n= x\n",
			want: "FILE line 2: key cannot be empty",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var files []string
			if tc.file != "" {
				files = []string{tc.file}
			}
			_, _, err := loadStrings(t, files, tc.environ)
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			msg := err.Error()
			if i := strings.Index(msg, string(filepath.Separator)); i >= 0 {
				if j := strings.Index(msg[i:], "placement.conf"); j >= 0 {
					msg = msg[:i] + "FILE" + msg[i+j+len("placement.conf"):]
				}
			}
			if !strings.Contains(msg, tc.want) {
				t.Errorf("error = %q, want it to contain %q", msg, tc.want)
			}
		})
	}
}

func TestLoad_MissingFileIsAnError(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "nope.conf")
	if _, _, err := Load([]string{missing}, nil); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("err = %v, want one naming %s", err, missing)
	}
}

func TestLoad_ReportsEveryBadValue(t *testing.T) {
	t.Parallel()
	_, _, err := loadStrings(t, []string{"[placement]\nmax_allocation_candidates = a\n[cors]\nmax_age = b\n"}, nil)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{`max_allocation_candidates: invalid integer "a"`, `max_age: invalid integer "b"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestLoad_Discovery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		setup   map[string]string // path under the temp root → content
		envDir  string            // OS_PLACEMENT_CONFIG_DIR under the root, "" for unset
		want    string            // file found, under the root; "" for none
		wantErr bool
	}{
		{
			name:   "OS_PLACEMENT_CONFIG_DIR names the file",
			setup:  map[string]string{"confdir/placement.conf": "[DEFAULT]\ndebug = true\n", "home/.placement/placement.conf": ""},
			envDir: "confdir",
			want:   "confdir/placement.conf",
		},
		{
			name:    "a missing file in OS_PLACEMENT_CONFIG_DIR is an error, as upstream",
			setup:   map[string]string{"home/.placement/placement.conf": ""},
			envDir:  "empty",
			wantErr: true,
		},
		{
			name: "~/.placement comes first",
			setup: map[string]string{
				"home/.placement/placement.conf": "[DEFAULT]\ndebug = true\n",
				"home/placement.conf":            "",
				"etc/placement/placement.conf":   "",
			},
			want: "home/.placement/placement.conf",
		},
		{
			name:  "then ~/placement.conf",
			setup: map[string]string{"home/placement.conf": "[DEFAULT]\ndebug = true\n", "etc/placement.conf": ""},
			want:  "home/placement.conf",
		},
		{
			name:  "then /etc/placement/placement.conf",
			setup: map[string]string{"etc/placement/placement.conf": "[DEFAULT]\ndebug = true\n", "etc/placement.conf": ""},
			want:  "etc/placement/placement.conf",
		},
		{
			name:  "then /etc/placement.conf",
			setup: map[string]string{"etc/placement.conf": "[DEFAULT]\ndebug = true\n"},
			want:  "etc/placement.conf",
		},
		{
			name:  "no file at all means defaults",
			setup: map[string]string{"home/.placement/placement.conf.d/x": ""},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			for p, content := range tc.setup {
				writeFile(t, root, p, content)
			}
			environ := []string{"HOME=" + filepath.Join(root, "home")}
			if tc.envDir != "" {
				environ = append(environ, "OS_PLACEMENT_CONFIG_DIR="+filepath.Join(root, tc.envDir))
			}
			c, _, err := load(nil, environ, filepath.Join(root, "etc"))
			if tc.wantErr {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == "" {
				if len(c.Files) != 0 || c.Default.Debug {
					t.Errorf("Files = %q, Debug = %v; want no file", c.Files, c.Default.Debug)
				}
				return
			}
			want := filepath.Join(root, tc.want)
			if !reflect.DeepEqual(c.Files, []string{want}) {
				t.Errorf("Files = %q, want [%q]", c.Files, want)
			}
			if !reflect.DeepEqual(c.ConfigDirs, []string{filepath.Dir(want)}) {
				t.Errorf("ConfigDirs = %q, want [%q]", c.ConfigDirs, filepath.Dir(want))
			}
			if !c.Default.Debug {
				t.Error("the found file was not read")
			}
		})
	}
}

func TestLoad_ConfigDirsAreAbsoluteAndUnique(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, dir, "a/placement.conf", "")
	b := writeFile(t, dir, "b/extra.conf", "")
	a2 := writeFile(t, dir, "a/more.conf", "")
	t.Chdir(dir)
	rel, err := filepath.Rel(dir, a)
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := load([]string{rel, b, a2}, nil, filepath.Join(dir, "etc"))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{rel, b, a2}; !reflect.DeepEqual(c.Files, want) {
		t.Errorf("Files = %q, want %q", c.Files, want)
	}
	if want := []string{filepath.Dir(a), filepath.Dir(b)}; !reflect.DeepEqual(c.ConfigDirs, want) {
		t.Errorf("ConfigDirs = %q, want %q", c.ConfigDirs, want)
	}
}
