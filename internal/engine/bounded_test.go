package engine_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	. "github.com/openstack-placement-go/placement/internal/engine"
	"github.com/openstack-placement-go/placement/internal/handler/candidate"
	"github.com/openstack-placement-go/placement/internal/placement"
)

// wideWorld is issue 11's reproduction: one root with VCPU and children
// child providers with CUSTOM_GPU total 6 each. Eight granular groups of
// CUSTOM_GPU:1 with group_policy=none make children^8 candidates.
func wideWorld(t testing.TB, children int) *world {
	provs := []tp{{name: "ROOT", inv: []Inventory{iv("VCPU", 64)}}}
	for i := 0; i < children; i++ {
		provs = append(provs, tp{name: fmt.Sprintf("GPU%d", i), parent: "ROOT", inv: []Inventory{iv("CUSTOM_GPU", 6)}})
	}
	return newWorld(t, provs...)
}

func wideQuery(groups int) string {
	q := "resources=VCPU:1&group_policy=none"
	for i := 1; i <= groups; i++ {
		q += fmt.Sprintf("&resources%d=CUSTOM_GPU:1", i)
	}
	return q
}

// wideProduct is an unsuffixed group whose classes each sit on every child:
// the per-anchor option rows alone are children^classes.
func wideProduct(t testing.TB, children, classes int) (*world, string) {
	provs := []tp{{name: "ROOT", inv: []Inventory{iv("VCPU", 64)}}}
	var res []string
	for k := 0; k < classes; k++ {
		res = append(res, fmt.Sprintf("CUSTOM_C%d:1", k))
	}
	for i := 0; i < children; i++ {
		var invs []Inventory
		for k := 0; k < classes; k++ {
			invs = append(invs, iv(fmt.Sprintf("CUSTOM_C%d", k), 4))
		}
		provs = append(provs, tp{name: fmt.Sprintf("P%d", i), parent: "ROOT", inv: invs})
	}
	return newWorld(t, provs...), "resources=" + strings.Join(res, ",")
}

// wideProducts is wideProduct's tree repeated under roots roots: a
// breadth-first walk keeps every root's option rows at once.
func wideProducts(t testing.TB, roots, children, classes int) (*world, string) {
	var provs []tp
	var res []string
	for k := 0; k < classes; k++ {
		res = append(res, fmt.Sprintf("CUSTOM_C%d:1", k))
	}
	for r := 0; r < roots; r++ {
		root := fmt.Sprintf("ROOT%d", r)
		provs = append(provs, tp{name: root})
		for i := 0; i < children; i++ {
			var invs []Inventory
			for k := 0; k < classes; k++ {
				invs = append(invs, iv(fmt.Sprintf("CUSTOM_C%d", k), 4))
			}
			provs = append(provs, tp{name: fmt.Sprintf("R%dP%d", r, i), parent: root, inv: invs})
		}
	}
	return newWorld(t, provs...), "resources=" + strings.Join(res, ",")
}

func parse(t testing.TB, w *world, q string) *Request {
	t.Helper()
	req, err := candidate.ParseQuery(w.subst(q), ver(39))
	if err != nil {
		t.Fatalf("ParseQuery(%q): %v", q, err)
	}
	return req
}

// hugeCase is a request whose full walk would take hours.
type hugeCase struct {
	name string
	w    *world
	req  *Request
}

// hugeCases returns the wide tree, the huge product and the fifty roots.
func hugeCases(t *testing.T) []hugeCase {
	wide := wideWorld(t, 12)
	product, productQuery := wideProduct(t, 12, 8)
	products, productsQuery := wideProducts(t, 50, 8, 5)
	return []hugeCase{
		{"a wide tree with eight granular groups", wide, parse(t, wide, wideQuery(8))},
		{"an unsuffixed group whose option rows are a huge product", product, parse(t, product, productQuery)},
		{"fifty roots with large products", products, parse(t, products, productsQuery)},
	}
}

