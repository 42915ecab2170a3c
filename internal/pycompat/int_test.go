package pycompat

import (
	"strings"
	"testing"

	"github.com/openstack-placement-go/placement/internal/testutil"
)

// TestParseInt holds CPython 3.11's int(s) and int(s, 16) for each input:
// the value or the ValueError's text.
func TestParseInt(t *testing.T) {
	t.Parallel()
	parse := func(base int) func(string) string {
		return func(in string) string {
			n, err := ParseInt(in, base)
			if err != nil {
				return "error: " + err.Error()
			}
			return n.String()
		}
	}
	long := strings.Repeat("1", 4301)
	limit := "error: Exceeds the limit (4300 digits) for integer string conversion: value has 4301 digits; use sys.set_int_max_str_digits() to increase the limit"
	testutil.WantOutputs(t, "ParseInt base 10", parse(10), []testutil.Pair[string, string]{
		{"5", "5"},
		{" 5 ", "5"},
		{"+5", "5"},
		{"-0", "0"},
		{"1_0", "10"},
		{"1__0", "error: " + "invalid literal for int() with base 10: '1__0'"},
		{"_1", "error: " + "invalid literal for int() with base 10: '_1'"},
		{"1_", "error: " + "invalid literal for int() with base 10: '1_'"},
		{"05", "5"},
		{"0x5", "error: " + "invalid literal for int() with base 10: '0x5'"},
		{"5'", "error: " + "invalid literal for int() with base 10: \"5'\""},
		{"5\\x", "error: " + "invalid literal for int() with base 10: '5\\\\x'"},
		{"a\"b", "error: " + "invalid literal for int() with base 10: 'a\"b'"},
		{"'\"", "error: " + "invalid literal for int() with base 10: '\\'\"'"},
		{"", "error: " + "invalid literal for int() with base 10: ''"},
		{" ", "error: " + "invalid literal for int() with base 10: ' '"},
		{"+", "error: " + "invalid literal for int() with base 10: '+'"},
		{"-", "error: " + "invalid literal for int() with base 10: '-'"},
		{"- 5", "error: " + "invalid literal for int() with base 10: '- 5'"},
		{"\u00a05\u0085", "5"},
		{"\u001c5", "error: " + "invalid literal for int() with base 10: '\\x1c5'"},
		{"\u00097\u000a", "7"},
		{"1 2", "error: " + "invalid literal for int() with base 10: '1 2'"},
		{"99999999999999999999", "99999999999999999999"},
		{"+_1", "error: " + "invalid literal for int() with base 10: '+_1'"},
		{"0_0", "0"},
		{"1_2_3", "123"},
		{"Ù¡", "error: " + "invalid literal for int() with base 10: 'Ù¡'"},
		{"１", "1"},
		{"१２", "12"},
		{"1_٣", "13"},
		{"𝟏𝟿", "19"},
		{"\u3000-７\u2029", "-7"},
		{"¹", "error: " + "invalid literal for int() with base 10: '¹'"},
		{"1ÿ", "error: " + "invalid literal for int() with base 10: '1ÿ'"},
		{"-12_345", "-12345"},
		{long + "x", limit},
		{strings.Repeat("1_", 4300) + "1", limit},
		{"-" + long, limit},
		{strings.Repeat("1_", 2150) + "1", strings.Repeat("1", 2151)},
	})
	testutil.WantOutputs(t, "ParseInt base 16", parse(16), []testutil.Pair[string, string]{
		{"ff", "255"},
		{"FF", "255"},
		{"0x", "error: " + "invalid literal for int() with base 16: '0x'"},
		{"0xf", "15"},
		{"0x_f", "15"},
		{"0x__f", "error: " + "invalid literal for int() with base 16: '0x__f'"},
		{"0X1_f", "31"},
		{"_f", "error: " + "invalid literal for int() with base 16: '_f'"},
		{" f", "15"},
		{"f ", "15"},
		{"+f", "15"},
		{"-0", "0"},
		{"-1", "-1"},
		{"g1", "error: " + "invalid literal for int() with base 16: 'g1'"},
		{"1g", "error: " + "invalid literal for int() with base 16: '1g'"},
		{"f", "15"},
		{"0_", "error: " + "invalid literal for int() with base 16: '0_'"},
		{"x", "error: " + "invalid literal for int() with base 16: 'x'"},
		{"-0x1", "-1"},
		{"0x_", "error: " + "invalid literal for int() with base 16: '0x_'"},
		{"1_f", "31"},
		{"\u0009A", "10"},
		{"１f", "31"},
	})
}

// TestParseBytesInt holds CPython's int(b, 16) for a bytes b: ASCII digits
// and whitespace only.
func TestParseBytesInt(t *testing.T) {
	t.Parallel()
	testutil.WantOutputs(t, "ParseBytesInt base 16", func(in string) string {
		n, ok := ParseBytesInt(in, 16)
		if !ok {
			return "invalid"
		}
		return n.String()
	}, []testutil.Pair[string, string]{
		{"ff", "255"},
		{" f", "15"},
		{"\xd9\xa1", "invalid"}, // U+0661 in UTF-8: a digit in a str, two bytes here
		{"\xc2\xa0f", "invalid"},
		{"\x0bf", "15"},
	})
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
