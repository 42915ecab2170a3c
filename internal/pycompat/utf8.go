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
		// n is the length of the sequence c starts; lo and hi bound its
		// second byte (later ones are always 0x80–0xbf).
		n, lo, hi := 0, byte(0x80), byte(0xbf)
		switch {
		case c >= 0xc2 && c <= 0xdf:
			n = 2
		case c == 0xe0:
			n, lo = 3, 0xa0
		case c == 0xed:
			n, hi = 3, 0x9f
		case c >= 0xe1 && c <= 0xef:
			n = 3
		case c == 0xf0:
			n, lo = 4, 0x90
		case c == 0xf4:
			n, hi = 4, 0x8f
		case c >= 0xf1 && c <= 0xf3:
			n = 4
		default:
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

// decodeError words a failure of the bytes from..to (inclusive).
func decodeError(b []byte, from, to int, reason string) string {
	if from == to {
		return fmt.Sprintf("'utf-8' codec can't decode byte 0x%02x in position %d: %s", b[from], from, reason)
	}
	return fmt.Sprintf("'utf-8' codec can't decode bytes in position %d-%d: %s", from, to, reason)
}
