package gabbi

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/openstack-placement-go/placement/internal/pycompat"
)

// jsonPath is a compiled path in the jsonpath-rw / jsonpath-rw-ext subset
// described in doc.go. Evaluation is a sequence of steps, each mapping every
// current match to zero or more new matches; jsonpath-rw's `..` binds looser
// than `.`, which gives the same results as applying the steps in order.
type jsonPath struct {
	src   string
	steps []pathStep
}

type pathStep interface {
	apply(v any, out []any) ([]any, error)
}

// compilePath parses src. A leading `$` is optional.
func compilePath(src string) (*jsonPath, error) {
	p := &pathParser{src: src, s: strings.TrimSpace(src)}
	steps, err := p.parseSteps(nil)
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.s) {
		return nil, p.unsupported(fmt.Sprintf("at %q", p.s[p.pos:]))
	}
	return &jsonPath{src: src, steps: steps}, nil
}

// find returns every match of the path in root, in document order.
func (p *jsonPath) find(root any) ([]any, error) {
	cur := []any{root}
	for _, s := range p.steps {
		var next []any
		for _, v := range cur {
			var err error
			if next, err = s.apply(v, next); err != nil {
				return nil, fmt.Errorf("JSONPath %s: %w", p.src, err)
			}
		}
		cur = next
	}
	return cur, nil
}

// extractPath applies gabbi's result rule: one match yields that value,
// several yield a list of them, none is an error.
func extractPath(root any, path string) (any, error) {
	p, err := compilePath(path)
	if err != nil {
		return nil, err
	}
	matches, err := p.find(root)
	if err != nil {
		return nil, err
	}
	switch len(matches) {
	case 0:
		return nil, fmt.Errorf("JSONPath %s matched nothing", path)
	case 1:
		return matches[0], nil
	}
	return matches, nil
}

type fieldStep struct{ names []string }

func (s fieldStep) apply(v any, out []any) ([]any, error) {
	m, ok := v.(*pycompat.Object)
	if !ok {
		return out, nil
	}
	for _, n := range s.names {
		if fv, ok := m.Lookup(n); ok {
			out = append(out, fv)
		}
	}
	return out, nil
}

// wildStep is `.*`: the values of an object; nothing for anything else.
type wildStep struct{}

func (wildStep) apply(v any, out []any) ([]any, error) {
	if m, ok := v.(*pycompat.Object); ok {
		out = append(out, m.Values()...)
	}
	return out, nil
}

type indexStep struct{ i int }

func (s indexStep) apply(v any, out []any) ([]any, error) {
	list, ok := v.([]any)
	if !ok {
		return out, nil
	}
	i := s.i
	if i < 0 {
		i += len(list)
	}
	if i >= 0 && i < len(list) {
		out = append(out, list[i])
	}
	return out, nil
}

// sliceStep is `[*]` or `[start:end]`. Like jsonpath-rw it matches nothing
// on a falsy value and treats any other non-list as a one-element list.
type sliceStep struct {
	start, end *int
}

func (s sliceStep) apply(v any, out []any) ([]any, error) {
	if !pycompat.Truthy(v) {
		return out, nil
	}
	list, ok := v.([]any)
	if !ok {
		list = []any{v}
	}
	n := len(list)
	lo, hi := 0, n
	if s.start != nil {
		lo = clampIndex(*s.start, n)
	}
	if s.end != nil {
		hi = clampIndex(*s.end, n)
	}
	if lo < hi {
		out = append(out, list[lo:hi]...)
	}
	return out, nil
}

func clampIndex(i, n int) int {
	if i < 0 {
		i += n
	}
	return max(0, min(i, n))
}

type thisStep struct{}

func (thisStep) apply(v any, out []any) ([]any, error) { return append(out, v), nil }

// lenStep is `len`: the length of a string, list or object.
type lenStep struct{}

