package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/openstack-placement-go/placement/internal/api"
	"github.com/openstack-placement-go/placement/internal/policy"
	"github.com/openstack-placement-go/placement/internal/store"
	"github.com/openstack-placement-go/placement/internal/testdb"
	"github.com/openstack-placement-go/placement/internal/testserver"
)

// TestDifferential sends one random sequence of requests to the Python
// service and to this one, each on its own empty database, and requires
// the same answer from both: status, the headers clients read, and the
// body (error request ids aside). The requests mix valid and invalid
// ones over a small world of providers, classes, traits, aggregates and
// consumers, at random microversions, so that most writes succeed and
// many fail on generations, capacity, schemas or missing things.
//
// PLACEMENT_DIFF_SEED picks the sequence (default 1, so that CI runs the
// same one; "time" for a new one each run) and PLACEMENT_DIFF_STEPS its
// length (default 1000).
func TestDifferential(t *testing.T) {
	requireE2E(t)
	seed, steps := diffSeed(t), envInt("PLACEMENT_DIFF_STEPS", 1000)
	py := python(t, testdb.New(t))
	dsn := testdb.New(t)
	withPolicy := pythonPolicy(t)
	goSrv := testserver.Start(t, dsn, testserver.Options{API: withPolicy}).URL
	// An instance without the candidate cache on the same database: its
	// candidates are the cached instance's, byte for byte.
	uncached := testserver.Start(t, dsn, testserver.Options{API: withPolicy,
		Store: func(s *store.Store) { s.CandidateCache = false }}).URL
	g := &generator{t: t, rnd: rand.New(rand.NewPCG(seed, 1)), ours: goSrv}
	failures, pyErrors, cacheChecks := 0, 0, 0
	for i := range steps {
		r := g.next()
		a, b := send(t, py, r), send(t, goSrv, r)
		if r.method == "GET" && strings.HasPrefix(r.path, "/allocation_candidates") {
			cacheChecks++
			if c := send(t, uncached, r); !reflect.DeepEqual(b, c) {
				failures++
				t.Errorf("step %d: GET %s (version %q): the cached answer differs from the database's\ncached   %+v\nuncached %+v", i, r.path, r.version, b, c)
			}
		}
		if os.Getenv("PLACEMENT_DIFF_TRACE") != "" {
			t.Logf("step %d: %s %s (%s) %s -> %d/%d", i, r.method, r.path, r.version, r.body, a.status, b.status)
		}
		if a.status == http.StatusInternalServerError {
			// A bug of the Python service (GET /usages at 1.38 on
			// PostgreSQL, for one): nothing to compare with.
			pyErrors++
			continue
		}
		lr := logical(r)
		if d := comparable(lr, a, a).diff(comparable(lr, b, a), orderFree(lr)); d != "" {
			failures++
			t.Errorf("step %d: %s %s (version %q)\nbody: %s\n%s", i, r.method, r.path, r.version, r.body, d)
			if failures == 1 && os.Getenv("PLACEMENT_DIFF_DUMP") != "" {
				t.Log(g.dump())
			}
			if failures == 10 {
				t.Fatal("stopping after 10 differences")
			}
		}
	}
	t.Logf("%d requests compared; the Python service answered %d others with 500; %d candidate answers equal the uncached instance's",
		steps-pyErrors, pyErrors, cacheChecks)
}

// diffSeed is PLACEMENT_DIFF_SEED (default 1; "time" draws a new one),
// logged so that a failing run can be repeated.
func diffSeed(t *testing.T) uint64 {
	seed := uint64(1)
	switch s := os.Getenv("PLACEMENT_DIFF_SEED"); s {
	case "":
	case "time":
		seed = uint64(time.Now().UnixNano())
	default:
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("PLACEMENT_DIFF_SEED=%d", seed)
	return seed
}

// envInt is the integer in the environment variable name, or def.
func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return n
	}
	return def
}

// pythonPolicy configures ours with enforce_new_defaults = false, as the
// Python service runs, so that the admin token may also reshape.
func pythonPolicy(t *testing.T) func(*api.Options) {
	enforcer, err := policy.New(policy.Options{ReloadInterval: -1, EnforceScope: true, EnforceNewDefaults: false})
	if err != nil {
		t.Fatal(err)
	}
	return func(o *api.Options) { o.Policy = enforcer }
}

// request is one generated request.
type request struct {
	version      string // the openstack-api-version value, "" for none
	method, path string
	body         []byte // nil: no body
	contentType  string
	accept       string // "" for none
	token        string
}

// answer is what one service answered, reduced to what is compared.
type answer struct {
	status  int
	headers map[string]string
	body    any // decoded JSON, or the text when it is not JSON
}

// comparedHeaders are the response headers clients depend on.
var comparedHeaders = []string{"Content-Type", "Openstack-Api-Version", "Vary", "Allow", "Cache-Control", "Location"}

