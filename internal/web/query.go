package web

import (
	"net/url"
	"strings"

	"github.com/openstack-placement-go/placement/internal/placement"
	"github.com/openstack-placement-go/placement/internal/pycompat"
)

// Query strings are read as upstream's WebOb reads them (request.GET):
// '+' is a space, pairs are separated by '&' or ';', empty pairs are
// skipped, a pair without '=' has the empty value, and a '%' that does not
// start an escape stays as it is (no error, unlike url.ParseQuery). Names
// and values must then be UTF-8.

// QueryParam is one name=value pair of a query string, percent-decoded.
type QueryParam struct{ Key, Value string }

// MsgQuery prefixes the 400 of a query string that does not validate.
const MsgQuery = "Invalid query string parameters: %s"

// ParseQuery decodes rawQuery into its pairs, in order. A name or value
// that is not UTF-8 is a 400 with Python's UnicodeDecodeError text.
func ParseQuery(rawQuery string) ([]QueryParam, error) {
	pairs := decodeQuery(rawQuery)
	for _, p := range pairs {
		for _, s := range []string{p.Key, p.Value} {
			if msg := pycompat.UTF8Error([]byte(s)); msg != "" {
				return nil, placement.E(placement.Invalid, MsgQuery, msg)
			}
		}
	}
	return pairs, nil
}

// decodeQuery is ParseQuery without the UTF-8 check.
func decodeQuery(rawQuery string) []QueryParam {
	var out []QueryParam
	for _, pair := range strings.FieldsFunc(rawQuery, func(r rune) bool { return r == '&' || r == ';' }) {
		k, v, _ := strings.Cut(pair, "=")
		out = append(out, QueryParam{QueryUnescape(k), QueryUnescape(v)})
	}
	return out
}

// QueryUnescape decodes one name or value as WebOb does: '+' is a space,
// and each '%' is followed by what Python's int(x, 16) makes of the next
// two bytes when that is a byte value (so "%41" and "%4" decode, even
// "%+4"), and is kept with them otherwise.
func QueryUnescape(s string) string {
	s = strings.ReplaceAll(s, "+", " ")
	items := strings.Split(s, "%")
	if len(items) == 1 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(items[0])
	for _, item := range items[1:] {
		h := item[:min(2, len(item))]
		if n, ok := pycompat.ParseBytesInt(h, 16); ok && n.Sign() >= 0 && n.IsInt64() && n.Int64() <= 0xff {
			b.WriteByte(byte(n.Int64()))
			b.WriteString(item[len(h):])
			continue
		}
		b.WriteByte('%')
		b.WriteString(item)
	}
	return b.String()
}

// Last is the value WebOb's request.GET[key] gives: the last one ("" when
// there is none).
func Last(q url.Values, key string) string {
	vals := q[key]
	if len(vals) == 0 {
		return ""
	}
	return vals[len(vals)-1]
}
