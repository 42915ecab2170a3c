package gabbi

import (
	"testing"

	"github.com/openstack-placement-go/placement/internal/pycompat"
	"github.com/openstack-placement-go/placement/internal/testutil"
)

const pathDoc = `{
  "resource_providers": [
    {"name": "b", "uuid": "u2", "generation": 2, "traits": ["Y", "X"], "inv": {"VCPU": {"total": 8}}},
    {"name": "a", "uuid": "u1", "generation": 1, "traits": [], "inv": {"DISK_GB": {"total": 100}}},
    {"name": "c", "uuid": "u3", "generation": "3", "traits": ["Z"], "parent": {"name": "b"}}
  ],
  "allocations": {
    "4e8e5957-649f-477b-9e5b-f1f75b21c03c": {"resources": {"VCPU": 1}},
    "0aa00b3a-1111-2222-3333-444455556666": {"resources": {"VCPU": 2}}
  },
  "count": 3,
  "ratio": 1.5,
  "name": "top",
  "empty": [],
  "zero": 0,
  "null": null,
  "meta": {"m": {"a": 1}},
  "nums": [3, 1, 2],
  "key with space": "spaced",
  "errors": [{"status": 400, "detail": "bad thing"}],
  "items": [{"k": 10, "s": "b", "flag": true}, {"k": 9, "s": "a"}, {"k": 10, "s": "a", "flag": false}]
}`

func mustDecode(t *testing.T, s string) any {
	t.Helper()
	v, err := decodeJSON([]byte(s))
	if err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return v
}