func send(t *testing.T, base string, r request) answer {
	t.Helper()
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequest(r.method, base+r.path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Auth-Token", r.token)
	if r.accept != "" {
		req.Header.Set("Accept", r.accept)
	}
	if r.version != "" {
		req.Header.Set("OpenStack-API-Version", "placement "+r.version)
	}
	if r.body != nil {
		req.Header.Set("Content-Type", r.contentType)
	}
	resp, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s%s: %v", r.method, base, r.path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, headers: map[string]string{}}
	for _, h := range comparedHeaders {
		if v := resp.Header.Get(h); v != "" {
			a.headers[h] = strings.ReplaceAll(v, base, "")
		}
	}
	if resp.Header.Get("Last-Modified") != "" {
		a.headers["Last-Modified"] = "present"
	}
	var doc any
	if json.Unmarshal(data, &doc) == nil && len(data) > 0 {
		a.body = dropRequestIDs(doc)
	} else {
		a.body = string(data)
	}
	return a
}

// dropRequestIDs removes the request_id of each error, which differs
// by design.
func dropRequestIDs(doc any) any {
	if m, ok := doc.(map[string]any); ok {
		if errs, ok := m["errors"].([]any); ok {
			for _, e := range errs {
				if em, ok := e.(map[string]any); ok {
					delete(em, "request_id")
				}
			}
		}
	}
	return doc
}

// logical returns r with its path as the router reads it (httpOddity's
// escapes and dot segments undone) and '&' between query parameters, for
// the rules below.
func logical(r request) request {
	path, query, found := strings.Cut(r.path, "?")
	if u, err := url.Parse(path); err == nil {
		path = api.PathInfo(u)
	}
	if found {
		path += "?" + strings.ReplaceAll(query, ";", "&")
	}
	r.path = path
	return r
}

// orderFree reports whether the order of r's answer is unspecified: the
// Python service lists providers and traits in the order PostgreSQL
// happens to return them.
func orderFree(r request) bool {
	path, _, _ := strings.Cut(r.path, "?")
	return path == "/resource_providers" || strings.HasSuffix(path, "/traits") || path == "/traits" ||
		strings.HasSuffix(path, "/aggregates") || path == "/allocation_candidates"
}

// comparable reduces what may legitimately differ in an answer to r: with
// a limit, which candidates are kept depends on an order that is
// unspecified, so only their number counts; an error the Python service
// raised from its database driver (py, its answer) carries the driver's
// text, and so does its answer to a NUL character.
func comparable(r request, a, py answer) answer {
	if strings.Contains(fmt.Sprint(py.body), "psycopg2") || bytes.Contains(r.body, []byte(`\u0000`)) {
		a.body = dropDetails(a.body)
		if _, ok := a.body.(string); ok {
			a.body = "(an HTML or text error)"
		}
	}
	if pyDetail := testserver.FirstDetail(py.body); strings.HasPrefix(pyDetail, msgNoTrait) {
		// The Python service resolves root_required as a set of
		// strings, whose order changes from process to process, and
		// names the first one it finds missing: any of them will do.
		roots := rootRequired(r.path)
		named := func(d string) bool {
			n, ok := strings.CutPrefix(d, msgNoTrait)
			return ok && slices.Contains(roots, strings.TrimRight(n, ". "))
		}
		if named(pyDetail) {
			a.body = withDetails(a.body, func(d string) any {
				if named(d) {
					return pyDetail
				}
				return d
			})
		}
	}
	m, ok := a.body.(map[string]any)
	if !ok {
		return a
	}
	if strings.HasPrefix(r.path, "/allocation_candidates?") && strings.Contains(r.path, "limit=") {
		if ars, ok := m["allocation_requests"].([]any); ok {
			// Which summaries come with them depends on which are kept.
			a.body = map[string]any{"candidates": len(ars)}
		}
	} else if _, ok := m["allocation_requests"].([]any); ok && classInTwoGroups(r.path) {
		// The Python service adds an amount of one candidate to the
		// next ones when two groups ask for one class (api-ref,
		// allocation_candidates.md), and then drops those whose leaked
		// amounts no longer fit: compare which providers serve which
		// group, not the amounts, and require every candidate Python
		// gives from ours (its summaries too when it drops none).
		maps, pyMaps := mappings(m), mappings(py.body)
		sums := m["provider_summaries"]
		if kept := keepCommon(maps, pyMaps); len(kept) < len(maps) {
			maps = kept
			if pm, ok := py.body.(map[string]any); ok {
				sums = pm["provider_summaries"]
			}
		}
		a.body = map[string]any{"mappings": maps, "provider_summaries": sums}
	}
	return a
}

// mappings returns the mappings of each allocation request of a
// candidates answer.
func mappings(doc any) []any {
	m, _ := doc.(map[string]any)
	ars, _ := m["allocation_requests"].([]any)
	var out []any
	for _, ar := range ars {
		if am, ok := ar.(map[string]any); ok {
			out = append(out, am["mappings"])
		}
	}
	return out
}

// keepCommon returns the elements of xs that ys holds too (arrays in any
// order), each at most as often as ys does.
func keepCommon(xs, ys []any) []any {
	count := map[string]int{}
	for _, y := range ys {
		j, _ := json.Marshal(sortedArrays(y))
		count[string(j)]++
	}
	var out []any
	for _, x := range xs {
		j, _ := json.Marshal(sortedArrays(x))
		if count[string(j)] > 0 {
			count[string(j)]--
			out = append(out, x)
		}
	}
	return out
}

// msgNoTrait starts the detail of a 400 for an unknown trait.
const msgNoTrait = "The server could not comply with the request since it is either malformed or otherwise incorrect.\n\n No such trait(s): "

// rootRequired returns the trait names of a candidates query's
// root_required values, without their "!".
func rootRequired(path string) []string {
	_, raw, _ := strings.Cut(path, "?")
	q, _ := url.ParseQuery(raw)
	var out []string
	for _, v := range q["root_required"] {
		for _, n := range strings.Split(v, ",") {
			out = append(out, strings.TrimPrefix(n, "!"))
		}
	}
	return out
}

// classInTwoGroups reports whether a candidates query asks for one
// resource class in two request groups.
func classInTwoGroups(path string) bool {
	_, raw, _ := strings.Cut(path, "?")
	q, err := url.ParseQuery(raw)
	if err != nil {
		return false
	}
	groups := map[string]int{}
	for k, vs := range q {
		if !strings.HasPrefix(k, "resources") {
			continue
		}
		seen := map[string]bool{}
		for _, v := range vs {
			for _, part := range strings.Split(v, ",") {
				rc, _, _ := strings.Cut(part, ":")
				if !seen[rc] {
					seen[rc] = true
					groups[rc]++
				}
			}
		}
	}
	for _, n := range groups {
		if n > 1 {
			return true
		}
	}
	return false
}

// dropDetails returns an error body without the errors' details.
func dropDetails(doc any) any {
	return withDetails(doc, func(string) any { return nil })
}

// withDetails returns doc, if it is an error body, with each error's
// detail replaced by what f makes of it (nil: none); otherwise doc.
func withDetails(doc any, f func(detail string) any) any {
	m, ok := doc.(map[string]any)
	if !ok {
		return doc
	}
	errs, ok := m["errors"].([]any)
	if !ok {
		return doc
	}
	var out []any
	for _, e := range errs {
		em, ok := e.(map[string]any)
		if !ok {
			return doc
		}
		c := map[string]any{}
		for k, v := range em {
			c[k] = v
		}
		delete(c, "detail")
		if d, ok := em["detail"].(string); ok {
			if nd := f(d); nd != nil {
				c["detail"] = nd
			}
		}
		out = append(out, c)
	}
	return map[string]any{"errors": out}
}

// diff describes how b differs from a, the Python service's answer; ""
// when they agree. Arrays may differ in order when anyOrder is set, and an
// error's detail may list names in another order: the Python service
// joins sets of strings, whose order changes from process to process.
func (a answer) diff(b answer, anyOrder bool) string {
	var out []string
	if a.status != b.status {
		out = append(out, fmt.Sprintf("status: Python %d, ours %d", a.status, b.status))
	}
	if _, ok := a.headers["Vary"]; !ok {
		// The Python service omits Vary on errors raised outside a
		// handler; this one always sends it.
		delete(b.headers, "Vary")
	}
	if !reflect.DeepEqual(a.headers, b.headers) {
		out = append(out, fmt.Sprintf("headers: Python %v, ours %v", a.headers, b.headers))
	}
	sameWords := reflect.DeepEqual(sortedDetail(a.body), sortedDetail(b.body))
	sameSorted := reflect.DeepEqual(sortedArrays(a.body), sortedArrays(b.body))
	if !reflect.DeepEqual(a.body, b.body) && !sameWords && !(anyOrder && sameSorted) {
		how := "body"
		if sameSorted {
			how = "body (order only)"
		}
		x, y := a.body, b.body
		if anyOrder {
			x, y = sortedArrays(x), sortedArrays(y)
		}
		out = append(out, how+":\n"+strings.Join(jsonDiff("$", x, y, nil), "\n"))
	}
	return strings.Join(out, "\n")
}

// sortedDetail returns doc with the words of each error detail sorted,
// or of the whole body when it is an HTML or text error.
func sortedDetail(doc any) any {
	words := func(d string) any {
		ws := strings.FieldsFunc(strings.ReplaceAll(d, "&#x27;", "'"), func(r rune) bool { return unicode.IsSpace(r) || r == ',' || r == '\'' })
		sort.Strings(ws)
		return ws
	}
	if text, ok := doc.(string); ok {
		return words(text)
	}
	return withDetails(doc, words)
}

// sortedArrays returns doc with every array sorted by its elements' JSON
// text and, at every depth, without the object members named in drop.
func sortedArrays(doc any, drop ...string) any {
	switch v := doc.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range v {
			if !slices.Contains(drop, k) {
				out[k] = sortedArrays(e, drop...)
			}
		}
		return out
	case []any:
		type keyed struct {
			key string
			v   any
		}
		ks := make([]keyed, len(v))
		for i, e := range v {
			ks[i].v = sortedArrays(e, drop...)
			b, _ := json.Marshal(ks[i].v)
			ks[i].key = string(b)
		}
		sort.Slice(ks, func(i, j int) bool { return ks[i].key < ks[j].key })
		out := make([]any, len(v))
		for i, k := range ks {
			out[i] = k.v
		}
		return out
	}
	return doc
}

