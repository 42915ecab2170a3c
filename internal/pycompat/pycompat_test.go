package pycompat

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"testing"

	"github.com/openstack-placement-go/placement/internal/testutil"
)

// The expectations in this file are CPython 3 outputs.

func TestFloatRepr(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0.0"},
		{math.Copysign(0, -1), "-0.0"},
		{1, "1.0"},
		{16, "16.0"},
		{1.5, "1.5"},
		{-0.5, "-0.5"},
		{0.3, "0.3"},
		{0.30000000000000004, "0.30000000000000004"},
		{0.0001, "0.0001"},
		{0.00001, "1e-05"},
		{0.000123, "0.000123"},
		{1e-300, "1e-300"},
		{1.5e-7, "1.5e-07"},
		{123.456, "123.456"},
		{1e15, "1000000000000000.0"},
		{1234567890123456, "1234567890123456.0"},
		{1e16, "1e+16"},
		{1.5e16, "1.5e+16"},
		{3.40282e+38, "3.40282e+38"},
		{2147483647, "2147483647.0"},
		{-1e100, "-1e+100"},
		{5e-324, "5e-324"},
		{math.NaN(), "nan"},
		{math.Inf(1), "inf"},
		{math.Inf(-1), "-inf"},
	}
	for _, tc := range tests {
		if got := FloatRepr(tc.in); got != tc.want {
			t.Errorf("FloatRepr(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestAppendTrunc(t *testing.T) {
	t.Parallel()
	for f, want := range map[float64]string{
		0: "0", 16: "16", 15.9: "15", -2.5: "-2", 1 << 53: "9007199254740992",
		6e20: "600000000000000000000", 7.307500303684541e+47: "730750030368454069204497451323897263056217964544",
		math.MaxInt64: "9223372036854775808", math.NaN(): "0", math.Inf(1): "0",
	} {
		if got := string(AppendTrunc([]byte("x"), f)); got != "x"+want {
			t.Errorf("AppendTrunc(%v) = %q, want %q", f, got, "x"+want)
		}
	}
}

func TestStrRepr(t *testing.T) {
	t.Parallel()
	testutil.WantOutputs(t, "StrRepr", StrRepr, []testutil.Pair[string, string]{
		{"abc", "'abc'"},
		{"", "''"},
		{"it's", `"it's"`},
		{`sa"y`, `'sa"y'`},
		{`it's "x"`, `'it\'s "x"'`},
		{"a\tb\nc\rd\\e\x00\x7f", `'a\tb\nc\rd\\e\x00\x7f'`},
		{"é日本😀", "'é日本😀'"},
		{"\u00a0\u200b\u2028\U000e0001", `'\xa0\u200b\u2028\U000e0001'`},
		{"\ufffd", "'\ufffd'"},
	})
}

func TestUTF8Error(t *testing.T) {
	t.Parallel()
	testutil.WantOutputs(t, "UTF8Error", func(s string) string { return UTF8Error([]byte(s)) }, []testutil.Pair[string, string]{
		{"abc", ""},
		{"\u2603", ""},
		{"\xff", "'utf-8' codec can't decode byte 0xff in position 0: invalid start byte"},
		{"a\xff", "'utf-8' codec can't decode byte 0xff in position 1: invalid start byte"},
		{"\xc3", "'utf-8' codec can't decode byte 0xc3 in position 0: unexpected end of data"},
		{"\xc3(", "'utf-8' codec can't decode byte 0xc3 in position 0: invalid continuation byte"},
		{"\xe2\x82", "'utf-8' codec can't decode bytes in position 0-1: unexpected end of data"},
		{"\xe2\x82(", "'utf-8' codec can't decode bytes in position 0-1: invalid continuation byte"},
		{"\xed\xa0\x80", "'utf-8' codec can't decode byte 0xed in position 0: invalid continuation byte"},
		{"\xe0\x80", "'utf-8' codec can't decode byte 0xe0 in position 0: invalid continuation byte"},
		{"\xf0\x90\x80", "'utf-8' codec can't decode bytes in position 0-2: unexpected end of data"},
		{"\xf4\x90\x80\x80", "'utf-8' codec can't decode byte 0xf4 in position 0: invalid continuation byte"},
		{"\xc0\x80", "'utf-8' codec can't decode byte 0xc0 in position 0: invalid start byte"},
		{"\xf5", "'utf-8' codec can't decode byte 0xf5 in position 0: invalid start byte"},
	})
}

// The expectations are list(set(ids)).
func TestIntSetOrder(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		ids, want []int
	}{
		{nil, []int{}},
		{[]int{2, 10000}, []int{10000, 2}},
		{[]int{10000, 2, 2}, []int{10000, 2}},
		{[]int{8, 0}, []int{8, 0}},                                 // collision: 0 probes on to slot 1
		{[]int{0, 8}, []int{0, 8}},                                 // 8 probes from slot 0 to slot 1
		{[]int{0, 1, 2, 10000, 6, 5}, []int{0, 1, 2, 5, 6, 10000}}, // grown to 32 slots
		{[]int{10001, 10000, 1}, []int{10000, 10001, 1}},
	} {
		if got := IntSetOrder(tc.ids); !slices.Equal(got, tc.want) {
			t.Errorf("IntSetOrder(%v) = %v, want %v", tc.ids, got, tc.want)
		}
	}
}

// The expectations below are what python3.11 prints for the same
// operations on sets of int tuples.
func TestSetOrderOfTuples(t *testing.T) {
	t.Parallel()
	type tuple = [3]int64
	hash := func(x tuple) uint64 { return TupleHash(IntHash(x[0]), IntHash(x[1]), IntHash(x[2])) }
	set := func(xs ...tuple) *Set[tuple] {
		s := NewSet[tuple]()
		for _, x := range xs {
			s.Add(x, hash(x))
		}
		return s
	}
	if got := TupleHash(IntHash(3), IntHash(1), IntHash(2)); got != 14178849486672619158 {
		t.Errorf("hash((3, 1, 2)) = %d", got)
	}
	if got := TupleHash(); got != 5740354900026072187 {
		t.Errorf("hash(()) = %d", got)
	}

	// s = set(); s |= {(3,3,2)}; s |= {(3,1,2), (3,2,2), (3,3,2)}
	s := NewSet[tuple]()
	s.Update(set(tuple{3, 3, 2}))
	s.Update(set(tuple{3, 1, 2}, tuple{3, 2, 2}, tuple{3, 3, 2}))
	if want := []tuple{{3, 2, 2}, {3, 3, 2}, {3, 1, 2}}; !slices.Equal(s.Keys(), want) {
		t.Errorf("merged = %v, want %v", s.Keys(), want)
	}

	// a = set((i, i % 5, 10000) for i in range(1, 13)): grown twice
	var xs []tuple
	for i := int64(1); i < 13; i++ {
		xs = append(xs, tuple{i, i % 5, 10000})
	}
	a := set(xs...)
	want := []tuple{{6, 1, 10000}, {11, 1, 10000}, {1, 1, 10000}, {7, 2, 10000}, {10, 0, 10000}, {12, 2, 10000},
		{3, 3, 10000}, {9, 4, 10000}, {5, 0, 10000}, {8, 3, 10000}, {4, 4, 10000}, {2, 2, 10000}}
	if !slices.Equal(a.Keys(), want) {
		t.Errorf("grown = %v, want %v", a.Keys(), want)
	}

	// t = set(); t |= a; t |= set([(3,1,2), (40,2,2)]): a resize up front, a
	// copy, then additions
	u := NewSet[tuple]()
	u.Update(a)
	u.Update(set(tuple{3, 1, 2}, tuple{40, 2, 2}))
	want = slices.Insert(slices.Clone(want), 4, tuple{40, 2, 2})
	want = slices.Insert(want, 11, tuple{3, 1, 2})
	if !slices.Equal(u.Keys(), want) || u.Len() != 14 {
		t.Errorf("updated = %v, want %v", u.Keys(), want)
	}
}

func TestObject(t *testing.T) {
	t.Parallel()
	o := NewObject()
	o.Set("b", json.Number("1"))
	o.Set("a", "x")
	o.Set("b", json.Number("2")) // keeps its place, takes the value
	o.Set("c", nil)
	if got := o.Keys(); !slices.Equal(got, []string{"b", "a", "c"}) {
		t.Errorf("Keys = %v", got)
	}
	if o.Get("b") != json.Number("2") || o.Get("zz") != nil || !o.Has("c") || o.Has("zz") || o.Len() != 3 {
		t.Errorf("Get/Has/Len wrong: %v", o.Values())
	}
	if v, ok := o.Lookup("c"); v != nil || !ok {
		t.Errorf("Lookup(c) = %v, %v", v, ok)
	}
	c := o.Clone()
	c.Delete("b")
	c.Delete("zz")
	if got := c.Keys(); !slices.Equal(got, []string{"a", "c"}) || o.Len() != 3 {
		t.Errorf("Delete on a clone: %v, original %v", got, o.Keys())
	}
	var none *Object
	if none.Get("a") != nil || none.Has("a") || none.Len() != 0 || none.Keys() != nil || len(none.Values()) != 0 {
		t.Error("a nil *Object does not read as empty")
	}
	inner := NewObject()
	inner.Set("<z>", []any{json.Number("1.50"), true})
	o.Set("a", inner)
	got, err := o.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"b":2,"a":{"<z>":[1.50,true]},"c":null}`; string(got) != want {
		t.Errorf("MarshalJSON = %s, want %s", got, want)
	}
}

func TestEqual(t *testing.T) {
	t.Parallel()
	obj := func(kv ...any) *Object {
		o := NewObject()
		for i := 0; i < len(kv); i += 2 {
			o.Set(kv[i].(string), kv[i+1])
		}
		return o
	}
	n := func(s string) json.Number { return json.Number(s) }
	tests := []struct {
		name string
		a, b any
		want bool
	}{
		{"an int equals the same float", n("1"), n("1.0"), true},
		{"exponent notation compares by value", n("1000"), n("1e3"), true},
		{"a float64 equals a number", 2.5, n("2.5"), true},
		{"ints compare exactly", n("9007199254740993"), n("9007199254740992"), false},
		{"a big int is not the float it rounds to", n("9007199254740993"), n("9007199254740992.0"), false},
		{"a big int equals its exact float", n("9007199254740992"), n("9007199254740992.0"), true},
		{"NaN equals nothing", math.NaN(), math.NaN(), false},
		{"a bool is not a number", true, n("1"), false},
		{"null", nil, nil, true},
		{"a string", "a", "a", true},
		{"lists by element", []any{n("1"), "x"}, []any{n("1.0"), "x"}, true},
		{"lists of another length", []any{n("1")}, []any{n("1"), n("1")}, false},
		{"objects whatever the order", obj("a", n("1"), "b", nil), obj("b", nil, "a", n("1")), true},
		{"objects with another key", obj("a", n("1")), obj("b", n("1")), false},
		{"an object is not a list", obj(), []any{}, false},
	}
	for _, tc := range tests {
		if got := Equal(tc.a, tc.b); got != tc.want {
			t.Errorf("%s: Equal(%v, %v) = %v", tc.name, tc.a, tc.b, got)
		}
	}
}

func TestNumber(t *testing.T) {
	t.Parallel()
	n := func(v any) Number {
		t.Helper()
		x, ok := NumberOf(v)
		if !ok {
			t.Fatalf("NumberOf(%v) is not a number", v)
		}
		return x
	}
	tests := []struct {
		a, b any
		want int
	}{
		{json.Number("1"), json.Number("1.0"), 0},
		{json.Number("9007199254740993"), json.Number("9007199254740992.0"), 1},
		{json.Number("-1e400"), json.Number("-123456789012345678901234567890"), -1},
		{json.Number("1e400"), math.Inf(1), 0},
		{json.Number("1E400"), json.Number("1e401"), 0},
		{json.Number("0.5"), json.Number("1"), -1},
	}
	for _, tc := range tests {
		if got, ok := n(tc.a).Compare(n(tc.b)); !ok || got != tc.want {
			t.Errorf("Compare(%v, %v) = %d, %v; want %d", tc.a, tc.b, got, ok, tc.want)
		}
	}
	if _, ok := n(math.NaN()).Compare(n(json.Number("1"))); ok {
		t.Error("NaN compared")
	}
	for in, want := range map[json.Number]string{"-0": "0", "16.0": "16.0", "1E5": "100000.0", "1e400": "inf", "123456789012345678901234567890": "123456789012345678901234567890"} {
		if got := n(in).Repr(); got != want {
			t.Errorf("Repr(%s) = %s, want %s", in, got, want)
		}
	}
	for _, v := range []any{true, "1", nil, json.Number("x")} {
		if _, ok := NumberOf(v); ok {
			t.Errorf("NumberOf(%#v) is a number", v)
		}
	}
}

func TestTruthy(t *testing.T) {
	t.Parallel()
	full := NewObject()
	full.Set("a", nil)
	testutil.WantOutputs(t, "Truthy", Truthy, []testutil.Pair[any, bool]{
		{nil, false},
		{false, false},
		{true, true},
		{"", false},
		{"0", true},
		{json.Number("0"), false},
		{json.Number("-0.0"), false},
		{json.Number("0e5"), false},
		{json.Number("1e-400"), false}, // float("1e-400") is 0.0
		{json.Number("1e400"), true},   // inf
		{json.Number("100000000000000000000000"), true},
		{json.Number("0.5"), true},
		{0.0, false},
		{2.5, true},
		{[]any{}, false},
		{[]any{nil}, true},
		{NewObject(), false},
		{full, true},
	})
}

func TestMarshal(t *testing.T) {
	t.Parallel()
	got, err := Marshal(map[string]any{"a": "<&>", "b": []any{json.Number("1.50")}})
	if want := `{"a":"<&>","b":[1.50]}`; err != nil || string(got) != want {
		t.Errorf("Marshal = %s, %v; want %s", got, err, want)
	}
}

func TestMapNumbers(t *testing.T) {
	t.Parallel()
	obj := NewObject()
	obj.Set("z", json.Number("1"))
	obj.Set("a", []any{json.Number("2"), "3", map[string]any{"n": json.Number("4"), "b": true}})
	double := func(n json.Number) any {
		i, _ := n.Int64()
		return json.Number(strconv.FormatInt(2*i, 10))
	}
	got, err := Marshal(MapNumbers(obj, double))
	if want := `{"z":2,"a":[4,"3",{"b":true,"n":8}]}`; err != nil || string(got) != want {
		t.Errorf("MapNumbers = %s, %v; want %s", got, err, want)
	}
	if again, _ := Marshal(obj); string(again) != `{"z":1,"a":[2,"3",{"b":true,"n":4}]}` {
		t.Errorf("MapNumbers changed its argument: %s", again)
	}
}
