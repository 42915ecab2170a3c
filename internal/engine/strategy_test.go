package engine_test

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	. "github.com/openstack-placement-go/placement/internal/engine"
)

// threeRoots has roots A, B and C with three, one and two VGPU children:
// resources=VGPU:1 has six candidates, three of them on A.
func threeRoots(t testing.TB) *world {
	gpu := []Inventory{iv("VGPU", 1)}
	return newWorld(t,
		tp{name: "A"}, tp{name: "A1", parent: "A", inv: gpu}, tp{name: "A2", parent: "A", inv: gpu}, tp{name: "A3", parent: "A", inv: gpu},
		tp{name: "B"}, tp{name: "B1", parent: "B", inv: gpu},
		tp{name: "C"}, tp{name: "C1", parent: "C", inv: gpu}, tp{name: "C2", parent: "C", inv: gpu},
	)
}

// inOrder renders the candidates in the order they were returned.
func (w *world) inOrder(res *Result, withMappings bool) []string {
	out := []string{}
	for _, ar := range res.Requests {
		out = append(out, w.show(ar, withMappings))
	}
	return out
}

func vgpu(names ...string) []string {
	out := []string{}
	for _, n := range names {
		out = append(out, n+"{VGPU:1}")
	}
	return out
}

func TestGenerate_Strategy(t *testing.T) {
	t.Parallel()
	w := threeRoots(t)
	df, bf := DepthFirst, BreadthFirst
	cases := []struct {
		name     string
		query    string
		strategy Strategy
		max      int // [placement] max_allocation_candidates
		want     []string
	}{
		{"depth-first exhausts each root in turn", "", df, -1, vgpu("A1", "A2", "A3", "B1", "C1", "C2")},
		{"breadth-first takes one per root per round", "", bf, -1, vgpu("A1", "B1", "C1", "A2", "C2", "A3")},
		{"depth-first cap keeps the first root's", "", df, 4, vgpu("A1", "A2", "A3", "B1")},
		{"breadth-first cap below the roots", "", bf, 2, vgpu("A1", "B1")},
		{"breadth-first cap equal to the roots", "", bf, 3, vgpu("A1", "B1", "C1")},
		{"breadth-first cap above the roots", "", bf, 5, vgpu("A1", "B1", "C1", "A2", "C2")},
		{"breadth-first cap above the candidates", "", bf, 100, vgpu("A1", "B1", "C1", "A2", "C2", "A3")},
		{"cap 0 stops after the first, depth-first", "", df, 0, vgpu("A1")},
		{"cap 0 stops after the first, breadth-first", "", bf, 0, vgpu("A1")},
		{"depth-first limit", "&limit=2", df, -1, vgpu("A1", "A2")},
		{"breadth-first limit", "&limit=4", bf, -1, vgpu("A1", "B1", "C1", "A2")},
		{"breadth-first limit below the cap", "&limit=2", bf, 4, vgpu("A1", "B1")},
		{"breadth-first cap below the limit", "&limit=5", bf, 2, vgpu("A1", "B1")},
		{"depth-first cap below the limit", "&limit=5", df, 2, vgpu("A1", "A2")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			opt := Options{Strategy: c.strategy, MaxCandidates: MaxCandidatesFromConfig(c.max)}
			got := w.inOrder(w.run(t, 39, "resources=VGPU:1"+c.query, opt), false)
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

// A root whose combinations all fail a constraint leaves the rotation at
// once, and a rejected combination does not use up a root's turn.
func TestGenerate_BreadthFirstSkipsRejected(t *testing.T) {
	t.Parallel()
	w := threeRoots(t)
	q := "resources1=VGPU:1&resources2=VGPU:1&group_policy=isolate"
	got := w.inOrder(w.run(t, 39, q, Options{Strategy: BreadthFirst}), true)
	want := []string{
		"A1{VGPU:1} A2{VGPU:1} map 1=A1 2=A2",
		"C1{VGPU:1} C2{VGPU:1} map 1=C1 2=C2",
		"A1{VGPU:1} A3{VGPU:1} map 1=A1 2=A3",
		"C1{VGPU:1} C2{VGPU:1} map 1=C2 2=C1",
		"A1{VGPU:1} A2{VGPU:1} map 1=A2 2=A1",
		"A2{VGPU:1} A3{VGPU:1} map 1=A2 2=A3",
		"A1{VGPU:1} A3{VGPU:1} map 1=A3 2=A1",
		"A2{VGPU:1} A3{VGPU:1} map 1=A3 2=A2",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func TestGenerate_BreadthFirstSummaries(t *testing.T) {
	t.Parallel()
	w := threeRoots(t)
	res := w.run(t, 39, "resources=VGPU:1", Options{Strategy: BreadthFirst, MaxCandidates: 2})
	if got, want := w.summaryNames(res), sorted("A", "A1", "A2", "A3", "B", "B1"); !reflect.DeepEqual(got, want) {
		t.Errorf("summaries %q, want %q", got, want)
	}
}

// With randomisation the sample is drawn from what the cap let the
// strategy generate.
func TestGenerate_RandomizeWithinCap(t *testing.T) {
	t.Parallel()
	w := threeRoots(t)
	for _, c := range []struct {
		strategy Strategy
		pool     []string
	}{
		{DepthFirst, vgpu("A1", "A2", "A3")},
		{BreadthFirst, vgpu("A1", "B1", "C1")},
	} {
		seen := map[string]bool{}
		for i := range 50 {
			opt := Options{Strategy: c.strategy, MaxCandidates: 3, Randomize: true, Rand: rand.New(rand.NewPCG(uint64(i), 3))}
			got := w.inOrder(w.run(t, 39, "resources=VGPU:1&limit=2", opt), false)
			if len(got) != 2 || got[0] == got[1] {
				t.Fatalf("strategy %d: got %q, want two distinct", c.strategy, got)
			}
			for _, s := range got {
				if !slices.Contains(c.pool, s) {
					t.Fatalf("strategy %d: %s is not among the %q generated", c.strategy, s, c.pool)
				}
				seen[s] = true
			}
		}
		if len(seen) != len(c.pool) {
			t.Errorf("strategy %d: sampled only %v of %q", c.strategy, seen, c.pool)
		}
	}
}

func TestMaxCandidatesFromConfig(t *testing.T) {
	t.Parallel()
	for in, want := range map[int]int{-5: 0, -1: 0, 0: 1, 1: 1, 7: 7} {
		if got := MaxCandidatesFromConfig(in); got != want {
			t.Errorf("MaxCandidatesFromConfig(%d) = %d, want %d", in, got, want)
		}
	}
}

func TestStrategyFromConfig(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]Strategy{"depth-first": DepthFirst, "breadth-first": BreadthFirst, "": DepthFirst} {
		if got := StrategyFromConfig(in); got != want {
			t.Errorf("StrategyFromConfig(%q) = %d, want %d", in, got, want)
		}
	}
}
