package candidate

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/openstack-placement-go/placement/internal/engine"
	"github.com/openstack-placement-go/placement/internal/microversion"
	"github.com/openstack-placement-go/placement/internal/placement"
	"github.com/openstack-placement-go/placement/internal/store"
)

func ver(minor int) microversion.Version { return microversion.Version{Major: 1, Minor: minor} }

const (
	aggX  = "11111111-1111-1111-1111-111111111111"
	aggY  = "22222222-2222-2222-2222-222222222222"
	rpOne = "33333333-3333-3333-3333-333333333333"
)

func TestParse_Errors(t *testing.T) {
	t.Parallel()
	const (
		undef   = placement.CodeUndefined
		bad     = placement.CodeQueryBadValue
		missing = placement.CodeQueryMissingValue
		dup     = placement.CodeQueryDuplicateKey
	)
	cases := []struct {
		name  string
		minor int
		query string
		msg   string
		code  string
	}{
		// schema (§1)
		{"resources is mandatory before 1.25", 10, "", "Invalid query string parameters: 'resources' is a required property", undef},
		{"limit before 1.16", 15, "resources=VCPU:1&limit=1", "Invalid query string parameters: Additional properties are not allowed ('limit' was unexpected)", undef},
		{"required before 1.17", 16, "resources=VCPU:1&required=HW_CPU_X86_AVX2", "Invalid query string parameters: Additional properties are not allowed ('required' was unexpected)", undef},
		{"member_of before 1.21", 20, "resources=VCPU:1&member_of=" + aggX, "Invalid query string parameters: Additional properties are not allowed ('member_of' was unexpected)", undef},
		{"suffixed before 1.25", 24, "resources=VCPU:1&resources1=VCPU:1", "Invalid query string parameters: Additional properties are not allowed ('resources1' was unexpected)", undef},
		{"leading zero suffix", 25, "resources01=VCPU:1", "Invalid query string parameters: 'resources01' does not match any of the regexes: '^member_of([1-9][0-9]*)?$', '^required([1-9][0-9]*)?$', '^resources([1-9][0-9]*)?$'", undef},
		{"verbose suffix before 1.33", 32, "resources_A=VCPU:1", "Invalid query string parameters: 'resources_A' does not match any of the regexes: '^in_tree([1-9][0-9]*)?$', '^member_of([1-9][0-9]*)?$', '^required([1-9][0-9]*)?$', '^resources([1-9][0-9]*)?$'", undef},
		{"65 character suffix", 33, "resources" + string(make65()) + "=VCPU:1", "Invalid query string parameters: 'resources" + string(make65()) + "' does not match any of the regexes: '^in_tree([a-zA-Z0-9_-]{1,64})?$', '^member_of([a-zA-Z0-9_-]{1,64})?$', '^required([a-zA-Z0-9_-]{1,64})?$', '^resources([a-zA-Z0-9_-]{1,64})?$'", undef},
		{"in_tree before 1.31", 30, "resources=VCPU:1&in_tree=" + rpOne, "Invalid query string parameters: 'in_tree' does not match any of the regexes: '^member_of([1-9][0-9]*)?$', '^required([1-9][0-9]*)?$', '^resources([1-9][0-9]*)?$'", undef},
		{"root_required before 1.35", 34, "resources=VCPU:1&root_required=HW_CPU_X86_AVX2", "Invalid query string parameters: 'root_required' does not match any of the regexes: '^in_tree([a-zA-Z0-9_-]{1,64})?$', '^member_of([a-zA-Z0-9_-]{1,64})?$', '^required([a-zA-Z0-9_-]{1,64})?$', '^resources([a-zA-Z0-9_-]{1,64})?$'", undef},
		{"same_subtree before 1.36", 35, "resources=VCPU:1&same_subtree=_A", "Invalid query string parameters: 'same_subtree' does not match any of the regexes: '^in_tree([a-zA-Z0-9_-]{1,64})?$', '^member_of([a-zA-Z0-9_-]{1,64})?$', '^required([a-zA-Z0-9_-]{1,64})?$', '^resources([a-zA-Z0-9_-]{1,64})?$'", undef},
		{"bogus group_policy", 25, "resources=VCPU:1&group_policy=bogus", "Invalid query string parameters: 'bogus' is not one of ['none', 'isolate']", undef},
		{"limit zero", 16, "resources=VCPU:1&limit=0", "Invalid query string parameters: '0' does not match '^[1-9][0-9]*$'", undef},
		{"limit negative", 16, "resources=VCPU:1&limit=-99", "Invalid query string parameters: '-99' does not match '^[1-9][0-9]*$'", undef},
		{"limit not a number", 16, "resources=VCPU:1&limit=cow", "Invalid query string parameters: 'cow' does not match '^[1-9][0-9]*$'", undef},
		{"bad first limit", 16, "resources=VCPU:1&limit=cow&limit=1", "Invalid query string parameters: 'cow' does not match '^[1-9][0-9]*$'", undef},
		{"negative first limit", 16, "resources=VCPU:1&limit=-1&limit=1", "Invalid query string parameters: '-1' does not match '^[1-9][0-9]*$'", undef},
		{"a bad escape stays text", 39, "resources=VCPU:1%zz", "Requested resource VCPU expected positive integer amount. Got: 1%zz.", undef},
		{"a semicolon separates", 39, "resources=VCPU:1;limit=0", "Invalid query string parameters: '0' does not match '^[1-9][0-9]*$'", undef},
		{"not utf-8", 39, "resources=VCPU:1%ff", "Invalid query string parameters: 'utf-8' codec can't decode byte 0xff in position 6: invalid start byte", undef},
		// request-wide (§2.6, §2.7)
		{"root_required twice", 35, "resources=VCPU:1&root_required=A&root_required=B", "Query parameter 'root_required' may be specified only once.", dup},
		{"root_required any-of", 39, "resources=VCPU:1&root_required=in:A,B", "Invalid query string parameters: The format 'in:HW_CPU_X86_VMX,CUSTOM_MAGIC' only supported since microversion 1.39. Got: in:A,B", undef},
		{"root_required conflict", 35, "resources=VCPU:1&root_required=B,A,!A,!B", "Conflicting required and forbidden traits found in root_required: A, B", bad},
		{"root_required empty trait", 35, "resources=VCPU:1&root_required=A,", "Invalid query string parameters: Expected 'required' parameter value of the form: HW_CPU_X86_VMX,!CUSTOM_MAGIC. Got an empty trait in: A,", undef},
		{"same_subtree empty element", 36, "resources_A=VCPU:1&same_subtree=_A,", "Empty string (unsuffixed group) can not be specified in `same_subtree` ", bad},
		// resources (§2.1)
		{"empty resources", 10, "resources=", "Badly formed resources parameter. Expected resources query string parameter in form: ?resources=VCPU:2,MEMORY_MB:1024. Got: empty string.", undef},
		{"blank resources", 10, "resources=%20%20", "Badly formed resources parameter. Expected resources query string parameter in form: ?resources=VCPU:2,MEMORY_MB:1024. Got: empty string.", undef},
		{"trailing comma", 10, "resources=VCPU:1,", "Badly formed resources parameter. Expected resources query string parameter in form: ?resources=VCPU:2,MEMORY_MB:1024. Got: .", undef},
		{"no amount", 10, "resources=VCPU", "Badly formed resources parameter. Expected resources query string parameter in form: ?resources=VCPU:2,MEMORY_MB:1024. Got: VCPU.", undef},
		{"two colons", 10, "resources=VCPU:1:2", "Badly formed resources parameter. Expected resources query string parameter in form: ?resources=VCPU:2,MEMORY_MB:1024. Got: VCPU:1:2.", undef},
		{"amount not int", 10, "resources=VCPU:one", "Requested resource VCPU expected positive integer amount. Got: one.", undef},
		{"amount float", 10, "resources=VCPU:1.5", "Requested resource VCPU expected positive integer amount. Got: 1.5.", undef},
		{"double underscore", 10, "resources=VCPU:1__0", "Requested resource VCPU expected positive integer amount. Got: 1__0.", undef},
		{"amount zero", 10, "resources=VCPU:0", "Requested resource VCPU requires amount >= 1. Got: 0.", undef},
		{"amount negative", 10, "resources=VCPU:-2", "Requested resource VCPU requires amount >= 1. Got: -2.", undef},
		{"every resources value is parsed", 10, "resources=VCPU:0&resources=VCPU:1", "Requested resource VCPU requires amount >= 1. Got: 0.", undef},
		// required (§2.2)
		{"any-of before 1.39", 38, "resources=VCPU:1&required=in:A,B", "Invalid query string parameters: The format 'in:HW_CPU_X86_VMX,CUSTOM_MAGIC' only supported since microversion 1.39. Got: in:A,B", undef},
		{"any-of empty", 39, "resources=VCPU:1&required=in:A,", "Invalid query string parameters: Expected 'required' parameter value of the form: in:HW_CPU_X86_VMX,CUSTOM_MAGIC. Got an empty trait in: in:A,", undef},
		{"any-of forbidden", 39, "resources=VCPU:1&required=in:A,!B", "Invalid query string parameters: The format 'in:HW_CPU_X86_VMX,CUSTOM_MAGIC' does not support forbidden traits. Got: in:A,!B", undef},
		{"empty trait 1.22", 22, "resources=VCPU:1&required=A,,B", "Invalid query string parameters: Expected 'required' parameter value of the form: HW_CPU_X86_VMX,!CUSTOM_MAGIC. Got an empty trait in: A,,B", undef},
		{"only bang", 22, "resources=VCPU:1&required=!", "Invalid query string parameters: Expected 'required' parameter value of the form: HW_CPU_X86_VMX,!CUSTOM_MAGIC. Got an empty trait in: !", undef},
		{"empty trait 1.17", 17, "resources=VCPU:1&required=", "Invalid query string parameters: Expected 'required' parameter value of the form: HW_CPU_X86_VMX,CUSTOM_MAGIC. Got an empty trait in: ", undef},
		{"forbidden before 1.22", 21, "resources=VCPU:1&required=!A", "Invalid query string parameters: Expected 'required' parameter value of the form: HW_CPU_X86_VMX,CUSTOM_MAGIC. Got: !A", undef},
		// member_of (§2.3)
		{"member_of list without in", 24, "resources=VCPU:1&member_of=" + aggX + "," + aggY, "Multiple values for 'member_of' must be prefixed with the 'in:' or '!in:' keyword using the valid microversion. Got: " + aggX + "," + aggY, undef},
		{"member_of not uuid", 21, "resources=VCPU:1&member_of=cow", "Invalid query string parameters: Expected 'member_of' parameter to contain valid UUID(s). Got: cow", undef},
		{"member_of in: nothing", 21, "resources=VCPU:1&member_of=in:", "Invalid query string parameters: Expected 'member_of' parameter to contain valid UUID(s). Got: ", undef},
		{"member_of in: with bang", 32, "resources=VCPU:1&member_of=in:" + aggX + ",!" + aggY, "Invalid query string parameters: Expected 'member_of' parameter to contain valid UUID(s). Got: !" + aggY, undef},
		{"forbidden member_of before 1.32", 31, "resources=VCPU:1&member_of=!" + aggX, "Forbidden member_of parameters are not supported in the specified microversion", undef},
		{"forbidden suffixed member_of before 1.32", 31, "resources1=VCPU:1&member_of1=!in:" + aggX, "Forbidden member_of1 parameters are not supported in the specified microversion", undef},
		{"repeated member_of before 1.24", 23, "resources=VCPU:1&member_of=" + aggX + "&member_of=" + aggY, "Multiple member_of parameters are not supported", undef},
		// in_tree (§2.4)
		{"in_tree not uuid", 31, "resources=VCPU:1&in_tree=cow", "Invalid query string parameters: Expected 'in_tree' parameter to be a format of uuid. Got: cow", undef},
		{"every in_tree is validated", 31, "resources=VCPU:1&in_tree=x&in_tree=" + rpOne, "Invalid query string parameters: Expected 'in_tree' parameter to be a format of uuid. Got: x", undef},
		// structure below 1.36 (§3 step 5)
		{"orphaned traits", 25, "resources=VCPU:1&required1=A&required2=B", "All traits parameters must be associated with resources.  Found the following orphaned traits keys: required1, required2", undef},
		{"orphaned member_of", 25, "resources=VCPU:1&member_of1=" + aggX, "All member_of parameters must be associated with resources. Found the following orphaned member_of keys: member_of1", undef},
		{"orphaned forbidden member_of", 32, "resources=VCPU:1&member_of1=!" + aggX, "All member_of parameters must be associated with resources. Found the following orphaned member_of keys: member_of1", undef},
		{"only forbidden traits", 25, "resources=VCPU:1&required1=!A", "All request groups must specify resources.", undef},
		{"only in_tree", 31, "resources=VCPU:1&in_tree1=" + rpOne, "All request groups must specify resources.", undef},
		{"no group", 25, "", "At least one request group (`resources` or `resources{$S}`) is required.", undef},
		{"no group with limit", 25, "limit=1", "At least one request group (`resources` or `resources{$S}`) is required.", undef},
		// structure from 1.36
		{"no resources 1.36", 36, "", "There must be at least one resources or resources[$S] parameter.", missing},
		{"only resourceless 1.36", 36, "required_A=B&same_subtree=_A", "There must be at least one resources or resources[$S] parameter.", missing},
		{"resourceless not in same_subtree", 36, "resources=VCPU:1&required_B=X&required_A=Y", "Resourceless suffixed group request should be specified in `same_subtree` query param: bad group(s) - ['_B', '_A'].", bad},
		{"resourceless unsuffixed", 36, "resources1=VCPU:1&required=X", "Resourceless suffixed group request should be specified in `same_subtree` query param: bad group(s) - [''].", bad},
		{"unknown same_subtree suffix", 36, "resources_A=VCPU:1&resources=VCPU:1&same_subtree=_A,_Z&group_policy=none", "Real suffixes should be specified in `same_subtree`: ['_Z'] not found in ['_A', ''].", bad},
		// conflicts (§3 step 6)
		{"required and forbidden", 22, "resources=VCPU:1&required=T,!T", "Conflicting required and forbidden traits found in the following traits keys: required: (T)", undef},
		{"conflicts in several groups", 39, "resources2=VCPU:1&required2=B,!B&resources1=VCPU:1&required1=in:Y,X&required1=!X,!Y&group_policy=none", "Conflicting required and forbidden traits found in the following traits keys: required1: (X, Y), required2: (B)", undef},
		// group_policy (§3 step 7)
		{"group_policy required", 25, "resources1=VCPU:1&resources2=VCPU:1", `The "group_policy" parameter is required when specifying more than one "resources{N}" parameter.`, undef},
		{"an empty first group_policy is none given", 36, "resources2=VCPU:1&group_policy=&resources_B=VCPU:1&group_policy=isolate", `The "group_policy" parameter is required when specifying more than one "resources{N}" parameter.`, undef},
		{"group_policy required with resourceless", 36, "resources1=VCPU:1&required2=T&same_subtree=1,2", `The "group_policy" parameter is required when specifying more than one "resources{N}" parameter.`, undef},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseQuery(c.query, ver(c.minor))
			var pe *placement.Error
			if !errors.As(err, &pe) {
				t.Fatalf("ParseQuery(%q) at 1.%d: err %v, want *placement.Error", c.query, c.minor, err)
			}
			// Schema messages go on with python-jsonschema's details
			// ("Failed validating ..."): the first line is what we assert.
			msg, _, _ := strings.Cut(pe.Message, "\n")
			if pe.Kind != placement.Invalid || msg != c.msg || placement.CodeOf(err) != c.code {
				t.Errorf("ParseQuery(%q) at 1.%d:\n got %d %q %s\nwant 400 %q %s", c.query, c.minor, pe.Kind, pe.Message, placement.CodeOf(err), c.msg, c.code)
			}
		})
	}
}

