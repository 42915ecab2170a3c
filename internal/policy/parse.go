package policy

import (
	"fmt"
	"strconv"
	"strings"
)

// check is one node of a parsed check string.
type check interface {
	eval(e *evaluation) bool
	String() string
}

type trueCheck struct{}
type falseCheck struct{}
type notCheck struct{ c check }
type andCheck struct{ cs []check }
type orCheck struct{ cs []check }
type ruleCheck struct{ name string }
type roleCheck struct{ match template }
type genericCheck struct {
	kind    string
	literal *string // set when kind is a Python literal
	match   template
}

func (trueCheck) String() string      { return "@" }
func (falseCheck) String() string     { return "!" }
func (c notCheck) String() string     { return "not " + c.c.String() }
func (c ruleCheck) String() string    { return "rule:" + c.name }
func (c roleCheck) String() string    { return "role:" + c.match.raw }
func (c andCheck) String() string     { return joinChecks(c.cs, " and ") }
func (c orCheck) String() string      { return joinChecks(c.cs, " or ") }
func (c genericCheck) String() string { return c.kind + ":" + c.match.raw }

func joinChecks(cs []check, sep string) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = c.String()
	}
	return "(" + strings.Join(parts, sep) + ")"
}

// template is a match string with %(name)s substitutions.
type template struct {
	raw   string
	parts []templatePart
}

type templatePart struct {
	text string
	key  string // substitution when text is empty
	sub  bool
}

// parseTemplate accepts Python %-formatting restricted to %(name)s and %%.
func parseTemplate(s string) (template, error) {
	t := template{raw: s}
	var lit strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			lit.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '%' {
			lit.WriteByte('%')
			i++
			continue
		}
		rest := s[i+1:]
		if !strings.HasPrefix(rest, "(") {
			return t, fmt.Errorf("unsupported %% substitution in %q (only %%(name)s is allowed)", s)
		}
		end := strings.Index(rest, ")")
		if end < 0 || end+1 >= len(rest) || rest[end+1] != 's' {
			return t, fmt.Errorf("unsupported %% substitution in %q (only %%(name)s is allowed)", s)
		}
		if lit.Len() > 0 {
			t.parts = append(t.parts, templatePart{text: lit.String()})
			lit.Reset()
		}
		t.parts = append(t.parts, templatePart{key: rest[1:end], sub: true})
		i += end + 2
	}
	if lit.Len() > 0 {
		t.parts = append(t.parts, templatePart{text: lit.String()})
	}
	return t, nil
}

// expand substitutes target values; ok is false when a key is missing.
func (t template) expand(target map[string]string) (string, bool) {
	var b strings.Builder
	for _, p := range t.parts {
		if !p.sub {
			b.WriteString(p.text)
			continue
		}
		v, ok := target[p.key]
		if !ok {
			return "", false
		}
		b.WriteString(v)
	}
	return b.String(), true
}

// Parse parses a check string (see the package documentation for the
// grammar). An empty string always allows.
func Parse(s string) (check, error) {
	toks, err := tokenize(s)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return trueCheck{}, nil
	}
	p := &parser{toks: toks, src: s}
	c, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.toks) {
		return nil, fmt.Errorf("unexpected %q in check string %q", p.toks[p.pos].text, s)
	}
	return c, nil
}

type token struct {
	kind string // "(", ")", "and", "or", "not", "check"
	text string
}

