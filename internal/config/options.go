package config

import (
	"fmt"
	"strconv"
	"strings"
)

// option is one known option of a group.
type option struct {
	// set parses the option's value into a Config. nil means the option
	// belongs to a library we do not reimplement: accepted, then ignored.
	set func(c *Config, vals []string) error
	// multi marks oslo.config MultiStrOpts: every occurrence in every file
	// is kept, in order; the environment replaces them.
	multi bool
	// alias is "group.option" for a deprecated name of another option.
	alias string
	// kind names the value's type for docs/configuration.md, and get
	// renders the option's value in a Config (the default, for the page).
	kind string
	get  func(c *Config) string
}

// group is one [section] of placement.conf.
type group struct {
	options map[string]option
	// collect, when set, receives every key not in options, verbatim.
	collect func(*Config) map[string]string
	// silent groups belong to other libraries; any key is accepted unseen.
	silent bool
}

// groups is the table of known options, keyed by normalised group and
// option name. See spec 01 §12.
var groups = map[string]group{
	"DEFAULT": {options: with(map[string]option{
		"debug":                         boolOpt(func(c *Config) *bool { return &c.Default.Debug }),
		"log_file":                      strOpt(func(c *Config) *string { return &c.Default.LogFile }),
		"logfile":                       {alias: "DEFAULT.log_file"},
		"log_dir":                       strOpt(func(c *Config) *string { return &c.Default.LogDir }),
		"logdir":                        {alias: "DEFAULT.log_dir"},
		"use_stderr":                    boolOpt(func(c *Config) *bool { return &c.Default.UseStderr }),
		"use_json":                      boolOpt(func(c *Config) *bool { return &c.Default.UseJSON }),
		"use_syslog":                    boolOpt(func(c *Config) *bool { return &c.Default.UseSyslog }),
		"use_journal":                   boolOpt(func(c *Config) *bool { return &c.Default.UseJournal }),
		"syslog_log_facility":           strOpt(func(c *Config) *string { return &c.Default.SyslogLogFacility }),
		"log_config_append":             strOpt(func(c *Config) *string { return &c.Default.LogConfigAppend }),
		"log_config":                    {alias: "DEFAULT.log_config_append"},
		"logging_context_format_string": strOpt(func(c *Config) *string { return &c.Default.ContextFormat }),
		"logging_default_format_string": strOpt(func(c *Config) *string { return &c.Default.DefaultFormat }),
		"logging_debug_format_suffix":   strOpt(func(c *Config) *string { return &c.Default.DebugFormatSuffix }),
		"logging_user_identity_format":  strOpt(func(c *Config) *string { return &c.Default.UserIdentityFormat }),
		"log_date_format":               strOpt(func(c *Config) *string { return &c.Default.LogDateFormat }),
		"logging_exception_prefix":      strOpt(func(c *Config) *string { return &c.Default.ExceptionPrefix }),
		"auth_strategy":                 {alias: "api.auth_strategy"},
	},
		// placement's own DEFAULT options without effect here.
		"log_options", "tempdir", "pybasedir", "state_path",
		// oslo.log.
		"watch_log_file",
		"use_eventlog", "log_color", "log_rotate_interval", "log_rotate_interval_type",
		"max_logfile_count", "max_logfile_size_mb", "log_rotation_type",
		"default_log_levels", "publish_errors",
		"instance_format", "instance_uuid_format", "rate_limit_interval",
		"rate_limit_burst", "rate_limit_except_level", "fatal_deprecations", "verbose",
		// oslo.messaging, present in files shared with other services.
		"transport_url", "control_exchange", "rpc_response_timeout",
		"executor_thread_pool_size",
	)},
	"api": {options: map[string]option{
		"auth_strategy": enumOpt(func(c *Config) *string { return &c.API.AuthStrategy }, "keystone", "noauth2"),
	}},
	"placement_database": {options: with(map[string]option{
		"connection":              strOpt(func(c *Config) *string { return &c.Database.Connection }),
		"connection_parameters":   strOpt(func(c *Config) *string { return &c.Database.ConnectionParameters }),
		"sync_on_startup":         boolOpt(func(c *Config) *bool { return &c.Database.SyncOnStartup }),
		"max_pool_size":           intOpt(func(c *Config) *int { return &c.Database.MaxPoolSize }),
		"max_overflow":            intOpt(func(c *Config) *int { return &c.Database.MaxOverflow }),
		"pool_timeout":            intOpt(func(c *Config) *int { return &c.Database.PoolTimeout }),
		"connection_recycle_time": intOpt(func(c *Config) *int { return &c.Database.ConnectionRecycleTime }),
		"max_retries":             intOpt(func(c *Config) *int { return &c.Database.MaxRetries }),
		"retry_interval":          intOpt(func(c *Config) *int { return &c.Database.RetryInterval }),
	},
		// SQLAlchemy/oslo.db tuning and other engines.
		"slave_connection", "connection_debug", "connection_trace",
		"mysql_sql_mode", "sqlite_synchronous",
	)},
	"placement": {options: map[string]option{
		"randomize_allocation_candidates":           boolOpt(func(c *Config) *bool { return &c.Placement.RandomizeAllocationCandidates }),
		"max_allocation_candidates":                 intOpt(func(c *Config) *int { return &c.Placement.MaxAllocationCandidates }),
		"allocation_candidates_generation_strategy": enumOpt(func(c *Config) *string { return &c.Placement.AllocationCandidatesGenerationStrategy }, "depth-first", "breadth-first"),
		"allocation_conflict_retry_count":           intOpt(func(c *Config) *int { return &c.Placement.AllocationConflictRetryCount }),
		"incomplete_consumer_project_id":            strOpt(func(c *Config) *string { return &c.Placement.IncompleteConsumerProjectID }),
		"incomplete_consumer_user_id":               strOpt(func(c *Config) *string { return &c.Placement.IncompleteConsumerUserID }),
		"candidate_cache":                           boolOpt(func(c *Config) *bool { return &c.Placement.CandidateCache }),
		"allocation_candidates_memory_limit_mb":     intOpt(func(c *Config) *int { return &c.Placement.AllocationCandidatesMemoryLimitMB }),
		"allocation_candidates_timeout":             intOpt(func(c *Config) *int { return &c.Placement.AllocationCandidatesTimeout }),
	}},
	"workarounds": {options: map[string]option{
		"optimize_for_wide_provider_trees": boolOpt(func(c *Config) *bool { return &c.Workarounds.OptimizeForWideProviderTrees }),
	}},
	"cors": {options: map[string]option{
		"allowed_origin":    listOpt(func(c *Config) *[]string { return &c.CORS.AllowedOrigin }),
		"allow_credentials": boolOpt(func(c *Config) *bool { return &c.CORS.AllowCredentials }),
		"expose_headers":    listOpt(func(c *Config) *[]string { return &c.CORS.ExposeHeaders }),
		"max_age":           intOpt(func(c *Config) *int { return &c.CORS.MaxAge }),
		"allow_methods":     listOpt(func(c *Config) *[]string { return &c.CORS.AllowMethods }),
		"allow_headers":     listOpt(func(c *Config) *[]string { return &c.CORS.AllowHeaders }),
	}},
	"oslo_policy": {options: with(map[string]option{
		"policy_file":          strOpt(func(c *Config) *string { return &c.Policy.PolicyFile }),
		"policy_dirs":          multiListOpt(func(c *Config) *[]string { return &c.Policy.PolicyDirs }),
		"policy_default_rule":  strOpt(func(c *Config) *string { return &c.Policy.PolicyDefaultRule }),
		"enforce_scope":        boolOpt(func(c *Config) *bool { return &c.Policy.EnforceScope }),
		"enforce_new_defaults": boolOpt(func(c *Config) *bool { return &c.Policy.EnforceNewDefaults }),
	},
		"remote_content_type", "remote_ssl_verify_server_crt", "remote_ssl_ca_crt_file",
		"remote_ssl_client_crt_file", "remote_ssl_client_key_file", "remote_timeout",
	)},
	"oslo_middleware": {options: with(map[string]option{
		"enable_proxy_headers_parsing": boolOpt(func(c *Config) *bool { return &c.Middleware.EnableProxyHeadersParsing }),
	},
		"max_request_body_size", "secure_proxy_ssl_header", "http_basic_auth_user_file",
	)},
	"keystone_authtoken": {collect: func(c *Config) map[string]string { return c.KeystoneAuthtoken }},
	"healthcheck": {options: with(map[string]option{
		"disable_by_file_path": strOpt(func(c *Config) *string { return &c.Healthcheck.DisableByFilePath }),
	},
		// oslo.middleware's other healthcheck options: this service's
		// /healthcheck pings the database, and honours the file above.
		"backends", "detailed", "path", "disable_by_file_paths", "allowed_source_ranges",
		"ignore_proxied_requests", "enable_by_files_ports",
	)},

	// Sections of other libraries that shared or generated files carry.
	"profiler":                       {silent: true},
	"oslo_concurrency":               {silent: true},
	"oslo_reports":                   {silent: true},
	"audit_middleware_notifications": {silent: true},
}

