package schema

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/openstack-placement-go/placement/internal/pycompat"
)

// Messages from Python 3.11's json.loads behind oslo.serialization, as
// placement 8.0.0 prints them after "Malformed JSON: ".
func TestDecodeJSON_ReportsPythonMessages(t *testing.T) {
	t.Parallel()
	hx := func(s string) string {
		b, err := hex.DecodeString(s)
		if err != nil {
			panic(err)
		}
		return string(b)
	}
	tests := []struct {
		in, want string
	}{
		{"", "Expecting value: line 1 column 1 (char 0)"},
		{" ", "Expecting value: line 1 column 2 (char 1)"},
		{"{", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"},
		{"}", "Expecting value: line 1 column 1 (char 0)"},
		{"[", "Expecting value: line 1 column 2 (char 1)"},
		{"[1,]", "Expecting value: line 1 column 4 (char 3)"},
		{`{"a":1,}`, "Expecting property name enclosed in double quotes: line 1 column 8 (char 7)"},
		{`{"a" 1}`, "Expecting ':' delimiter: line 1 column 6 (char 5)"},
		{`{"a":}`, "Expecting value: line 1 column 6 (char 5)"},
		{"{a:1}", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"},
		{"[1 2]", "Expecting ',' delimiter: line 1 column 4 (char 3)"},
		{`{"a":1 "b":2}`, "Expecting ',' delimiter: line 1 column 8 (char 7)"},
		{`"abc`, "Unterminated string starting at: line 1 column 1 (char 0)"},
		{`"a\x"`, `Invalid \escape: line 1 column 3 (char 2)`},
		{`"\u12"`, `Invalid \uXXXX escape: line 1 column 3 (char 2)`},
		{`"\u12`, `Invalid \uXXXX escape: line 1 column 3 (char 2)`},
		{`"\ud800\u12zz"`, `Invalid \uXXXX escape: line 1 column 9 (char 8)`},
		{"\"a\x01\"", "Invalid control character at: line 1 column 3 (char 2)"},
		{"{} x", "Extra data: line 1 column 4 (char 3)"},
		{"1.", "Extra data: line 1 column 2 (char 1)"},
		{"-", "Expecting value: line 1 column 1 (char 0)"},
		{"01", "Extra data: line 1 column 2 (char 1)"},
		{"1e", "Extra data: line 1 column 2 (char 1)"},
		{"1e+", "Extra data: line 1 column 2 (char 1)"},
		{"nul", "Expecting value: line 1 column 1 (char 0)"},
		{"tru", "Expecting value: line 1 column 1 (char 0)"},
		{"\n\n  {\"a\": [1, 2,\n  }", "Expecting value: line 4 column 3 (char 19)"},
		{`{"é": 1,, }`, "Expecting property name enclosed in double quotes: line 1 column 9 (char 8)"},
		{`{"日本": "x"} y`, "Extra data: line 1 column 13 (char 12)"},
		{"\ufeff{}", "Unexpected UTF-8 BOM (decode using utf-8-sig): line 1 column 1 (char 0)"},
		{"[1, 2] [3]", "Extra data: line 1 column 8 (char 7)"},
		{"-x", "Expecting value: line 1 column 1 (char 0)"},
		{"[-]", "Expecting value: line 1 column 2 (char 1)"},
		{hx("ff"), "'utf-8' codec can't decode byte 0xff in position 0: invalid start byte"},
		{hx("7b22613a2022c3"), "'utf-8' codec can't decode byte 0xc3 in position 6: unexpected end of data"},
		{hx("7b226122c328"), "'utf-8' codec can't decode byte 0xc3 in position 4: invalid continuation byte"},
		{hx("e282"), "'utf-8' codec can't decode bytes in position 0-1: unexpected end of data"},
		{hx("eda080"), "'utf-8' codec can't decode byte 0xed in position 0: invalid continuation byte"},
		{hx("f09028"), "'utf-8' codec can't decode bytes in position 0-1: invalid continuation byte"},
		{hx("c0af"), "'utf-8' codec can't decode byte 0xc0 in position 0: invalid start byte"},
		{hx("22e29c93e29c22"), "'utf-8' codec can't decode bytes in position 4-5: invalid continuation byte"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			v, err := DecodeJSON([]byte(tt.in))
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("DecodeJSON(%q) = %#v, %v; want a *SyntaxError", tt.in, v, err)
			}
			if se.Error() != tt.want {
				t.Errorf("DecodeJSON(%q) error = %q, want %q", tt.in, se.Error(), tt.want)
			}
		})
	}
}