// TestSortedArrays checks the normal forms the comparisons use: arrays
// sorted by their elements' JSON text at every depth and, for unordered,
// request ids gone at every depth.
func TestSortedArrays(t *testing.T) {
	t.Parallel()
	var doc any
	if err := json.Unmarshal([]byte(`{"request_id":"r1","b":[3,1,[2,1]],"c":[{"x":2,"request_id":"r2"},{"x":1}]}`), &doc); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		f    func(any) any
		want string
	}{
		{"sortedArrays", func(d any) any { return sortedArrays(d) }, `{"b":[1,3,[1,2]],"c":[{"request_id":"r2","x":2},{"x":1}],"request_id":"r1"}`},
		{"unordered", unordered, `{"b":[1,3,[1,2]],"c":[{"x":1},{"x":2}]}`},
	} {
		if got, _ := json.Marshal(tt.f(doc)); string(got) != tt.want {
			t.Errorf("%s = %s, want %s", tt.name, got, tt.want)
		}
	}
}

// The small world the generator draws names from.
var (
	diffProviders = []string{
		"7a1e0c5e-0b0a-4d4c-9a10-000000000001", "7a1e0c5e-0b0a-4d4c-9a10-000000000002",
		"7a1e0c5e-0b0a-4d4c-9a10-000000000003", "7a1e0c5e-0b0a-4d4c-9a10-000000000004",
		"7a1e0c5e-0b0a-4d4c-9a10-000000000005", "7a1e0c5e-0b0a-4d4c-9a10-000000000006",
		"7a1e0c5e-0b0a-4d4c-9a10-000000000007", "7a1e0c5e-0b0a-4d4c-9a10-000000000008",
		"7a1e0c5e-0b0a-4d4c-9a10-000000000009",
	}
	diffConsumers = []string{
		"c0c0c0c0-0b0a-4d4c-9a10-000000000001", "c0c0c0c0-0b0a-4d4c-9a10-000000000002",
		"c0c0c0c0-0b0a-4d4c-9a10-000000000003", "c0c0c0c0-0b0a-4d4c-9a10-000000000004",
	}
	diffAggregates = []string{"a9a9a9a9-0b0a-4d4c-9a10-000000000001", "a9a9a9a9-0b0a-4d4c-9a10-000000000002"}
	diffProjects   = []string{"p1p1p1p1-0000-4d4c-9a10-000000000001", "p2p2p2p2-0000-4d4c-9a10-000000000002"}
	diffClasses    = []string{"VCPU", "MEMORY_MB", "DISK_GB", "CUSTOM_GPU", "CUSTOM_FPGA", "IPV4_ADDRESS", "BOGUS"}
	diffTraits     = []string{"CUSTOM_FAST", "CUSTOM_SLOW", "HW_CPU_X86_AVX2", "COMPUTE_STATUS_DISABLED", "CUSTOM_NOPE", "MISC_SHARES_VIA_AGGREGATE"}
	diffTypes      = []string{"INSTANCE", "MIGRATION", "other", ""}
)

