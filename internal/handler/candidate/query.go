package candidate

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"

	"github.com/openstack-placement-go/placement/internal/engine"
	"github.com/openstack-placement-go/placement/internal/microversion"
	"github.com/openstack-placement-go/placement/internal/placement"
	"github.com/openstack-placement-go/placement/internal/pycompat"
	"github.com/openstack-placement-go/placement/internal/schema"
	"github.com/openstack-placement-go/placement/internal/web"
)

// Messages of spec 07 §2 and §3. They are API: clients and gabbits match them.
const (
	msgAnyOfTooEarly    = "Invalid query string parameters: The format 'in:HW_CPU_X86_VMX,CUSTOM_MAGIC' only supported since microversion 1.39. Got: %s"
	msgAnyOfEmpty       = "Invalid query string parameters: Expected 'required' parameter value of the form: in:HW_CPU_X86_VMX,CUSTOM_MAGIC. Got an empty trait in: %s"
	msgAnyOfForbidden   = "Invalid query string parameters: The format 'in:HW_CPU_X86_VMX,CUSTOM_MAGIC' does not support forbidden traits. Got: %s"
	msgTraitEmpty       = "Invalid query string parameters: Expected 'required' parameter value of the form: %s. Got an empty trait in: %s"
	msgForbiddenTooSoon = "Invalid query string parameters: Expected 'required' parameter value of the form: HW_CPU_X86_VMX,CUSTOM_MAGIC. Got: %s"
	msgMemberOfMulti    = "Multiple values for 'member_of' must be prefixed with the 'in:' or '!in:' keyword using the valid microversion. Got: %s"
	msgMemberOfUUID     = "Invalid query string parameters: Expected 'member_of' parameter to contain valid UUID(s). Got: %s"
	msgMemberOfForbid   = "Forbidden member_of%s parameters are not supported in the specified microversion"
	msgMemberOfRepeat   = "Multiple member_of%s parameters are not supported"
	msgInTree           = "Invalid query string parameters: Expected 'in_tree' parameter to be a format of uuid. Got: %s"
	msgRootRepeat       = "Query parameter 'root_required' may be specified only once."
	msgRootConflict     = "Conflicting required and forbidden traits found in root_required: %s"
	msgSubtreeEmpty     = "Empty string (unsuffixed group) can not be specified in `same_subtree` "
	msgOrphanTraits     = "All traits parameters must be associated with resources.  Found the following orphaned traits keys: %s"
	msgOrphanMemberOf   = "All member_of parameters must be associated with resources. Found the following orphaned member_of keys: %s"
	msgNoResources      = "All request groups must specify resources."
	msgNoGroup          = "At least one request group (`resources` or `resources{$S}`) is required."
	msgNoResources136   = "There must be at least one resources or resources[$S] parameter."
	msgResourceless     = "Resourceless suffixed group request should be specified in `same_subtree` query param: bad group(s) - %s."
	msgSubtreeUnknown   = "Real suffixes should be specified in `same_subtree`: %s not found in %s."
	msgTraitConflict    = "Conflicting required and forbidden traits found in the following traits keys: %s"
	msgPolicyRequired   = `The "group_policy" parameter is required when specifying more than one "resources{N}" parameter.`
	msgQuery            = "Invalid query string parameters: %s"
)

func invalid(format string, args ...any) *placement.Error {
	return placement.E(placement.Invalid, format, args...)
}

func badValue(format string, args ...any) *placement.Error {
	return placement.E(placement.Invalid, format, args...).WithCode(placement.CodeQueryBadValue)
}

// Query-string schemas per microversion range (spec 07 §1).
const (
	limitSchema   = `{"type": ["integer", "string"], "pattern": "^[1-9][0-9]*$", "minimum": 1, "minLength": 1}`
	suffixNumeric = `([1-9][0-9]*)?$`
	suffixVerbose = `([a-zA-Z0-9_-]{1,64})?$`
)

func groupPatterns(suffix string, prefixes ...string) string {
	parts := make([]string, len(prefixes))
	for i, p := range prefixes {
		parts[i] = fmt.Sprintf(`"^%s%s": {"type": "string"}`, p, suffix)
	}
	return strings.Join(parts, ", ")
}