// silentGroupPrefixes names families of foreign sections, such as
// [oslo_messaging_rabbit] and [oslo_messaging_notifications].
var silentGroupPrefixes = []string{"oslo_messaging_"}

func lookupGroup(name string) (group, bool) {
	if g, ok := groups[name]; ok {
		return g, true
	}
	for _, p := range silentGroupPrefixes {
		if strings.HasPrefix(name, p) {
			return group{silent: true}, true
		}
	}
	return group{}, false
}

// with adds options that are accepted and ignored.
func with(m map[string]option, ignored ...string) map[string]option {
	for _, name := range ignored {
		m[name] = option{}
	}
	return m
}

func last(vals []string) string { return vals[len(vals)-1] }

func strOpt(field func(*Config) *string) option {
	return option{kind: "string", get: func(c *Config) string { return *field(c) }, set: func(c *Config, vals []string) error {
		*field(c) = last(vals)
		return nil
	}}
}

func enumOpt(field func(*Config) *string, choices ...string) option {
	return option{kind: "one of " + strings.Join(choices, ", "), get: func(c *Config) string { return *field(c) }, set: func(c *Config, vals []string) error {
		v := strings.TrimSpace(last(vals))
		for _, ch := range choices {
			if v == ch {
				*field(c) = v
				return nil
			}
		}
		return fmt.Errorf("invalid value %q (valid: %s)", v, strings.Join(choices, ", "))
	}}
}