// generator makes the random requests. It reads the generations a
// valid write needs from ours.
type generator struct {
	t    *testing.T
	rnd  *rand.Rand
	ours string
}

func (g *generator) pick(xs []string) string { return xs[g.rnd.IntN(len(xs))] }

func (g *generator) chance(p float64) bool { return g.rnd.Float64() < p }

// version returns a random microversion, weighted to recent ones.
func (g *generator) version() string {
	switch {
	case g.chance(0.3):
		return "latest"
	case g.chance(0.02):
		return g.pick([]string{"1.40", "2.0", "1.a", "", "1.1_0", "1.99999999999999999999", "1", "1.5'", "+1.-0", "01.020"})
	case g.chance(0.5):
		return fmt.Sprintf("1.%d", 28+g.rnd.IntN(12))
	}
	return fmt.Sprintf("1.%d", g.rnd.IntN(40))
}

// provider returns a provider UUID, rarely one that is not in the world
// or not a UUID.
func (g *generator) provider() string {
	if g.chance(0.03) {
		return g.pick([]string{"not-a-uuid", "7a1e0c5e-0b0a-4d4c-9a10-00000000000f"})
	}
	return g.pick(diffProviders)
}

// generation returns what ours says a provider's (or with consumer, a
// consumer's) generation is, and sometimes a wrong one.
func (g *generator) generation(path, key string) any {
	if g.chance(0.1) {
		return g.pick([]string{"0", "1", "99"})[0] - '0'
	}
	st, out := g.get(path)
	if st != 200 {
		return g.rnd.IntN(3)
	}
	return out[key]
}

func (g *generator) get(path string) (int, map[string]any) {
	return tryCall(g.t, g.ours, "GET", path, nil)
}

func (g *generator) json(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// next returns the next request.
func (g *generator) next() request {
	r := request{version: g.version(), method: "GET", contentType: "application/json",
		accept: "application/json", token: "admin"}
	if g.chance(0.05) {
		r.accept = g.pick([]string{"", "*/*", "text/html", "application/xml", "application/*", "text/plain;q=0.5, application/json",
			"garbage", "application/json;level=1", "application/json;q=0, application/json", "*/*;q=1"})
	}
	if g.chance(0.03) {
		r.token = "user"
	}
	ops := []func(*request){
		g.createProvider, g.createProvider, g.updateProvider, g.deleteProvider, g.listProviders, g.showProvider,
		g.putInventories, g.putInventories, g.oneInventory, g.showInventories,
		g.putTraits, g.traitsCRUD, g.classesCRUD, g.putAggregates,
		g.putAllocations, g.putAllocations, g.postAllocations, g.deleteAllocations, g.showAllocations,
		g.usages, g.candidates, g.candidates, g.reshape, g.oddities,
	}
	ops[g.rnd.IntN(len(ops))](&r)
	if r.method == "GET" && g.chance(0.02) {
		r.method = "HEAD"
	}
	if r.body != nil && g.chance(0.02) {
		r.contentType = g.pick([]string{"text/plain", "application/json; charset=latin-1", "", "application/json; charset", "application/json ;", ";application/json"})
	}
	if g.chance(0.04) {
		g.httpOddity(&r)
	}
	if r.body != nil && g.chance(0.02) {
		r.body = r.body[:g.rnd.IntN(len(r.body))]
	}
	if r.body != nil && g.chance(0.03) {
		r.body = g.json(g.pick([]string{"null", "[]", "{}", "\"x\"", "{\"bogus\": 1}"}))
		r.body = r.body[1 : len(r.body)-1]
		r.body = []byte(strings.ReplaceAll(string(r.body), `\"`, `"`))
	}
	return r
}

// httpOddity rewrites r the way a careless or hostile client might, in
// what the HTTP layer reads: an escaped path character, dot segments, an
// empty segment, ';' between query parameters, a '%' that starts no
// escape, an unknown method, NaN for a number in the body.
func (g *generator) httpOddity(r *request) {
	path, query, _ := strings.Cut(r.path, "?")
	switch g.rnd.IntN(7) {
	case 0: // escape one letter, digit or '_' of the path
		var at []int
		for i := 1; i < len(path); i++ {
			if c := path[i]; c == '_' || c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' {
				at = append(at, i)
			}
		}
		if len(at) > 0 {
			i := at[g.rnd.IntN(len(at))]
			path = fmt.Sprintf("%s%%%02X%s", path[:i], path[i], path[i+1:])
		}
	case 1:
		path = g.pick([]string{"/x/..", "/.", ""}) + path
		if i := strings.LastIndexByte(path, '/'); i > 0 && g.chance(0.5) {
			path = path[:i] + "/." + path[i:]
		}
	case 2:
		path = strings.Replace(path, "/", "//", 1+g.rnd.IntN(2))
	case 3:
		query = strings.ReplaceAll(query, "&", ";")
	case 4:
		if query != "" {
			query += g.pick([]string{"%", "%zz", "%4", "&=x", "&x"})
		}
	case 5:
		r.method = g.pick([]string{"FOO", "get"})
	default:
		// Not for the reshaper: it stores whatever ratio it is given, and
		// the Python service then keeps an infinite one (this service
		// refuses it, a deliberate difference).
		if r.body != nil && r.path != "/reshaper" {
			re := regexp.MustCompile(`: ?-?[0-9]+(\.[0-9]+)?`)
			if loc := re.FindIndex(r.body); loc != nil {
				r.body = append(append(append([]byte{}, r.body[:loc[0]]...), []byte(": "+g.pick([]string{"NaN", "Infinity", "-Infinity"}))...), r.body[loc[1]:]...)
			}
		}
	}
	r.path = path
	if query != "" {
		r.path += "?" + query
	}
}