func (lenStep) apply(v any, out []any) ([]any, error) {
	n := -1
	switch x := v.(type) {
	case string:
		n = utf8.RuneCountInString(x)
	case []any:
		n = len(x)
	case *pycompat.Object:
		n = x.Len()
	}
	if n < 0 {
		return out, nil
	}
	return append(out, json.Number(strconv.Itoa(n))), nil
}

// sortedStep is `sorted`: a list sorted, or an object's keys sorted, as one
// match; anything else is passed through.
type sortedStep struct{}

func (sortedStep) apply(v any, out []any) ([]any, error) {
	var list []any
	switch x := v.(type) {
	case []any:
		list = append([]any(nil), x...)
	case *pycompat.Object:
		for _, k := range x.Keys() {
			list = append(list, k)
		}
	default:
		return append(out, v), nil
	}
	var err error
	sort.SliceStable(list, func(i, j int) bool {
		c, e := compareOrder(list[i], list[j])
		if e != nil && err == nil {
			err = fmt.Errorf("sorted: %w", e)
		}
		return c < 0
	})
	if err != nil {
		return nil, err
	}
	return append(out, list), nil
}

type sortKey struct {
	path *jsonPath
	desc bool
}

// sortStep is `[/key]` (ascending) or `[\key]` (descending): a list of
// objects sorted by the keys as one match. Objects and scalars are passed
// through, as jsonpath-rw-ext does.
type sortStep struct{ keys []sortKey }

func (s sortStep) apply(v any, out []any) ([]any, error) {
	x, ok := v.([]any)
	if !ok {
		return append(out, v), nil
	}
	list := append([]any(nil), x...)
	var err error
	sort.SliceStable(list, func(i, j int) bool {
		c, e := s.compare(list[i], list[j])
		if e != nil && err == nil {
			err = e
		}
		return c < 0
	})
	if err != nil {
		return nil, err
	}
	return append(out, list), nil
}

func (s sortStep) compare(a, b any) (int, error) {
	for _, k := range s.keys {
		l, err := k.path.find(a)
		if err != nil {
			return 0, err
		}
		r, err := k.path.find(b)
		if err != nil {
			return 0, err
		}
		// jsonpath-rw-ext ignores a key that is missing or ambiguous.
		if len(l) != 1 || len(r) != 1 || pycompat.Equal(l[0], r[0]) {
			continue
		}
		c, err := compareOrder(l[0], r[0])
		if err != nil {
			return 0, fmt.Errorf("sort by %s: %w", k.path.src, err)
		}
		if k.desc {
			c = -c
		}
		return c, nil
	}
	return 0, nil
}

// descendStep is `..x`: x applied to the value and to every value nested in
// it, in pre-order.
type descendStep struct{ inner pathStep }

