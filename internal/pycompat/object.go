package pycompat

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// Object is a JSON object that keeps its keys in insertion order, as a
// Python dict does: a decoded request body or gabbi file lists them in
// document order. Its values are JSON values: nil, bool, string,
// json.Number, float64, []any or *Object. Use NewObject to make one; a nil
// *Object reads as an empty object.
type Object struct {
	keys []string
	vals map[string]any
}

// NewObject returns an empty object.
func NewObject() *Object { return &Object{vals: map[string]any{}} }

// Set stores v under k. A key set again keeps its first position and takes
// the new value, like dict(pairs) for repeated keys in a JSON document.
func (o *Object) Set(k string, v any) {
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = v
}

// Get returns the value of k, nil when k is absent.
func (o *Object) Get(k string) any {
	if o == nil {
		return nil
	}
	return o.vals[k]
}

// Lookup returns the value of k and whether k is present.
func (o *Object) Lookup(k string) (any, bool) {
	if o == nil {
		return nil, false
	}
	v, ok := o.vals[k]
	return v, ok
}

// Has reports whether k is present.
func (o *Object) Has(k string) bool {
	if o == nil {
		return false
	}
	_, ok := o.vals[k]
	return ok
}

// Keys returns the keys in order. The slice belongs to o: do not modify it.
func (o *Object) Keys() []string {
	if o == nil {
		return nil
	}
	return o.keys
}

// Len returns the number of keys.
func (o *Object) Len() int { return len(o.Keys()) }

// Values returns the values in key order.
func (o *Object) Values() []any {
	out := make([]any, 0, o.Len())
	for _, k := range o.Keys() {
		out = append(out, o.vals[k])
	}
	return out
}

// Delete removes k, if present; the other keys keep their order.
func (o *Object) Delete(k string) {
	if _, ok := o.vals[k]; !ok {
		return
	}
	delete(o.vals, k)
	for i, key := range o.keys {
		if key == k {
			o.keys = append(o.keys[:i:i], o.keys[i+1:]...)
			break
		}
	}
}

// Clone returns a shallow copy of o.
func (o *Object) Clone() *Object {
	c := NewObject()
	for _, k := range o.keys {
		c.Set(k, o.vals[k])
	}
	return c
}

// MarshalJSON writes o compactly with its keys in order, without
// encoding/json's HTML escaping ("<" stays "<", as Python writes it).
func (o *Object) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		if err := writeJSON(&buf, k); err != nil {
			return nil, err
		}
		buf.WriteByte(':')
		if err := writeJSON(&buf, o.vals[k]); err != nil {
			return nil, err
		}
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

func writeJSON(buf *bytes.Buffer, v any) error {
	b, err := Marshal(v)
	if err != nil {
		return err
	}
	buf.Write(b)
	return nil
}

// Marshal encodes v as JSON without HTML escaping ("<", ">" and "&" stay
// as they are, as Python's json module writes them) and without a trailing
// newline.
func Marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// MapNumbers returns a copy of the JSON value v in which every json.Number
// n is f(n). Objects (*Object, keeping their key order, or map[string]any)
// and lists are copied; other values are returned as they are. v is not
// modified.
func MapNumbers(v any, f func(json.Number) any) any {
	switch x := v.(type) {
	case *Object:
		out := NewObject()
		for _, k := range x.keys {
			out.Set(k, MapNumbers(x.vals[k], f))
		}
		return out
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = MapNumbers(e, f)
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = MapNumbers(e, f)
		}
		return out
	case json.Number:
		return f(x)
	}
	return v
}

// Truthy is Python's bool() for a JSON value: false for None, False, 0,
// 0.0, "" and empty lists and objects, true for everything else.
func Truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case []any:
		return len(x) > 0
	case *Object:
		return x.Len() > 0
	}
	if n, ok := NumberOf(v); ok {
		if n.IsFloat {
			return n.Float != 0
		}
		return n.Int.Sign() != 0
	}
	return true
}

// Equal reports whether two JSON values are equal the way Python compares
// what json.loads returned: numbers by exact value (1 == 1.0, but 2**53+1
// is not 9007199254740992.0), booleans never equal to numbers, lists
// element by element and objects by content, whatever their key order.
func Equal(a, b any) bool {
	if na, ok := NumberOf(a); ok {
		nb, ok := NumberOf(b)
		if !ok {
			return false
		}
		c, ok := na.Compare(nb)
		return ok && c == 0
	}
	switch x := a.(type) {
	case nil:
		return b == nil
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case string:
		y, ok := b.(string)
		return ok && x == y
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !Equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case *Object:
		y, ok := b.(*Object)
		if !ok || len(x.keys) != len(y.keys) {
			return false
		}
		for _, k := range x.keys {
			yv, ok := y.vals[k]
			if !ok || !Equal(x.vals[k], yv) {
				return false
			}
		}
		return true
	}
	return false
}

// Number is a JSON number as json.loads reads it: an int of any size (Int)
// for a literal without fraction or exponent, a float (IsFloat, Float)
// otherwise. A float literal out of range is an infinity, as in Python.
type Number struct {
	IsFloat bool
	Float   float64
	Int     *big.Int
}

// NumberOf returns v as a Number when it is a json.Number or a float64;
// anything else, booleans included, is not a number.
func NumberOf(v any) (Number, bool) {
	switch x := v.(type) {
	case float64:
		return Number{IsFloat: true, Float: x}, true
	case json.Number:
		s := string(x)
		if strings.ContainsAny(s, ".eE") {
			f, err := strconv.ParseFloat(s, 64)
			if err != nil && !errors.Is(err, strconv.ErrRange) {
				return Number{}, false
			}
			return Number{IsFloat: true, Float: f}, true
		}
		i, ok := new(big.Int).SetString(s, 10)
		return Number{Int: i}, ok
	}
	return Number{}, false
}

// Repr is Python's repr() of the number.
func (n Number) Repr() string {
	if n.IsFloat {
		return FloatRepr(n.Float)
	}
	return n.Int.String()
}

// Compare compares n with m exactly, as Python compares ints with floats
// (2**53+1 > 9007199254740992.0). ok is false when either is NaN, which
// compares false with everything.
func (n Number) Compare(m Number) (c int, ok bool) {
	if n.IsFloat && math.IsNaN(n.Float) || m.IsFloat && math.IsNaN(m.Float) {
		return 0, false
	}
	if inf := cmpInf(n) - cmpInf(m); inf != 0 || cmpInf(n) != 0 {
		return sign(inf), true
	}
	return n.rat().Cmp(m.rat()), true
}

// cmpInf is the sign of an infinite n, 0 for a finite one.
func cmpInf(n Number) int {
	switch {
	case n.IsFloat && math.IsInf(n.Float, 1):
		return 1
	case n.IsFloat && math.IsInf(n.Float, -1):
		return -1
	}
	return 0
}

func sign(i int) int {
	switch {
	case i < 0:
		return -1
	case i > 0:
		return 1
	}
	return 0
}

// rat is the exact value of a finite n.
func (n Number) rat() *big.Rat {
	if n.IsFloat {
		return new(big.Rat).SetFloat64(n.Float)
	}
	return new(big.Rat).SetInt(n.Int)
}

// Unordered returns v with every *Object replaced by a map[string]any, the
// form encoding/json gives with UseNumber. Other values are returned as
// they are; v is not modified.
func Unordered(v any) any {
	switch x := v.(type) {
	case *Object:
		m := make(map[string]any, len(x.keys))
		for _, k := range x.keys {
			m[k] = Unordered(x.vals[k])
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = Unordered(e)
		}
		return out
	}
	return v
}
