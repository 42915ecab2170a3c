package microversion

import (
	"errors"
	"fmt"
	"testing"

	"github.com/openstack-placement-go/placement/internal/testutil"
)

func TestFromHeader(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		header      []string
		want        Version
		parseErr    bool
		unsupported bool
	}{
		{name: "no header means the minimum", header: nil, want: Min},
		{name: "latest means the maximum", header: []string{"placement latest"}, want: Max},
		{name: "a plain version", header: []string{"placement 1.27"}, want: Version{1, 27}},
		{name: "service name is case insensitive", header: []string{"PLACEMENT 1.7"}, want: Version{1, 7}},
		{name: "other services are ignored", header: []string{"compute 2.1, placement 1.7"}, want: Version{1, 7}},
		{name: "the right-most placement entry wins", header: []string{"placement 1.7, placement 1.9"}, want: Version{1, 9}},
		{name: "several header lines fold together", header: []string{"placement 1.7", "placement 1.9"}, want: Version{1, 9}},
		{name: "only other services means the minimum", header: []string{"compute 2.1"}, want: Min},
		{name: "leading zeros are fine", header: []string{"placement 1.05"}, want: Version{1, 5}},
		{name: "upper case LATEST is a parse error", header: []string{"placement LATEST"}, parseErr: true},
		{name: "three parts is a parse error", header: []string{"placement 1.2.3"}, parseErr: true},
		{name: "no dot is a parse error", header: []string{"placement 1"}, parseErr: true},
		{name: "words are a parse error", header: []string{"placement pony.horse"}, parseErr: true},
		{name: "int() takes underscores between digits", header: []string{"placement 1.1_0"}, want: Version{1, 10}},
		{name: "int() takes a sign", header: []string{"placement +1.-0"}, want: Version{1, 0}},
		{name: "the header is Latin-1: NBSP is whitespace", header: []string{"placement 1.5\xa0"}, want: Version{1, 5}},
		{name: "a double underscore is a parse error", header: []string{"placement 1.1__0"}, parseErr: true},
		{name: "a huge minor is unsupported, not a parse error", header: []string{"placement 1.99999999999999999999"}, unsupported: true},
		{name: "a huge major is unsupported", header: []string{"placement 99999999999999999999.1"}, unsupported: true},
		{name: "a negative major is unsupported", header: []string{"placement -1.5"}, unsupported: true},
		{name: "1.40 is unsupported", header: []string{"placement 1.40"}, unsupported: true},
		{name: "0.5 is unsupported", header: []string{"placement 0.5"}, unsupported: true},
		{name: "2.0 is unsupported", header: []string{"placement 2.0"}, unsupported: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := FromHeader(tt.header)
			var pe *ParseError
			var ue *UnsupportedError
			switch {
			case tt.parseErr:
				if !errors.As(err, &pe) {
					t.Fatalf("FromHeader(%q) error = %v, want a ParseError", tt.header, err)
				}
			case tt.unsupported:
				if !errors.As(err, &ue) {
					t.Fatalf("FromHeader(%q) error = %v, want an UnsupportedError", tt.header, err)
				}
			case err != nil:
				t.Fatalf("FromHeader(%q) error = %v", tt.header, err)
			case got != tt.want:
				t.Fatalf("FromHeader(%q) = %v, want %v", tt.header, got, tt.want)
			}
		})
	}
}

// TestParseErrorText holds the texts of the reference service's 400s.
func TestParseErrorText(t *testing.T) {
	t.Parallel()
	errorText := func(header string) string {
		_, err := FromHeader([]string{header})
		return fmt.Sprint(err)
	}
	testutil.WantOutputs(t, "FromHeader", errorText, []testutil.Pair[string, string]{
		{"placement 1.2.3", "invalid version string: 1.2.3; invalid literal for int() with base 10: '2.3'"},
		{"placement 1", "invalid version string: 1; Version.__new__() missing 1 required positional argument: 'minor'"},
		{"placement x", "invalid version string: x; invalid literal for int() with base 10: 'x'"},
		{"placement 1.5'", `invalid version string: 1.5'; invalid literal for int() with base 10: "5'"`},
		{`placement 1.5\x`, `invalid version string: 1.5\x; invalid literal for int() with base 10: '5\\x'`},
		{"placement 1.\xd9", "invalid version string: 1.\u00d9; invalid literal for int() with base 10: '\u00d9'"},
	})
}

func TestVersionOrdering(t *testing.T) {
	t.Parallel()
	v := Version{1, 28}
	if !v.AtLeast(1, 28) || !v.AtLeast(1, 9) || v.AtLeast(1, 29) {
		t.Fatalf("AtLeast is not numeric for %v", v)
	}
	if Max != (Version{1, 39}) {
		t.Fatalf("Max = %v, want 1.39 (one history line per version)", Max)
	}
}

func TestPick(t *testing.T) {
	t.Parallel()
	steps := []Step[string]{{V1(0), "a"}, {V1(8), "b"}, {V1(12), "c"}}
	for _, tt := range []struct {
		v    Version
		want string
	}{{V1(0), "a"}, {V1(7), "a"}, {V1(8), "b"}, {V1(11), "b"}, {V1(12), "c"}, {V1(39), "c"}} {
		if got := Pick(tt.v, steps...); got != tt.want {
			t.Errorf("Pick(%v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}
