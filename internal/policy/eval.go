package policy

import (
	"strings"

	"github.com/openstack-placement-go/placement/internal/auth"
)

// evaluation is one Enforce call: the rule set, the caller's credentials and
// the target.
type evaluation struct {
	rules  map[string]check
	creds  map[string][]string // every credential as a list of strings
	target map[string]string
	depth  int
}

// maxDepth bounds rule: recursion; cycles are refused at load time, so this
// only guards against a bug.
const maxDepth = 64

func (trueCheck) eval(*evaluation) bool    { return true }
func (falseCheck) eval(*evaluation) bool   { return false }
func (c notCheck) eval(e *evaluation) bool { return !c.c.eval(e) }

func (c andCheck) eval(e *evaluation) bool {
	for _, x := range c.cs {
		if !x.eval(e) {
			return false
		}
	}
	return true
}

func (c orCheck) eval(e *evaluation) bool {
	for _, x := range c.cs {
		if x.eval(e) {
			return true
		}
	}
	return false
}

func (c ruleCheck) eval(e *evaluation) bool {
	r, ok := e.rules[c.name]
	if !ok || e.depth >= maxDepth {
		return false
	}
	e.depth++
	defer func() { e.depth-- }()
	return r.eval(e)
}

func (c roleCheck) eval(e *evaluation) bool {
	want, ok := c.match.expand(e.target)
	if !ok {
		return false
	}
	for _, r := range e.creds["roles"] {
		if strings.EqualFold(r, want) {
			return true
		}
	}
	return false
}

func (c genericCheck) eval(e *evaluation) bool {
	want, ok := c.match.expand(e.target)
	if !ok {
		return false
	}
	if c.literal != nil {
		return *c.literal == want
	}
	for _, v := range e.creds[c.kind] {
		if v != "" && v == want {
			return true
		}
	}
	return false
}

// credentials turns an identity into the values oslo.context's
// to_policy_values() offers to checks. Booleans read "True"/"False" as
// Python's str() writes them.
func credentials(id auth.Identity) map[string][]string {
	one := func(s string) []string {
		if s == "" {
			return nil
		}
		return []string{s}
	}
	c := map[string][]string{
		"user_id":                   one(id.UserID),
		"user_domain_id":            one(id.UserDomainID),
		"project_id":                one(id.ProjectID),
		"project_domain_id":         one(id.ProjectDomainID),
		"domain_id":                 one(id.DomainID),
		"system_scope":              one(id.SystemScope),
		"system":                    one(id.SystemScope),
		"roles":                     id.Roles,
		"is_admin_project":          {pyBool(!id.NotAdminProject)},
		"service_user_id":           one(id.ServiceUserID),
		"service_user_domain_id":    one(id.ServiceUserDomainID),
		"service_project_id":        one(id.ServiceProjectID),
		"service_project_domain_id": one(id.ServiceProjectDomainID),
		"service_roles":             id.ServiceRoles,
	}
	return c
}

func pyBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// tokenScope is the scope oslo.policy assigns to a token for scope_types.
func tokenScope(id auth.Identity) string {
	switch {
	case id.SystemScope != "":
		return ScopeSystem
	case id.DomainID != "":
		return ScopeDomain
	}
	return ScopeProject
}