var (
	schema110 = schema.MustCompile("allocation_candidates_1.10", `{"type": "object",
		"properties": {"resources": {"type": "string"}},
		"required": ["resources"], "additionalProperties": false}`)
	schema116 = schema.MustCompile("allocation_candidates_1.16", `{"type": "object",
		"properties": {"resources": {"type": "string"}, "limit": `+limitSchema+`},
		"required": ["resources"], "additionalProperties": false}`)
	schema117 = schema.MustCompile("allocation_candidates_1.17", `{"type": "object",
		"properties": {"resources": {"type": "string"}, "limit": `+limitSchema+`, "required": {"type": ["string"]}},
		"required": ["resources"], "additionalProperties": false}`)
	schema121 = schema.MustCompile("allocation_candidates_1.21", `{"type": "object",
		"properties": {"resources": {"type": "string"}, "limit": `+limitSchema+`, "required": {"type": ["string"]},
			"member_of": {"type": ["string"]}},
		"required": ["resources"], "additionalProperties": false}`)
	schema125 = schema.MustCompile("allocation_candidates_1.25", `{"type": "object",
		"properties": {"limit": `+limitSchema+`, "group_policy": {"type": "string", "enum": ["none", "isolate"]}},
		"additionalProperties": false,
		"patternProperties": {`+groupPatterns(suffixNumeric, "resources", "required", "member_of")+`}}`)
	schema131 = schema.MustCompile("allocation_candidates_1.31", `{"type": "object",
		"properties": {"limit": `+limitSchema+`, "group_policy": {"type": "string", "enum": ["none", "isolate"]}},
		"additionalProperties": false,
		"patternProperties": {`+groupPatterns(suffixNumeric, "resources", "required", "member_of", "in_tree")+`}}`)
	schema133 = schema.MustCompile("allocation_candidates_1.33", `{"type": "object",
		"properties": {"limit": `+limitSchema+`, "group_policy": {"type": "string", "enum": ["none", "isolate"]}},
		"additionalProperties": false,
		"patternProperties": {`+groupPatterns(suffixVerbose, "resources", "required", "member_of", "in_tree")+`}}`)
	schema135 = schema.MustCompile("allocation_candidates_1.35", `{"type": "object",
		"properties": {"limit": `+limitSchema+`, "group_policy": {"type": "string", "enum": ["none", "isolate"]},
			"root_required": {"type": ["string"]}},
		"additionalProperties": false,
		"patternProperties": {`+groupPatterns(suffixVerbose, "resources", "required", "member_of", "in_tree")+`}}`)
	schema136 = schema.MustCompile("allocation_candidates_1.36", `{"type": "object",
		"properties": {"limit": `+limitSchema+`, "group_policy": {"type": "string", "enum": ["none", "isolate"]},
			"root_required": {"type": ["string"]}, "same_subtree": {"type": ["string"]}},
		"additionalProperties": false,
		"patternProperties": {`+groupPatterns(suffixVerbose, "resources", "required", "member_of", "in_tree")+`}}`)
	firstLimitSchema = schema.MustCompile("allocation_candidates_limit", `{"type": "object",
		"properties": {"limit": `+limitSchema+`}}`)

	groupKey    = regexp.MustCompile(`^(resources|required|member_of|in_tree)([1-9][0-9]*)?$`)
	groupKey133 = regexp.MustCompile(`^(resources|required|member_of|in_tree)([a-zA-Z0-9_-]{1,64})?$`)
)

func schemaFor(v microversion.Version) *schema.Schema {
	return microversion.Pick(v, microversion.At(10, schema110), microversion.At(16, schema116),
		microversion.At(17, schema117), microversion.At(21, schema121), microversion.At(25, schema125),
		microversion.At(31, schema131), microversion.At(33, schema133), microversion.At(35, schema135),
		microversion.At(36, schema136))
}

// param is one key=value pair of the query string, in order.
type param struct{ key, value string }

type query []param

func (q query) all(key string) []string {
	var out []string
	for _, p := range q {
		if p.key == key {
			out = append(out, p.value)
		}
	}
	return out
}

// splitQuery decodes the raw query string keeping the order of its pairs.
func splitQuery(raw string) (query, error) {
	pairs, err := web.ParseQuery(raw)
	if err != nil {
		return nil, err
	}
	q := make(query, len(pairs))
	for i, p := range pairs {
		q[i] = param{p.Key, p.Value}
	}
	return q, nil
}

// flatJSON renders the query as upstream's dict(req.GET): keys in order of
// first appearance, each with its last value.
func (q query) flatJSON() []byte {
	last := map[string]string{}
	var keys []string
	for _, p := range q {
		if _, ok := last[p.key]; !ok {
			keys = append(keys, p.key)
		}
		last[p.key] = p.value
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kj, _ := json.Marshal(k)
		vj, _ := json.Marshal(last[k])
		b.Write(kj)
		b.WriteByte(':')
		b.Write(vj)
	}
	b.WriteByte('}')
	return []byte(b.String())
}

