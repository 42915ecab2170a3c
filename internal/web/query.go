package web

import (
	"math"
	"net/url"
	"slices"
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

// The 400s of a resources parameter that ParseResources refuses.
const (
	msgResourcesForm   = "Badly formed resources parameter. Expected resources query string parameter in form: ?resources=VCPU:2,MEMORY_MB:1024. Got: %s."
	msgResourcesAmount = "Requested resource %s expected positive integer amount. Got: %s."
	msgResourcesMin    = "Requested resource %s requires amount >= 1. Got: %s."
)

// ParseResources parses the value of a resources parameter, `RC:AMOUNT,…`,
// for GET /resource_providers (spec 02 §2.5) and the groups of GET
// /allocation_candidates (spec 07 §2.1) alike. A repeated class keeps its
// first position and its last amount. An amount past int64 is
// math.MaxInt64: more than any inventory holds, which matches nothing but
// is not an error.
func ParseResources(val string) ([]placement.ResourceAmount, error) {
	if pycompat.Strip(val) == "" {
		return nil, placement.E(placement.Invalid, msgResourcesForm, "empty string")
	}
	var out []placement.ResourceAmount
	for _, elem := range strings.Split(val, ",") {
		class, raw, ok := strings.Cut(elem, ":")
		if !ok || strings.Contains(raw, ":") {
			return nil, placement.E(placement.Invalid, msgResourcesForm, elem)
		}
		n, err := pycompat.ParseInt(raw, 10)
		if err != nil {
			return nil, placement.E(placement.Invalid, msgResourcesAmount, class, raw)
		}
		if n.Sign() < 1 {
			return nil, placement.E(placement.Invalid, msgResourcesMin, class, n.String())
		}
		amount := int64(math.MaxInt64)
		if n.IsInt64() {
			amount = n.Int64()
		}
		if i := slices.IndexFunc(out, func(r placement.ResourceAmount) bool { return r.Class == class }); i >= 0 {
			out[i].Amount = amount
		} else {
			out = append(out, placement.ResourceAmount{Class: class, Amount: amount})
		}
	}
	return out, nil
}

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
