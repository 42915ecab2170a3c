package config

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// optionDoc documents one option on docs/configuration.md.
type optionDoc struct {
	help string
	// def, when set, is shown instead of the value in Defaults(), for
	// options whose zero value means "unset".
	def string
}

// optionDocs documents every option this service acts on, keyed
// "group.option". TestOptionDocs fails when an option has no entry here, so
// the generated page covers the option table.
var optionDocs = map[string]optionDoc{
	"DEFAULT.debug":      {help: "Log at DEBUG instead of INFO."},
	"DEFAULT.log_file":   {help: "Log to this file (inside log_dir when relative) instead of stderr. SIGHUP reopens it."},
	"DEFAULT.log_dir":    {help: "Directory of log_file; alone, logs go to `<log_dir>/placement-api.log`."},
	"DEFAULT.use_stderr": {help: "With a log file, also log to stderr."},
	"DEFAULT.use_json":   {help: "One JSON object per log line, as oslo.log's JSONFormatter writes them, instead of text lines."},
	"DEFAULT.logging_context_format_string": {help: "oslo.log's format of a text line logged during a request (Python `%(name)s` conversions: asctime, msecs, process, levelname, name, global_request_id, request_id, user_identity, instance, message, funcName, pathname, lineno, …). Attributes without a field follow the message as key=value.",
		def: "`%(asctime)s.%(msecs)03d %(process)d %(levelname)s %(name)s [%(global_request_id)s %(request_id)s %(user_identity)s] %(instance)s%(message)s`"},
	"DEFAULT.logging_default_format_string": {help: "oslo.log's format of the other text lines.", def: "`%(asctime)s.%(msecs)03d %(process)d %(levelname)s %(name)s [-] %(instance)s%(message)s`"},
	"DEFAULT.logging_debug_format_suffix":   {help: "Appended to DEBUG text lines.", def: "`%(funcName)s %(pathname)s:%(lineno)d`"},
	"DEFAULT.logging_user_identity_format":  {help: "The `%(user_identity)s` field (user, project, domain, system_scope, user_domain, project_domain; `-` when unknown).", def: "`%(user)s %(project)s %(domain)s %(system_scope)s %(user_domain)s %(project_domain)s`"},
	"DEFAULT.logging_exception_prefix":      {help: "Starts each line of a stack trace logged after an error (a recovered panic's).", def: "`%(asctime)s.%(msecs)03d %(process)d ERROR %(name)s %(instance)s`"},
	"DEFAULT.log_date_format":               {help: "strftime format of `%(asctime)s`, in local time.", def: "`%Y-%m-%d %H:%M:%S`"},
	"DEFAULT.use_syslog":                    {help: "Also log to the local syslog daemon (`/dev/log`), as the C library's syslog() writes, identified as the program; without a daemon, a warning at start."},
	"DEFAULT.use_journal":                   {help: "Log to systemd's journal in its native protocol, with `PRIORITY`, `CODE_FILE`, `REQUEST_ID`, … (as oslo.log); stderr is then left out unless use_stderr or no journal is reachable."},
	"DEFAULT.syslog_log_facility":           {help: "The facility of use_syslog and use_journal: `LOG_USER`, `LOG_DAEMON`, `LOG_LOCAL0` … `LOG_LOCAL7`, … (the `LOG_` prefix may be left out)."},
	"DEFAULT.log_config_append":             {help: "Not supported (a Python logging configuration file): when set, a warning at start; logging follows the options above."},

	"api.auth_strategy": {help: "`keystone` validates X-Auth-Token against Keystone (`[keystone_authtoken]`); `noauth2` accepts any token and is for development only."},

	"placement_database.connection":              {help: "Required. The database URL; SQLAlchemy-style URLs (`postgresql+psycopg2://`) are accepted, only PostgreSQL is supported. The password is never logged."},
	"placement_database.connection_parameters":   {help: "Query parameters appended to the connection URL (e.g. `sslmode=require`). libpq's parameters work as they do for the Python service (`keepalives_idle`, `tcp_user_timeout`, `hostaddr`, …; docs/deployment.md); any other name is sent to the server as a session setting."},
	"placement_database.sync_on_startup":         {help: "Run the schema migrations at start-up (serialised across processes). With false, placement-api refuses to start on a schema that is empty or behind."},
	"placement_database.max_pool_size":           {help: "Size of a process's connection pool; max_overflow adds to it. The defaults allow the 15 connections per process the Python service opens at most when neither option is set."},
	"placement_database.max_overflow":            {help: "Connections a process may open beyond max_pool_size under load (-1: up to 100)."},
	"placement_database.pool_timeout":            {help: "Seconds a request waits for a free pooled connection before it is answered 503.", def: "30 (when unset)"},
	"placement_database.connection_recycle_time": {help: "Seconds after which a pooled connection is replaced."},
	"placement_database.max_retries":             {help: "Connection attempts at start-up (-1: forever)."},
	"placement_database.retry_interval":          {help: "Seconds between connection attempts at start-up."},

	"placement.randomize_allocation_candidates":           {help: "Sample at random when `limit` truncates allocation candidates."},
	"placement.max_allocation_candidates":                 {help: "Cap on generated allocation candidates, applied while generating (-1: no cap; 0 keeps one, like upstream master)."},
	"placement.allocation_candidates_generation_strategy": {help: "Order of candidate generation across hosts, which decides what the cap and limit keep: every candidate of one host before the next (`depth-first`), or one from each host in turn (`breadth-first`)."},
	"placement.allocation_conflict_retry_count":           {help: "Server-side retries of an allocation write on a provider generation conflict, and of any write PostgreSQL aborted for a deadlock or a serialization failure."},
	"placement.incomplete_consumer_project_id":            {help: "Project recorded for allocations written below microversion 1.8."},
	"placement.incomplete_consumer_user_id":               {help: "User recorded for allocations written below microversion 1.8."},
	"placement.candidate_cache":                           {help: "(Not in upstream.) Serve allocation candidates from an in-process cache kept exact by the change-capture triggers that db sync installs."},
	"placement.allocation_candidates_memory_limit_mb":     {help: "(Not in upstream.) MiB one GET /allocation_candidates may hold while generating (streamed candidates are not held); over it the request fails with a 400 (0: no limit)."},
	"placement.allocation_candidates_timeout":             {help: "(Not in upstream.) Seconds one GET /allocation_candidates may take; past it the request fails with a 503 (0: no limit)."},

	"workarounds.optimize_for_wide_provider_trees": {help: "Accepted, without effect: candidate generation always prunes as this option does upstream."},

	"healthcheck.disable_by_file_path": {help: "While this file exists, `GET /healthcheck` answers 503 `DISABLED BY FILE`, so that a load balancer takes the process out of rotation before maintenance (oslo.middleware's disable_by_file backend)."},

	"cors.allowed_origin":    {help: "Origins allowed cross-origin requests (`*`: any); CORS is off while it is empty."},
	"cors.allow_credentials": {help: "Allow credentials in cross-origin requests."},
	"cors.expose_headers":    {help: "Response headers exposed to the browser."},
	"cors.max_age":           {help: "Seconds a browser may cache a preflight answer."},
	"cors.allow_methods":     {help: "Methods allowed in cross-origin requests."},
	"cors.allow_headers":     {help: "Request headers allowed in cross-origin requests."},

	"oslo_policy.policy_file":          {help: "Operator overrides of the policy rules (relative: next to the config files). Re-read within a second of a change."},
	"oslo_policy.policy_dirs":          {help: "Directories whose files are applied after policy_file, in sorted order."},
	"oslo_policy.policy_default_rule":  {help: "Rule used for a check that has no rule of its own."},
	"oslo_policy.enforce_scope":        {help: "Refuse with 403 a token whose scope is not among the rule's scope types (deprecated upstream; false is honoured with a warning)."},
	"oslo_policy.enforce_new_defaults": {help: "Only the new default rules apply; false also accepts the deprecated role:admin fallback (the 8.0.0 behaviour)."},

	"oslo_middleware.enable_proxy_headers_parsing": {help: "Honour X-Forwarded-Proto / Forwarded for absolute Location URLs; enable only behind a proxy that sets them."},
}