// ParseQuery validates the raw query string of GET /allocation_candidates
// at microversion v and returns the typed request. Every error is an
// *placement.Error (400) with the message and code of spec 07 §2–§3, in the
// order of §3 steps 2–7. Names of classes and traits are not checked here.
func ParseQuery(rawQuery string, v microversion.Version) (*engine.Request, error) {
	q, err := splitQuery(rawQuery)
	if err != nil {
		return nil, err
	}
	if _, err := schemaFor(v).ValidateJSON(q.flatJSON()); err != nil {
		return nil, invalid(msgQuery, err.Error())
	}
	req := &engine.Request{NestedAware: v.AtLeast(1, 29)}
	if err := parseRequestWide(q, req); err != nil {
		return nil, err
	}
	groups, err := parseGroups(q, v)
	if err != nil {
		return nil, err
	}
	req.Groups = groups
	if err := checkStructure(req, v); err != nil {
		return nil, err
	}
	if v.AtLeast(1, 22) {
		if err := checkConflicts(groups); err != nil {
			return nil, err
		}
	}
	// Upstream judges the first value by its truth: an empty first value
	// (the schema saw a valid last one) is no policy either.
	if policy, _ := q.firstValue("group_policy"); policy == "" {
		suffixed := 0
		for _, g := range groups {
			if g.Suffix != "" {
				suffixed++
			}
		}
		if suffixed > 1 {
			return nil, invalid(msgPolicyRequired)
		}
	}
	if req.Limit < 0 {
		v, _ := q.firstValue("limit")
		return nil, badFirstLimit(v)
	}
	return req, nil
}

func (q query) firstValue(key string) (string, bool) {
	for _, p := range q {
		if p.key == key {
			return p.value, true
		}
	}
	return "", false
}

// badFirstLimit is the 400 of a first limit upstream cannot use, in the
// schema's words (such a value never matches its pattern).
func badFirstLimit(v string) error {
	doc, _ := json.Marshal(map[string]string{"limit": v})
	_, err := firstLimitSchema.ValidateJSON(doc)
	return invalid(msgQuery, fmt.Sprint(err))
}

func parseRequestWide(q query, req *engine.Request) error {
	if v, ok := q.firstValue("limit"); ok {
		// The schema saw only the last limit; upstream uses the first,
		// through int() (quirk A4): 0 is no limit, "+5" or "1_0" are
		// limits, and one int() refuses crashes it: answer 400 instead.
		// A negative one, which upstream uses as a slice end (dropping
		// candidates from the end), is answered 400 too, once the rest
		// of the query has been checked as upstream checks it.
		n, err := pycompat.ParseInt(v, 10)
		if err != nil {
			return badFirstLimit(v)
		}
		switch {
		case n.Sign() < 0:
			req.Limit = -1 // refused by ParseQuery after the other checks
		case n.Sign() == 0:
		case n.IsInt64() && n.Int64() <= math.MaxInt32:
			req.Limit = int(n.Int64())
		default:
			req.Limit = math.MaxInt // as good as no limit
		}
	}
	if v, ok := q.firstValue("group_policy"); ok {
		req.GroupPolicy = v
	}
	if vals := q.all("root_required"); len(vals) > 0 {
		if len(vals) > 1 {
			return invalid(msgRootRepeat).WithCode(placement.CodeQueryDuplicateKey)
		}
		// root_required never accepts the any-of form (quirk A7).
		required, forbidden, err := parseTraits(vals[0], true, false)
		if err != nil {
			return err
		}
		for _, set := range required {
			if !slices.Contains(req.RootRequired, set[0]) {
				req.RootRequired = append(req.RootRequired, set[0])
			}
		}
		req.RootForbidden = forbidden
		var conflicts []string
		for _, f := range forbidden {
			if slices.Contains(req.RootRequired, f) {
				conflicts = append(conflicts, f)
			}
		}
		if len(conflicts) > 0 {
			slices.Sort(conflicts)
			return badValue(msgRootConflict, strings.Join(conflicts, ", "))
		}
	}
	for _, v := range q.all("same_subtree") {
		var set []string
		for _, s := range strings.Split(v, ",") {
			s = pycompat.Strip(s)
			if s == "" {
				return badValue(msgSubtreeEmpty)
			}
			if !slices.Contains(set, s) {
				set = append(set, s)
			}
		}
		slices.Sort(set)
		req.SameSubtree = append(req.SameSubtree, set)
	}
	return nil
}

