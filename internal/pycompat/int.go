package pycompat

import (
	"fmt"
	"math/big"
	"strings"
	"unicode"
)

// maxIntDigits is CPython's default limit on the digits int() converts
// (sys.get_int_max_str_digits(), 3.11 and later).
const maxIntDigits = 4300

// ParseInt is Python 3's int(s, base) for a str s and base 10 or 16:
// surrounding whitespace, an optional sign, (base 16) an optional 0x
// prefix, digits with single underscores between them, any size up to
// 4,300 digits. The error is the ValueError's text.
//
// Whitespace is Go's unicode.IsSpace, which agrees with int() for every
// character of Latin-1 (header values reach Python as Latin-1); digits
// other than ASCII ones are not accepted.
func ParseInt(s string, base int) (*big.Int, error) {
	invalid := fmt.Errorf("invalid literal for int() with base %d: %s", base, StrRepr(s))
	t := strings.TrimLeftFunc(s, unicode.IsSpace)
	neg := false
	if t != "" && (t[0] == '+' || t[0] == '-') {
		neg, t = t[0] == '-', t[1:]
	}
	prefixed := false
	if base == 16 && len(t) >= 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X') {
		prefixed, t = true, t[2:]
		if t != "" && t[0] == '_' { // one underscore may follow the prefix
			t = t[1:]
			if t == "" || t[0] == '_' {
				return nil, invalid
			}
		}
	}
	if t == "" || t[0] == '_' && !prefixed {
		return nil, invalid
	}
	// The run of digits and single underscores, as CPython scans it: the
	// digit limit is checked before what follows the run.
	var digits strings.Builder
	end, prev := 0, byte(0)
	for end < len(t) && (digitValue(t[end]) < base || t[end] == '_') {
		if t[end] == '_' {
			if prev == '_' {
				return nil, invalid
			}
		} else {
			digits.WriteByte(t[end])
		}
		prev = t[end]
		end++
	}
	if prev == '_' {
		return nil, invalid
	}
	if base == 10 && digits.Len() > maxIntDigits {
		return nil, fmt.Errorf("Exceeds the limit (%d digits) for integer string conversion: value has %d digits; use sys.set_int_max_str_digits() to increase the limit",
			maxIntDigits, digits.Len())
	}
	if digits.Len() == 0 || strings.TrimLeftFunc(t[end:], unicode.IsSpace) != "" {
		return nil, invalid
	}
	n, _ := new(big.Int).SetString(digits.String(), base)
	if neg {
		n.Neg(n)
	}
	return n, nil
}

// digitValue is the value of an ASCII digit or letter (a and A are 10),
// 99 for anything else.
func digitValue(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'z':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'Z':
		return int(c-'A') + 10
	}
	return 99
}

// Latin1 is the text Python's WSGI servers make of the bytes of a header
// value: each byte one character (PEP 3333).
func Latin1(b string) string {
	for i := 0; i < len(b); i++ {
		if b[i] >= 0x80 {
			r := make([]rune, len(b))
			for j := 0; j < len(b); j++ {
				r[j] = rune(b[j])
			}
			return string(r)
		}
	}
	return b
}
