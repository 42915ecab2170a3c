package main

import (
	"slices"
	"testing"
)

func gen(n int) *int { return &n }

func TestCheckChain(t *testing.T) {
	t.Parallel()
	create := SharedWrite{Allocs: "a", Outcome: Acked}
	tests := []struct {
		name   string
		final  CState
		writes []SharedWrite
		bad    int
	}{
		{"a chain of acknowledged writes ending in the final state passes",
			CState{Present: true, Gen: 3, Allocs: "c"},
			[]SharedWrite{create, {In: gen(1), Allocs: "b", Outcome: Acked}, {In: gen(1), Allocs: "x", Outcome: Rejected}, {In: gen(2), Allocs: "c", Outcome: Acked}},
			0},
		{"an unknown write may have produced the final state",
			CState{Present: true, Gen: 2, Allocs: "u"},
			[]SharedWrite{create, {In: gen(1), Allocs: "u", Outcome: Unknown}},
			0},
		{"an unknown write may also have failed",
			CState{Present: true, Gen: 1, Allocs: "a"},
			[]SharedWrite{create, {In: gen(1), Allocs: "u", Outcome: Unknown}},
			0},
		{"a lost acknowledged write fails",
			CState{Present: true, Gen: 1, Allocs: "a"},
			[]SharedWrite{create, {In: gen(1), Allocs: "b", Outcome: Acked}},
			1},
		{"a rejected write that took effect fails",
			CState{Present: true, Gen: 2, Allocs: "x"},
			[]SharedWrite{create, {In: gen(1), Allocs: "x", Outcome: Rejected}},
			2},
		{"two acknowledged writes from one generation fail",
			CState{Present: true, Gen: 2, Allocs: "c"},
			[]SharedWrite{create, {In: gen(1), Allocs: "b", Outcome: Acked}, {In: gen(1), Allocs: "c", Outcome: Acked}},
			1},
		{"final allocations other than the last write's fail",
			CState{Present: true, Gen: 2, Allocs: "z"},
			[]SharedWrite{create, {In: gen(1), Allocs: "b", Outcome: Acked}},
			1},
		{"a vanished consumer fails",
			CState{},
			[]SharedWrite{create},
			1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if bad := checkChain(tt.final, tt.writes, 1); len(bad) != tt.bad {
				t.Errorf("checkChain = %q, want %d violations", bad, tt.bad)
			}
		})
	}
}

func TestPossible(t *testing.T) {
	t.Parallel()
	a := CState{Present: true, Gen: 1, Allocs: "a"}
	b := CState{Present: true, Gen: 2, Allocs: "b"}
	p := Possible[CState]{States: []CState{{}}}
	p.Apply(a, Acked)
	p.Apply(b, Rejected)
	if !slices.Equal(p.States, []CState{a}) {
		t.Fatalf("after an acknowledged and a rejected write: %v, want [%s]", p.States, a)
	}
	p.Apply(b, Unknown)
	if _, ok := p.Certain(); ok {
		t.Fatal("an unknown outcome left the state certain")
	}
	if !p.Observe(b) {
		t.Fatal("the unknown write's state was not possible")
	}
	if p.Observe(a) {
		t.Fatal("reading an overwritten state passed")
	}
}

func TestAfterWrite(t *testing.T) {
	t.Parallel()
	if got := afterWrite("", gen(3), 1); got.Present {
		t.Errorf("a write without allocations left %s", got)
	}
	if got := afterWrite("a", nil, 1); got != (CState{Present: true, Gen: 1, Allocs: "a"}) {
		t.Errorf("a new consumer is %s", got)
	}
	if got := afterWrite("a", gen(3), 1); got.Gen != 4 {
		t.Errorf("a write from generation 3 left %s", got)
	}
}
