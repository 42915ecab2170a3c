package main

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// What the soak knows about the writes it made.
//
// Every write is acknowledged (2xx), rejected (4xx) or of unknown outcome
// (5xx, transport error): it may or may not have been committed. Owned
// things (a client's own consumers, a provider's inventory, traits and
// aggregates, a child's parent) are written by one client at a time, so
// their history is a sequence and the model is the set of states they may
// be in: an acknowledged write collapses it to one state, an unknown one
// adds a state, a rejected one changes nothing. A read collapses it again
// and must find one of the states. Shared consumers are written by every
// client, each write naming the generation it read; their history is
// checked as a chain of generations (checkChain).

// Outcome classifies a response.
type Outcome int

// The outcomes.
const (
	Acked Outcome = iota
	Rejected
	Unknown
)

func (o Outcome) String() string { return [...]string{"acknowledged", "rejected", "unknown"}[o] }

// outcomeOf classifies a status (0: no response).
func outcomeOf(status int) Outcome {
	switch {
	case status >= 200 && status < 300:
		return Acked
	case status >= 400 && status < 500:
		return Rejected
	}
	return Unknown
}

// Allocs is a consumer's allocations: provider uuid → class → amount.
type Allocs map[string]map[string]int

// String is a canonical form ("" when empty).
func (a Allocs) String() string {
	var parts []string
	for rp, res := range a {
		for rc, n := range res {
			if n > 0 {
				parts = append(parts, fmt.Sprintf("%s/%s=%d", rp, rc, n))
			}
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// CState is one state a consumer may be in.
type CState struct {
	Present bool
	Gen     int
	Allocs  string // canonical Allocs
}

func (s CState) String() string {
	if !s.Present {
		return "absent"
	}
	return fmt.Sprintf("gen %d {%s}", s.Gen, s.Allocs)
}

// afterWrite is the state a committed write leaves: a write with no
// allocations removes the consumer; otherwise the generation is the first
// one for a new consumer (in == nil) or one more than the one named.
func afterWrite(allocs string, in *int, firstGen int) CState {
	if allocs == "" {
		return CState{}
	}
	if in == nil {
		return CState{Present: true, Gen: firstGen, Allocs: allocs}
	}
	return CState{Present: true, Gen: *in + 1, Allocs: allocs}
}

// Possible is the set of states something owned may be in.
type Possible[T comparable] struct {
	States []T
	// Unknowns counts the writes of unknown outcome.
	Unknowns int
}

// Apply records a write that would leave state next.
func (p *Possible[T]) Apply(next T, o Outcome) {
	switch o {
	case Acked:
		p.States = []T{next}
	case Unknown:
		p.Unknowns++
		if !slices.Contains(p.States, next) {
			p.States = append(p.States, next)
		}
	}
}

// Observe records a read of state got; it reports false if got is none of
// the possible states.
func (p *Possible[T]) Observe(got T) bool {
	ok := slices.Contains(p.States, got)
	p.States = []T{got}
	return ok
}

// Certain returns the state when only one is possible.
func (p *Possible[T]) Certain() (T, bool) {
	if len(p.States) == 1 {
		return p.States[0], true
	}
	var zero T
	return zero, false
}

// SharedWrite is one write to a shared consumer.
type SharedWrite struct {
	In      *int // the generation named; nil creates the consumer
	Allocs  string
	Outcome Outcome
}

// checkChain checks a shared consumer's final state against its writes
// (never deletions): every generation from firstGen to the final one was
// produced by exactly one acknowledged write or by an unknown-outcome one,
// never by a rejected one; the final allocations are those of the write
// that produced the final generation; no acknowledged write is missing.
// It returns the violations.
func checkChain(final CState, writes []SharedWrite, firstGen int) []string {
	var bad []string
	if !final.Present {
		return []string{"shared consumer is gone"}
	}
	out := func(w SharedWrite) int {
		if w.In == nil {
			return firstGen
		}
		return *w.In + 1
	}
	for g := firstGen; g <= final.Gen; g++ {
		var acked, unknown []SharedWrite
		for _, w := range writes {
			if out(w) != g {
				continue
			}
			switch w.Outcome {
			case Acked:
				acked = append(acked, w)
			case Unknown:
				unknown = append(unknown, w)
			}
		}
		switch {
		case len(acked) > 1:
			bad = append(bad, fmt.Sprintf("%d acknowledged writes produced generation %d", len(acked), g))
		case len(acked) == 0 && len(unknown) == 0:
			bad = append(bad, fmt.Sprintf("generation %d produced by no acknowledged or unknown write", g))
		}
		if g != final.Gen {
			continue
		}
		match := false
		for _, w := range acked {
			match = match || w.Allocs == final.Allocs
		}
		if len(acked) == 0 {
			for _, w := range unknown {
				match = match || w.Allocs == final.Allocs
			}
		}
		if !match {
			bad = append(bad, fmt.Sprintf("final allocations {%s} at generation %d are not those of the write that produced it", final.Allocs, g))
		}
	}
	for _, w := range writes {
		if w.Outcome == Acked && out(w) > final.Gen {
			bad = append(bad, fmt.Sprintf("acknowledged write producing generation %d lost (final generation %d)", out(w), final.Gen))
		}
	}
	return bad
}
