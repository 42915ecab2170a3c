package pycompat

import (
	"fmt"
	"unicode/utf8"
)

// UTF8Error returns the text of the UnicodeDecodeError CPython raises for
// the first invalid UTF-8 sequence of b, e.g. "'utf-8' codec can't decode
// byte 0xff in position 0: invalid start byte", or "" when b is valid.
// Upstream decodes bodies and query strings before anything else looks at
// them, so this text reaches clients.
func UTF8Error(b []byte) string {
	if utf8.Valid(b) {
		return ""
	}
	for i := 0; i < len(b); {
		c := b[i]
		if c < 0x80 {
			i++
			continue
		}
		n, lo, hi := leadByte(c)
		if n == 0 {
			return decodeError(b, i, i, "invalid start byte")
		}
		for k := 1; k < n; k++ {
			if i+k >= len(b) {
				return decodeError(b, i, len(b)-1, "unexpected end of data")
			}
			if k > 1 {
				lo, hi = 0x80, 0xbf
			}
			if d := b[i+k]; d < lo || d > hi {
				return decodeError(b, i, i+k-1, "invalid continuation byte")
			}
		}
		i += n
	}
	return ""
}

// leads are the bytes that start a multi-byte UTF-8 sequence (RFC 3629
// §4): n is the length of the sequence, lo and hi bound its second byte
// (later ones are always 0x80–0xbf).
var leads = [...]struct{ first, last, n, lo, hi byte }{
	{0xc2, 0xdf, 2, 0x80, 0xbf},
	{0xe0, 0xe0, 3, 0xa0, 0xbf},
	{0xe1, 0xec, 3, 0x80, 0xbf},
	{0xed, 0xed, 3, 0x80, 0x9f},
	{0xee, 0xef, 3, 0x80, 0xbf},
	{0xf0, 0xf0, 4, 0x90, 0xbf},
	{0xf1, 0xf3, 4, 0x80, 0xbf},
	{0xf4, 0xf4, 4, 0x80, 0x8f},
}

// leadByte returns the sequence length and second-byte bounds of c, n 0
// when no sequence starts with c.
func leadByte(c byte) (n int, lo, hi byte) {
	for _, l := range leads {
		if c >= l.first && c <= l.last {
			return int(l.n), l.lo, l.hi
		}
	}
	return 0, 0, 0
}

// decodeError words a failure of the bytes from..to (inclusive).
func decodeError(b []byte, from, to int, reason string) string {
	if from == to {
		return fmt.Sprintf("'utf-8' codec can't decode byte 0x%02x in position %d: %s", b[from], from, reason)
	}
	return fmt.Sprintf("'utf-8' codec can't decode bytes in position %d-%d: %s", from, to, reason)
}
