package provider

import (
	"net/url"
	"strings"

	"github.com/openstack-placement-go/placement/internal/microversion"
	"github.com/openstack-placement-go/placement/internal/placement"
	"github.com/openstack-placement-go/placement/internal/pycompat"
	"github.com/openstack-placement-go/placement/internal/schema"
	"github.com/openstack-placement-go/placement/internal/store"
	"github.com/openstack-placement-go/placement/internal/web"
)

// listSchema returns the query schema of GET /resource_providers at v
// (spec 02 Appendix A): parameters appear at 1.3, 1.4, 1.14 and 1.18.
func listSchema(v microversion.Version) *schema.Schema {
	return microversion.Pick(v, microversion.At(0, listQuery10), microversion.At(3, listQuery13),
		microversion.At(4, listQuery14), microversion.At(14, listQuery114), microversion.At(18, listQuery118))
}

func listQuerySchema(name string, extra string) *schema.Schema {
	return schema.MustCompile(name, `{
		"type": "object",
		"properties": {
			"name": {"type": "string"},
			"uuid": {"type": "string", "format": "uuid"}`+extra+`
		},
		"additionalProperties": false
	}`)
}

const (
	propMemberOf  = `, "member_of": {"type": "string"}`
	propResources = `, "resources": {"type": "string"}`
	propInTree    = `, "in_tree": {"type": "string", "format": "uuid"}`
	propRequired  = `, "required": {"type": "string"}`
)

var (
	listQuery10  = listQuerySchema("providers_query_1.0", "")
	listQuery13  = listQuerySchema("providers_query_1.3", propMemberOf)
	listQuery14  = listQuerySchema("providers_query_1.4", propMemberOf+propResources)
	listQuery114 = listQuerySchema("providers_query_1.14", propMemberOf+propResources+propInTree)
	listQuery118 = listQuerySchema("providers_query_1.18", propMemberOf+propResources+propInTree+propRequired)
)

// Messages of the list filters (spec 02 §§2.4–2.7).
const (
	msgMultipleMemberOf  = "Multiple member_of parameters are not supported"
	msgMemberOfPrefix    = "Multiple values for 'member_of' must be prefixed with the 'in:' or '!in:' keyword using the valid microversion. Got: %s"
	msgMemberOfUUID      = "Invalid query string parameters: Expected 'member_of' parameter to contain valid UUID(s). Got: %s"
	msgForbiddenMemberOf = "Forbidden member_of parameters are not supported in the specified microversion"

	msgAnyOfVersion   = "Invalid query string parameters: The format 'in:HW_CPU_X86_VMX,CUSTOM_MAGIC' only supported since microversion 1.39. Got: %s"
	msgAnyOfEmpty     = "Invalid query string parameters: Expected 'required' parameter value of the form: in:HW_CPU_X86_VMX,CUSTOM_MAGIC. Got an empty trait in: %s"
	msgAnyOfForbidden = "Invalid query string parameters: The format 'in:HW_CPU_X86_VMX,CUSTOM_MAGIC' does not support forbidden traits. Got: %s"
	msgRequiredEmpty  = "Invalid query string parameters: Expected 'required' parameter value of the form: %s. Got an empty trait in: %s"
	msgRequiredForm   = "Invalid query string parameters: Expected 'required' parameter value of the form: HW_CPU_X86_VMX,CUSTOM_MAGIC. Got: %s"
)

func invalid(format string, args ...any) error {
	return placement.E(placement.Invalid, format, args...)
}

