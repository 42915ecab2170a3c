package testutil

import (
	"strings"
	"testing"
)

// ErrorCase is an input that must be refused with an error whose text
// contains Want. It is an alias of a plain struct type so that tables can
// list cases as {name, input, want} without field names.
type ErrorCase = struct{ Name, In, Want string }

// WantErrors runs check on each case's input as a parallel subtest, which
// fails unless check returns an error containing the case's Want. check
// gets the subtest's t for any setup or extra checks of its own.
func WantErrors(t *testing.T, check func(t *testing.T, in string) error, cases []ErrorCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			if err := check(t, c.In); !refused(err, c.Want) {
				t.Errorf("%q: error = %v, want one containing %q", c.In, err, c.Want)
			}
		})
	}
}

// refused reports whether err is an error whose text contains want.
func refused(err error, want string) bool {
	return err != nil && strings.Contains(err.Error(), want)
}
