package schema

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/openstack-placement-go/placement/internal/pycompat"
)

func TestPyRepr(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"None", nil, "None"},
		{"True", true, "True"},
		{"False", false, "False"},
		{"an int", json.Number("42"), "42"},
		{"a negative zero int", json.Number("-0"), "0"},
		{"a huge int", json.Number("123456789012345678901234567890"), "123456789012345678901234567890"},
		{"an integral float", json.Number("1.0"), "1.0"},
		{"a float written as 16.0", json.Number("16.0"), "16.0"},
		{"a float with an exponent", json.Number("1E5"), "100000.0"},
		{"a half", json.Number("0.5"), "0.5"},
		{"a tiny float", json.Number("1e-300"), "1e-300"},
		{"1e-5 goes exponential", json.Number("0.00001"), "1e-05"},
		{"1e-4 stays positional", json.Number("0.0001"), "0.0001"},
		{"1e16 goes exponential", json.Number("1e16"), "1e+16"},
		{"1e15 stays positional", json.Number("1e15"), "1000000000000000.0"},
		{"a float limit", json.Number("3.40282e+38"), "3.40282e+38"},
		{"negative zero", json.Number("-0.0"), "-0.0"},
		{"an overflowing float", json.Number("1e400"), "inf"},
		{"a float64", 2.5, "2.5"},
		{"a float64 NaN", math.NaN(), "nan"},
		{"a plain string", "abc", "'abc'"},
		{"an empty string", "", "''"},
		{"a string with a single quote", "it's", `"it's"`},
		{"a string with a double quote", `sa"y`, `'sa"y'`},
		{"a string with both quotes", `it's "x"`, `'it\'s "x"'`},
		{"a string with escapes", "a\tb\nc\rd\\e\x00\x7f", `'a\tb\nc\rd\\e\x00\x7f'`},
		{"a unicode string", "é日本😀", "'é日本😀'"},
		{"a non-printable unicode string", "\u00a0\u200b\u2028\U000e0001", `'\xa0\u200b\u2028\U000e0001'`},
		{"a list", []any{json.Number("1"), "a", nil, true}, "[1, 'a', None, True]"},
		{"an empty list", []any{}, "[]"},
		{"an empty dict", map[string]any{}, "{}"},
		{"a dict without order", map[string]any{"b": json.Number("1"), "a": json.Number("2")}, "{'a': 2, 'b': 1}"},
		{
			"an ordered dict",
			orderedObject("b", json.Number("1"), "a", []any{"x"}),
			"{'b': 1, 'a': ['x']}",
		},
		{
			"nested values",
			map[string]any{"k": []any{map[string]any{"z": json.Number("1.5e-7")}, []any{}}},
			"{'k': [{'z': 1.5e-07}, []]}",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := PyRepr(tt.in); got != tt.want {
				t.Errorf("PyRepr(%#v) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

// Expectations from Python 3.11's pprint.pformat(value, width=72).
func TestPformat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, json, want string
	}{
		{"a short dict sorts its keys", `{"b": 1, "a": 2}`, `{'a': 2, 'b': 1}`},
		{"a long string splits at words", `"` + repeat("word ", 20) + `"`,
			"('word word word word word word word word word word word word word '\n" +
				" 'word word word word word word word ')"},
		{"a long word is not split", `"` + repeat("x", 100) + `"`, `'` + repeat("x", 100) + `'`},
		{"a long string splits at lines", `"line one\nline two ` + repeat("y ", 30) + `"`,
			"('line one\\n'\n" +
				" 'line two y y y y y y y y y y y y y y y y y y y y y y y y y y y y y '\n" +
				" 'y ')"},
		{"a long list", `["` + repeat("a", 30) + `", "` + repeat("b", 30) + `", "` + repeat("c", 30) + `"]`,
			"['aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',\n 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb',\n 'cccccccccccccccccccccccccccccc']"},
		{"nested containers", `{"kkkkkkkkkk": "` + repeat("v ", 40) + `", "a": [1, 2, {"z": "` + repeat("q", 80) + `"}]}`,
			"{'a': [1,\n" +
				"       2,\n" +
				"       {'z': 'qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq'}],\n" +
				" 'kkkkkkkkkk': 'v v v v v v v v v v v v v v v v v v v v v v v v v v v '\n" +
				"               'v v v v v v v v v v v v v '}"},
		{"a last list item keeps room for the bracket", `["a", "w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w "]`,
			"['a',\n" +
				" 'w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w ']"},
		{"a last list item one word over", `["a", "w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w "]`,
			"['a',\n" +
				" 'w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w '\n" +
				" 'w ']"},
		{"a last dict value one word over", `{"k": "w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w "}`,
			"{'k': 'w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w '\n" +
				"      'w '}"},
		{"a list in a dict leaves room for both brackets", `{"k": ["x", "w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w "]}`,
			"{'k': ['x',\n" +
				"       'w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w '\n" +
				"       'w w ']}"},
		{"nested lists one word over", `[["w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w "]]`,
			"[['w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w '\n" +
				"  'w ']]"},
		{"a value before the last keeps room for the comma", `{"a": "w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w ", "b": 1}`,
			"{'a': 'w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w '\n" +
				"      'w ',\n" +
				" 'b': 1}"},
		{"deeply nested strings", `[[["` + repeat("deep ", 20) + `"]]]`,
			"[[['deep deep deep deep deep deep deep deep deep deep deep deep deep '\n" +
				"   'deep deep deep deep deep deep deep ']]]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, err := DecodeJSON([]byte(tt.json))
			if err != nil {
				t.Fatal(err)
			}
			if got := pformat(v, 72); got != tt.want {
				t.Errorf("pformat =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func repeat(s string, n int) string {
	out := ""
	for range n {
		out += s
	}
	return out
}

// orderedObject builds an object from key, value pairs in order.
func orderedObject(kv ...any) *pycompat.Object {
	o := pycompat.NewObject()
	for i := 0; i < len(kv); i += 2 {
		o.Set(kv[i].(string), kv[i+1])
	}
	return o
}
