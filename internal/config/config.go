// Package config reads placement.conf, the oslo.config INI file operators
// already have for the Python service, into a typed Config.
//
// Precedence is defaults < files (later files win, option by option) <
// OS_<GROUP>__<OPTION> environment variables. Options of other OpenStack
// libraries that real files carry are accepted; unknown ones produce a
// warning and are otherwise ignored.
package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// DefaultIncompleteConsumerID is the project and user recorded for
// allocations written before microversion 1.8 without them.
const DefaultIncompleteConsumerID = "00000000-0000-0000-0000-000000000000"

// Config holds the options of placement.conf that this service uses. Group
// and option names follow upstream; the field comments give the defaults.
type Config struct {
	Default struct {
		Debug     bool   // [DEFAULT] debug
		LogFile   string // [DEFAULT] log_file
		LogDir    string // [DEFAULT] log_dir
		UseStderr bool   // [DEFAULT] use_stderr (default false): with a log file, also log to stderr
		UseJSON   bool   // [DEFAULT] use_json (default false): JSON lines
		// [DEFAULT] use_syslog, use_journal (default false) and
		// syslog_log_facility (default LOG_USER): the system logs.
		UseSyslog, UseJournal bool
		SyslogLogFacility     string
		LogConfigAppend       string // [DEFAULT] log_config_append: not supported, warned about
		// oslo.log's text format: logging_context_format_string,
		// logging_default_format_string, logging_debug_format_suffix,
		// logging_user_identity_format, log_date_format and
		// logging_exception_prefix ("" for oslo.log's defaults).
		ContextFormat, DefaultFormat, DebugFormatSuffix, UserIdentityFormat, LogDateFormat, ExceptionPrefix string
	}
	API struct {
		AuthStrategy string // [api] auth_strategy: "keystone" (default) or "noauth2"
	}
	Database struct { // [placement_database]
		Connection            string // raw value as written; see DSN
		ConnectionParameters  string // query string appended by DSN
		SyncOnStartup         bool   // default false
		MaxPoolSize           int    // connections kept open
		MaxOverflow           int    // connections added under load; -1: no limit
		PoolTimeout           int    // seconds, 0 = unset
		ConnectionRecycleTime int    // seconds, default 3600
		MaxRetries            int    // default 10; -1 = forever
		RetryInterval         int    // seconds, default 10
	}
	Placement struct { // [placement]
		RandomizeAllocationCandidates          bool   // default false
		MaxAllocationCandidates                int    // default -1 (no cap); 0 keeps one, as upstream master
		AllocationCandidatesGenerationStrategy string // "depth-first" (default) or "breadth-first"
		AllocationConflictRetryCount           int    // default 10
		IncompleteConsumerProjectID            string // default DefaultIncompleteConsumerID
		IncompleteConsumerUserID               string // default DefaultIncompleteConsumerID
		// CandidateCache (ours, not upstream's): serve allocation candidates
		// from the in-process cache kept exact by the database's change
		// capture (placement_changes), whoever writes. Default true.
		CandidateCache bool
		// AllocationCandidatesMemoryLimitMB (ours): the memory one
		// GET /allocation_candidates may hold while generating (streamed
		// candidates are not held), in MiB; over it the request fails
		// with a 400. Default 256; zero or
		// negative: no limit.
		AllocationCandidatesMemoryLimitMB int
		// AllocationCandidatesTimeout (ours): seconds one
		// GET /allocation_candidates may run before it fails with a 503.
		// Default 60; zero or negative: no limit.
		AllocationCandidatesTimeout int
	}
	Workarounds struct {
		// OptimizeForWideProviderTrees is [workarounds]
		// optimize_for_wide_provider_trees: accepted, without effect, as
		// candidate generation always prunes that way.
		OptimizeForWideProviderTrees bool
	}
	CORS struct { // [cors]; CORS is off while AllowedOrigin is empty
		AllowedOrigin    []string
		AllowCredentials bool // default true
		ExposeHeaders    []string
		MaxAge           int // seconds, default 3600
		AllowMethods     []string
		AllowHeaders     []string
	}
	Policy struct { // [oslo_policy]
		PolicyFile         string   // default "policy.yaml", relative to ConfigDirs
		PolicyDirs         []string // default ["policy.d"]; every occurrence in every file adds to the list
		PolicyDefaultRule  string   // default "default"
		EnforceScope       bool     // default true, as upstream master runs (oslo.policy >= 4.4.0); false is deprecated
		EnforceNewDefaults bool     // default true, as upstream master runs (oslo.policy >= 4.4.0)
	}
	Middleware struct {
		EnableProxyHeadersParsing bool // [oslo_middleware] enable_proxy_headers_parsing
	}
	Healthcheck struct {
		// [healthcheck] disable_by_file_path: while this file exists,
		// /healthcheck answers 503 (oslo.middleware's disable_by_file).
		DisableByFilePath string
	}
	// KeystoneAuthtoken holds every [keystone_authtoken] key as written.
	KeystoneAuthtoken map[string]string
	// ConfigDirs are the absolute directories of Files, in load order without
	// duplicates. oslo.config looks for a relative policy_file in the
	// directory of the last file first.
	ConfigDirs []string
	// Files are the config files that were loaded, in order.
	Files []string
}

