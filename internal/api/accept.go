package api

import (
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/openstack-placement-go/placement/internal/pycompat"
)

// The Accept header as upstream reads it. Placement's request log middleware
// first makes a missing, empty or exactly "*/*" header "application/json";
// WebOb then parses it against RFC 7231's grammar. A header that does not
// parse is as good as none (anything is acceptable, and WebOb's error page
// is then HTML); a header that parses is matched against the offers by RFC
// 7231 §5.3.2: the most specific range that matches an offer gives its
// q-value (the first of equally specific ones), a range with media type
// parameters matches only an offer with the same parameters, and q=0 means
// not acceptable.

// acceptHeader is a parsed Accept header.
type acceptHeader struct {
	valid  bool
	ranges []mediaRange
}

// mediaRange is one element of a valid header.
type mediaRange struct {
	typ, sub string // lower-cased
	params   bool   // has media type parameters
	q        float64
}

// The grammar, as WebOb writes it (RFC 7230 §3.2.3, §3.2.6, §7; RFC 7231
// §3.1.1.1, §5.3.1, §5.3.2). WebOb keeps a parameter from being named q
// with a lookahead; here the parameter name's first character does it.
const (
	ows          = `[ \t]*`
	tchar        = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]"
	token        = tchar + `+`
	notQName     = "(?:[!#$%&'*+\\-.^_`|~0-9A-PR-Za-pr-z]" + tchar + `*|[qQ]` + tchar + `+)`
	qvalue       = `(?:0(?:\.[0-9]{0,3})?)|(?:1(?:\.0{0,3})?)`
	weight       = ows + `;` + ows + `[qQ]=(` + qvalue + `)`
	quotedString = `"(?:[\t \x21\x23-\x5b\x5d-\x7e\x{80}-\x{ff}]|\\[\t \x21-\x7e\x{80}-\x{ff}])*"`
	parameter    = notQName + `=(?:` + token + `|` + quotedString + `)`
	mediaRangeRE = `(` + token + `/` + token + `)((?:` + ows + `;` + ows + parameter + `)*)`
	acceptExt    = ows + `;` + ows + token + `(?:=(?:` + token + `|` + quotedString + `))?`
	elementRE    = mediaRangeRE + `(?:` + weight + `(?:` + acceptExt + `)*)?`
)

var (
	acceptElement = regexp.MustCompile(elementRE)
	acceptList    = regexp.MustCompile(`^(?:(?:,|` + elementRE + `)(?:` + ows + `,(?:` + ows + elementRE + `)?)*)?$`)
)

// requestAccept is the request's Accept header as upstream's handlers and
// error pages see it.
func requestAccept(r *http.Request) acceptHeader {
	return acceptOf(strings.Join(r.Header.Values("Accept"), ", "))
}

// acceptOf is requestAccept for the header value h.
func acceptOf(h string) acceptHeader {
	if h == "" || h == "*/*" || h == "application/json" {
		return jsonOnly // what almost every client sends, parsed once
	}
	return parseAccept(h)
}

var jsonOnly = parseAccept("application/json")

// parseAccept parses h as WebOb's create_accept_header does.
func parseAccept(h string) acceptHeader {
	h = pycompat.Latin1(h)
	if !acceptList.MatchString(h) {
		return acceptHeader{}
	}
	a := acceptHeader{valid: true}
	for _, m := range acceptElement.FindAllStringSubmatch(h, -1) {
		typ, sub, _ := strings.Cut(strings.ToLower(m[1]), "/")
		q := 1.0
		if m[3] != "" {
			q, _ = strconv.ParseFloat(m[3], 64)
		}
		a.ranges = append(a.ranges, mediaRange{typ: typ, sub: sub, params: m[2] != "", q: q})
	}
	return a
}

// acceptable returns the offers (type/subtype, no parameters) the header
// accepts, most preferred first; offers of equal preference keep their
// order.
func (a acceptHeader) acceptable(offers ...string) []string {
	if !a.valid {
		return offers
	}
	type scored struct {
		offer string
		q     float64
	}
	var out []scored
	for _, offer := range offers {
		typ, sub, _ := strings.Cut(offer, "/")
		q, best := 0.0, 0
		for _, r := range a.ranges {
			spec := 0
			switch {
			case r.typ == typ && r.sub == sub:
				if r.params {
					continue // the offer has no parameters to match
				}
				spec = 3
			case r.sub == "*" && r.typ == typ:
				spec = 2
			case r.typ == "*" && r.sub == "*":
				spec = 1
			default:
				continue
			}
			if spec > best {
				q, best = r.q, spec
			}
		}
		if q != 0 {
			out = append(out, scored{offer, q})
		}
	}
	slices.SortStableFunc(out, func(x, y scored) int {
		switch {
		case x.q > y.q:
			return -1
		case x.q < y.q:
			return 1
		}
		return 0
	})
	names := make([]string, len(out))
	for i, s := range out {
		names[i] = s.offer
	}
	return names
}

// acceptsJSON reports whether a JSON GET may answer (upstream's
// check_accept): a header that does not parse does not stop it.
func (a acceptHeader) acceptsJSON() bool {
	return len(a.acceptable("application/json")) > 0
}

// errorMediaType is the type of WebOb's error page: text/html or
// application/json as the header prefers (HTML first on a tie), else
// text/plain.
func (a acceptHeader) errorMediaType() string {
	if offers := a.acceptable("text/html", "application/json"); len(offers) > 0 {
		return offers[0]
	}
	return "text/plain"
}
