package e2e

import (
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"

	"github.com/openstack-placement-go/placement/internal/testdb"
	"github.com/openstack-placement-go/placement/internal/testserver"
)

// TestDifferentialQueries sends the same random query strings of GET
// /allocation_candidates and GET /resource_providers, at random
// microversions, to the Python service and to this one, and requires the
// same answer whenever either refuses the query: the parsers' checks, their
// order and their texts. PLACEMENT_DIFF_SEED picks the sequence,
// PLACEMENT_DIFF_QUERIES its length (default 600).
func TestDifferentialQueries(t *testing.T) {
	requireE2E(t)
	seed, n := diffSeed(t), envInt("PLACEMENT_DIFF_QUERIES", 600)
	py := python(t, testdb.New(t))
	ours := testserver.Start(t, testdb.New(t), testserver.Options{}).URL
	q := &queryGen{rnd: rand.New(rand.NewPCG(seed, 3))}
	compared := compareRefusals(t, py, ours, n, q.next, negativeFirstLimit)
	t.Logf("%d queries, %d refused by either service and compared", n, compared)
}

// negativeFirstLimit: a negative first limit is answered 400 by design;
// upstream drops that many candidates from the end of its answer
// (api-ref/allocation_candidates.md, limit).
func negativeFirstLimit(r request) bool {
	u, err := url.Parse(r.path)
	if err != nil || u.Path != "/allocation_candidates" {
		return false
	}
	for _, kv := range strings.FieldsFunc(u.RawQuery, func(c rune) bool { return c == '&' || c == ';' }) {
		if v, ok := strings.CutPrefix(kv, "limit="); ok {
			return strings.HasPrefix(v, "-")
		}
	}
	return false
}

// queryGen makes the random queries: parameters of both endpoints, with
// suffixes, values and repetitions the parsers must judge.
type queryGen struct{ rnd *rand.Rand }

var (
	queryAgg  = "a9a9a9a9-0b0a-4d4c-9a10-000000000001"
	queryRP   = "7a1e0c5e-0b0a-4d4c-9a10-000000000001"
	queryVals = map[string][]string{
		"resources":     {"VCPU:1", "VCPU:1,DISK_GB:2", "VCPU:0", "VCPU", "VCPU:1,VCPU:2", "CUSTOM_NOPE:1", "vcpu:1", "", "%20VCPU:1", "VCPU:1,", "VCPU:%2B1", "VCPU:%EF%BC%91", "VCPU:%E0%A5%A7%EF%BC%90", "VCPU:1%1C"},
		"required":      {"HW_CPU_X86_AVX2", "!HW_CPU_X86_AVX2", "in:HW_CPU_X86_AVX2,CUSTOM_NOPE", "CUSTOM_NOPE", "", "!", "in:", "HW_CPU_X86_AVX2,!HW_CPU_X86_AVX2", "in:!X", "%1CHW_CPU_X86_AVX2%1F", "in:%1DHW_CPU_X86_AVX2"},
		"member_of":     {queryAgg, "in:" + queryAgg, "!" + queryAgg, "!in:" + queryAgg, "in:" + queryAgg + "," + queryRP, "x", "", strings.ToUpper(queryAgg)},
		"in_tree":       {queryRP, "x", "", "%20" + queryRP, strings.ReplaceAll(queryRP, "-", "")},
		"group_policy":  {"none", "isolate", "x", "", "NONE"},
		"limit":         {"1", "0", "-1", "x", "", "%201", "1.0", "99999999999999999999"},
		"root_required": {"HW_CPU_X86_AVX2", "!HW_CPU_X86_AVX2", "in:A,B", "", "A,", "X,!X"},
		"same_subtree":  {"_A", "_A,_B", "", "_A,", "1", "_A,_Z", "%20_A", "%1E_A"},
		"name":          {"x", "", "%zz"},
		"uuid":          {queryRP, "x"},
		"bogus":         {"1"},
	}
	querySuffixes = []string{"", "", "1", "2", "_A", "_B", "01", "_"}
)

func (q *queryGen) pick(xs []string) string { return xs[q.rnd.IntN(len(xs))] }

func (q *queryGen) next() request {
	path := "/allocation_candidates"
	keys := []string{"resources", "resources", "required", "member_of", "in_tree", "group_policy", "limit", "root_required", "same_subtree", "bogus"}
	if q.rnd.IntN(4) == 0 {
		path = "/resource_providers"
		keys = []string{"resources", "required", "member_of", "in_tree", "name", "uuid", "limit", "bogus"}
	}
	var parts []string
	for range 1 + q.rnd.IntN(5) {
		k := q.pick(keys)
		name := k
		if path == "/allocation_candidates" && strings.Contains("resources required member_of in_tree", k) {
			name += q.pick(querySuffixes)
		}
		sep := "&"
		if q.rnd.IntN(10) == 0 {
			sep = ";"
		}
		parts = append(parts, sep+name+"="+q.pick(queryVals[k]))
	}
	query := strings.TrimLeft(strings.Join(parts, ""), "&;")
	version := fmt.Sprintf("1.%d", 10+q.rnd.IntN(30))
	return request{version: version, method: "GET", path: path + "?" + query, accept: "application/json", token: "admin"}
}
