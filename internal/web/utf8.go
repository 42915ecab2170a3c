package web

import (
	"net/url"
	"strings"

	"github.com/openstack-placement-go/placement/internal/pycompat"
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
			if msg := pycompat.UTF8Error([]byte(*part)); msg != "" {
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
