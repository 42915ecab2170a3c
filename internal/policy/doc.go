// Package policy decides whether an identity may perform a Placement
// operation, the way oslo.policy does for the Python service.
//
// Every route names its rule (the upstream policy name, spec 01 §10.3) and
// the API calls Enforcer.Enforce before touching data. Engine is the
// implementation: the registered defaults (upstream master's, or Zed's),
// operator overrides from [oslo_policy] policy_file and policy_dirs, and the
// enforce_new_defaults / enforce_scope switches.
//
// # Grammar
//
// A check string is oslo.policy's policy language:
//
//	expr   = or
//	or     = and { "or" and }
//	and    = not { "and" not }
//	not    = "not" not | atom
//	atom   = "(" or ")" | check
//	check  = "@" | "!" | kind ":" match
//
// Tokens are separated by white space; parentheses may stick to a check
// ("(role:admin" is "(" and "role:admin"). "and", "or" and "not" are case
// insensitive. An empty check string always allows.
//
// Checks:
//
//	@                  always allow
//	!                  always deny
//	rule:NAME          the result of rule NAME (deny if NAME is not defined)
//	role:NAME          the caller has role NAME, compared case-insensitively
//	KEY:VALUE          credential KEY equals VALUE, e.g. project_id:%(project_id)s,
//	                   user_id:%(user_id)s, system_scope:all, is_admin_project:True;
//	                   a list credential (roles, service_roles) matches when
//	                   any member equals VALUE
//	'LITERAL':VALUE    the literal (quoted string, True, False, None, a number)
//	                   equals VALUE, e.g. 'member':%(role)s
//
// In a match, %(name)s is replaced by the target's value for name and %% by
// a percent sign; a name the target lacks makes the check deny. Comparisons
// are of strings, as oslo.policy compares str() values. Unlike oslo.policy,
// an empty credential (a system-scoped token has no project) never matches,
// so "project_id:%(project_id)s" cannot be satisfied by two absent values.
//
// oslo.policy logs and denies a check string it cannot parse; here an
// unparsable string, an "http:"/"https:" external check, a cycle of rule:
// references or a reference to an undefined rule is an error when the
// policy is loaded, so a typo in policy.yaml stops the service at start-up
// instead of silently locking everyone out (or in).
package policy
