package testutil

import (
	"reflect"
	"testing"
)

// Pair is an input of a function and the output the function must give
// for it. Like ErrorCase it is an alias of a plain struct type, so that
// tables can list pairs as {input, want}.
type Pair[In, Out any] = struct {
	In   In
	Want Out
}

// WantOutputs fails t for each pair whose input f (named fname in the
// message) does not map to the pair's Want, compared with
// reflect.DeepEqual.
func WantOutputs[In, Out any](t *testing.T, fname string, f func(In) Out, pairs []Pair[In, Out]) {
	t.Helper()
	checkOutputs(t, fname, f, pairs)
}

// reporter is the part of testing.T that checkOutputs uses.
type reporter interface {
	Helper()
	Errorf(format string, args ...any)
}

// checkOutputs reports to t each pair f gets wrong.
func checkOutputs[In, Out any](t reporter, fname string, f func(In) Out, pairs []Pair[In, Out]) {
	t.Helper()
	for _, p := range pairs {
		if got := f(p.In); !reflect.DeepEqual(got, p.Want) {
			t.Errorf("%s(%#v) = %#v, want %#v", fname, p.In, got, p.Want)
		}
	}
}
