package pycompat

import (
	"strings"
	"testing"
)

// TestParseInt holds CPython 3.11's int(s) for each input: the value or
// the ValueError's text.
func TestParseInt(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want, err string }{
		{"5", "5", ""},
		{" 5 ", "5", ""},
		{"+5", "5", ""},
		{"-0", "0", ""},
		{"1_0", "10", ""},
		{"1__0", "", "invalid literal for int() with base 10: '1__0'"},
		{"_1", "", "invalid literal for int() with base 10: '_1'"},
		{"1_", "", "invalid literal for int() with base 10: '1_'"},
		{"05", "5", ""},
		{"0x5", "", "invalid literal for int() with base 10: '0x5'"},
		{"5'", "", "invalid literal for int() with base 10: \"5'\""},
		{"5\\x", "", "invalid literal for int() with base 10: '5\\\\x'"},
		{"a\"b", "", "invalid literal for int() with base 10: 'a\"b'"},
		{"'\"", "", "invalid literal for int() with base 10: '\\'\"'"},
		{"", "", "invalid literal for int() with base 10: ''"},
		{" ", "", "invalid literal for int() with base 10: ' '"},
		{"+", "", "invalid literal for int() with base 10: '+'"},
		{"-", "", "invalid literal for int() with base 10: '-'"},
		{"- 5", "", "invalid literal for int() with base 10: '- 5'"},
		{"\u00a05\u0085", "5", ""},
		{"\u001c5", "", "invalid literal for int() with base 10: '\\x1c5'"},
		{"\u00097\u000a", "7", ""},
		{"1 2", "", "invalid literal for int() with base 10: '1 2'"},
		{"99999999999999999999", "99999999999999999999", ""},
		{"+_1", "", "invalid literal for int() with base 10: '+_1'"},
		{"0_0", "0", ""},
		{"1_2_3", "123", ""},
		{"Ù¡", "", "invalid literal for int() with base 10: 'Ù¡'"},
		{"-12_345", "-12345", ""},
	}
	long := strings.Repeat("1", 4301)
	limit := "Exceeds the limit (4300 digits) for integer string conversion: value has 4301 digits; use sys.set_int_max_str_digits() to increase the limit"
	tests = append(tests,
		struct{ in, want, err string }{long + "x", "", limit},
		struct{ in, want, err string }{strings.Repeat("1_", 4300) + "1", "", limit},
		struct{ in, want, err string }{"-" + long, "", limit},
		struct{ in, want, err string }{strings.Repeat("1_", 2150) + "1", strings.Repeat("1", 2151), ""},
	)
	for _, tt := range tests {
		checkParseInt(t, tt.in, 10, tt.want, tt.err)
	}
}

// checkParseInt fails t unless ParseInt(in, base) gives want, or the error
// text wantErr.
func checkParseInt(t *testing.T, in string, base int, want, wantErr string) {
	t.Helper()
	n, err := ParseInt(in, base)
	switch {
	case wantErr != "":
		if err == nil || err.Error() != wantErr {
			t.Errorf("ParseInt(%.40q, %d) error = %v, want %q", in, base, err, wantErr)
		}
	case err != nil:
		t.Errorf("ParseInt(%.40q, %d) error = %v", in, base, err)
	case n.String() != want:
		t.Errorf("ParseInt(%.40q, %d) = %v, want %s", in, base, n, want)
	}
}

func TestLatin1(t *testing.T) {
	t.Parallel()
	if got := Latin1("1.\xd9\xa1"); got != "1.\u00d9\u00a1" {
		t.Fatalf("Latin1 = %q", got)
	}
	if got := Latin1("plain"); got != "plain" {
		t.Fatalf("Latin1 = %q", got)
	}
}

// TestParseIntBase16 holds CPython 3.11's int(s, 16).
func TestParseIntBase16(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want, err string }{
		{"ff", "255", ""},
		{"FF", "255", ""},
		{"0x", "", "invalid literal for int() with base 16: '0x'"},
		{"0xf", "15", ""},
		{"0x_f", "15", ""},
		{"0x__f", "", "invalid literal for int() with base 16: '0x__f'"},
		{"0X1_f", "31", ""},
		{"_f", "", "invalid literal for int() with base 16: '_f'"},
		{" f", "15", ""},
		{"f ", "15", ""},
		{"+f", "15", ""},
		{"-0", "0", ""},
		{"-1", "-1", ""},
		{"g1", "", "invalid literal for int() with base 16: 'g1'"},
		{"1g", "", "invalid literal for int() with base 16: '1g'"},
		{"f", "15", ""},
		{"0_", "", "invalid literal for int() with base 16: '0_'"},
		{"x", "", "invalid literal for int() with base 16: 'x'"},
		{"-0x1", "-1", ""},
		{"0x_", "", "invalid literal for int() with base 16: '0x_'"},
		{"1_f", "31", ""},
		{"\u0009A", "10", ""},
	} {
		checkParseInt(t, tt.in, 16, tt.want, tt.err)
	}
}
