package policy

import (
	"github.com/openstack-placement-go/placement/internal/auth"
	"github.com/openstack-placement-go/placement/internal/placement"
)

// Enforcer checks a rule for an identity against a target.
type Enforcer interface {
	// Enforce returns nil when allowed and a Forbidden *placement.Error otherwise.
	Enforce(rule string, id auth.Identity, target map[string]string) error
}

// The rule names whose defaults differ from admin_or_service_api.
const (
	RuleUsages   = "placement:usages"
	RuleReshaper = "placement:reshaper:reshape"
	// RuleDiagnostics guards GET /diagnostics/allocation_candidates, an
	// extension upstream does not have: admin only.
	RuleDiagnostics = "placement:diagnostics:allocation_candidates"
)

// Denied is the 403 error for rule.
func Denied(rule string) error {
	return placement.E(placement.Forbidden, "Policy does not allow %s to be performed.", rule)
}
