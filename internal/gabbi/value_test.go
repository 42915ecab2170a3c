package gabbi

import (
	"encoding/json"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/openstack-placement-go/placement/internal/pycompat"
)

func TestPyStr(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		json string
		want string
	}{
		{"strings are unquoted", `"abc"`, "abc"},
		{"integers print as integers", `42`, "42"},
		{"floats keep a .0 like Python", `1.0`, "1.0"},
		{"large floats use Python's exponent form", `1e16`, "1e+16"},
		{"small floats use Python's exponent form", `0.00001`, "1e-05"},
		{"true is True", `true`, "True"},
		{"null is None", `null`, "None"},
		{"lists use Python repr", `["a", 1, null]`, "['a', 1, None]"},
		{"objects use Python repr in order", `{"b": "x", "a": true}`, "{'b': 'x', 'a': True}"},
		{"quotes switch like Python repr", `["it's"]`, `["it's"]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := pyStr(mustDecode(t, tc.json)); got != tc.want {
				t.Errorf("pyStr(%s) = %q, want %q", tc.json, got, tc.want)
			}
		})
	}
}

func TestDecodeJSON_KeepsKeyOrderAndNumbers(t *testing.T) {
	t.Parallel()
	v := mustDecode(t, `{"z": 1, "a": 2.50, "m": {"y": 1, "b": 2}}`)
	m := v.(*pycompat.Object)
	if got := show(m); got != `{"z":1,"a":2.50,"m":{"y":1,"b":2}}` {
		t.Errorf("round trip = %s", got)
	}
	if _, err := decodeJSON([]byte(`{"a": 1} trailing`)); err == nil {
		t.Error("trailing data was accepted")
	}
}

func TestFromYAML(t *testing.T) {
	t.Parallel()
	src := `
base: &base
  a: 1
  b: two
other: &other
  b: three
  c: 4.0
merged:
  <<: [*base, *other]
  a: override
alias: *base
bools: [yes, no, on, off, "yes", true]
nothing: ~
hex: 0x10
yamlnumbers: [1_000, +1, .5, !!float 0x10]
`
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		t.Fatal(err)
	}
	v, err := fromYAML(&n)
	if err != nil {
		t.Fatal(err)
	}
	m := v.(*pycompat.Object)
	want := mustDecode(t, `{
		"base": {"a": 1, "b": "two"},
		"other": {"b": "three", "c": 4.0},
		"merged": {"a": "override", "b": "two", "c": 4.0},
		"alias": {"a": 1, "b": "two"},
		"bools": [true, false, true, false, "yes", true],
		"nothing": null,
		"hex": 16,
		"yamlnumbers": [1000, 1, 0.5, 16.0]
	}`)
	if !pycompat.Equal(m, want) {
		t.Errorf("fromYAML = %s\nwant %s", show(m), show(want))
	}
	if n, ok := m.Get("yamlnumbers").([]any)[3].(json.Number); !ok || n != "16.0" {
		t.Errorf("!!float 0x10 = %#v, want json.Number 16.0", m.Get("yamlnumbers").([]any)[3])
	}
	if n, ok := m.Get("other").(*pycompat.Object).Get("c").(json.Number); !ok || n != "4.0" {
		t.Errorf("float literal = %#v, want json.Number 4.0", m.Get("other").(*pycompat.Object).Get("c"))
	}
}

func TestCastEnv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want any
	}{
		{"5", json.Number("5")},
		{"-12", json.Number("-12")},
		{"1.5", json.Number("1.5")},
		{"true", true},
		{"False", false},
		{"10.0.0.1", "10.0.0.1"},
		{"4e8e5957-649f-477b-9e5b-f1f75b21c03c", "4e8e5957-649f-477b-9e5b-f1f75b21c03c"},
		{"", ""},
	}
	for _, tc := range tests {
		t.Run("casting "+tc.in, func(t *testing.T) {
			t.Parallel()
			if got := castEnv(tc.in); !pycompat.Equal(got, tc.want) {
				t.Errorf("castEnv(%q) = %#v, want %#v", tc.in, got, tc.want)
			}
		})
	}
}