// Defaults returns a Config with every option at its upstream default.
func Defaults() *Config {
	c := &Config{}
	c.Default.SyslogLogFacility = "LOG_USER"
	c.API.AuthStrategy = "keystone"
	// The pool the Python service gets when neither is set: oslo.db passes
	// nothing on, and SQLAlchemy's QueuePool keeps 5 and adds up to 10.
	c.Database.MaxPoolSize = 5
	c.Database.MaxOverflow = 10
	c.Database.ConnectionRecycleTime = 3600
	c.Database.MaxRetries = 10
	c.Database.RetryInterval = 10
	c.Placement.MaxAllocationCandidates = -1
	c.Placement.AllocationCandidatesGenerationStrategy = "depth-first"
	c.Placement.AllocationConflictRetryCount = 10
	c.Placement.IncompleteConsumerProjectID = DefaultIncompleteConsumerID
	c.Placement.IncompleteConsumerUserID = DefaultIncompleteConsumerID
	c.Placement.CandidateCache = true
	c.Placement.AllocationCandidatesMemoryLimitMB = 256
	c.Placement.AllocationCandidatesTimeout = 60
	c.CORS.AllowCredentials = true
	c.CORS.ExposeHeaders = []string{"X-Auth-Token", "X-Openstack-Request-Id", "X-Subject-Token", "X-Service-Token", "OpenStack-API-Version"}
	c.CORS.MaxAge = 3600
	c.CORS.AllowMethods = []string{"GET", "PUT", "POST", "DELETE", "PATCH"}
	c.CORS.AllowHeaders = []string{"X-Auth-Token", "X-Openstack-Request-Id", "X-Identity-Status", "X-Roles", "X-Service-Catalog", "X-User-Id", "X-Tenant-Id", "OpenStack-API-Version"}
	c.Policy.PolicyFile = "policy.yaml"
	c.Policy.PolicyDirs = []string{"policy.d"}
	c.Policy.PolicyDefaultRule = "default"
	c.Policy.EnforceScope = true
	c.Policy.EnforceNewDefaults = true
	c.KeystoneAuthtoken = map[string]string{}
	return c
}

// Load reads the given files in order (later files win, option by option),
// or, when files is empty, the file oslo.config would find:
// $OS_PLACEMENT_CONFIG_DIR/placement.conf if that variable is set, else the
// first existing of ~/.placement/placement.conf, ~/placement.conf,
// /etc/placement/placement.conf and /etc/placement.conf (none is fine). It
// then applies OS_<GROUP>__<OPTION>=value overrides from environ (os.Environ
// form), matched case-insensitively.
//
// Unknown groups and options yield one warning each. A missing named file,
// a malformed line, or a bad bool, integer or choice is an error naming the
// file and line or the option.
func Load(files []string, environ []string) (*Config, []string, error) {
	return load(files, environ, "/etc")
}