func TestGenerate_StopsWhenContextEnds(t *testing.T) {
	t.Parallel()
	cases := hugeCases(t)
	for _, c := range cases {
		for _, o := range []struct {
			name string
			opts Options
		}{{" breadth-first", Options{Strategy: BreadthFirst}}, {"", Options{}}} {
			t.Run(c.name+o.name+" stops promptly once cancelled", func(t *testing.T) {
				t.Parallel()
				ctx, cancel := context.WithCancel(context.Background())
				time.AfterFunc(50*time.Millisecond, cancel)
				start := time.Now()
				res, err := Generate(ctx, c.w.snap, c.req, o.opts)
				took := time.Since(start)
				if !errors.Is(err, context.Canceled) || res != nil {
					t.Fatalf("Generate = %v, %v; want context.Canceled", res, err)
				}
				// The race detector slows the loops down tenfold; a second
				// is still far below the hours the full walk would take.
				if took > time.Second {
					t.Errorf("Generate returned %v after the cancellation", took-50*time.Millisecond)
				}
			})
		}
		t.Run(c.name+" does not start past its deadline", func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
			defer cancel()
			if _, err := Generate(ctx, c.w.snap, c.req, Options{}); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Generate error = %v, want context.DeadlineExceeded", err)
			}
		})
	}
}

func TestGenerate_MemoryLimit(t *testing.T) {
	t.Parallel()
	cases := hugeCases(t)
	wide := cases[0].w
	for _, c := range cases {
		t.Run(c.name+" breadth-first fails over a 1 MiB budget", func(t *testing.T) {
			t.Parallel()
			res, err := Generate(context.Background(), c.w.snap, c.req, Options{Strategy: BreadthFirst, MemoryLimit: 1 << 20})
			if res != nil || placement.CodeOf(err) != placement.CodeCandidatesMemoryLimit {
				t.Fatalf("Generate = %v, %v; want the memory limit", res, err)
			}
		})
		t.Run(c.name+" fails over a 1 MiB budget", func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			res, err := Generate(context.Background(), c.w.snap, c.req, Options{MemoryLimit: 1 << 20})
			if res != nil || placement.KindOf(err) != placement.Invalid || placement.CodeOf(err) != placement.CodeCandidatesMemoryLimit {
				t.Fatalf("Generate = %v, %v; want an Invalid error coded %s", res, err, placement.CodeCandidatesMemoryLimit)
			}
			if want := fmt.Sprintf(MsgMemoryLimit, 1); err.Error() != want {
				t.Errorf("message %q, want %q", err, want)
			}
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("reaching a 1 MiB budget took %v", took)
			}
		})
	}

	t.Run("the budget scales with the number of candidates", func(t *testing.T) {
		t.Parallel()
		// 12^3 = 1728 candidates fit in 4 MiB; 12^4 = 20736 of them,
		// each with five allocations and mappings, do not.
		if _, err := Generate(context.Background(), wide.snap, parse(t, wide, wideQuery(3)), Options{MemoryLimit: 4 << 20}); err != nil {
			t.Errorf("three groups: %v", err)
		}
		if _, err := Generate(context.Background(), wide.snap, parse(t, wide, wideQuery(4)), Options{MemoryLimit: 4 << 20}); placement.CodeOf(err) != placement.CodeCandidatesMemoryLimit {
			t.Errorf("four groups: error %v, want the memory limit", err)
		}
	})

	t.Run("a limit without randomisation keeps a wide request within budget", func(t *testing.T) {
		t.Parallel()
		req := parse(t, wide, wideQuery(8)+"&limit=1000")
		res, err := Generate(context.Background(), wide.snap, req, Options{MemoryLimit: 1 << 20})
		if err != nil || len(res.Requests) != 1000 {
			t.Fatalf("Generate = %d candidates, %v; want 1000", len(res.Requests), err)
		}
	})

	t.Run("candidates hidden below 1.29 do not count against the budget", func(t *testing.T) {
		t.Parallel()
		// Every one of the 12^4 candidates uses the root and a child, so
		// below 1.29 all are hidden: the answer is empty, not an error.
		req, err := candidate.ParseQuery(wideQuery(4), ver(28))
		if err != nil {
			t.Fatal(err)
		}
		res, err := Generate(context.Background(), wide.snap, req, Options{MemoryLimit: 1 << 20})
		if err != nil || len(res.Requests) != 0 {
			t.Fatalf("Generate = %v, %v; want no candidates", res, err)
		}
	})

	t.Run("max_allocation_candidates keeps a wide request within budget", func(t *testing.T) {
		t.Parallel()
		res, err := Generate(context.Background(), wide.snap, parse(t, wide, wideQuery(8)), Options{MemoryLimit: 1 << 20, MaxCandidates: 500})
		if err != nil || len(res.Requests) != 500 {
			t.Fatalf("Generate = %d candidates, %v; want 500", len(res.Requests), err)
		}
	})
}

