package pycompat

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode"
)

// FloatRepr is Python's repr() of a float: the shortest digits that round
// trip, positional between 1e-4 and 1e16 with at least one decimal (1.0,
// 0.0001), and otherwise exponential with a signed exponent of at least two
// digits (1e-05, 1e+16). NaN and the infinities are nan, inf and -inf.
func FloatRepr(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	if f != 0 {
		// Go's 'e' format has the same digits and exponent layout.
		exp := strconv.FormatFloat(f, 'e', -1, 64)
		e, _ := strconv.Atoi(exp[strings.IndexByte(exp, 'e')+1:])
		if e < -4 || e >= 16 {
			return exp
		}
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsRune(s, '.') {
		s += ".0"
	}
	return s
}

// AppendTrunc appends the digits of Python's int(f), f truncated toward
// zero, which Python prints exactly however large (int(6e20) is
// 600000000000000000000, past int64). Python raises for NaN and the
// infinities; those append 0 here.
func AppendTrunc(dst []byte, f float64) []byte {
	f = math.Trunc(f)
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0):
		return append(dst, '0')
	case math.Abs(f) < 1<<63:
		return strconv.AppendInt(dst, int64(f), 10)
	}
	return new(big.Float).SetFloat64(f).Append(dst, 'f', 0)
}

// StrRepr is Python 3's repr() of a str: single quotes unless the text
// holds a single quote and no double quote, \t \n \r and backslash escaped,
// other non-printable characters as \xhh, \uhhhh or \Uhhhhhhhh.
func StrRepr(s string) string {
	quote := '\''
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		quote = '"'
	}
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteRune(quote)
	for _, r := range s {
		switch {
		case r == quote || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < ' ' || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r < 0x7f:
			b.WriteRune(r)
		case unicode.IsPrint(r):
			// Go's IsPrint and Python's str.isprintable() both keep letters,
			// marks, numbers, punctuation and symbols, and escape the rest.
			b.WriteRune(r)
		case r <= 0xff:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r <= 0xffff:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
	}
	b.WriteRune(quote)
	return b.String()
}