// oddities are requests beside the resources: the root, unknown paths and
// methods, and headers clients get wrong.
func (g *generator) oddities(r *request) {
	switch g.rnd.IntN(7) {
	case 0:
		r.path = "/"
	case 1:
		r.path = g.pick([]string{"/bogus", "/resource_providers/", "/traits/", "/allocations"})
	case 2:
		r.method, r.path = g.pick([]string{"PATCH", "POST", "DELETE"}), g.pick([]string{"/traits", "/usages", "/resource_providers/" + g.provider() + "/usages"})
	case 3:
		r.path = "/resource_providers/" + g.provider() + "/allocations"
	case 4:
		r.method, r.path = "PUT", "/resource_classes/"+g.pick(diffClasses)
		r.version = fmt.Sprintf("1.%d", 2+g.rnd.IntN(6))
		r.body = g.json(map[string]any{"name": g.pick(diffClasses)})
	case 5:
		r.path = "/resource_providers?name=" + url.QueryEscape(g.pick([]string{"naïve", "rp-1", "", "%"}))
	default:
		r.path = "/allocations/" + g.pick([]string{"not-a-uuid", diffConsumers[0]})
	}
}

func (g *generator) createProvider(r *request) {
	r.method, r.path = "POST", "/resource_providers"
	rp := g.pick(diffProviders)
	// Always with a uuid: a generated one would differ between the two.
	body := map[string]any{"name": "rp-" + rp[len(rp)-1:], "uuid": rp}
	if g.chance(0.3) {
		body["parent_provider_uuid"] = g.provider()
	}
	if g.chance(0.05) {
		body["name"] = g.pick([]string{"", strings.Repeat("x", 201), "naïve", "a\u0000b"})
	}
	r.body = g.json(body)
}

func (g *generator) updateProvider(r *request) {
	rp := g.provider()
	r.method, r.path = "PUT", "/resource_providers/"+rp
	body := map[string]any{"name": "rp-" + rp[len(rp)-1:]}
	if g.chance(0.2) {
		body["name"] = "renamed-" + g.pick([]string{"1", "2"})
	}
	if g.chance(0.5) {
		if g.chance(0.2) {
			body["parent_provider_uuid"] = nil
		} else {
			body["parent_provider_uuid"] = g.provider()
		}
	}
	if g.chance(0.05) {
		body["generation"] = 1
	}
	r.body = g.json(body)
}

func (g *generator) deleteProvider(r *request) {
	if g.chance(0.5) { // deletes are rarer than the rest
		g.showProvider(r)
		return
	}
	r.method, r.path = "DELETE", "/resource_providers/"+g.provider()
}

func (g *generator) showProvider(r *request) {
	r.path = "/resource_providers/" + g.provider()
	if g.chance(0.3) {
		r.path += g.pick([]string{"/traits", "/aggregates", "/usages", "/allocations"})
	}
}

func (g *generator) listProviders(r *request) {
	q := url.Values{}
	for range g.rnd.IntN(3) {
		switch g.rnd.IntN(9) {
		case 0:
			q.Add("name", "rp-"+g.pick([]string{"1", "2", "9"}))
		case 1:
			q.Add("uuid", g.provider())
		case 2:
			q.Add("member_of", g.memberOf())
		case 3:
			q.Add("resources", g.resources())
		case 4:
			q.Add("required", g.required())
		case 5:
			q.Add("in_tree", g.provider())
		case 6:
			q.Add("bogus", "1")
		case 7:
			q.Add("member_of", "!"+g.pick(diffAggregates))
		case 8:
			q.Add(g.pick([]string{"resources", "required", "member_of", "in_tree", "name", "uuid"}),
				g.pick([]string{"VCPU:0", "", "in:", "!", "x", "VCPU:1,VCPU:1", "in:!CUSTOM_FAST", "!in:" + diffAggregates[0]}))
		}
	}
	r.path = "/resource_providers"
	if len(q) > 0 {
		r.path += "?" + q.Encode()
	}
}

func (g *generator) memberOf() string {
	if g.chance(0.3) {
		return "in:" + diffAggregates[0] + "," + diffAggregates[1]
	}
	return g.pick(diffAggregates)
}

func (g *generator) resources() string {
	var parts []string
	for range 1 + g.rnd.IntN(2) {
		parts = append(parts, fmt.Sprintf("%s:%d", g.pick(diffClasses), 1+g.rnd.IntN(4)))
	}
	if g.chance(0.03) {
		parts = append(parts, g.pick([]string{"VCPU", "VCPU:x", "VCPU:-1", ":1"}))
	}
	return strings.Join(parts, ",")
}