func TestDecodeJSON_RejectsDeepNesting(t *testing.T) {
	t.Parallel()
	in := strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1)
	_, err := DecodeJSON([]byte(in))
	var se *SyntaxError
	if !errors.As(err, &se) || !strings.HasPrefix(se.Msg, "maximum recursion depth exceeded") {
		t.Errorf("DecodeJSON(deep) = %v, want a recursion error", err)
	}
	in = strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth)
	if _, err := DecodeJSON([]byte(in)); err != nil {
		t.Errorf("DecodeJSON(%d deep) = %v, want nil", maxDepth, err)
	}
}

func TestDecodeJSON_MatchesEncodingJSONWithUseNumber(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		`null`, `true`, `false`, `0`, `-0`, `-0.0`, `16.0`, `1E5`, `1e-300`, `123456789012345678901234567890`,
		`""`, `"a\"b\\c\/d\b\f\n\r\t"`, `"\u00e9\ud83d\ude00"`, `"日本"`,
		`[]`, `{}`, ` [1, "a", null, {"k": [true]}] `,
		"{\"inventories\": {\"VCPU\": {\"total\": 8, \"allocation_ratio\": 16.0}},\n \"resource_provider_generation\": 0}",
		`{"a": 1, "a": 2}`,
	} {
		got, err := DecodeJSON([]byte(in))
		if err != nil {
			t.Errorf("DecodeJSON(%s) = %v", in, err)
			continue
		}
		dec := json.NewDecoder(bytes.NewReader([]byte(in)))
		dec.UseNumber()
		var want any
		if err := dec.Decode(&want); err != nil {
			t.Fatalf("encoding/json rejected %s: %v", in, err)
		}
		if got := pycompat.Unordered(got); !reflect.DeepEqual(got, want) {
			t.Errorf("DecodeJSON(%s) = %#v, want %#v", in, got, want)
		}
	}
}

// TestDecodeJSON_PythonOnly holds what json.loads reads and encoding/json
// does not: lone surrogates (kept, as UTF-8 would write them) and the
// NaN, Infinity and -Infinity literals.
func TestDecodeJSON_PythonOnly(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`"\ud800"`:        "\xed\xa0\x80",
		`"\udc00\ud800x"`: "\xed\xb0\x80\xed\xa0\x80x",
		`"\ud83d\ude00"`:  "\U0001f600",
	} {
		got, err := DecodeJSON([]byte(in))
		if err != nil || got != want {
			t.Errorf("DecodeJSON(%s) = %q, %v; want %q", in, got, err, want)
		}
	}
	got, err := DecodeJSON([]byte(`[NaN, Infinity, -Infinity, -1e400, 1]`))
	if err != nil {
		t.Fatal(err)
	}
	vals := got.([]any)
	if f, ok := vals[0].(float64); !ok || !math.IsNaN(f) {
		t.Errorf("NaN = %#v", vals[0])
	}
	if vals[1] != math.Inf(1) || vals[2] != math.Inf(-1) {
		t.Errorf("Infinity, -Infinity = %#v, %#v", vals[1], vals[2])
	}
	if !HasNonFinite(got) || HasNonFinite([]any{vals[3], vals[4]}) {
		t.Errorf("HasNonFinite: the literals count, -1e400 does not")
	}
	for _, bad := range []string{`nan`, `+Infinity`, `-NaN`, `Inf`, `infinity`} {
		if _, err := DecodeJSON([]byte(bad)); err == nil {
			t.Errorf("DecodeJSON(%s) succeeded, want Malformed JSON", bad)
		}
	}
}

// TestDecodeJSON_IntDigitLimit: json.loads lets int()'s ValueError for an
// integer literal of more than 4,300 digits through, without a position;
// float literals have no such limit.
func TestDecodeJSON_IntDigitLimit(t *testing.T) {
	t.Parallel()
	digits := strings.Repeat("1", 4301)
	want := "Exceeds the limit (4300 digits) for integer string conversion: value has 4301 digits; use sys.set_int_max_str_digits() to increase the limit"
	for _, in := range []string{`{"a": ` + digits + `}`, `[-` + digits + `]`} {
		if _, err := DecodeJSON([]byte(in)); err == nil || err.Error() != want {
			t.Errorf("DecodeJSON(%.20s…) = %v, want %q", in, err, want)
		}
	}
	for _, in := range []string{`[` + digits[:4300] + `]`, `[` + digits + `.5]`, `[` + digits + `e1]`} {
		if _, err := DecodeJSON([]byte(in)); err != nil {
			t.Errorf("DecodeJSON(%.20s…) = %v, want nil", in, err)
		}
	}
}

func TestDecodeJSON_KeepsKeyOrder(t *testing.T) {
	t.Parallel()
	v, err := DecodeJSON([]byte(`{"b": 1, "a": {"z": 1, "y": 2}, "b": 3}`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := PyRepr(v), "{'b': 3, 'a': {'z': 1, 'y': 2}}"; got != want {
		t.Errorf("PyRepr(DecodeJSON) = %s, want %s", got, want)
	}
}