// TestGenerate_BudgetDoesNotChangeAnswers: a budget large enough for the
// answer leaves it exactly as without one, and a budget too small for it
// fails instead of returning a truncated list.
func TestGenerate_BudgetDoesNotChangeAnswers(t *testing.T) {
	t.Parallel()
	for seed := 0; seed < 300; seed++ {
		_, w, req := randomCase(t, seed, 11)
		want := generate(t, w.snap, req, Options{})
		got := generate(t, w.snap, req, Options{MemoryLimit: 1 << 30})
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("seed %d: a 1 GiB budget changed the answer", seed)
		}
		if len(want.Requests) == 0 {
			continue
		}
		res, err := Generate(context.Background(), w.snap, req, Options{MemoryLimit: 1})
		if res != nil || placement.CodeOf(err) != placement.CodeCandidatesMemoryLimit {
			t.Fatalf("seed %d: a 1-byte budget gave %v, %v", seed, res, err)
		}
	}
}

func TestGenerate_RandomSampleIsBounded(t *testing.T) {
	t.Parallel()
	wide := wideWorld(t, 12)

	t.Run("randomize with a limit keeps only the sample in memory", func(t *testing.T) {
		t.Parallel()
		// 12^5 = 248832 candidates need over 100 MiB when all are kept.
		req := parse(t, wide, wideQuery(5)+"&limit=10")
		opt := Options{Randomize: true, MemoryLimit: 1 << 20, Rand: rand.New(rand.NewPCG(1, 2))}
		res, err := Generate(context.Background(), wide.snap, req, opt)
		if err != nil || len(res.Requests) != 10 {
			t.Fatalf("Generate = %v, %v; want 10 candidates", res, err)
		}
		if _, err := Generate(context.Background(), wide.snap, parse(t, wide, wideQuery(5)), opt); placement.CodeOf(err) != placement.CodeCandidatesMemoryLimit {
			t.Errorf("without a limit: error %v, want the memory limit", err)
		}
	})

	t.Run("the sample is uniform over all candidates", func(t *testing.T) {
		t.Parallel()
		all := wide.shows(generate(t, wide.snap, parse(t, wide, wideQuery(2)), Options{}), true)
		if len(all) != 144 {
			t.Fatalf("%d candidates, want 144", len(all))
		}
		req := parse(t, wide, wideQuery(2)+"&limit=3")
		picks := map[string]int{}
		firsts := map[string]int{}
		const runs = 3000
		for i := 0; i < runs; i++ {
			res := generate(t, wide.snap, req, Options{Randomize: true, Rand: rand.New(rand.NewPCG(uint64(i), 3))})
			got := wide.shows(res, true)
			if len(got) != 3 || got[0] == got[1] || got[1] == got[2] {
				t.Fatalf("run %d: sample %q, want 3 distinct candidates", i, got)
			}
			for _, c := range got {
				picks[c]++
			}
			firsts[wide.show(res.Requests[0], true)]++
		}
		// Each candidate is expected runs*3/144 = 62.5 times; with these
		// seeds every count lies well inside [30, 100] for a uniform
		// sample, and a sampler biased towards the first or last
		// candidates would leave some near zero.
		for _, c := range all {
			if n := picks[c]; n < 30 || n > 100 {
				t.Errorf("candidate %s picked %d times in %d samples of 3, want about 62", c, n, runs)
			}
		}
		if len(firsts) < 130 {
			t.Errorf("only %d distinct candidates came first: the sample is not shuffled", len(firsts))
		}
	})
}

// deviceHost is a host whose children children hold total CUSTOM_DEV
// each; child i has the trait traitOf(i), if not "".
func deviceHost(t testing.TB, children, total int, traitOf func(i int) string) *world {
	provs := []tp{{name: "ROOT", inv: []Inventory{iv("VCPU", 64)}}}
	for i := 0; i < children; i++ {
		p := tp{name: fmt.Sprintf("DEV%d", i), parent: "ROOT", inv: []Inventory{iv("CUSTOM_DEV", total)}}
		if trait := traitOf(i); trait != "" {
			p.traits = []string{trait}
		}
		provs = append(provs, p)
	}
	return newWorld(t, provs...)
}

