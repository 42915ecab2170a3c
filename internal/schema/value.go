package schema

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"math/big"
	"slices"
	"strconv"

	"github.com/openstack-placement-go/placement/internal/pycompat"
)

// pyFloats rewrites every finite float literal (one with a fraction or an
// exponent) as the float64 Python reads it, so that the library judges
// 16.00000000000000001 to be the integer 16 as upstream does, instead of
// by its exact decimal value.
func pyFloats(v any) any { return pycompat.MapNumbers(v, pyFloat) }

func pyFloat(x json.Number) any {
	if n, ok := pycompat.NumberOf(x); ok && n.IsFloat && !math.IsInf(n.Float, 0) && !math.IsNaN(n.Float) {
		return json.Number(strconv.FormatFloat(n.Float, 'g', -1, 64))
	}
	return x
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

// pyNum is a JSON number as Python's json module reads it.
type pyNum struct{ pycompat.Number }

// asNumber reports whether v is a number (booleans are not) and returns it.
func asNumber(v any) (pyNum, bool) {
	n, ok := pycompat.NumberOf(v)
	return pyNum{n}, ok
}

func (n pyNum) repr() string { return n.Repr() }

// isInteger follows jsonschema's checker for drafts ≥ 6 (which the reference
// server uses): ints, and floats with an integral value.
func (n pyNum) isInteger() bool {
	if !n.IsFloat {
		return true
	}
	return !math.IsInf(n.Float, 0) && !math.IsNaN(n.Float) && n.Float == math.Trunc(n.Float)
}

// cmpNum compares exactly, as Python compares ints with floats. ok is false
// when either side is NaN (every comparison is then false).
func cmpNum(a, b pyNum) (c int, ok bool) { return a.Compare(b.Number) }

func (n pyNum) float() float64 {
	if n.IsFloat {
		return n.Float
	}
	f, _ := new(big.Float).SetInt(n.Int).Float64()
	return f
}

// isMultiple follows jsonschema's multipleOf: float division when the
// divisor is a float, remainder otherwise.
func isMultiple(n, d pyNum) bool {
	if d.IsFloat {
		q := n.float() / d.Float
		if math.IsInf(q, 0) || math.IsNaN(q) {
			return false
		}
		return q == math.Trunc(q)
	}
	if n.IsFloat {
		df := d.float()
		if df == 0 {
			return false
		}
		return math.Mod(n.Float, df) == 0
	}
	if d.Int.Sign() == 0 {
		return false
	}
	return new(big.Int).Rem(n.Int, d.Int).Sign() == 0
}
