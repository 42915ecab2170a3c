package pycompat

import (
	"fmt"
	"math/big"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxIntDigits is CPython's default limit on the digits int() converts
// (sys.get_int_max_str_digits(), 3.11 and later).
const maxIntDigits = 4300

// ParseInt is Python 3's int(s, base) for a str s and base 10 or 16:
// surrounding whitespace, an optional sign, (base 16) an optional 0x
// prefix, digits with single underscores between them, any size up to
// 4,300 digits. The error is the ValueError's text.
//
// As CPython does before it parses, every whitespace character outside
// ASCII (Go's unicode.IsSpace agrees with str.isspace there) counts as a
// space and every decimal digit of any script (category Nd: "１", "१",
// "٣") as its ASCII digit.
func ParseInt(s string, base int) (*big.Int, error) {
	return parseInt(s, asciiDigitsAndSpaces(s), base)
}

// ParseBytesInt is int(b, base) for a bytes b: ASCII digits and ASCII
// whitespace only. It reports whether b is a valid literal.
func ParseBytesInt(b string, base int) (*big.Int, bool) {
	n, err := parseInt(b, b, base)
	return n, err == nil
}

// parseInt parses t, the ASCII form of s (the text of the error).
func parseInt(s, t string, base int) (*big.Int, error) {
	invalid := fmt.Errorf("invalid literal for int() with base %d: %s", base, StrRepr(s))
	t = strings.TrimLeft(t, asciiSpace)
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
	if digits.Len() == 0 || strings.TrimLeft(t[end:], asciiSpace) != "" {
		return nil, invalid
	}
	n, _ := new(big.Int).SetString(digits.String(), base)
	if neg {
		n.Neg(n)
	}
	return n, nil
}

// asciiSpace is the whitespace of bytes.strip() and of int() on bytes.
const asciiSpace = " \t\n\v\f\r"

// asciiDigitsAndSpaces is s with its non-ASCII whitespace as spaces and its
// non-ASCII decimal digits as ASCII digits; anything else is kept as it is.
func asciiDigitsAndSpaces(s string) string {
	i := 0
	for i < len(s) && s[i] < utf8.RuneSelf {
		i++
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch d := decimalDigit(r); {
		case r >= utf8.RuneSelf && size > 1 && unicode.IsSpace(r):
			b.WriteByte(' ')
		case r >= utf8.RuneSelf && d >= 0:
			b.WriteByte(byte('0' + d))
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// decimalDigit is the value of a decimal digit (category Nd), -1 for any
// other rune. Unicode encodes every decimal digit set as ten consecutive
// code points from zero to nine, so within a range of the Nd table the
// value is the distance from its start modulo ten.
func decimalDigit(r rune) int {
	if !unicode.Is(unicode.Nd, r) {
		return -1
	}
	for _, rg := range unicode.Nd.R16 {
		if rune(rg.Lo) <= r && r <= rune(rg.Hi) {
			return int(r-rune(rg.Lo)) % 10
		}
	}
	for _, rg := range unicode.Nd.R32 {
		if rune(rg.Lo) <= r && r <= rune(rg.Hi) {
			return int(r-rune(rg.Lo)) % 10
		}
	}
	return -1
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