// tokenize follows oslo.policy's _parse_tokenize: split on white space, peel
// leading "(" and trailing ")" off each word.
func tokenize(s string) ([]token, error) {
	var toks []token
	for _, word := range strings.Fields(s) {
		clean := strings.TrimLeft(word, "(")
		for range len(word) - len(clean) {
			toks = append(toks, token{kind: "(", text: "("})
		}
		if clean == "" {
			continue
		}
		inner := strings.TrimRight(clean, ")")
		trail := len(clean) - len(inner)
		if inner != "" {
			switch lower := strings.ToLower(inner); lower {
			case "and", "or", "not":
				toks = append(toks, token{kind: lower, text: inner})
			default:
				if len(clean) >= 2 && (clean[0] == '"' && clean[len(clean)-1] == '"' || clean[0] == '\'' && clean[len(clean)-1] == '\'') {
					return nil, fmt.Errorf("unexpected quoted string %s in check string %q", clean, s)
				}
				toks = append(toks, token{kind: "check", text: inner})
			}
		}
		for range trail {
			toks = append(toks, token{kind: ")", text: ")"})
		}
	}
	return toks, nil
}

type parser struct {
	toks []token
	pos  int
	src  string
}

func (p *parser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos].kind
	}
	return ""
}

func (p *parser) or() (check, error) {
	return p.chain("or", p.and, func(cs []check) check { return orCheck{cs} })
}

func (p *parser) and() (check, error) {
	return p.chain("and", p.not, func(cs []check) check { return andCheck{cs} })
}

// chain parses operand, then more operands each after the token op, and
// joins them with join when there are two or more.
func (p *parser) chain(op string, operand func() (check, error), join func([]check) check) (check, error) {
	var cs []check
	for {
		c, err := operand()
		if err != nil {
			return nil, err
		}
		cs = append(cs, c)
		if p.peek() != op {
			break
		}
		p.pos++
	}
	if len(cs) == 1 {
		return cs[0], nil
	}
	return join(cs), nil
}

func (p *parser) not() (check, error) {
	if p.peek() == "not" {
		p.pos++
		c, err := p.not()
		if err != nil {
			return nil, err
		}
		return notCheck{c}, nil
	}
	return p.atom()
}

func (p *parser) atom() (check, error) {
	switch p.peek() {
	case "(":
		p.pos++
		c, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.peek() != ")" {
			return nil, fmt.Errorf("missing ) in check string %q", p.src)
		}
		p.pos++
		return c, nil
	case "check":
		t := p.toks[p.pos]
		p.pos++
		return parseCheck(t.text)
	case "":
		return nil, fmt.Errorf("check string %q ends unexpectedly", p.src)
	}
	return nil, fmt.Errorf("unexpected %q in check string %q", p.toks[p.pos].text, p.src)
}

// parseCheck parses one "kind:match" word, "@" or "!".
func parseCheck(s string) (check, error) {
	switch s {
	case "@":
		return trueCheck{}, nil
	case "!":
		return falseCheck{}, nil
	}
	kind, match, ok := strings.Cut(s, ":")
	if !ok {
		return nil, fmt.Errorf("check %q is not of the form kind:match", s)
	}
	switch kind {
	case "rule":
		if match == "" {
			return nil, fmt.Errorf("check %q names no rule", s)
		}
		return ruleCheck{name: match}, nil
	case "http", "https":
		return nil, fmt.Errorf("external %s: checks are not supported (%q)", kind, s)
	}
	tmpl, err := parseTemplate(match)
	if err != nil {
		return nil, err
	}
	if kind == "role" {
		return roleCheck{match: tmpl}, nil
	}
	if kind == "" {
		return nil, fmt.Errorf("check %q has an empty kind", s)
	}
	return genericCheck{kind: kind, literal: pythonLiteral(kind), match: tmpl}, nil
}

// pythonLiteral returns str() of kind when it is a Python literal that
// oslo.policy's ast.literal_eval would accept, nil otherwise.
func pythonLiteral(kind string) *string {
	s := kind
	switch {
	case len(kind) >= 2 && (kind[0] == '\'' && kind[len(kind)-1] == '\'' || kind[0] == '"' && kind[len(kind)-1] == '"'):
		s = kind[1 : len(kind)-1]
	case kind == "True" || kind == "False" || kind == "None":
	default:
		if _, err := strconv.ParseInt(kind, 10, 64); err != nil {
			return nil
		}
	}
	return &s
}
