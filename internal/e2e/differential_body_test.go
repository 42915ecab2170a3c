package e2e

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/openstack-placement-go/placement/internal/testdb"
	"github.com/openstack-placement-go/placement/internal/testserver"
)

// TestDifferentialBodies sends the same valid write bodies, each bent by a
// few random mutations (a member dropped, renamed or retyped, a value
// replaced by one of the awkward ones below), at random microversions, to
// the Python service and to this one, and requires the same answer
// whenever either refuses the write: schema texts, which error comes
// first, conflicts. PLACEMENT_DIFF_SEED picks the sequence,
// PLACEMENT_DIFF_BODIES its length (default 400).
func TestDifferentialBodies(t *testing.T) {
	requireE2E(t)
	seed, n := diffSeed(t), envInt("PLACEMENT_DIFF_BODIES", 400)
	py := python(t, testdb.New(t))
	ours := testserver.Start(t, testdb.New(t), testserver.Options{API: pythonPolicy(t)}).URL
	for _, base := range []string{py, ours} {
		for _, r := range bodyWorld {
			if a := send(t, base, r); a.status >= 300 {
				t.Fatalf("%s %s on %s: %d %v", r.method, r.path, base, a.status, a.body)
			}
		}
	}
	g := &bodyGen{rnd: rand.New(rand.NewPCG(seed, 5))}
	next := func() request {
		_, inv := tryCall(t, ours, "GET", "/resource_providers/"+bodyRP+"/inventories", nil)
		return g.next(inv["resource_provider_generation"])
	}
	// Spec 03 §4.3: upstream reads a record under a key that is no class
	// name only after the generation (it crashes on a malformed one, or
	// names the unknown class); this service judges it by the record
	// schema. A known difference.
	compared := compareRefusals(t, py, ours, n, next, nonClassRecord)
	t.Logf("%d writes, %d refused by either service and compared", n, compared)
}

// compareRefusals sends n requests made by next to the Python service (py)
// and to ours and requires the same answer whenever either refuses one,
// except a Python 500 and the requests skip names (nil: none); the texts of
// the Python service's database driver are not compared. It returns how
// many answers it compared.
func compareRefusals(t *testing.T, py, ours string, n int, next func() request, skip func(request) bool) int {
	t.Helper()
	failures, compared := 0, 0
	for i := range n {
		r := next()
		a, b := send(t, py, r), send(t, ours, r)
		if a.status == http.StatusInternalServerError || a.status < 400 && b.status < 400 || skip != nil && skip(r) {
			continue
		}
		compared++
		if strings.Contains(fmt.Sprint(a.body), "psycopg2") {
			a.body, b.body = dropDetails(a.body), dropDetails(b.body)
		}
		a.body, b.body = maskMadeUpUUIDs(a.body, r), maskMadeUpUUIDs(b.body, r)
		if d := a.diff(b, false); d != "" {
			failures++
			t.Errorf("request %d: %s %s (version %q)\nbody: %s\n%s", i, r.method, r.path, r.version, r.body, d)
			if failures == 10 {
				t.Fatal("stopping after 10 differences")
			}
		}
	}
	return compared
}

var anyUUID = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// maskMadeUpUUIDs replaces, in the details of an error body, the uuids
// that the request did not name: those a service made up (a provider
// created without one), which differ between the two.
func maskMadeUpUUIDs(doc any, r request) any {
	return withDetails(doc, func(d string) any {
		return anyUUID.ReplaceAllStringFunc(d, func(u string) string {
			if strings.Contains(r.path, u) || strings.Contains(string(r.body), u) {
				return u
			}
			return "<made-up uuid>"
		})
	})
}

const (
	bodyRP       = "b0d10000-0b0a-4d4c-9a10-000000000001"
	bodyRP2      = "b0d10000-0b0a-4d4c-9a10-000000000002"
	bodyConsumer = "b0d1c000-0b0a-4d4c-9a10-000000000001"
)

// bodyWorld is the world both services start from: two providers, one
// with inventory.
var bodyWorld = []request{
	{version: "1.39", method: "POST", path: "/resource_providers", body: []byte(`{"name": "body-1", "uuid": "` + bodyRP + `"}`)},
	{version: "1.39", method: "POST", path: "/resource_providers", body: []byte(`{"name": "body-2", "uuid": "` + bodyRP2 + `"}`)},
	{version: "1.39", method: "PUT", path: "/resource_providers/" + bodyRP + "/inventories",
		body: []byte(`{"resource_provider_generation": 0, "inventories": {"VCPU": {"total": 8}, "DISK_GB": {"total": 100}}}`)},
}

func init() {
	for i := range bodyWorld {
		bodyWorld[i].contentType, bodyWorld[i].accept, bodyWorld[i].token = "application/json", "application/json", "admin"
	}
}

type bodyGen struct{ rnd *rand.Rand }