func (g *generator) required() string {
	t := g.pick(diffTraits)
	switch {
	case g.chance(0.2):
		return "!" + t
	case g.chance(0.2):
		// At most one unknown name per set: the Python service names
		// the one its string hashing puts first.
		return "in:" + t + "," + g.pick([]string{"HW_CPU_X86_AVX2", "COMPUTE_STATUS_DISABLED"})
	}
	return t
}

// inventory returns an inventory record for class rc of provider rp. It
// never leaves less capacity than rp's allocations of rc use: the Python
// service (8.0.0) then refuses every allocation change of that class, while
// upstream master, which this service follows, accepts those that do not
// add to the excess.
func (g *generator) inventory(rp, rc string) map[string]any {
	inv := g.someInventory()
	_, out := g.get("/resource_providers/" + rp + "/usages")
	usages, _ := out["usages"].(map[string]any)
	if used, _ := usages[rc].(float64); used > 0 {
		// The edge values of someInventory (1e-400, 0.0, …) count too:
		// anything but a number known to leave room is replaced.
		if t, ok := inv["total"].(int); !ok || float64(t) < used {
			inv["total"] = int(used)
		}
		delete(inv, "reserved")
		if r, ok := inv["allocation_ratio"].(float64); !ok || r < 1 {
			inv["allocation_ratio"] = 1.0
		}
	}
	return inv
}

func (g *generator) someInventory() map[string]any {
	inv := map[string]any{"total": 1 + g.rnd.IntN(16)}
	if g.chance(0.3) {
		inv["reserved"] = g.rnd.IntN(3)
	}
	if g.chance(0.3) {
		f, _ := strconv.ParseFloat(g.pick([]string{"1.0", "1.5", "16.0", "0.5", "1.1", "0.3", "2.7"}), 64)
		inv["allocation_ratio"] = f
	}
	if g.chance(0.2) {
		inv["max_unit"] = 1 + g.rnd.IntN(8)
	}
	if g.chance(0.1) {
		inv["step_size"] = 1 + g.rnd.IntN(2)
	}
	if g.chance(0.1) {
		inv["min_unit"] = 1 + g.rnd.IntN(2)
	}
	if g.chance(0.03) {
		inv[g.pick([]string{"total", "reserved", "bogus"})] = g.pick([]string{"x", "-1", "0"})
	}
	if g.chance(0.05) {
		// Numbers at and past the edges of the columns and of JSON.
		inv[g.pick([]string{"total", "reserved", "min_unit", "max_unit", "step_size", "allocation_ratio"})] =
			json.RawMessage(g.pick([]string{"2147483647", "2147483648", "9223372036854775808", "1e20", "4.0", "-0", "0.0", "1e-400", "3.4028235e38", "true", "null"}))
	}
	return inv
}

func (g *generator) putInventories(r *request) {
	rp := g.provider()
	r.method, r.path = "PUT", "/resource_providers/"+rp+"/inventories"
	invs := map[string]any{}
	for range g.rnd.IntN(3) {
		rc := g.pick(diffClasses)
		invs[rc] = g.inventory(rp, rc)
	}
	r.body = g.json(map[string]any{
		"resource_provider_generation": g.generation("/resource_providers/"+rp, "generation"),
		"inventories":                  invs,
	})
	if g.chance(0.1) {
		r.method = "DELETE"
		r.body = nil
	}
}

func (g *generator) oneInventory(r *request) {
	rp, rc := g.provider(), g.pick(diffClasses)
	r.path = "/resource_providers/" + rp + "/inventories/" + rc
	switch g.rnd.IntN(4) {
	case 0:
		r.method = "PUT"
	case 1:
		r.method, r.path = "POST", "/resource_providers/"+rp+"/inventories"
	case 2:
		r.method = "DELETE"
		return
	default:
		return
	}
	body := g.inventory(rp, rc)
	body["resource_provider_generation"] = g.generation("/resource_providers/"+rp, "generation")
	if r.method == "POST" {
		body["resource_class"] = rc
	}
	r.body = g.json(body)
}

func (g *generator) showInventories(r *request) {
	r.path = "/resource_providers/" + g.provider() + "/inventories"
}

func (g *generator) putTraits(r *request) {
	rp := g.provider()
	r.method, r.path = "PUT", "/resource_providers/"+rp+"/traits"
	var traits []string
	for range g.rnd.IntN(3) {
		traits = append(traits, g.pick(diffTraits))
	}
	if traits == nil {
		traits = []string{}
	}
	r.body = g.json(map[string]any{
		"resource_provider_generation": g.generation("/resource_providers/"+rp, "generation"),
		"traits":                       traits,
	})
	if g.chance(0.1) {
		r.method, r.body = "DELETE", nil
	}
}

func (g *generator) traitsCRUD(r *request) {
	name := g.pick(diffTraits)
	switch g.rnd.IntN(4) {
	case 0:
		r.method, r.path = "PUT", "/traits/"+name
	case 1:
		r.method, r.path = "DELETE", "/traits/"+name
	case 2:
		r.path = "/traits/" + name
	default:
		r.path = "/traits?" + g.pick([]string{"name=startswith:CUSTOM", "associated=true", "associated=false", "name=in:CUSTOM_FAST,HW_CPU_X86_AVX2", "name=bogus"})
	}
}

