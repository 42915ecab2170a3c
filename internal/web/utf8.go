package web

import (
	"fmt"
	"net/url"
	"strings"
)

// queryUTF8Error reports the first query-string key or value that is not
// valid UTF-8 once percent-decoded, in upstream's (Python's) words, e.g.
// "'utf-8' codec can't decode byte 0xff in position 0: invalid start byte".
// It returns "" when the whole query decodes.
func queryUTF8Error(rawQuery string) string {
	for _, p := range queryParts(rawQuery) {
		for _, part := range []*string{p.key, p.value} {
			if part == nil {
				continue
			}
			if msg := pyUTF8Error([]byte(*part)); msg != "" {
				return msg
			}
		}
	}
	return ""
}

// queryPart is one name=value pair of a raw query string, each side
// percent-decoded, or nil when it does not decode.
type queryPart struct{ key, value *string }

// queryParts splits rawQuery into its pairs without url.ParseQuery's
// refusals, so each check can look at every part that decodes.
func queryParts(rawQuery string) []queryPart {
	var out []queryPart
	for _, pair := range strings.Split(rawQuery, "&") {
		if pair == "" {
			continue
		}
		key, value, _ := strings.Cut(pair, "=")
		var p queryPart
		if k, err := url.QueryUnescape(key); err == nil {
			p.key = &k
		}
		if v, err := url.QueryUnescape(value); err == nil {
			p.value = &v
		}
		out = append(out, p)
	}
	return out
}

// pyUTF8Error describes the first invalid UTF-8 sequence of b the way
// CPython's decoder does ("" if b is valid UTF-8).
func pyUTF8Error(b []byte) string {
	for i := 0; i < len(b); {
		c := b[i]
		var need int
		lo, hi := byte(0x80), byte(0xBF) // range of the second byte
		switch {
		case c < 0x80:
			i++
			continue
		case c >= 0xC2 && c <= 0xDF:
			need = 1
		case c >= 0xE0 && c <= 0xEF:
			need = 2
			if c == 0xE0 {
				lo = 0xA0
			} else if c == 0xED {
				hi = 0x9F
			}
		case c >= 0xF0 && c <= 0xF4:
			need = 3
			if c == 0xF0 {
				lo = 0x90
			} else if c == 0xF4 {
				hi = 0x8F
			}
		default:
			return pyDecodeMsg(b, i, i+1, "invalid start byte")
		}
		for k := 1; k <= need; k++ {
			if i+k >= len(b) {
				return pyDecodeMsg(b, i, len(b), "unexpected end of data")
			}
			d := b[i+k]
			if k == 1 && (d < lo || d > hi) || k > 1 && (d < 0x80 || d > 0xBF) {
				return pyDecodeMsg(b, i, i+k, "invalid continuation byte")
			}
		}
		i += need + 1
	}
	return ""
}

func pyDecodeMsg(b []byte, start, end int, reason string) string {
	if end-start == 1 {
		return fmt.Sprintf("'utf-8' codec can't decode byte 0x%02x in position %d: %s", b[start], start, reason)
	}
	return fmt.Sprintf("'utf-8' codec can't decode bytes in position %d-%d: %s", start, end-1, reason)
}