func TestExtractPath(t *testing.T) {
	t.Parallel()
	doc := mustDecode(t, pathDoc)
	tests := []struct {
		name string
		path string
		want string // JSON of the expected result
	}{
		{"the root is the whole document when the path is $", "$.count", `3`},
		{"a leading $ is optional", "count", `3`},
		{"dotted keys descend", "$.resource_providers[0].name", `"b"`},
		{"bracketed single-quoted keys work", "$['count']", `3`},
		{"bracketed double-quoted keys work", `$["key with space"]`, `"spaced"`},
		{"several bracketed keys yield a list", `$['count', 'name']`, `[3, "top"]`},
		{"a bare key in brackets is a key", "$[count]", `3`},
		{"negative indexes count from the end", "$.resource_providers[-1].name", `"c"`},
		{"[*] yields every item, so several matches make a list", "$.resource_providers[*].uuid", `["u2", "u1", "u3"]`},
		{"slices follow Python", "$.nums[1:]", `[1, 2]`},
		{"slices with a negative end follow Python", "$.nums[:-1]", `[3, 1]`},
		{".* yields object values in document order", "$.allocations.*.resources.VCPU", `[1, 2]`},
		{"UUID keys starting with a digit work after a dot", "$.allocations.0aa00b3a-1111-2222-3333-444455556666.resources.VCPU", `2`},
		{"recursive descent finds keys at any depth in pre-order", "$..total", `[8, 100]`},
		{"recursive descent includes the top level", "$..count", `3`},
		{"recursive descent can be followed by more steps", "$..inv.VCPU.total", `8`},
		{"a single match of a list yields the list", "$.resource_providers[0].traits", `["Y", "X"]`},
		{"filter with = and single quotes", "$.resource_providers[?name = 'a'].uuid", `"u1"`},
		{"filter with == and double quotes", `$.resource_providers[?name == "b"].uuid`, `"u2"`},
		{"filter with !=", "$.resource_providers[?name != 'a'].uuid", `["u2", "u3"]`},
		{"filter with a number casts numeric strings like jsonpath-rw-ext", "$.resource_providers[?generation = 3].name", `"c"`},
		{"filter with a number", "$.resource_providers[?generation = 1].name", `"a"`},
		{"filter with >", "$.resource_providers[?generation > 1].name", `["b", "c"]`},
		{"filter on a nested key", "$.resource_providers[?parent.name = 'b'].uuid", `"u3"`},
		{"filter with @ and parentheses", "$.resource_providers[?(@.name = 'b')].uuid", `"u2"`},
		{"filter on existence", "$.resource_providers[?parent].name", `"c"`},
		{"filter with & requires both", "$.resource_providers[?name != 'a' & generation = 2].name", `"b"`},
		{"filter with =~ searches a regex", "$.resource_providers[?name =~ '^[ab]$'].name", `["b", "a"]`},
		{"filter on an object filters its values", "$.allocations[?resources.VCPU = 2].resources.VCPU", `2`},
		{"len of a list", "$.resource_providers.`len`", `3`},
		{"len of an object", "$.allocations.`len`", `2`},
		{"len of a string counts characters", "$.name.`len`", `3`},
		{"len of an empty list is zero", "$.empty.`len`", `0`},
		{"len per match", "$.resource_providers[*].traits.`len`", `[2, 0, 1]`},
		{"sorted sorts a list of scalars", "$.nums.`sorted`", `[1, 2, 3]`},
		{"sorted on an object yields its sorted keys", "$.resource_providers[0].inv.`sorted`", `["VCPU"]`},
		{"sorted per match", "$.resource_providers[0].traits.`sorted`", `["X", "Y"]`},
		{"[/key] sorts objects ascending", "$.resource_providers[/name][*].name", `["a", "b", "c"]`},
		{"[\\key] sorts objects descending", "$.resource_providers[\\name][0].name", `"c"`},
		{"[/key] yields the sorted list as one match", "$.resource_providers[/uuid][0].uuid", `"u1"`},
		{"[/key] sorts numbers numerically", "$.items[/k][*].k", `[9, 10, 10]`},
		{"[/a, /b] sorts by several keys", "$.items[/k, /s][*].s", `["a", "a", "b"]`},
		{"[\\a, /b] mixes directions", "$.items[\\k, /s][*].s", `["a", "b", "a"]`},
		{"[/key] on an object passes it through", "$.meta[/k]", `{"m": {"a": 1}}`},
		{"filter with a boolean literal", "$.items[?flag = true].s", `"b"`},
		{"filter with a bare word", "$.items[?s = b].k", `10`},
		{"filter with <=", "$.items[?k <= 9].s", `"a"`},
		{"filter with >=", "$.items[?k >= 10].s", `["b", "a"]`},
		{"filter with <", "$.items[?k < 10].s", `"a"`},
		{"recursive descent into a bracket", "$..traits[0]", `["Y", "Z"]`},
		{"recursive descent with a wildcard", "$.meta..*", `[{"a": 1}, 1]`},
		{"`this` is the current value", "$.count.`this`", `3`},
		{"a null value is a match", "$.null", `null`},
		{"falsy values are matches for keys", "$.zero", `0`},
		{"errors[0].detail style paths work", "$.errors[0].detail", `"bad thing"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := extractPath(doc, tc.path)
			if err != nil {
				t.Fatalf("extractPath(%s): %v", tc.path, err)
			}
			want := mustDecode(t, tc.want)
			if !pycompat.Equal(got, want) {
				t.Errorf("extractPath(%s) = %s, want %s", tc.path, show(got), show(want))
			}
		})
	}
}

func TestExtractPath_Errors(t *testing.T) {
	t.Parallel()
	doc := mustDecode(t, pathDoc)
	testutil.WantErrors(t, func(t *testing.T, path string) error {
		got, err := extractPath(doc, path)
		if err == nil {
			t.Logf("extractPath(%s) = %s", path, show(got))
		}
		return err
	}, []testutil.ErrorCase{
		{"a missing key matched nothing", "$.nope", "matched nothing"},
		{"an index past the end matched nothing", "$.nums[10]", "matched nothing"},
		{"a key on a list matches nothing (no flattening)", "$.resource_providers.name", "matched nothing"},
		{"[*] on an empty list matches nothing", "$.empty[*]", "matched nothing"},
		{".* on a list matches nothing", "$.nums.*", "matched nothing"},
		{"a filter that matches no item matched nothing", "$.resource_providers[?name = 'zz']", "matched nothing"},
		{"len of a number matched nothing", "$.count.`len`", "matched nothing"},
		{"unknown backquoted functions are unsupported", "$.name.`parent`", "unsupported JSONPath syntax"},
		{"unions are unsupported", "$.a | $.b", "unsupported JSONPath syntax"},
		{"script expressions are unsupported", "$.nums[(@.length-1)]", "unsupported JSONPath syntax"},
		{"slice steps are unsupported", "$.nums[0:2:1]", "unsupported JSONPath syntax"},
		{"an unterminated bracket is an error", "$.nums[0", "expected ']'"},
		{"an unterminated quote is an error", "$['count", "unterminated"},
		{"a trailing dot is an error", "$.count.", "missing key"},
		{"sorting objects is an error", "$.resource_providers.`sorted`", "cannot order"},
		{"sorting by keys of mixed types is an error", "$.resource_providers[/generation]", "cannot order"},
	})
}

func TestExtractPath_StarOnObjectYieldsTheObject(t *testing.T) {
	t.Parallel()
	// jsonpath-rw wraps a non-list in a one-element list for [*].
	doc := mustDecode(t, `{"a": {"b": 1}}`)
	got, err := extractPath(doc, "$.a[*].b")
	if err != nil {
		t.Fatal(err)
	}
	if !pycompat.Equal(got, mustDecode(t, "1")) {
		t.Errorf("got %s, want 1", show(got))
	}
}