func boolOpt(field func(*Config) *bool) option {
	return option{kind: "boolean", get: func(c *Config) string { return strconv.FormatBool(*field(c)) }, set: func(c *Config, vals []string) error {
		b, err := parseBool(last(vals))
		if err != nil {
			return err
		}
		*field(c) = b
		return nil
	}}
}

// parseBool accepts oslo.config's boolean spellings.
func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "on", "1":
		return true, nil
	case "false", "no", "off", "0":
		return false, nil
	}
	return false, fmt.Errorf("invalid boolean %q", s)
}

func intOpt(field func(*Config) *int) option {
	return option{kind: "integer", get: func(c *Config) string { return strconv.Itoa(*field(c)) }, set: func(c *Config, vals []string) error {
		s := strings.TrimSpace(last(vals))
		if s == "" {
			// oslo.config reads an empty integer as unset.
			return nil
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("invalid integer %q", s)
		}
		*field(c) = n
		return nil
	}}
}

func listOpt(field func(*Config) *[]string) option {
	return option{kind: "list", get: func(c *Config) string { return strings.Join(*field(c), ",") }, set: func(c *Config, vals []string) error {
		*field(c) = SplitList(last(vals))
		return nil
	}}
}

func multiListOpt(field func(*Config) *[]string) option {
	return option{kind: "list, repeatable", get: func(c *Config) string { return strings.Join(*field(c), ",") }, multi: true, set: func(c *Config, vals []string) error {
		var out []string
		for _, v := range vals {
			out = append(out, SplitList(v)...)
		}
		*field(c) = out
		return nil
	}}
}

// SplitList reads a list option as oslo.config does: it splits a
// comma-separated list, trimming entries and dropping empty ones.
func SplitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
