package schema

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/openstack-placement-go/placement/internal/pycompat"
)

// pyFloats rewrites every finite float literal (one with a fraction or an
// exponent) as the float64 Python reads it, so that the library judges
// 16.00000000000000001 to be the integer 16 as upstream does, instead of
// by its exact decimal value.
func pyFloats(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = pyFloats(e)
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = pyFloats(e)
		}
		return out
	case json.Number:
		if n, ok := parseNumber(string(x)); ok && n.isFloat && !math.IsInf(n.f, 0) && !math.IsNaN(n.f) {
			return json.Number(strconv.FormatFloat(n.f, 'g', -1, 64))
		}
	}
	return v
}

// fromGeneric converts a generic JSON value into the ordered form. Map keys
// are sorted because their document order is unknown.
func fromGeneric(v any) (any, error) {
	switch x := v.(type) {
	case nil, bool, string, json.Number, float64:
		return x, nil
	case float32:
		return float64(x), nil
	case int:
		return json.Number(strconv.FormatInt(int64(x), 10)), nil
	case int32:
		return json.Number(strconv.FormatInt(int64(x), 10)), nil
	case int64:
		return json.Number(strconv.FormatInt(x, 10)), nil
	case uint64:
		return json.Number(strconv.FormatUint(x, 10)), nil
	case map[string]any:
		o := pycompat.NewObject()
		for _, k := range slices.Sorted(maps.Keys(x)) {
			c, err := fromGeneric(x[k])
			if err != nil {
				return nil, err
			}
			o.Set(k, c)
		}
		return o, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			c, err := fromGeneric(e)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	}
	return nil, fmt.Errorf("schema: %T is not a JSON value", v)
}

// pyNum is a JSON number as Python's json module reads it: an int of any
// size when the literal has no fraction or exponent, a float otherwise.
type pyNum struct {
	isFloat bool
	f       float64
	i       *big.Int
}

// asNumber reports whether v is a number (booleans are not) and returns it.
func asNumber(v any) (pyNum, bool) {
	switch x := v.(type) {
	case json.Number:
		return parseNumber(string(x))
	case float64:
		return pyNum{isFloat: true, f: x}, true
	}
	return pyNum{}, false
}

func parseNumber(s string) (pyNum, bool) {
	if strings.ContainsAny(s, ".eE") {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return pyNum{}, false
		}
		return pyNum{isFloat: true, f: f}, true
	}
	i, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return pyNum{}, false
	}
	return pyNum{i: i}, true
}

func (n pyNum) repr() string {
	if n.isFloat {
		return pycompat.FloatRepr(n.f)
	}
	return n.i.String()
}

// isInteger follows jsonschema's checker for drafts ≥ 6 (which the reference
// server uses): ints, and floats with an integral value.
func (n pyNum) isInteger() bool {
	if !n.isFloat {
		return true
	}
	return !math.IsInf(n.f, 0) && !math.IsNaN(n.f) && n.f == math.Trunc(n.f)
}

func (n pyNum) isNaN() bool { return n.isFloat && math.IsNaN(n.f) }

// rat returns the exact value of a finite number, or the sign of an
// infinite one in inf.
func (n pyNum) rat() (r *big.Rat, inf int) {
	if !n.isFloat {
		return new(big.Rat).SetInt(n.i), 0
	}
	if math.IsInf(n.f, 1) {
		return nil, 1
	}
	if math.IsInf(n.f, -1) {
		return nil, -1
	}
	return new(big.Rat).SetFloat64(n.f), 0
}

// cmpNum compares exactly, as Python compares ints with floats. ok is false
// when either side is NaN (every comparison is then false).
func cmpNum(a, b pyNum) (c int, ok bool) {
	if a.isNaN() || b.isNaN() {
		return 0, false
	}
	ra, ia := a.rat()
	rb, ib := b.rat()
	switch {
	case ia != 0 || ib != 0:
		return cmpInt(ia, ib), true
	default:
		return ra.Cmp(rb), true
	}
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (n pyNum) float() float64 {
	if n.isFloat {
		return n.f
	}
	f, _ := new(big.Float).SetInt(n.i).Float64()
	return f
}

// isMultiple follows jsonschema's multipleOf: float division when the
// divisor is a float, remainder otherwise.
func isMultiple(n, d pyNum) bool {
	if d.isFloat {
		q := n.float() / d.f
		if math.IsInf(q, 0) || math.IsNaN(q) {
			return false
		}
		return q == math.Trunc(q)
	}
	if n.isFloat {
		df := d.float()
		if df == 0 {
			return false
		}
		return math.Mod(n.f, df) == 0
	}
	if d.i.Sign() == 0 {
		return false
	}
	return new(big.Int).Rem(n.i, d.i).Sign() == 0
}

// truthy is Python's bool() for a JSON value.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case []any:
		return len(x) > 0
	case *pycompat.Object:
		return x.Len() > 0
	}
	if n, ok := asNumber(v); ok {
		if n.isFloat {
			return n.f != 0
		}
		return n.i.Sign() != 0
	}
	return true
}
