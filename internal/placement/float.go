package placement

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Float is a float64 that marshals to JSON the way Python's repr prints a
// float, which is how upstream renders allocation_ratio: 1.0, 16.0, 0.3,
// 1e-05, 1e+16. Clients compare numerically; this is textual fidelity.
type Float float64

// MarshalJSON renders f as FormatFloat does. NaN and infinities are not
// JSON and are refused.
func (f Float) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil, fmt.Errorf("placement.Float: %v is not representable in JSON", v)
	}
	return []byte(FormatFloat(v)), nil
}

// FormatFloat returns Python's repr of v: the shortest digits that round
// trip, positional notation with at least one fractional digit when the
// decimal exponent is in [-4, 16), scientific notation with a signed,
// at least two-digit exponent otherwise.
func FormatFloat(v float64) string {
	switch {
	case math.IsNaN(v):
		return "nan"
	case math.IsInf(v, 1):
		return "inf"
	case math.IsInf(v, -1):
		return "-inf"
	}
	// 'e' with precision -1 gives the shortest round-trip digits, e.g.
	// "-1.2345e+02"; split it into sign, digits and exponent.
	s := strconv.FormatFloat(v, 'e', -1, 64)
	sign := ""
	if s[0] == '-' {
		sign, s = "-", s[1:]
	}
	mant, expText, _ := strings.Cut(s, "e")
	exp, _ := strconv.Atoi(expText)
	digits := strings.Replace(mant, ".", "", 1)

	if exp < -4 || exp >= 16 {
		out := digits[:1]
		if len(digits) > 1 {
			out += "." + digits[1:]
		}
		es := "+"
		if exp < 0 {
			es, exp = "-", -exp
		}
		return fmt.Sprintf("%s%se%s%02d", sign, out, es, exp)
	}
	if exp < 0 {
		return sign + "0." + strings.Repeat("0", -exp-1) + digits
	}
	if len(digits) <= exp+1 {
		return sign + digits + strings.Repeat("0", exp+1-len(digits)) + ".0"
	}
	return sign + digits[:exp+1] + "." + digits[exp+1:]
}