func make65() []byte {
	b := make([]byte, 65)
	for i := range b {
		b[i] = 'a'
	}
	return b
}

func TestParse_Values(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		minor int
		query string
		want  engine.Request
	}{
		{"python int amounts", 10, "resources=VCPU:+1,MEMORY_MB:%201_0%20,DISK_GB:007",
			engine.Request{Groups: []engine.Group{{Resources: []engine.Resource{{Class: "VCPU", Amount: 1}, {Class: "MEMORY_MB", Amount: 10}, {Class: "DISK_GB", Amount: 7}}}}}},
		{"class names are not trimmed, last amount wins", 10, "resources=%20VCPU:1,VCPU:2,VCPU:3",
			engine.Request{Groups: []engine.Group{{Resources: []engine.Resource{{Class: " VCPU", Amount: 1}, {Class: "VCPU", Amount: 3}}}}}},
		{"last resources value wins", 10, "resources=VCPU:1&resources=DISK_GB:2",
			engine.Request{Groups: []engine.Group{{Resources: []engine.Resource{{Class: "DISK_GB", Amount: 2}}}}}},
		{"first limit and group_policy", 25, "resources1=VCPU:1&resources2=VCPU:1&limit=10&limit=1&group_policy=isolate&group_policy=none",
			engine.Request{Limit: 10, GroupPolicy: "isolate", Groups: []engine.Group{{Suffix: "1", Resources: []engine.Resource{{Class: "VCPU", Amount: 1}}}, {Suffix: "2", Resources: []engine.Resource{{Class: "VCPU", Amount: 1}}}}}},
		{"bogus first group_policy behaves as none", 25, "resources1=VCPU:1&resources2=VCPU:1&group_policy=bogus&group_policy=isolate",
			engine.Request{GroupPolicy: "bogus", Groups: []engine.Group{{Suffix: "1", Resources: []engine.Resource{{Class: "VCPU", Amount: 1}}}, {Suffix: "2", Resources: []engine.Resource{{Class: "VCPU", Amount: 1}}}}}},
		{"required last only before 1.39", 38, "resources=VCPU:1&required=A&required=B,!C",
			engine.Request{NestedAware: true, Groups: []engine.Group{{Resources: []engine.Resource{{Class: "VCPU", Amount: 1}}, Required: [][]string{{"B"}}, Forbidden: []string{"C"}}}}},
		{"required all from 1.39", 39, "resources=VCPU:1&required=in:T4,T3&required=T1,!!T2",
			engine.Request{NestedAware: true, Groups: []engine.Group{{Resources: []engine.Resource{{Class: "VCPU", Amount: 1}}, Required: [][]string{{"T3", "T4"}, {"T1"}}, Forbidden: []string{"T2"}}}}},
		{"any-of with only one forbidden is fine", 39, "resources=VCPU:1&required=in:A,B&required=!A",
			engine.Request{NestedAware: true, Groups: []engine.Group{{Resources: []engine.Resource{{Class: "VCPU", Amount: 1}}, Required: [][]string{{"A", "B"}}, Forbidden: []string{"A"}}}}},
		{"member_of forms", 32, "resources=VCPU:1&member_of=in:" + aggX + "," + aggY + "&member_of=!" + aggX + "&member_of=!in:" + aggY + "&member_of=" + aggY,
			engine.Request{NestedAware: true, Groups: []engine.Group{{Resources: []engine.Resource{{Class: "VCPU", Amount: 1}}, MemberOf: [][]string{{aggX, aggY}, {aggY}}, ForbiddenAggs: []string{aggX, aggY}}}}},
		{"in_tree trimmed, last wins", 31, "resources=VCPU:1&in_tree=" + aggX + "&in_tree=%20" + rpOne + "%20",
			engine.Request{NestedAware: true, Groups: []engine.Group{{Resources: []engine.Resource{{Class: "VCPU", Amount: 1}}, InTree: rpOne}}}},
		{"groups keep query order", 33, "required_B=T&resources_A=VCPU:1&resources_B=VCPU:2&resources=DISK_GB:1&group_policy=none",
			engine.Request{NestedAware: true, GroupPolicy: "none", Groups: []engine.Group{
				{Suffix: "_B", Resources: []engine.Resource{{Class: "VCPU", Amount: 2}}, Required: [][]string{{"T"}}},
				{Suffix: "_A", Resources: []engine.Resource{{Class: "VCPU", Amount: 1}}},
				{Resources: []engine.Resource{{Class: "DISK_GB", Amount: 1}}}}}},
		{"root_required and same_subtree", 36, "resources_A=VCPU:1&required_N=T&root_required=R,!F&same_subtree=_N,_A,_N&same_subtree=_A&group_policy=none",
			engine.Request{NestedAware: true, GroupPolicy: "none", RootRequired: []string{"R"}, RootForbidden: []string{"F"}, SameSubtree: [][]string{{"_A", "_N"}, {"_A"}},
				Groups: []engine.Group{{Suffix: "_A", Resources: []engine.Resource{{Class: "VCPU", Amount: 1}}}, {Suffix: "_N", Required: [][]string{{"T"}}}}}},
		{"huge limit", 16, "resources=VCPU:1&limit=99999999999999999999999",
			engine.Request{Limit: int(^uint(0) >> 1), Groups: []engine.Group{{Resources: []engine.Resource{{Class: "VCPU", Amount: 1}}}}}},
		// The first limit goes through int(): 0 is no limit.
		{"a first limit of 0 is none", 16, "resources=VCPU:1&limit=0&limit=1",
			engine.Request{Groups: []engine.Group{{Resources: []engine.Resource{{Class: "VCPU", Amount: 1}}}}}},
		{"a first limit as int() reads it", 16, "resources=VCPU:1&limit=%2B1_0&limit=1",
			engine.Request{Limit: 10, Groups: []engine.Group{{Resources: []engine.Resource{{Class: "VCPU", Amount: 1}}}}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseQuery(c.query, ver(c.minor))
			if err != nil {
				t.Fatalf("ParseQuery(%q): %v", c.query, err)
			}
			if !reflect.DeepEqual(*got, c.want) {
				t.Errorf("ParseQuery(%q) at 1.%d\n got %+v\nwant %+v", c.query, c.minor, *got, c.want)
			}
		})
	}
}