// load is Load with the system configuration directory as a parameter, so
// tests do not depend on the machine's /etc.
func load(files, environ []string, etc string) (*Config, []string, error) {
	env := parseEnviron(environ)
	if len(files) == 0 {
		files = discover(env, etc)
	}

	var m merger
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, nil, fmt.Errorf("reading config file: %w", err)
		}
		entries, err := parseINI(f, data)
		if err != nil {
			return nil, nil, err
		}
		m.addLayer(entries, false)
	}
	m.addLayer(envEntries(env), true)

	c := Defaults()
	if err := m.apply(c); err != nil {
		return nil, m.warnings, err
	}
	c.Files = append([]string(nil), files...)
	c.ConfigDirs = configDirs(files)
	if !c.Policy.EnforceScope {
		m.warnings = append(m.warnings, "[oslo_policy] enforce_scope = false is deprecated: "+
			"upstream is removing the option and will always enforce scope; it is honoured for now")
	}
	return c, m.warnings, nil
}

// discover returns the default config file list, following placement's
// wsgi.py (OS_PLACEMENT_CONFIG_DIR) and oslo.config's search path.
func discover(env *environment, etc string) []string {
	if dir := strings.TrimSpace(env.get("OS_PLACEMENT_CONFIG_DIR")); dir != "" {
		// Upstream names the file whether or not it exists; a missing one
		// then fails to load, as it does for oslo.config.
		return []string{filepath.Join(dir, "placement.conf")}
	}
	home := env.get("HOME")
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	var candidates []string
	if home != "" {
		candidates = append(candidates,
			filepath.Join(home, ".placement", "placement.conf"),
			filepath.Join(home, "placement.conf"))
	}
	candidates = append(candidates,
		filepath.Join(etc, "placement", "placement.conf"),
		filepath.Join(etc, "placement.conf"))
	for _, p := range candidates {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return []string{p}
		}
	}
	return nil
}

