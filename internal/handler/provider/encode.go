package provider

import (
	"io"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/openstack-placement-go/placement/internal/microversion"
	"github.com/openstack-placement-go/placement/internal/store"
	"github.com/openstack-placement-go/placement/internal/web"
)

// providerLinks are the links of a provider representation in their fixed
// order, with the microversion that introduced each (spec 02 §1.1).
var providerLinks = []struct {
	rel, suffix string
	since       int
}{
	{"self", "", 0},
	{"inventories", "/inventories", 0},
	{"usages", "/usages", 0},
	{"aggregates", "/aggregates", 1},
	{"traits", "/traits", 6},
	{"allocations", "/allocations", 11},
}

// encoder renders providers at one microversion straight into a byte
// buffer: the list of 50,000 providers costs no allocation per provider
// beyond the buffer's growth.
type encoder struct {
	base  string   // link prefix up to and including "/resource_providers/"
	links []string // `{"rel": "<rel>", "href": "` for each link present
	sufs  []string // matching href suffixes
	tree  bool     // 1.14+: parent_provider_uuid, root_provider_uuid
}

func newEncoder(r *http.Request) *encoder {
	v := web.Version(r)
	e := &encoder{base: web.Link(r, "/resource_providers/"), tree: v.AtLeast(1, 14)}
	for _, l := range providerLinks {
		if v.AtLeast(1, l.since) {
			e.links = append(e.links, `{"rel": "`+l.rel+`", "href": `)
			e.sufs = append(e.sufs, l.suffix)
		}
	}
	return e
}

// appendProvider appends the JSON representation of p in upstream's member
// order: uuid, name, generation, links, parent_provider_uuid,
// root_provider_uuid.
func (e *encoder) appendProvider(b []byte, p *store.Provider) []byte {
	b = append(b, `{"uuid": `...)
	b = appendString(b, p.UUID)
	b = append(b, `, "name": `...)
	b = appendString(b, p.Name)
	b = append(b, `, "generation": `...)
	b = strconv.AppendInt(b, int64(p.Generation), 10)
	b = append(b, `, "links": [`...)
	for i, l := range e.links {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, l...)
		b = append(b, '"')
		b = appendEscaped(b, e.base)
		b = appendEscaped(b, p.UUID)
		b = appendEscaped(b, e.sufs[i])
		b = append(b, '"', '}')
	}
	b = append(b, ']')
	if e.tree {
		b = append(b, `, "parent_provider_uuid": `...)
		if p.ParentUUID == nil {
			b = append(b, "null"...)
		} else {
			b = appendString(b, *p.ParentUUID)
		}
		b = append(b, `, "root_provider_uuid": `...)
		b = appendString(b, p.RootUUID)
	}
	return append(b, '}')
}

// listChunk is about the size of the pieces writeList writes.
const listChunk = 64 << 10

// writeList writes {"resource_providers": [...]} to w in pieces of about
// listChunk bytes, so that the list of every provider of a large cloud
// (about 750 bytes each at 1.39: 75 MB at 100,000) never sits whole in
// memory.
func (e *encoder) writeList(w io.Writer, ps []store.Provider) error {
	b := make([]byte, 0, listChunk+1024)
	b = append(b, `{"resource_providers": [`...)
	for i := range ps {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = e.appendProvider(b, &ps[i])
		if len(b) >= listChunk {
			if _, err := w.Write(b); err != nil {
				return err
			}
			b = b[:0]
		}
	}
	_, err := w.Write(append(b, "]}"...))
	return err
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Control characters, quotes,
// backslashes and the JavaScript line separators are escaped; invalid
// UTF-8 becomes U+FFFD, as encoding/json does.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	b = appendEscaped(b, s)
	return append(b, '"')
}

// appendEscaped appends the JSON escaping of s without the quotes.
func appendEscaped(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(b, s[start:]...)
}

// writeJSON sends an already encoded JSON body.
func writeJSON(w http.ResponseWriter, status int, body []byte) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, err := w.Write(body)
	return err
}

// version is a shorthand used by the handlers.
func version(r *http.Request) microversion.Version { return web.Version(r) }