func TestCheckNames_ReportsTheFirstUnknownNameInUpstreamOrder(t *testing.T) {
	t.Parallel()
	req, err := ParseQuery("resources=VCPU:1,CUSTOM_A:1&required=T1,!T2&resources1=CUSTOM_B:1&root_required=R1,!R2", ver(39))
	if err != nil {
		t.Fatal(err)
	}
	all := store.CandidateNames{Classes: []string{"VCPU", "CUSTOM_A", "CUSTOM_B"}, Traits: []string{"T1", "T2", "R1", "R2"}}
	without := func(name string) store.CandidateNames {
		del := func(s []string) []string {
			var out []string
			for _, n := range s {
				if n != name {
					out = append(out, n)
				}
			}
			return out
		}
		return store.CandidateNames{Classes: del(all.Classes), Traits: del(all.Traits)}
	}
	if _, _, err := checkNames(req, all); err != nil {
		t.Fatalf("every name exists: %v", err)
	}
	cases := []struct {
		found store.CandidateNames
		group int
		trait bool
		msg   string
	}{
		{without("R2"), -1, true, "No such trait(s): R2."},
		{without("CUSTOM_A"), 0, false, "Invalid resource class in resources parameter: No such resource class CUSTOM_A."},
		{without("T2"), 0, true, "No such trait(s): T2."},
		{without("CUSTOM_B"), 1, false, "Invalid resource class in resources parameter: No such resource class CUSTOM_B."},
		{store.CandidateNames{Classes: []string{"VCPU"}}, -1, true, "No such trait(s): R1."},
		{store.CandidateNames{Traits: all.Traits}, 0, false, "Invalid resource class in resources parameter: No such resource class VCPU."},
	}
	for _, c := range cases {
		group, trait, err := checkNames(req, c.found)
		var pe *placement.Error
		if !errors.As(err, &pe) || pe.Kind != placement.Invalid || pe.Message != c.msg || group != c.group || trait != c.trait {
			t.Errorf("checkNames(%v) = %d, %v, %v, want %d, %v, 400 %q", c.found, group, trait, err, c.group, c.trait, c.msg)
		}
	}
}