func (g *generator) classesCRUD(r *request) {
	name := g.pick(diffClasses)
	switch g.rnd.IntN(5) {
	case 0:
		r.method, r.path = "PUT", "/resource_classes/"+name
	case 1:
		r.method, r.path = "DELETE", "/resource_classes/"+name
	case 2:
		r.method, r.path = "POST", "/resource_classes"
		r.body = g.json(map[string]any{"name": name})
	case 3:
		r.path = "/resource_classes/" + name
	default:
		r.path = "/resource_classes"
	}
}

func (g *generator) putAggregates(r *request) {
	rp := g.provider()
	r.method, r.path = "PUT", "/resource_providers/"+rp+"/aggregates"
	aggs := []string{}
	for range g.rnd.IntN(3) {
		aggs = append(aggs, g.pick(diffAggregates))
	}
	if g.chance(0.5) {
		r.body = g.json(map[string]any{
			"resource_provider_generation": g.generation("/resource_providers/"+rp, "generation"),
			"aggregates":                   aggs,
		})
	} else {
		r.body = g.json(aggs)
	}
}

// allocations returns the dict form of an allocation of 0–2 providers,
// mostly of classes they have and amounts that may fit.
func (g *generator) allocations() map[string]any {
	out := map[string]any{}
	n := 1 + g.rnd.IntN(2)
	if g.chance(0.1) {
		n = 0
	}
	for range n {
		var rp string
		var have map[string]any
		for try := 0; try < 3 && len(have) == 0; try++ { // prefer providers with inventory
			rp = g.provider()
			_, invs := g.get("/resource_providers/" + rp + "/inventories")
			have, _ = invs["inventories"].(map[string]any)
		}
		res := map[string]any{}
		for range 1 + g.rnd.IntN(2) {
			if len(have) > 0 && g.chance(0.85) {
				res[g.pick(slices.Sorted(maps.Keys(have)))] = 1 + g.rnd.IntN(2)
				continue
			}
			res[g.pick(diffClasses)] = g.rnd.IntN(5)
			if g.chance(0.05) {
				res[g.pick(diffClasses)] = json.RawMessage(g.pick([]string{"2147483648", "1.0", "2.5", "-1", "1e3", "null"}))
			}
		}
		out[rp] = map[string]any{"resources": res}
	}
	return out
}

// allocationBody returns a PUT /allocations/{consumer} body in the form
// of version v (mostly).
func (g *generator) allocationBody(consumer string, minor int) map[string]any {
	allocs := g.allocations()
	body := map[string]any{}
	if minor < 12 && g.chance(0.9) {
		var list []any
		for _, rp := range slices.Sorted(maps.Keys(allocs)) { // the same body for a seed
			a := allocs[rp]
			list = append(list, map[string]any{"resource_provider": map[string]any{"uuid": rp}, "resources": a.(map[string]any)["resources"]})
		}
		body["allocations"] = list
	} else {
		body["allocations"] = allocs
	}
	if minor >= 8 || g.chance(0.1) {
		body["project_id"], body["user_id"] = g.pick(diffProjects), "user"
	}
	if minor >= 28 || g.chance(0.1) {
		if g.chance(0.7) {
			body["consumer_generation"] = g.generation("/allocations/"+consumer, "consumer_generation")
		} else {
			body["consumer_generation"] = nil
		}
	}
	if minor >= 38 || g.chance(0.1) {
		body["consumer_type"] = g.pick([]string{"INSTANCE", "MIGRATION"})
		if g.chance(0.1) {
			body["consumer_type"] = g.pick(diffTypes)
		}
	}
	if g.chance(0.1) {
		m := map[string]any{}
		for _, rp := range slices.Sorted(maps.Keys(allocs)) {
			m[g.pick([]string{"", "1", "_NET"})] = []string{rp}
		}
		body["mappings"] = m
	}
	return body
}

// minor returns the minor version r asks for (latest: 39).
func minor(r *request) int {
	if r.version == "latest" {
		return 39
	}
	n, err := strconv.Atoi(strings.TrimPrefix(r.version, "1."))
	if err != nil {
		return 0
	}
	return n
}

func (g *generator) putAllocations(r *request) {
	c := g.pick(diffConsumers)
	r.method, r.path = "PUT", "/allocations/"+c
	r.body = g.json(g.allocationBody(c, minor(r)))
}

func (g *generator) postAllocations(r *request) {
	r.method, r.path = "POST", "/allocations"
	body := map[string]any{}
	for range 1 + g.rnd.IntN(2) {
		c := g.pick(diffConsumers)
		body[c] = g.allocationBody(c, max(minor(r), 12))
	}
	r.body = g.json(body)
}

func (g *generator) deleteAllocations(r *request) {
	r.method, r.path = "DELETE", "/allocations/"+g.pick(diffConsumers)
}

func (g *generator) showAllocations(r *request) {
	r.path = "/allocations/" + g.pick(diffConsumers)
}

func (g *generator) usages(r *request) {
	q := url.Values{"project_id": {g.pick(diffProjects)}}
	if g.chance(0.3) {
		q.Set("user_id", "user")
	}
	if g.chance(0.3) {
		q.Set("consumer_type", g.pick(append([]string{"all", "unknown"}, diffTypes...)))
	}
	if g.chance(0.05) {
		q.Del("project_id")
	}
	r.path = "/usages?" + q.Encode()
}

// knownResources is resources without unknown classes or bad syntax, so
// that most candidate queries get as far as generation.
func (g *generator) knownResources() string {
	if g.chance(0.2) {
		return g.resources()
	}
	var parts []string
	for range 1 + g.rnd.IntN(3) {
		parts = append(parts, fmt.Sprintf("%s:%d", g.pick(diffClasses[:6]), 1+g.rnd.IntN(3)))
	}
	return strings.Join(parts, ",")
}

