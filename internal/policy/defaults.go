package policy

// Scope types of oslo.policy.
const (
	ScopeSystem  = "system"
	ScopeDomain  = "domain"
	ScopeProject = "project"
)

// RuleDefault is a registered rule: its default check string, the
// deprecated check string honoured while enforce_new_defaults is false, and
// the token scopes the operation is meant for (empty: any).
type RuleDefault struct {
	Name        string
	Check       string
	Deprecated  string // "" when the rule has no deprecated default
	Scopes      []string
	Description string
	Operations  string // "METHOD /path" list, for documentation
}

// Legacy is the pre-Wallaby default of every per-API rule (spec 01 §10.3).
const Legacy = "rule:admin_api"

// Rule set names for Options.Defaults.
const (
	SetMaster = "master"
	SetZed    = "zed"
)

// MasterDefaults returns upstream master's (2023.1 and later) rules: admin
// or service for everything, service only for the reshaper, and project
// readers for GET /usages of their own project; every operation is
// project-scoped. The base rules fall back to role:admin while deprecated
// rules are honoured.
func MasterDefaults() []RuleDefault {
	project := []string{ScopeProject}
	rules := []RuleDefault{
		{Name: "admin_api", Check: "role:admin", Scopes: project, Description: "Default rule for most placement APIs."},
		{Name: "service_api", Check: "role:service", Deprecated: "role:admin", Scopes: project, Description: "Default rule for service-to-service placement APIs."},
		{Name: "admin_or_service_api", Check: "role:admin or role:service", Deprecated: "role:admin", Scopes: project, Description: "Default rule for most placement APIs."},
		{Name: "project_reader_api", Check: "role:reader and project_id:%(project_id)s", Deprecated: "role:admin", Scopes: project, Description: "Default rule for Project level reader APIs."},
		{Name: "admin_or_project_reader_or_service_api", Check: "role:admin or rule:project_reader_api or role:service", Deprecated: "role:admin", Scopes: project, Description: "Default rule for project level reader APIs."},
	}
	for _, a := range apis {
		check := "rule:admin_or_service_api"
		switch a.kind {
		case 'u':
			check = "rule:admin_or_project_reader_or_service_api"
		case 's':
			check = "rule:service_api"
		case 'a':
			check = "rule:admin_api"
		}
		rules = append(rules, RuleDefault{Name: a.name, Check: check, Scopes: project, Operations: a.operations})
	}
	return rules
}

// ZedDefaults returns the rules of the reference server (placement 8.0.0,
// Wallaby–Zed): system-scoped readers and admins, project readers for
// GET /usages, and role:admin as the deprecated fallback of the base rules.
func ZedDefaults() []RuleDefault {
	system := []string{ScopeSystem}
	rules := []RuleDefault{
		{Name: "admin_api", Check: "role:admin", Scopes: system, Description: "Default rule for most placement APIs."},
		{Name: "system_admin_api", Check: "role:admin and system_scope:all", Deprecated: "role:admin", Description: "Default rule for System Admin APIs."},
		{Name: "system_reader_api", Check: "role:reader and system_scope:all", Deprecated: "role:admin", Description: "Default rule for System level read only APIs."},
		{Name: "project_reader_api", Check: "role:reader and project_id:%(project_id)s", Deprecated: "role:admin", Description: "Default rule for Project level read only APIs."},
		{Name: "system_or_project_reader", Check: "rule:system_reader_api or rule:project_reader_api", Deprecated: "role:admin", Description: "Default rule for System+Project read only APIs."},
	}
	for _, a := range apis {
		check, scopes := "rule:system_reader_api", system
		switch a.kind {
		case 'u':
			check, scopes = "rule:system_or_project_reader", []string{ScopeSystem, ScopeProject}
		case 'w', 's', 'a':
			check = "rule:system_admin_api"
		}
		rules = append(rules, RuleDefault{Name: a.name, Check: check, Scopes: scopes, Operations: a.operations})
	}
	return rules
}

// apis are the 33 per-API policies of upstream plus ours. kind: 'r' read,
// 'w' write, 'u' the project-readable GET /usages, 's' the service-only
// reshaper, 'a' admin only (our diagnostics extension).
var apis = []struct {
	name, operations string
	kind             byte
}{
	{"placement:resource_providers:list", "GET /resource_providers", 'r'},
	{"placement:resource_providers:create", "POST /resource_providers", 'w'},
	{"placement:resource_providers:show", "GET /resource_providers/{uuid}", 'r'},
	{"placement:resource_providers:update", "PUT /resource_providers/{uuid}", 'w'},
	{"placement:resource_providers:delete", "DELETE /resource_providers/{uuid}", 'w'},
	{"placement:resource_classes:list", "GET /resource_classes", 'r'},
	{"placement:resource_classes:create", "POST /resource_classes", 'w'},
	{"placement:resource_classes:show", "GET /resource_classes/{name}", 'r'},
	{"placement:resource_classes:update", "PUT /resource_classes/{name}", 'w'},
	{"placement:resource_classes:delete", "DELETE /resource_classes/{name}", 'w'},
	{"placement:resource_providers:inventories:list", "GET /resource_providers/{uuid}/inventories", 'r'},
	{"placement:resource_providers:inventories:create", "POST /resource_providers/{uuid}/inventories", 'w'},
	{"placement:resource_providers:inventories:show", "GET /resource_providers/{uuid}/inventories/{resource_class}", 'r'},
	{"placement:resource_providers:inventories:update", "PUT /resource_providers/{uuid}/inventories, PUT /resource_providers/{uuid}/inventories/{resource_class}", 'w'},
	{"placement:resource_providers:inventories:delete", "DELETE /resource_providers/{uuid}/inventories, DELETE /resource_providers/{uuid}/inventories/{resource_class}", 'w'},
	{"placement:resource_providers:aggregates:list", "GET /resource_providers/{uuid}/aggregates", 'r'},
	{"placement:resource_providers:aggregates:update", "PUT /resource_providers/{uuid}/aggregates", 'w'},
	{"placement:resource_providers:usages", "GET /resource_providers/{uuid}/usages", 'r'},
	{"placement:usages", "GET /usages", 'u'},
	{"placement:traits:list", "GET /traits", 'r'},
	{"placement:traits:show", "GET /traits/{name}", 'r'},
	{"placement:traits:update", "PUT /traits/{name}", 'w'},
	{"placement:traits:delete", "DELETE /traits/{name}", 'w'},
	{"placement:resource_providers:traits:list", "GET /resource_providers/{uuid}/traits", 'r'},
	{"placement:resource_providers:traits:update", "PUT /resource_providers/{uuid}/traits", 'w'},
	{"placement:resource_providers:traits:delete", "DELETE /resource_providers/{uuid}/traits", 'w'},
	{"placement:allocations:manage", "POST /allocations", 'w'},
	{"placement:allocations:list", "GET /allocations/{consumer_uuid}", 'r'},
	{"placement:allocations:update", "PUT /allocations/{consumer_uuid}", 'w'},
	{"placement:allocations:delete", "DELETE /allocations/{consumer_uuid}", 'w'},
	{"placement:resource_providers:allocations:list", "GET /resource_providers/{uuid}/allocations", 'r'},
	{"placement:allocation_candidates:list", "GET /allocation_candidates", 'r'},
	{"placement:reshaper:reshape", "POST /reshaper", 's'},
	{"placement:diagnostics:allocation_candidates", "GET /diagnostics/allocation_candidates", 'a'},
}
