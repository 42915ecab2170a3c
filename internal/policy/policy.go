// Package policy decides whether an identity may perform a Placement
// operation. Every route names its rule (the upstream policy name); the
// Enforcer interface is what the API calls. This first Enforcer applies
// upstream master's default rules in Go; the oslo.policy rule engine and
// policy files come with issue 6 behind the same interface.
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
)

// Defaults applies master's default rules: admin or service for every API,
// service only for the reshaper, and additionally project readers for
// GET /usages of their own project. When NewDefaultsOnly is false the
// deprecated legacy rule (role:admin) is also accepted everywhere, which is
// what the reference server effectively does.
type Defaults struct {
	NewDefaultsOnly bool
}

// Enforce implements Enforcer.
func (d Defaults) Enforce(rule string, id auth.Identity, target map[string]string) error {
	if d.allowed(rule, id, target) {
		return nil
	}
	return Denied(rule)
}

func (d Defaults) allowed(rule string, id auth.Identity, target map[string]string) bool {
	if !d.NewDefaultsOnly && id.HasRole("admin") {
		return true
	}
	switch rule {
	case RuleReshaper:
		return id.HasRole("service")
	case RuleUsages:
		if id.HasRole("reader") && id.ProjectID != "" && id.ProjectID == target["project_id"] {
			return true
		}
	}
	return id.HasRole("admin") || id.HasRole("service")
}

// Denied is the 403 error for rule.
func Denied(rule string) error {
	return placement.E(placement.Forbidden, "Policy does not allow %s to be performed.", rule)
}