// groupOrder is the order of the groups on the page.
var groupOrder = []string{
	"DEFAULT", "api", "placement_database", "placement", "workarounds",
	"keystone_authtoken", "oslo_policy", "cors", "oslo_middleware", "healthcheck",
}

// Reference returns the generated part of docs/configuration.md: every
// group and option of the option table, with type, default and meaning.
func Reference() string {
	defaults := Defaults()
	var b strings.Builder
	for _, name := range groupOrder {
		g := groups[name]
		fmt.Fprintf(&b, "### [%s]\n\n", name)
		if g.collect != nil {
			b.WriteString("Used with `[api] auth_strategy = keystone`. Every option of this group is\n" +
				"passed on as it is to the Keystone authenticator (`internal/auth`);\n" +
				"[api-ref/samples/placement.conf](../api-ref/samples/placement.conf) lists the\n" +
				"ones it reads. Options of keystonemiddleware it does not read (memcached,\n" +
				"service_type, ...) are accepted and ignored.\n\n")
			continue
		}
		var acted, ignored, aliases []string
		for _, opt := range slices.Sorted(maps.Keys(g.options)) {
			o := g.options[opt]
			switch {
			case o.alias != "":
				group, target, _ := strings.Cut(o.alias, ".")
				if group != name {
					target = "[" + group + "] " + target
				}
				aliases = append(aliases, fmt.Sprintf("`%s` (for `%s`)", opt, target))
			case o.set == nil:
				ignored = append(ignored, "`"+opt+"`")
			default:
				acted = append(acted, opt)
			}
		}
		if len(acted) > 0 {
			b.WriteString("| Option | Type | Default | Meaning |\n|---|---|---|---|\n")
			for _, opt := range acted {
				o, doc := g.options[opt], optionDocs[name+"."+opt]
				def := doc.def
				if def == "" {
					def = "`" + o.get(defaults) + "`"
					if def == "``" {
						def = "(empty)"
					}
				}
				fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", opt, o.kind, def, doc.help)
			}
			b.WriteString("\n")
		}
		if len(aliases) > 0 {
			fmt.Fprintf(&b, "Deprecated names: %s.\n\n", strings.Join(aliases, ", "))
		}
		if len(ignored) > 0 {
			fmt.Fprintf(&b, "Accepted and ignored: %s.\n\n", strings.Join(ignored, ", "))
		}
	}
	var silent []string
	for _, name := range slices.Sorted(maps.Keys(groups)) {
		if groups[name].silent {
			silent = append(silent, "`["+name+"]`")
		}
	}
	for _, p := range silentGroupPrefixes {
		silent = append(silent, "`["+p+"*]`")
	}
	fmt.Fprintf(&b, "### Other sections\n\nAccepted and ignored without a warning: %s.\n", strings.Join(silent, ", "))
	return b.String()
}