// bothWalks are the two strategies, by name.
var bothWalks = map[string]Options{"depth-first": {}, "breadth-first": {Strategy: BreadthFirst}}

// atOnce generates the candidates of query q over w with o, failing the
// test unless generation ends within a second (the walks these tests
// guard against take hours).
func atOnce(t *testing.T, w *world, q string, o Options) []AllocationRequest {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	res, err := Generate(ctx, w.snap, parse(t, w, q), o)
	if err != nil {
		t.Fatalf("Generate: %v after %v; want an answer at once", err, time.Since(start))
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("answered after %v", took)
	}
	return res.Requests
}

// TestGenerate_MoreThanATreeHas: requests that ask a wide tree for more
// than it has end at once, rather than after place has tried every
// permutation of their identical groups over the identical children
// (hours: 12!/(12-k)! partial products for each k). Each is checked
// against one group fewer, which fits.
func TestGenerate_MoreThanATreeHas(t *testing.T) {
	t.Parallel()
	// The first half of the children are CUSTOM_A, the others CUSTOM_B.
	devices := func(children, total int) *world {
		return deviceHost(t, children, total, func(i int) string {
			if i < children/2 {
				return "CUSTOM_A"
			}
			return "CUSTOM_B"
		})
	}
	groups := func(n, amount int, policy string) string {
		q := "resources=VCPU:1&group_policy=" + policy
		for i := 1; i <= n; i++ {
			q += fmt.Sprintf("&resources%d=CUSTOM_DEV:%d", i, amount)
		}
		return q
	}
	// ofA is n groups of one CUSTOM_A device and one of a CUSTOM_B device.
	ofA := func(n int) string {
		q := "resources=VCPU:1&group_policy=none&resources0=CUSTOM_DEV:1&required0=CUSTOM_B"
		for i := 1; i <= n; i++ {
			q += fmt.Sprintf("&resources%d=CUSTOM_DEV:1&required%d=CUSTOM_A", i, i)
		}
		return q
	}
	for _, c := range []struct {
		name      string
		w         *world
		fits, not string
	}{
		{"one device more than the children have", devices(12, 1), groups(12, 1, "none"), groups(13, 1, "none")},
		{"one group more than the children can host", devices(12, 3), groups(12, 2, "none"), groups(13, 2, "none")},
		{"one isolated group more than there are children", devices(12, 8), groups(12, 1, "isolate"), groups(13, 1, "isolate")},
		{"one device more than the children of a trait have", devices(24, 1), ofA(12), ofA(13)},
	} {
		for walk, o := range bothWalks {
			t.Run(c.name+", "+walk, func(t *testing.T) {
				t.Parallel()
				limited := Options{Strategy: o.Strategy, MaxCandidates: 1}
				if res := generate(t, c.w.snap, parse(t, c.w, c.fits), limited); len(res.Requests) != 1 {
					t.Fatalf("%d candidates for %s, want 1", len(res.Requests), c.fits)
				}
				if n := len(atOnce(t, c.w, c.not, o)); n != 0 {
					t.Fatalf("%d candidates, want none", n)
				}
			})
		}
	}
}

// TestGenerate_DeadEnds: a walk whose first choices leave a later group
// without a provider finds its candidate at once. Thirteen children hold
// one device each (eight under isolate); twelve groups take any of them,
// the last only the first child, which the first group takes first, so
// that without the lookahead place would try every assignment of the
// groups between to the other children before moving the first group.
func TestGenerate_DeadEnds(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		policy string
		total  int
	}{{"none", 1}, {"isolate", 8}} {
		w := deviceHost(t, 13, c.total, func(i int) string {
			if i == 0 {
				return "CUSTOM_B"
			}
			return ""
		})
		q := "resources=VCPU:1&group_policy=" + c.policy
		for i := 1; i <= 12; i++ {
			q += fmt.Sprintf("&resources%d=CUSTOM_DEV:1", i)
		}
		q += "&resources13=CUSTOM_DEV:1&required13=CUSTOM_B&limit=1"
		for walk, o := range bothWalks {
			t.Run(c.policy+", "+walk, func(t *testing.T) {
				t.Parallel()
				if n := len(atOnce(t, w, q, o)); n != 1 {
					t.Fatalf("%d candidates, want 1", n)
				}
			})
		}
	}
}