// bodyTemplates are valid bodies of the write endpoints; gen is the
// provider's current generation.
var bodyTemplates = []struct {
	method, path string
	body         func(gen any) any
}{
	{"POST", "/resource_providers", func(any) any {
		return map[string]any{"name": "body-1", "uuid": bodyRP2, "parent_provider_uuid": nil}
	}},
	{"PUT", "/resource_providers/" + bodyRP, func(any) any { return map[string]any{"name": "body-1", "parent_provider_uuid": nil} }},
	{"PUT", "/resource_providers/" + bodyRP + "/inventories", func(gen any) any {
		return map[string]any{"resource_provider_generation": gen, "inventories": map[string]any{
			"VCPU": map[string]any{"total": 8, "reserved": 0, "min_unit": 1, "max_unit": 8, "step_size": 1, "allocation_ratio": 1.0}, "DISK_GB": map[string]any{"total": 100}}}
	}},
	{"PUT", "/resource_providers/" + bodyRP + "/inventories/VCPU", func(gen any) any {
		return map[string]any{"resource_provider_generation": gen, "total": 8, "max_unit": 4}
	}},
	{"POST", "/resource_providers/" + bodyRP + "/inventories", func(any) any { return map[string]any{"resource_class": "MEMORY_MB", "total": 1024} }},
	{"PUT", "/resource_providers/" + bodyRP + "/traits", func(gen any) any {
		return map[string]any{"resource_provider_generation": gen, "traits": []any{"HW_CPU_X86_AVX2"}}
	}},
	{"PUT", "/resource_providers/" + bodyRP + "/aggregates", func(gen any) any {
		return map[string]any{"resource_provider_generation": gen, "aggregates": []any{bodyConsumer}}
	}},
	{"PUT", "/allocations/" + bodyConsumer, func(any) any {
		return map[string]any{"allocations": map[string]any{bodyRP: map[string]any{"resources": map[string]any{"VCPU": 1}}},
			"project_id": "p", "user_id": "u", "consumer_generation": nil, "consumer_type": "INSTANCE"}
	}},
	{"POST", "/allocations", func(any) any {
		return map[string]any{bodyConsumer: map[string]any{"allocations": map[string]any{bodyRP: map[string]any{"resources": map[string]any{"VCPU": 1}}},
			"project_id": "p", "user_id": "u", "consumer_generation": nil, "consumer_type": "INSTANCE"}}
	}},
	{"POST", "/resource_classes", func(any) any { return map[string]any{"name": "CUSTOM_BODY"} }},
	{"POST", "/reshaper", func(gen any) any {
		return map[string]any{"inventories": map[string]any{bodyRP: map[string]any{"resource_provider_generation": gen,
			"inventories": map[string]any{"VCPU": map[string]any{"total": 8}}}}, "allocations": map[string]any{}}
	}},
}

// bodyValues are the awkward values a mutation puts in.
var bodyValues = []any{nil, true, false, 0, -1, 1.5, json.Number("9223372036854775808"), "", "x", []any{}, map[string]any{},
	[]any{1}, strings.Repeat("a", 300), json.Number("1e400"), 1.0, 16.0, json.Number("2147483648"), "ünï", "CUSTOM_X", bodyRP}

var bodyKeys = []string{strings.ToUpper(bodyRP), "not-a-uuid", "", "VCPU", "vcpu", bodyRP2, "extra"}

func (g *bodyGen) next(gen any) request {
	tpl := bodyTemplates[g.rnd.IntN(len(bodyTemplates))]
	doc := tpl.body(gen)
	for range g.rnd.IntN(4) {
		doc = g.mutate(doc)
	}
	data, err := json.Marshal(doc)
	if err != nil {
		panic(err)
	}
	return request{version: fmt.Sprintf("1.%d", g.rnd.IntN(40)), method: tpl.method, path: tpl.path, body: data,
		contentType: "application/json", accept: "application/json", token: "admin"}
}

// value returns one of bodyValues, a fresh copy when it is a list or an
// object (a mutation may change it later).
func (g *bodyGen) value() any {
	switch v := bodyValues[g.rnd.IntN(len(bodyValues))].(type) {
	case []any:
		return slices.Clone(v)
	case map[string]any:
		return maps.Clone(v)
	default:
		return v
	}
}

// mutate changes one member somewhere in doc.
func (g *bodyGen) mutate(doc any) any {
	switch d := doc.(type) {
	case map[string]any:
		if len(d) == 0 {
			return doc
		}
		keys := slices.Sorted(maps.Keys(d))
		k := keys[g.rnd.IntN(len(keys))]
		switch x := g.rnd.Float64(); {
		case x < 0.1:
			d[bodyKeys[g.rnd.IntN(len(bodyKeys))]] = d[k]
			delete(d, k)
		case x < 0.25:
			delete(d, k)
		case x < 0.45:
			d[k] = g.value()
		default:
			d[k] = g.mutate(d[k])
		}
	case []any:
		if len(d) > 0 && g.rnd.IntN(2) == 0 {
			d[g.rnd.IntN(len(d))] = g.value()
		} else {
			d = append(d, g.value())
		}
		return d
	default:
		return g.value()
	}
	return doc
}

var className = regexp.MustCompile(`^[A-Z0-9_]+$`)

// nonClassRecord reports whether r is a PUT of all inventories with a
// record under a key that cannot name a class.
func nonClassRecord(r request) bool {
	if r.method != "PUT" || !strings.HasSuffix(r.path, "/inventories") {
		return false
	}
	var doc struct {
		Inventories map[string]any `json:"inventories"`
	}
	if json.Unmarshal(r.body, &doc) != nil {
		return false
	}
	for k := range doc.Inventories {
		if !className.MatchString(k) {
			return true
		}
	}
	return false
}