// parseFilter turns the validated query of GET /resource_providers into a
// store filter, applying the per-microversion rules of spec 02 §2.
func parseFilter(v microversion.Version, q url.Values) (store.ProviderFilter, error) {
	var f store.ProviderFilter
	f.Name = web.Last(q, "name")
	f.UUID = web.Last(q, "uuid")
	f.InTree = web.Last(q, "in_tree")
	if vals, ok := q["member_of"]; ok {
		var err error
		if f.MemberOf, f.NotMemberOf, err = parseMemberOf(v, vals); err != nil {
			return f, err
		}
	}
	if vals, ok := q["required"]; ok {
		if !v.AtLeast(1, 39) {
			vals = vals[len(vals)-1:]
		}
		for _, val := range vals {
			if err := parseRequired(v, val, &f); err != nil {
				return f, err
			}
		}
	}
	if _, ok := q["resources"]; ok {
		var err error
		if f.Resources, err = web.ParseResources(web.Last(q, "resources")); err != nil { // spec 02 §2.5
			return f, err
		}
		for i := range f.Resources {
			f.Resources[i].Amount = min(f.Resources[i].Amount, maxAmount)
		}
	}
	return f, nil
}

// parseMemberOf returns the ANDed required terms and the union of the
// forbidden aggregates.
func parseMemberOf(v microversion.Version, vals []string) (terms [][]string, forbidden []string, err error) {
	if len(vals) > 1 && !v.AtLeast(1, 24) {
		return nil, nil, invalid(msgMultipleMemberOf)
	}
	for _, val := range vals {
		if strings.Contains(val, ",") && !strings.HasPrefix(val, "in:") && !strings.HasPrefix(val, "!in:") {
			return nil, nil, invalid(msgMemberOfPrefix, val)
		}
		rest, isForbidden := strings.CutPrefix(val, "!")
		rest = strings.TrimPrefix(rest, "in:")
		aggs := strings.Split(rest, ",")
		for _, a := range aggs {
			if !schema.IsUUIDLike(a) {
				return nil, nil, invalid(msgMemberOfUUID, a)
			}
		}
		if isForbidden {
			if !v.AtLeast(1, 32) {
				return nil, nil, invalid(msgForbiddenMemberOf)
			}
			forbidden = append(forbidden, aggs...)
			continue
		}
		terms = append(terms, aggs)
	}
	return terms, forbidden, nil
}

// parseRequired adds one `required` value to f: the any-of form `in:A,B`
// (1.39+) or the list form `A,!B` (forbidden traits from 1.22).
func parseRequired(v microversion.Version, val string, f *store.ProviderFilter) error {
	if rest, ok := strings.CutPrefix(val, "in:"); ok {
		if !v.AtLeast(1, 39) {
			return invalid(msgAnyOfVersion, val)
		}
		group := strings.Split(rest, ",")
		for i, t := range group {
			group[i] = pycompat.Strip(t)
		}
		for _, t := range group {
			if t == "" {
				return invalid(msgAnyOfEmpty, val)
			}
		}
		for _, t := range group {
			if strings.HasPrefix(t, "!") {
				return invalid(msgAnyOfForbidden, val)
			}
		}
		f.Required = append(f.Required, group)
		return nil
	}
	allowForbidden := v.AtLeast(1, 22)
	form := "HW_CPU_X86_VMX,CUSTOM_MAGIC"
	if allowForbidden {
		form = "HW_CPU_X86_VMX,!CUSTOM_MAGIC"
	}
	var required, forbidden []string
	for _, t := range strings.Split(val, ",") {
		t = pycompat.Strip(t)
		if name, ok := strings.CutPrefix(t, "!"); ok {
			// All leading "!" go: "!!T" means "!T" (upstream quirk).
			forbidden = append(forbidden, strings.TrimLeft(name, "!"))
			if strings.TrimLeft(name, "!") == "" {
				return invalid(msgRequiredEmpty, form, val)
			}
			continue
		}
		if t == "" {
			return invalid(msgRequiredEmpty, form, val)
		}
		required = append(required, t)
	}
	if len(forbidden) > 0 && !allowForbidden {
		return invalid(msgRequiredForm, val)
	}
	for _, t := range required {
		f.Required = append(f.Required, []string{t})
	}
	f.Forbidden = append(f.Forbidden, forbidden...)
	return nil
}

// maxAmount stands for any amount beyond what an inventory can hold (they
// are 32-bit): such a request matches nothing but is not an error.
const maxAmount = 1 << 40
