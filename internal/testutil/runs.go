package testutil

import (
	"io"
	"strings"
	"testing"
)

// RunCase is a command line and what a command's run function must
// return for it: the exit code and the output on stdout and stderr. Like
// ErrorCase it is an alias of a plain struct type, so that tables can list
// cases without field names.
type RunCase = struct {
	Name           string
	Args           []string
	Code           int
	Stdout, Stderr string
}

// WantRuns runs run (see Run) with each case's args as a parallel
// subtest, which fails unless the exit code is the case's Code and the
// output on stdout and stderr exactly the case's Stdout and Stderr.
func WantRuns(t *testing.T, run func(args, environ []string, stdout, stderr io.Writer) int, cases []RunCase) {
	t.Helper()
	wantRuns(t, run, cases, false)
}

// WantRunsContaining is WantRuns where each output need only contain
// the case's (an empty one matches anything).
func WantRunsContaining(t *testing.T, run func(args, environ []string, stdout, stderr io.Writer) int, cases []RunCase) {
	t.Helper()
	wantRuns(t, run, cases, true)
}

func wantRuns(t *testing.T, run func(args, environ []string, stdout, stderr io.Writer) int, cases []RunCase, contains bool) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			want := Result{c.Code, c.Stdout, c.Stderr}
			if got := Run(run, c.Args...); !matches(got, want, contains) {
				t.Errorf("run(%q) = %d, %q, %q; want %d, %q, %q (contains: %v)", c.Args, got.Code, got.Stdout, got.Stderr, want.Code, want.Stdout, want.Stderr, contains)
			}
		})
	}
}

// matches reports whether got has want's code and want's outputs, exactly
// or, with contains, as substrings.
func matches(got, want Result, contains bool) bool {
	if !contains {
		return got == want
	}
	return got.Code == want.Code && strings.Contains(got.Stdout, want.Stdout) && strings.Contains(got.Stderr, want.Stderr)
}
