package policy

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/openstack-placement-go/placement/internal/auth"
)

// Options configure an Engine. The zero value is upstream master's defaults
// with both switches off and no policy file.
type Options struct {
	// Defaults is the registered rule set: SetMaster (default) or SetZed.
	Defaults string
	// EnforceScope rejects a token whose scope is not among the rule's
	// scope types ([oslo_policy] enforce_scope).
	EnforceScope bool
	// EnforceNewDefaults drops the deprecated fallbacks
	// ([oslo_policy] enforce_new_defaults).
	EnforceNewDefaults bool
	// PolicyFile is [oslo_policy] policy_file; a relative path is looked up
	// in ConfigDirs, the last one first. A missing file is not an error.
	PolicyFile string
	// PolicyDirs is [oslo_policy] policy_dirs; relative paths as PolicyFile.
	// Every file of every existing directory is applied after the main
	// file, in sorted order.
	PolicyDirs []string
	// ConfigDirs are the directories of the loaded config files.
	ConfigDirs []string
	// DefaultRule is [oslo_policy] policy_default_rule: the rule checked for
	// a name that has no rule (default "default"; deny if undefined).
	DefaultRule string
	// ReloadInterval is how often Enforce looks at the files' modification
	// times (default 1s; negative: never).
	ReloadInterval time.Duration
	Logger         *slog.Logger
}

// Engine is the oslo.policy-compatible Enforcer. It is safe for concurrent
// use; Enforce re-reads the policy files when their modification time
// changes, keeping the previous rules (and logging the error) when the new
// files do not load.
type Engine struct {
	opts      Options
	defaults  []RuleDefault
	scopes    map[string][]string
	current   atomic.Pointer[ruleSet]
	mu        sync.Mutex // serialises reloads
	lastCheck atomic.Int64
}

// ruleSet is one loaded generation of rules.
type ruleSet struct {
	rules     map[string]check
	overrides map[string]string // name → check string from the files
	stamp     string            // files and modification times it was built from
}

// New builds an Engine, loading the policy files once. Any unparsable rule
// (default or override), cycle or reference to an undefined rule is an
// error.
func New(opts Options) (*Engine, error) {
	if opts.DefaultRule == "" {
		opts.DefaultRule = "default"
	}
	if opts.ReloadInterval == 0 {
		opts.ReloadInterval = time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	e := &Engine{opts: opts, scopes: map[string][]string{}}
	switch opts.Defaults {
	case "", SetMaster:
		e.defaults = MasterDefaults()
	case SetZed:
		e.defaults = ZedDefaults()
	default:
		return nil, fmt.Errorf("unknown policy defaults %q (want %s or %s)", opts.Defaults, SetMaster, SetZed)
	}
	for _, d := range e.defaults {
		e.scopes[d.Name] = d.Scopes
	}
	files, stamp := e.files()
	rs, err := e.build(files, stamp)
	if err != nil {
		return nil, err
	}
	e.current.Store(rs)
	e.lastCheck.Store(time.Now().UnixNano())
	return e, nil
}

// Default returns an Engine as the service ships: master's defaults, both
// switches on ([oslo_policy] enforce_scope and enforce_new_defaults) and
// no policy file. It is what the API uses when given no Enforcer.
func Default() *Engine {
	e, err := New(Options{ReloadInterval: -1, EnforceScope: true, EnforceNewDefaults: true})
	if err != nil {
		panic(err) // the built-in defaults always parse; TestDefaultsParse proves it
	}
	return e
}

// Enforce implements Enforcer: nil when allowed, otherwise the Forbidden
// error "Policy does not allow <rule> to be performed.". With enforce_scope
// a token of a scope the rule is not meant for is denied the same way.
func (e *Engine) Enforce(rule string, id auth.Identity, target map[string]string) error {
	e.maybeReload()
	rs := e.current.Load()
	if scopes := e.scopes[rule]; len(scopes) > 0 {
		if ts := tokenScope(id); !slices.Contains(scopes, ts) {
			if e.opts.EnforceScope {
				return Denied(rule)
			}
			e.opts.Logger.Debug("policy scope mismatch", "rule", rule, "token_scope", ts, "policy_scope", scopes)
		}
	}
	c, ok := rs.rules[rule]
	if !ok {
		if c, ok = rs.rules[e.opts.DefaultRule]; !ok {
			return Denied(rule)
		}
	}
	ev := &evaluation{rules: rs.rules, creds: credentials(id), target: target}
	if !c.eval(ev) {
		return Denied(rule)
	}
	return nil
}

// Effective returns the check string in force for rule (for documentation
// and tests), and false for an unknown rule.
func (e *Engine) Effective(rule string) (string, bool) {
	c, ok := e.current.Load().rules[rule]
	if !ok {
		return "", false
	}
	return c.String(), true
}

// Reload re-reads the policy files now if they changed. It returns the load
// error, if any; the previous rules stay in force in that case.
func (e *Engine) Reload() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	files, stamp := e.files()
	if stamp == e.current.Load().stamp {
		return nil
	}
	rs, err := e.build(files, stamp)
	if err != nil {
		return err
	}
	e.current.Store(rs)
	e.opts.Logger.Info("policy files reloaded", "files", files)
	return nil
}