func configDirs(files []string) []string {
	var dirs []string
	seen := map[string]bool{}
	for _, f := range files {
		d := filepath.Dir(f)
		if abs, err := filepath.Abs(d); err == nil {
			d = abs
		}
		if !seen[d] {
			seen[d] = true
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// environment is the process environment with later duplicates winning, in
// first-seen order.
type environment struct {
	names  []string
	values map[string]string
}

func parseEnviron(environ []string) *environment {
	e := &environment{values: map[string]string{}}
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			continue
		}
		if _, dup := e.values[k]; !dup {
			e.names = append(e.names, k)
		}
		e.values[k] = v
	}
	return e
}

func (e *environment) get(name string) string { return e.values[name] }

// envEntries turns OS_<GROUP>__<OPTION> variables into entries, as
// oslo.config's environment source names them.
func envEntries(env *environment) []entry {
	var out []entry
	for _, name := range env.names {
		if len(name) < 3 || !strings.EqualFold(name[:3], "OS_") {
			continue
		}
		g, o, ok := strings.Cut(name[3:], "__")
		if !ok || g == "" || o == "" {
			continue
		}
		out = append(out, entry{
			group: normalizeGroup(g),
			key:   strings.ToLower(o),
			value: env.values[name],
			where: "environment variable " + name,
		})
	}
	return out
}

// normalizeGroup follows oslo.config: DEFAULT is exact, every other group
// name is case-insensitive. Environment variable names are upper case, so
// there DEFAULT matches in any case.
func normalizeGroup(name string) string {
	if strings.EqualFold(name, "DEFAULT") {
		return "DEFAULT"
	}
	return strings.ToLower(name)
}

// normalizeKey makes option names case-insensitive and lets "-" stand for "_".
func normalizeKey(key string) string {
	return strings.ReplaceAll(strings.ToLower(key), "-", "_")
}

// setting is the winning value of one option after all layers.
type setting struct {
	group, key string   // canonical names; key as last written for collected groups
	vals       []string // one value, or every occurrence for multi options
	where      string
	line       int
	opt        option
	collect    func(*Config) map[string]string
}

func (s *setting) source() string {
	if s.line > 0 {
		return fmt.Sprintf("%s line %d", s.where, s.line)
	}
	return s.where
}

// merger layers files and the environment over each other.
type merger struct {
	order    []string
	settings map[string]*setting
	warnings []string
}

// resolved is an entry matched against the option table.
type resolved struct {
	entry
	id         string
	group, key string
	opt        option
	collect    func(*Config) map[string]string
	alias      bool
}

func (m *merger) addLayer(entries []entry, isEnv bool) {
	if m.settings == nil {
		m.settings = map[string]*setting{}
	}
	var rs []resolved
	direct := map[string]bool{}
	warned := map[string]bool{}
	for _, e := range entries {
		r, known, silent := resolve(e)
		if silent {
			continue
		}
		if !known {
			id := e.group + "\x00" + normalizeKey(e.key)
			if !warned[id] {
				warned[id] = true
				m.warnings = append(m.warnings, fmt.Sprintf("unknown option [%s] %s in %s ignored", e.group, e.key, e.where))
			}
			continue
		}
		if !r.alias {
			direct[r.id] = true
		}
		rs = append(rs, r)
	}

	touched := map[string]bool{}
	for _, r := range rs {
		// A deprecated name loses to the current name set in the same
		// file, as oslo.config looks up the current name first.
		if r.alias && direct[r.id] {
			continue
		}
		s, ok := m.settings[r.id]
		if !ok {
			s = &setting{}
			m.settings[r.id] = s
			m.order = append(m.order, r.id)
		}
		// Multi options gather every value in every file; the environment
		// replaces them, as it does any other option.
		if r.opt.multi && (!isEnv || touched[r.id]) {
			s.vals = append(s.vals, r.value)
		} else {
			s.vals = []string{r.value}
		}
		touched[r.id] = true
		s.group, s.key, s.opt, s.collect = r.group, r.key, r.opt, r.collect
		s.where, s.line = r.where, r.line
	}
}

// resolve matches an entry against the option table. known is false for
// unknown options; silent is true for keys of groups that are accepted
// without looking at them.
func resolve(e entry) (r resolved, known, silent bool) {
	g, ok := lookupGroup(e.group)
	if !ok {
		return r, false, false
	}
	if g.silent {
		return r, true, true
	}
	r.entry = e
	key := normalizeKey(e.key)
	if opt, ok := g.options[key]; ok {
		r.group, r.key, r.opt = e.group, key, opt
		if opt.alias != "" {
			r.group, r.key, _ = strings.Cut(opt.alias, ".")
			r.opt = groups[r.group].options[r.key]
			r.alias = true
		}
		r.id = r.group + "\x00" + r.key
		return r, true, false
	}
	if g.collect != nil {
		r.group, r.key, r.collect = e.group, strings.TrimSpace(e.key), g.collect
		r.id = e.group + "\x00" + key
		return r, true, false
	}
	return r, false, false
}

// apply sets every winning value on c, reporting all bad values at once.
func (m *merger) apply(c *Config) error {
	var errs []error
	for _, id := range m.order {
		s := m.settings[id]
		switch {
		case s.collect != nil:
			s.collect(c)[s.key] = s.vals[len(s.vals)-1]
		case s.opt.set != nil:
			if err := s.opt.set(c, s.vals); err != nil {
				errs = append(errs, fmt.Errorf("[%s] %s: %w in %s", s.group, s.key, err, s.source()))
			}
		}
	}
	return errors.Join(errs...)
}