func (g *generator) candidates(r *request) {
	q := url.Values{}
	q.Set("resources", g.knownResources())
	if g.chance(0.3) {
		q.Set("required", g.required())
	}
	if g.chance(0.2) {
		q.Set("member_of", g.memberOf())
	}
	if g.chance(0.15) {
		q.Set("resources2", g.knownResources())
	}
	if g.chance(0.3) {
		q.Set("resources1", g.knownResources())
		if g.chance(0.5) {
			q.Set("required1", g.required())
		}
		q.Set("group_policy", g.pick([]string{"none", "isolate"}))
	}
	if g.chance(0.2) {
		q.Set("limit", strconv.Itoa(1+g.rnd.IntN(3)))
	}
	if g.chance(0.1) {
		q.Set("in_tree", g.provider())
	}
	if g.chance(0.1) {
		q.Set("root_required", g.pick([]string{"CUSTOM_FAST", "!CUSTOM_SLOW"}))
	}
	if g.chance(0.1) {
		q.Set("member_of", "!"+g.pick(diffAggregates))
	}
	if g.chance(0.15) {
		// A resourceless group (1.36+) tied to another by same_subtree.
		q.Set("required_NET", g.pick(diffTraits))
		q.Set("same_subtree", g.pick([]string{"_NET,1", "_NET", "1,_NET,_X"}))
		if g.chance(0.5) {
			q.Set("resources_NET", g.resources())
		}
		q.Set("group_policy", g.pick([]string{"none", "isolate"}))
	}
	if g.chance(0.05) {
		q.Del("resources")
	}
	if g.chance(0.1) {
		// A value or parameter the query schema or parser rejects.
		k, v := g.pick([]string{"limit", "group_policy", "member_of", "in_tree", "resources", "required", "root_required", "same_subtree", "resources_", "resources1", "bogus", "member_of1"}),
			g.pick([]string{"0", "-1", "a", "", "bogus", "in:", "!in:x", "VCPU:1,VCPU:2", "!", "in:!CUSTOM_FAST", "1,1", "!CUSTOM_FAST,CUSTOM_FAST", "VCPU:1.5"})
		q.Add(k, v)
	}
	r.path = "/allocation_candidates?" + q.Encode()
}

func (g *generator) reshape(r *request) {
	r.method, r.path = "POST", "/reshaper"
	invs := map[string]any{}
	for range 1 + g.rnd.IntN(2) {
		rp := g.provider()
		inv := map[string]any{}
		for range g.rnd.IntN(3) {
			rc := g.pick(diffClasses)
			inv[rc] = g.inventory(rp, rc)
		}
		invs[rp] = map[string]any{
			"resource_provider_generation": g.generation("/resource_providers/"+rp, "generation"),
			"inventories":                  inv,
		}
	}
	allocs := map[string]any{}
	for range g.rnd.IntN(3) {
		c := g.pick(diffConsumers)
		allocs[c] = g.allocationBody(c, 39)
	}
	r.body = g.json(map[string]any{"inventories": invs, "allocations": allocs})
}

// jsonDiff appends to out, for at most 8 places, where b differs from a.
func jsonDiff(path string, a, b any, out []string) []string {
	if len(out) >= 8 {
		return out
	}
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			break
		}
		keys := map[string]bool{}
		for k := range x {
			keys[k] = true
		}
		for k := range y {
			keys[k] = true
		}
		var sortedKeys []string
		for k := range keys {
			sortedKeys = append(sortedKeys, k)
		}
		sort.Strings(sortedKeys)
		for _, k := range sortedKeys {
			out = jsonDiff(path+"."+k, x[k], y[k], out)
		}
		return out
	case []any:
		y, ok := b.([]any)
		if !ok {
			break
		}
		if len(x) != len(y) {
			onlyA, onlyB := minus(x, y), minus(y, x)
			return append(out, fmt.Sprintf("  %s: only Python has %s; only ours has %s", path, onlyA, onlyB))
		}
		for i := range x {
			out = jsonDiff(fmt.Sprintf("%s[%d]", path, i), x[i], y[i], out)
		}
		return out
	}
	if reflect.DeepEqual(a, b) {
		return out
	}
	pa, _ := json.Marshal(a)
	pb, _ := json.Marshal(b)
	const max = 600
	if len(pa) > max {
		pa = append(pa[:max], "…"...)
	}
	if len(pb) > max {
		pb = append(pb[:max], "…"...)
	}
	return append(out, fmt.Sprintf("  %s: Python %s, ours %s", path, pa, pb))
}

// minus returns the JSON texts of the elements of a that b lacks.
func minus(a, b []any) []string {
	var out []string
	for _, x := range a {
		found := false
		for _, y := range b {
			if reflect.DeepEqual(x, y) {
				found = true
				break
			}
		}
		if !found {
			t, _ := json.Marshal(x)
			if len(t) > 300 {
				t = append(t[:300], "…"...)
			}
			out = append(out, string(t))
		}
	}
	return out
}

// dump describes the world as ours has it: every provider with its
// parent, inventories, usages, traits and aggregates (PLACEMENT_DIFF_DUMP).
func (g *generator) dump() string {
	var b strings.Builder
	b.WriteString("the world as ours has it:\n")
	for _, rp := range diffProviders {
		st, p := g.get("/resource_providers/" + rp)
		if st != 200 {
			continue
		}
		fmt.Fprintf(&b, "%s parent %v root %v\n", rp, p["parent_provider_uuid"], p["root_provider_uuid"])
		for _, part := range []string{"inventories", "usages", "traits", "aggregates"} {
			_, out := g.get("/resource_providers/" + rp + "/" + part)
			delete(out, "resource_provider_generation")
			data, _ := json.Marshal(out)
			fmt.Fprintf(&b, "  %s\n", data)
		}
	}
	return b.String()
}