func (e *Engine) maybeReload() {
	if e.opts.ReloadInterval < 0 {
		return
	}
	now := time.Now().UnixNano()
	last := e.lastCheck.Load()
	if now-last < int64(e.opts.ReloadInterval) || !e.lastCheck.CompareAndSwap(last, now) {
		return
	}
	if err := e.Reload(); err != nil {
		e.opts.Logger.Error("policy files not reloaded; the previous rules stay in force", "error", err)
	}
}

// resolve finds a relative path in the config directories, the last first.
func (e *Engine) resolve(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	for i := len(e.opts.ConfigDirs) - 1; i >= 0; i-- {
		cand := filepath.Join(e.opts.ConfigDirs[i], p)
		if _, err := os.Stat(cand); err == nil {
			return cand
		}
	}
	return ""
}

// files lists the existing policy files in application order and a stamp
// of their names, sizes and modification times.
func (e *Engine) files() ([]string, string) {
	var files []string
	var stamp strings.Builder
	add := func(p string, fi os.FileInfo) {
		files = append(files, p)
		fmt.Fprintf(&stamp, "%s|%d|%d\n", p, fi.Size(), fi.ModTime().UnixNano())
	}
	if p := e.resolve(e.opts.PolicyFile); p != "" {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			add(p, fi)
		}
	}
	for _, d := range e.opts.PolicyDirs {
		dir := e.resolve(d)
		if dir == "" {
			continue
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		names := make([]string, 0, len(entries))
		for _, ent := range entries {
			if !ent.IsDir() && !strings.HasPrefix(ent.Name(), ".") {
				names = append(names, ent.Name())
			}
		}
		sort.Strings(names)
		for _, n := range names {
			p := filepath.Join(dir, n)
			if fi, err := os.Stat(p); err == nil {
				add(p, fi)
			}
		}
	}
	return files, stamp.String()
}

// build parses the defaults and the files into a rule set.
func (e *Engine) build(files []string, stamp string) (*ruleSet, error) {
	overrides := map[string]string{}
	for _, f := range files {
		m, err := readPolicyFile(f)
		if err != nil {
			return nil, err
		}
		for k, v := range m {
			overrides[k] = v
		}
	}
	rs := &ruleSet{rules: map[string]check{}, overrides: overrides, stamp: stamp}
	var errs []error
	for name, s := range overrides {
		c, err := Parse(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("policy %q in the policy files: %w", name, err))
			continue
		}
		rs.rules[name] = c
	}
	for _, d := range e.defaults {
		if _, overridden := overrides[d.Name]; overridden {
			continue // an override also disables the deprecated fallback
		}
		s := d.Check
		if d.Deprecated != "" && !e.opts.EnforceNewDefaults && d.Deprecated != d.Check {
			s = "(" + d.Check + ") or (" + d.Deprecated + ")"
		}
		c, err := Parse(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("default policy %q: %w", d.Name, err))
			continue
		}
		rs.rules[d.Name] = c
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := validate(rs.rules); err != nil {
		return nil, err
	}
	return rs, nil
}

// readPolicyFile reads a YAML (or JSON, which YAML parses) mapping of rule
// name to check string.
func readPolicyFile(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading policy file: %w", err)
	}
	var raw map[string]any
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("policy file %s: %w", path, err)
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		s, ok := v.(string)
		if !ok {
			if v == nil {
				s = "" // "name:" with no value is the empty, always-allow rule
			} else {
				return nil, fmt.Errorf("policy file %s: rule %q must be a check string, not %T", path, k, v)
			}
		}
		out[k] = s
	}
	return out, nil
}

// validate refuses references to undefined rules and cycles.
func validate(rules map[string]check) error {
	var errs []error
	names := make([]string, 0, len(rules))
	for n := range rules {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		for _, ref := range references(rules[n]) {
			if _, ok := rules[ref]; !ok {
				errs = append(errs, fmt.Errorf("policy %q references undefined rule %q", n, ref))
			}
		}
	}
	const (
		unvisited = iota
		visiting
		done
	)
	state := map[string]int{}
	var visit func(n string, path []string) error
	visit = func(n string, path []string) error {
		switch state[n] {
		case visiting:
			return fmt.Errorf("policy rules form a cycle: %s", strings.Join(append(path, n), " -> "))
		case done:
			return nil
		}
		state[n] = visiting
		for _, ref := range references(rules[n]) {
			if _, ok := rules[ref]; !ok {
				continue
			}
			if err := visit(ref, append(path, n)); err != nil {
				return err
			}
		}
		state[n] = done
		return nil
	}
	for _, n := range names {
		if err := visit(n, nil); err != nil {
			errs = append(errs, err)
			break
		}
	}
	return errors.Join(errs...)
}

func references(c check) []string {
	switch c := c.(type) {
	case ruleCheck:
		return []string{c.name}
	case notCheck:
		return references(c.c)
	case andCheck:
		var out []string
		for _, x := range c.cs {
			out = append(out, references(x)...)
		}
		return out
	case orCheck:
		var out []string
		for _, x := range c.cs {
			out = append(out, references(x)...)
		}
		return out
	}
	return nil
}