// parseGroups reads resources<S>, required<S>, member_of<S> and in_tree<S>
// in query-string order, as upstream's RequestGroup.dict_from_request does.
func parseGroups(q query, v microversion.Version) ([]engine.Group, error) {
	pattern := groupKey
	if v.AtLeast(1, 33) {
		pattern = groupKey133
	}
	var groups []engine.Group
	index := map[string]int{}
	seen := map[string]bool{}
	for _, p := range q {
		m := pattern.FindStringSubmatch(p.key)
		if m == nil {
			continue
		}
		prefix, suffix := m[1], m[2]
		i, ok := index[suffix]
		if !ok {
			i = len(groups)
			index[suffix] = i
			groups = append(groups, engine.Group{Suffix: suffix})
		}
		g := &groups[i]
		switch prefix {
		case "resources":
			res, err := web.ParseResources(p.value) // spec 07 §2.1
			if err != nil {
				return nil, err
			}
			g.Resources = res
		case "required":
			if seen[p.key] {
				continue // every value was read at the first occurrence
			}
			seen[p.key] = true
			vals := q.all(p.key)
			if !v.AtLeast(1, 39) {
				vals = vals[len(vals)-1:]
			}
			g.Required, g.Forbidden = nil, nil
			for _, val := range vals {
				req, forb, err := parseTraits(val, v.AtLeast(1, 22), v.AtLeast(1, 39))
				if err != nil {
					return nil, err
				}
				g.Required = append(g.Required, req...)
				for _, f := range forb {
					if !slices.Contains(g.Forbidden, f) {
						g.Forbidden = append(g.Forbidden, f)
					}
				}
			}
		case "member_of":
			if seen[p.key] {
				continue
			}
			seen[p.key] = true
			if err := parseMemberOf(g, q.all(p.key), v); err != nil {
				return nil, err
			}
		case "in_tree":
			val := pycompat.Strip(p.value)
			if !schema.IsUUIDLike(val) {
				return nil, invalid(msgInTree, p.value)
			}
			g.InTree = val
		}
	}
	return groups, nil
}

// parseTraits parses one required<S> (or root_required) value (spec 07
// §2.2): it returns the any-of sets and the forbidden names.
func parseTraits(val string, allowForbidden, allowAnyOf bool) ([][]string, []string, error) {
	if rest, ok := strings.CutPrefix(val, "in:"); ok {
		if !allowAnyOf {
			return nil, nil, invalid(msgAnyOfTooEarly, val)
		}
		var set []string
		for _, n := range strings.Split(rest, ",") {
			n = pycompat.Strip(n)
			if !slices.Contains(set, n) {
				set = append(set, n)
			}
		}
		for _, n := range set {
			if n == "" {
				return nil, nil, invalid(msgAnyOfEmpty, val)
			}
		}
		for _, n := range set {
			if strings.HasPrefix(n, "!") {
				return nil, nil, invalid(msgAnyOfForbidden, val)
			}
		}
		slices.Sort(set)
		return [][]string{set}, nil, nil
	}
	form := "HW_CPU_X86_VMX,CUSTOM_MAGIC"
	if allowForbidden {
		form = "HW_CPU_X86_VMX,!CUSTOM_MAGIC"
	}
	var required [][]string
	var forbidden []string
	for _, n := range strings.Split(val, ",") {
		n = pycompat.Strip(n)
		if n == "" {
			return nil, nil, invalid(msgTraitEmpty, form, val)
		}
		if strings.HasPrefix(n, "!") {
			f := strings.TrimLeft(n, "!")
			if f == "" {
				return nil, nil, invalid(msgTraitEmpty, form, val)
			}
			if !slices.Contains(forbidden, f) {
				forbidden = append(forbidden, f)
			}
			continue
		}
		required = append(required, []string{n})
	}
	if len(forbidden) > 0 && !allowForbidden {
		return nil, nil, invalid(msgForbiddenTooSoon, val)
	}
	return required, forbidden, nil
}