func (s descendStep) apply(v any, out []any) ([]any, error) {
	out, err := s.inner.apply(v, out)
	if err != nil {
		return nil, err
	}
	for _, c := range members(v) {
		if out, err = s.apply(c, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// members returns the items of a list or the values of an object, and
// nothing for anything else.
func members(v any) []any {
	switch x := v.(type) {
	case []any:
		return x
	case *pycompat.Object:
		return x.Values()
	}
	return nil
}

type filterExpr struct {
	target *jsonPath
	op     string // "" tests existence
	lit    any    // string, json.Number, bool or nil
	re     *regexp.Regexp
}

// filterStep is `[?expr & expr]`: the items of a list (or the values of an
// object) for which every expression holds.
type filterStep struct{ exprs []filterExpr }

func (s filterStep) apply(v any, out []any) ([]any, error) {
	for _, it := range members(v) {
		keep := true
		for _, e := range s.exprs {
			ok, err := e.match(it)
			if err != nil {
				return nil, err
			}
			if !ok {
				keep = false
				break
			}
		}
		if keep {
			out = append(out, it)
		}
	}
	return out, nil
}

func (e filterExpr) match(item any) (bool, error) {
	found, err := e.target.find(item)
	if err != nil {
		return false, err
	}
	if e.op == "" {
		return len(found) > 0, nil
	}
	for _, f := range found {
		if e.compare(f) {
			return true, nil
		}
	}
	return false, nil
}

func (e filterExpr) compare(v any) bool {
	if e.op == "=~" {
		s, ok := v.(string)
		return ok && e.re.MatchString(s)
	}
	var c int
	switch lit := e.lit.(type) {
	case json.Number:
		// jsonpath-rw-ext casts the field with int() when the literal is a
		// number, so "5" matches 5.
		n, ok := v.(json.Number)
		if s, isStr := v.(string); isStr && isJSONNumber(strings.TrimSpace(s)) {
			n, ok = json.Number(strings.TrimSpace(s)), true
		}
		if !ok {
			return false
		}
		var err error
		if c, err = compareNumbers(n, lit); err != nil {
			return false
		}
	case string:
		s, ok := v.(string)
		if !ok {
			return e.op == "!="
		}
		c = strings.Compare(s, lit)
	default:
		eq := pycompat.Equal(v, e.lit)
		switch e.op {
		case "=", "==":
			return eq
		case "!=":
			return !eq
		}
		return false
	}
	switch e.op {
	case "=", "==":
		return c == 0
	case "!=":
		return c != 0
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	case ">=":
		return c >= 0
	}
	return false
}

type pathParser struct {
	src string
	s   string
	pos int
}

func (p *pathParser) errorf(format string, args ...any) error {
	return fmt.Errorf("JSONPath %s: %s", p.src, fmt.Sprintf(format, args...))
}

func (p *pathParser) unsupported(what string) error {
	return fmt.Errorf("JSONPath %s: unsupported JSONPath syntax %s", p.src, what)
}

func (p *pathParser) eof() bool { return p.pos >= len(p.s) }

func (p *pathParser) peek() byte {
	if p.eof() {
		return 0
	}
	return p.s[p.pos]
}

func (p *pathParser) skipSpace() {
	for !p.eof() && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t') {
		p.pos++
	}
}

// isIdentByte reports whether c may appear in an unquoted key. This is wider
// than jsonpath-rw's identifiers so that keys such as UUIDs that start with
// a digit can be written after a dot.
func isIdentByte(c byte) bool {
	if c >= 0x80 {
		return true
	}
	return c > ' ' && !strings.ContainsRune(".[]`'\"()|&=!<>?,*", rune(c))
}

// parseSteps parses a (possibly relative) path until the end of input or a
// byte for which stop returns true.
func (p *pathParser) parseSteps(stop func(byte) bool) ([]pathStep, error) {
	var steps []pathStep
	switch c := p.peek(); {
	case c == '$' || c == '@':
		p.pos++
	case c == '`' || c == '*' || c == '\'' || c == '"' || isIdentByte(c):
		s, err := p.parseMember()
		if err != nil {
			return nil, err
		}
		steps = append(steps, s)
	}
	for !p.eof() {
		c := p.peek()
		if stop != nil && stop(c) {
			break
		}
		switch {
		case strings.HasPrefix(p.s[p.pos:], ".."):
			p.pos += 2
			var inner pathStep
			var err error
			if p.peek() == '[' {
				inner, err = p.parseBracket()
			} else {
				inner, err = p.parseMember()
			}
			if err != nil {
				return nil, err
			}
			steps = append(steps, descendStep{inner})
		case c == '.':
			p.pos++
			s, err := p.parseMember()
			if err != nil {
				return nil, err
			}
			steps = append(steps, s)
		case c == '[':
			s, err := p.parseBracket()
			if err != nil {
				return nil, err
			}
			steps = append(steps, s)
		default:
			return nil, p.unsupported(fmt.Sprintf("at %q", p.s[p.pos:]))
		}
	}
	return steps, nil
}

// parseMember parses what follows a dot: a key, `*`, a quoted key or a
// backquoted function.
func (p *pathParser) parseMember() (pathStep, error) {
	c := p.peek()
	switch {
	case c == '*':
		p.pos++
		return wildStep{}, nil
	case c == '`':
		end := strings.IndexByte(p.s[p.pos+1:], '`')
		if end < 0 {
			return nil, p.errorf("unterminated backquote")
		}
		name := p.s[p.pos+1 : p.pos+1+end]
		p.pos += end + 2
		switch name {
		case "len":
			return lenStep{}, nil
		case "sorted":
			return sortedStep{}, nil
		case "this":
			return thisStep{}, nil
		}
		return nil, p.unsupported("`" + name + "`")
	case c == '\'' || c == '"':
		s, err := p.parseQuoted()
		if err != nil {
			return nil, err
		}
		return fieldStep{[]string{s}}, nil
	case isIdentByte(c):
		return fieldStep{[]string{p.parseIdent()}}, nil
	}
	if p.eof() {
		return nil, p.errorf("missing key at end of path")
	}
	return nil, p.errorf("unexpected %q", p.s[p.pos:])
}

func (p *pathParser) parseIdent() string {
	start := p.pos
	for !p.eof() && isIdentByte(p.s[p.pos]) {
		p.pos++
	}
	return p.s[start:p.pos]
}

// parseQuoted reads a '...' or "..." string; a backslash escapes the next
// byte.
func (p *pathParser) parseQuoted() (string, error) {
	q := p.s[p.pos]
	p.pos++
	var b strings.Builder
	for !p.eof() {
		c := p.s[p.pos]
		p.pos++
		switch {
		case c == '\\' && !p.eof():
			b.WriteByte(p.s[p.pos])
			p.pos++
		case c == q:
			return b.String(), nil
		default:
			b.WriteByte(c)
		}
	}
	return "", p.errorf("unterminated quoted string")
}

func (p *pathParser) expect(c byte) error {
	p.skipSpace()
	if p.peek() != c {
		if p.eof() {
			return p.errorf("expected %q at end of path", c)
		}
		return p.errorf("expected %q at %q", c, p.s[p.pos:])
	}
	p.pos++
	return nil
}

// parseBracket parses `[...]`.
func (p *pathParser) parseBracket() (pathStep, error) {
	p.pos++ // [
	p.skipSpace()
	var step pathStep
	var err error
	switch c := p.peek(); {
	case c == '*':
		p.pos++
		step = sliceStep{}
	case c == '?':
		p.pos++
		step, err = p.parseFilter()
	case c == '/' || c == '\\':
		step, err = p.parseSort()
	case c == '\'' || c == '"':
		var names []string
		for {
			p.skipSpace()
			if c := p.peek(); c != '\'' && c != '"' {
				return nil, p.errorf("expected a quoted key at %q", p.s[p.pos:])
			}
			name, err := p.parseQuoted()
			if err != nil {
				return nil, err
			}
			names = append(names, name)
			p.skipSpace()
			if p.peek() != ',' {
				break
			}
			p.pos++
		}
		step = fieldStep{names}
	case c == '-' || c == ':' || c >= '0' && c <= '9':
		step, err = p.parseIndex()
	case c == '(':
		return nil, p.unsupported("script expression [(...)]")
	case isIdentByte(c):
		step = fieldStep{[]string{p.parseIdent()}}
	default:
		return nil, p.errorf("unexpected %q", p.s[p.pos:])
	}
	if err != nil {
		return nil, err
	}
	if err := p.expect(']'); err != nil {
		return nil, err
	}
	return step, nil
}

func (p *pathParser) parseInt() (*int, error) {
	p.skipSpace()
	start := p.pos
	if p.peek() == '-' {
		p.pos++
	}
	for !p.eof() && p.s[p.pos] >= '0' && p.s[p.pos] <= '9' {
		p.pos++
	}
	if p.pos == start {
		return nil, nil
	}
	n, err := strconv.Atoi(p.s[start:p.pos])
	if err != nil {
		return nil, p.errorf("bad index %q", p.s[start:p.pos])
	}
	return &n, nil
}

func (p *pathParser) parseIndex() (pathStep, error) {
	start, err := p.parseInt()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.peek() != ':' {
		if start == nil {
			return nil, p.errorf("bad index at %q", p.s[p.pos:])
		}
		return indexStep{*start}, nil
	}
	p.pos++
	end, err := p.parseInt()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.peek() == ':' {
		return nil, p.unsupported("slice step [a:b:c]")
	}
	return sliceStep{start: start, end: end}, nil
}

func (p *pathParser) parseSort() (pathStep, error) {
	var keys []sortKey
	for {
		p.skipSpace()
		c := p.peek()
		if c != '/' && c != '\\' {
			return nil, p.errorf("expected / or \\ at %q", p.s[p.pos:])
		}
		p.pos++
		steps, err := p.parseSteps(func(c byte) bool { return c == ',' || c == ']' || c == ' ' })
		if err != nil {
			return nil, err
		}
		if len(steps) == 0 {
			return nil, p.errorf("missing sort key")
		}
		keys = append(keys, sortKey{path: &jsonPath{src: "sort key", steps: steps}, desc: c == '\\'})
		p.skipSpace()
		if p.peek() != ',' {
			return sortStep{keys}, nil
		}
		p.pos++
	}
}

var filterOps = []string{"==", "=~", "!=", "<=", ">=", "=", "<", ">"}

func (p *pathParser) parseFilter() (pathStep, error) {
	p.skipSpace()
	paren := p.peek() == '('
	if paren {
		p.pos++
	}
	var exprs []filterExpr
	for {
		p.skipSpace()
		start := p.pos
		steps, err := p.parseSteps(func(c byte) bool {
			return strings.IndexByte(" \t=!<>&])", c) >= 0
		})
		if err != nil {
			return nil, err
		}
		if p.pos == start {
			return nil, p.errorf("missing filter target at %q", p.s[p.pos:])
		}
		e := filterExpr{target: &jsonPath{src: p.s[start:p.pos], steps: steps}}
		p.skipSpace()
		for _, op := range filterOps {
			if strings.HasPrefix(p.s[p.pos:], op) {
				e.op = op
				p.pos += len(op)
				break
			}
		}
		if e.op != "" {
			if e.lit, err = p.parseLiteral(); err != nil {
				return nil, err
			}
			if e.op == "=~" {
				s, ok := e.lit.(string)
				if !ok {
					return nil, p.errorf("=~ needs a string pattern")
				}
				if e.re, err = regexp.Compile(s); err != nil {
					return nil, p.errorf("bad pattern: %v", err)
				}
			}
		}
		exprs = append(exprs, e)
		p.skipSpace()
		if p.peek() != '&' {
			break
		}
		p.pos++
	}
	if paren {
		if err := p.expect(')'); err != nil {
			return nil, err
		}
	}
	return filterStep{exprs}, nil
}

func (p *pathParser) parseLiteral() (any, error) {
	p.skipSpace()
	c := p.peek()
	if c == '\'' || c == '"' {
		return p.parseQuoted()
	}
	start := p.pos
	for !p.eof() && (isIdentByte(p.s[p.pos]) || p.s[p.pos] == '.') {
		p.pos++
	}
	word := p.s[start:p.pos]
	switch {
	case word == "":
		return nil, p.errorf("missing filter value at %q", p.s[p.pos:])
	case word == "true" || word == "True":
		return true, nil
	case word == "false" || word == "False":
		return false, nil
	case word == "null" || word == "None":
		return nil, nil
	case isJSONNumber(word):
		return json.Number(word), nil
	}
	return word, nil
}
