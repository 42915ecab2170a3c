package schema

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/openstack-placement-go/placement/internal/pycompat"
)

// PyRepr renders a JSON value as Python's repr() renders the value
// json.loads would produce: 'quoted' strings, None, True, False, ints, floats
// such as 1.0 and 1e-300, [lists] and {'dicts': ...}. A map[string]any has
// lost its key order and is printed with sorted keys.
func PyRepr(v any) string {
	var b strings.Builder
	writeRepr(&b, v, false)
	return b.String()
}

// writeRepr writes repr(v); sorted selects pprint's variant, which sorts
// dict keys.
func writeRepr(b *strings.Builder, v any, sorted bool) {
	switch x := v.(type) {
	case nil:
		b.WriteString("None")
	case bool:
		if x {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case string:
		b.WriteString(pycompat.StrRepr(x))
	case json.Number:
		if n, ok := asNumber(x); ok {
			b.WriteString(n.repr())
		} else {
			b.WriteString(string(x))
		}
	case float64:
		b.WriteString(pycompat.FloatRepr(x))
	case float32:
		b.WriteString(pycompat.FloatRepr(float64(x)))
	case int:
		b.WriteString(strconv.Itoa(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			writeRepr(b, e, sorted)
		}
		b.WriteByte(']')
	case *pycompat.Object:
		keys := x.Keys()
		if sorted {
			keys = slices.Sorted(slices.Values(keys))
		}
		writeDict(b, keys, x.Get, sorted)
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		writeDict(b, keys, func(k string) any { return x[k] }, sorted)
	default:
		fmt.Fprint(b, x)
	}
}

func writeDict(b *strings.Builder, keys []string, get func(string) any, sorted bool) {
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(pycompat.StrRepr(k))
		b.WriteString(": ")
		writeRepr(b, get(k), sorted)
	}
	b.WriteByte('}')
}

// pformat is Python's pprint.pformat(v, width=width): dict keys sorted, and
// containers and strings that do not fit broken over several lines.
func pformat(v any, width int) string {
	p := &pprinter{width: width}
	p.format(v, 0, 0, 0)
	return p.b.String()
}

type pprinter struct {
	b     strings.Builder
	width int
}

func (p *pprinter) format(v any, indent, allowance, level int) {
	var rb strings.Builder
	writeRepr(&rb, v, true)
	rep := rb.String()
	if utf8.RuneCountInString(rep) > p.width-indent-allowance {
		switch x := v.(type) {
		case *pycompat.Object:
			if x.Len() > 0 {
				p.dict(slices.Sorted(slices.Values(x.Keys())), x.Get, indent, allowance, level+1)
				return
			}
		case map[string]any:
			if len(x) > 0 {
				keys := make([]string, 0, len(x))
				for k := range x {
					keys = append(keys, k)
				}
				slices.Sort(keys)
				p.dict(keys, func(k string) any { return x[k] }, indent, allowance, level+1)
				return
			}
		case []any:
			if len(x) > 0 {
				p.list(x, indent, allowance, level+1)
				return
			}
		case string:
			p.str(x, indent, allowance, level+1)
			return
		}
	}
	p.b.WriteString(rep)
}

// dict is PrettyPrinter._pprint_dict with _format_dict_items.
func (p *pprinter) dict(keys []string, get func(string) any, indent, allowance, level int) {
	p.items('{', '}', len(keys), indent, allowance, func(i, indent, allowance int) {
		rep := pycompat.StrRepr(keys[i])
		p.b.WriteString(rep)
		p.b.WriteString(": ")
		p.format(get(keys[i]), indent+utf8.RuneCountInString(rep)+2, allowance, level)
	})
}

// list is PrettyPrinter._pprint_list with _format_items (compact=False).
func (p *pprinter) list(items []any, indent, allowance, level int) {
	p.items('[', ']', len(items), indent, allowance, func(i, indent, allowance int) {
		p.format(items[i], indent, allowance, level)
	})
}

// items writes n items between open and close, one a line, aligned one
// column in from open. item writes the i-th at the indent and allowance it
// is given: only the last one has to leave room for the closing bracket
// and the caller's allowance, the others for the comma.
func (p *pprinter) items(open, close byte, n, indent, allowance int, item func(i, indent, allowance int)) {
	p.b.WriteByte(open)
	indent++
	delim := ",\n" + strings.Repeat(" ", indent)
	for i := range n {
		if i > 0 {
			p.b.WriteString(delim)
		}
		a := 1
		if i == n-1 {
			a = allowance + 1
		}
		item(i, indent, a)
	}
	p.b.WriteByte(close)
}

// str is PrettyPrinter._pprint_str: split at line ends and then between
// words, one repr per chunk; at top level the chunks are parenthesised.
func (p *pprinter) str(s string, indent, allowance, level int) {
	if s == "" {
		p.b.WriteString("''")
		return
	}
	lines := pySplitLines(s)
	if level == 1 {
		indent++
		allowance++
	}
	maxWidth := p.width - indent
	maxWidth1 := maxWidth
	var chunks []string
	var rep string
	for i, line := range lines {
		rep = pycompat.StrRepr(line)
		if i == len(lines)-1 {
			maxWidth1 -= allowance
		}
		if utf8.RuneCountInString(rep) <= maxWidth1 {
			chunks = append(chunks, rep)
			continue
		}
		parts := wordParts(line)
		maxWidth2 := maxWidth
		current := ""
		for j, part := range parts {
			candidate := current + part
			if j == len(parts)-1 && i == len(lines)-1 {
				maxWidth2 -= allowance
			}
			if utf8.RuneCountInString(pycompat.StrRepr(candidate)) > maxWidth2 {
				if current != "" {
					chunks = append(chunks, pycompat.StrRepr(current))
				}
				current = part
			} else {
				current = candidate
			}
		}
		if current != "" {
			chunks = append(chunks, pycompat.StrRepr(current))
		}
	}
	if len(chunks) == 1 {
		p.b.WriteString(rep)
		return
	}
	if level == 1 {
		p.b.WriteByte('(')
	}
	for i, c := range chunks {
		if i > 0 {
			p.b.WriteString("\n" + strings.Repeat(" ", indent))
		}
		p.b.WriteString(c)
	}
	if level == 1 {
		p.b.WriteByte(')')
	}
}

// pySplitLines is str.splitlines(keepends=True).
func pySplitLines(s string) []string {
	var lines []string
	start := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch r {
		case '\n', '\v', '\f', 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029:
			lines = append(lines, s[start:i+size])
			start = i + size
		case '\r':
			if i+1 < len(s) && s[i+1] == '\n' {
				size++
			}
			lines = append(lines, s[start:i+size])
			start = i + size
		}
		i += size
	}
	if start < len(s) {
		lines = append(lines, s[start:])
	}
	return lines
}

// wordParts is re.findall(r'\S*\s*', s) without the final empty match.
func wordParts(s string) []string {
	var parts []string
	i := 0
	for i < len(s) {
		j := i
		for j < len(s) {
			r, size := utf8.DecodeRuneInString(s[j:])
			if pyIsSpace(r) {
				break
			}
			j += size
		}
		for j < len(s) {
			r, size := utf8.DecodeRuneInString(s[j:])
			if !pyIsSpace(r) {
				break
			}
			j += size
		}
		parts = append(parts, s[i:j])
		i = j
	}
	return parts
}

// pyIsSpace is str.isspace() for one character, which \s follows.
func pyIsSpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

// formatAsIndex is jsonschema._utils.format_as_index: container followed by
// [repr(index)] for each index.
func formatAsIndex(container string, indices []any) string {
	var b strings.Builder
	b.WriteString(container)
	for _, ix := range indices {
		b.WriteByte('[')
		writeRepr(&b, ix, false)
		b.WriteByte(']')
	}
	return b.String()
}