// parseMemberOf reads every member_of<S> value (spec 07 §2.3).
func parseMemberOf(g *engine.Group, vals []string, v microversion.Version) error {
	if !v.AtLeast(1, 24) && len(vals) > 1 {
		return invalid(msgMemberOfRepeat, g.Suffix)
	}
	g.MemberOf, g.ForbiddenAggs = nil, nil
	for _, val := range vals {
		if strings.Contains(val, ",") && !strings.HasPrefix(val, "in:") && !strings.HasPrefix(val, "!in:") {
			return invalid(msgMemberOfMulti, val)
		}
		var uuids []string
		forbidden := false
		switch {
		case strings.HasPrefix(val, "!in:"):
			uuids, forbidden = strings.Split(val[4:], ","), true
		case strings.HasPrefix(val, "!"):
			uuids, forbidden = []string{val[1:]}, true
		case strings.HasPrefix(val, "in:"):
			uuids = strings.Split(val[3:], ",")
		default:
			uuids = []string{val}
		}
		var set []string
		for _, u := range uuids {
			if !slices.Contains(set, u) {
				set = append(set, u)
			}
		}
		for _, u := range set {
			if !schema.IsUUIDLike(u) {
				return invalid(msgMemberOfUUID, u)
			}
		}
		if forbidden {
			if !v.AtLeast(1, 32) {
				return invalid(msgMemberOfForbid, g.Suffix)
			}
			for _, u := range set {
				if !slices.Contains(g.ForbiddenAggs, u) {
					g.ForbiddenAggs = append(g.ForbiddenAggs, u)
				}
			}
			continue
		}
		g.MemberOf = append(g.MemberOf, set)
	}
	return nil
}

// pyList renders names as a Python list repr: ['a', 'b'].
func pyList(names []string) string {
	items := make([]any, len(names))
	for i, n := range names {
		items[i] = n
	}
	return schema.PyRepr(items)
}

// checkStructure applies spec 07 §3 step 5.
func checkStructure(req *engine.Request, v microversion.Version) error {
	groups := req.Groups
	if !v.AtLeast(1, 36) {
		var orphans []string
		for _, g := range groups {
			if len(g.Required) > 0 && len(g.Resources) == 0 {
				orphans = append(orphans, "required"+g.Suffix)
			}
		}
		if len(orphans) > 0 {
			return invalid(msgOrphanTraits, strings.Join(orphans, ", "))
		}
		for _, g := range groups {
			if len(g.Resources) == 0 && (len(g.MemberOf) > 0 || len(g.ForbiddenAggs) > 0) {
				orphans = append(orphans, "member_of"+g.Suffix)
			}
		}
		if len(orphans) > 0 {
			return invalid(msgOrphanMemberOf, strings.Join(orphans, ", "))
		}
		for _, g := range groups {
			if len(g.Resources) == 0 {
				return invalid(msgNoResources)
			}
		}
		if len(groups) == 0 {
			return invalid(msgNoGroup)
		}
		return nil
	}
	var resourceless, suffixes []string
	for _, g := range groups {
		suffixes = append(suffixes, g.Suffix)
		if len(g.Resources) == 0 {
			resourceless = append(resourceless, g.Suffix)
		}
	}
	if len(resourceless) == len(groups) {
		return invalid(msgNoResources136).WithCode(placement.CodeQueryMissingValue)
	}
	named := func(s string) bool {
		for _, set := range req.SameSubtree {
			if slices.Contains(set, s) {
				return true
			}
		}
		return false
	}
	var bad []string
	for _, s := range resourceless {
		if !named(s) {
			bad = append(bad, s)
		}
	}
	if len(bad) > 0 {
		return badValue(msgResourceless, pyList(bad))
	}
	for _, set := range req.SameSubtree {
		for _, s := range set {
			if !slices.Contains(suffixes, s) && !slices.Contains(bad, s) {
				bad = append(bad, s)
			}
		}
	}
	if len(bad) > 0 {
		return badValue(msgSubtreeUnknown, pyList(bad), pyList(suffixes))
	}
	return nil
}

// checkConflicts applies spec 07 §3 step 6 (1.22+).
func checkConflicts(groups []engine.Group) error {
	var conflicts []string
	for _, g := range groups {
		for _, set := range g.Required {
			all := true
			for _, t := range set {
				if !slices.Contains(g.Forbidden, t) {
					all = false
					break
				}
			}
			if all {
				sorted := slices.Clone(set)
				slices.Sort(sorted)
				conflicts = append(conflicts, fmt.Sprintf("required%s: (%s)", g.Suffix, strings.Join(sorted, ", ")))
			}
		}
	}
	if len(conflicts) > 0 {
		slices.Sort(conflicts)
		return invalid(msgTraitConflict, strings.Join(conflicts, ", "))
	}
	return nil
}
