package gabbi

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/openstack-placement-go/placement/internal/pycompat"
)

// substKinds lists the templates in gabbi's replacement order. Each pass
// rewrites the whole string, so a value substituted early (an $ENVIRON
// inside a $RESPONSE path, say) is seen by later passes.
var substKinds = []struct {
	name string
	arg  bool // takes ['argument']
}{
	{"SCHEME", false},
	{"NETLOC", false},
	{"ENVIRON", true},
	{"LOCATION", false},
	{"COOKIE", false},
	{"LAST_URL", false},
	{"URL", false},
	{"HEADERS", true},
	{"RESPONSE", true},
}

// template is one occurrence of $KIND, $KIND['arg'] or
// $HISTORY['test name'].$KIND... in a string.
type template struct {
	start, end int
	history    string
	hasHistory bool
	arg        string
}

// parseQuotedArg reads ['x'] or ["x"] content starting at the quote at s[p],
// ending at the first matching quote followed by ']' (gabbi's non-greedy
// regular expression). It returns the content and the index after ']'.
func parseQuotedArg(s string, p int) (string, int, bool) {
	if p >= len(s) || s[p] != '\'' && s[p] != '"' {
		return "", 0, false
	}
	closing := string(s[p]) + "]"
	if p+2 > len(s) {
		return "", 0, false
	}
	idx := strings.Index(s[p+2:], closing)
	if idx < 0 {
		return "", 0, false
	}
	end := p + 2 + idx
	return s[p+1 : end], end + 2, true
}

func findTemplates(s, kind string, withArg bool) []template {
	var out []template
	i := 0
	for i < len(s) {
		j := strings.IndexByte(s[i:], '$')
		if j < 0 {
			break
		}
		j += i
		t := template{start: j}
		k := j
		if strings.HasPrefix(s[k:], "$HISTORY[") {
			name, next, ok := parseQuotedArg(s, k+len("$HISTORY["))
			if !ok || !strings.HasPrefix(s[next:], ".$") {
				i = j + 1
				continue
			}
			t.history, t.hasHistory = name, true
			k = next + 1
		}
		if !strings.HasPrefix(s[k:], "$"+kind) {
			i = j + 1
			continue
		}
		k += 1 + len(kind)
		if withArg {
			if k >= len(s) || s[k] != '[' {
				i = j + 1
				continue
			}
			arg, next, ok := parseQuotedArg(s, k+1)
			if !ok {
				i = j + 1
				continue
			}
			t.arg, k = arg, next
		}
		t.end = k
		out = append(out, t)
		i = k
	}
	return out
}

// subst replaces the templates in s for the test at index i. With typed set,
// a string that is exactly one $RESPONSE template yields the JSON value
// itself and one that is exactly one $ENVIRON template yields the cast
// value. With escape set, substituted text is regex-quoted, for /regex/
// expectations.
func (r *runner) subst(i int, s string, typed, escape bool) (any, error) {
	cur := s
	for _, k := range substKinds {
		if !strings.Contains(cur, "$"+k.name) {
			continue
		}
		ts := findTemplates(cur, k.name, k.arg)
		if len(ts) == 0 {
			continue
		}
		whole := len(ts) == 1 && ts[0].start == 0 && ts[0].end == len(cur)
		if typed && whole && (k.name == "ENVIRON" || k.name == "RESPONSE") {
			v, err := r.resolve(i, k.name, ts[0])
			if err != nil {
				return nil, err
			}
			if k.name == "ENVIRON" {
				v = castEnv(v.(string))
			}
			str, ok := v.(string)
			if !ok {
				return v, nil
			}
			cur = str
			continue
		}
		var b strings.Builder
		last := 0
		for _, t := range ts {
			v, err := r.resolve(i, k.name, t)
			if err != nil {
				return nil, err
			}
			str := pyStr(v)
			if escape {
				str = regexp.QuoteMeta(str)
			}
			b.WriteString(cur[last:t.start])
			b.WriteString(str)
			last = t.end
		}
		b.WriteString(cur[last:])
		cur = b.String()
	}
	return cur, nil
}

// substString substitutes s and always returns a string.
func (r *runner) substString(i int, s string, escape bool) (string, error) {
	v, err := r.subst(i, s, false, escape)
	if err != nil {
		return "", err
	}
	return v.(string), nil
}

// substValue substitutes every string in v, recursively, including mapping
// keys (which always stay strings).
func (r *runner) substValue(i int, v any) (any, error) {
	switch x := v.(type) {
	case string:
		return r.subst(i, x, true, false)
	case []any:
		out := make([]any, len(x))
		for j, e := range x {
			sv, err := r.substValue(i, e)
			if err != nil {
				return nil, err
			}
			out[j] = sv
		}
		return out, nil
	case *pycompat.Object:
		out := pycompat.NewObject()
		for _, k := range x.Keys() {
			nk, err := r.substString(i, k, false)
			if err != nil {
				return nil, err
			}
			nv, err := r.substValue(i, x.Get(k))
			if err != nil {
				return nil, err
			}
			out.Set(nk, nv)
		}
		return out, nil
	}
	return v, nil
}

var floatText = regexp.MustCompile(`^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$`)

// castEnv converts an environment value as gabbi does: text with a dot that
// parses as a float becomes a float, other numeric text an integer,
// true/false (any case) a boolean.
func castEnv(s string) any {
	t := strings.TrimSpace(s)
	if strings.Contains(s, ".") {
		if floatText.MatchString(s) {
			if f, err := strconv.ParseFloat(t, 64); err == nil {
				return json.Number(pycompat.FloatRepr(f))
			}
		}
	} else if n, ok := new(big.Int).SetString(t, 10); ok && t != "" {
		return json.Number(n.String())
	}
	switch strings.ToLower(s) {
	case "true":
		return true
	case "false":
		return false
	}
	return s
}

func (r *runner) lookupEnv(name string) (string, error) {
	if v, ok := r.env[name]; ok {
		return v, nil
	}
	if v, ok := os.LookupEnv(name); ok {
		return v, nil
	}
	return "", fmt.Errorf("$ENVIRON['%s']: environment variable not set", name)
}

// priorResult finds the response a template refers to: the previous test's,
// or with $HISTORY the latest earlier test of that name.
func (r *runner) priorResult(i int, t template) (*result, error) {
	j := i - 1
	if t.hasHistory {
		for j >= 0 && r.suite.Tests[j].Name != t.history {
			j--
		}
		if j < 0 {
			return nil, fmt.Errorf("$HISTORY['%s']: no earlier test with that name", t.history)
		}
	}
	if j < 0 {
		return nil, errors.New("no prior test to take a value from")
	}
	res := r.results[j]
	if res == nil || res.status == 0 {
		return nil, fmt.Errorf("test %q has no response (it was skipped or its request failed)", r.suite.Tests[j].Name)
	}
	return res, nil
}

func (r *runner) resolve(i int, kind string, t template) (any, error) {
	switch kind {
	case "SCHEME":
		if r.suite.Tests[i].SSL {
			return "https", nil
		}
		return r.base.Scheme, nil
	case "NETLOC":
		return r.base.Host, nil
	case "ENVIRON":
		return r.lookupEnv(t.arg)
	case "COOKIE":
		return nil, errors.New("unsupported gabbi substitution $COOKIE")
	}
	prior, err := r.priorResult(i, t)
	if err != nil {
		return nil, fmt.Errorf("$%s: %w", kind, err)
	}
	switch kind {
	case "LOCATION":
		loc := prior.header.Values("Location")
		if len(loc) == 0 {
			return nil, fmt.Errorf("$LOCATION: the response of test %q has no Location header", prior.name)
		}
		return loc[0], nil
	case "LAST_URL", "URL":
		return prior.url, nil
	case "HEADERS":
		vals := prior.header.Values(t.arg)
		if len(vals) == 0 {
			return nil, fmt.Errorf("$HEADERS['%s']: the response of test %q has no such header", t.arg, prior.name)
		}
		return strings.Join(vals, ", "), nil
	case "RESPONSE":
		if prior.jsonErr != nil {
			return nil, fmt.Errorf("$RESPONSE['%s']: test %q: %w", t.arg, prior.name, prior.jsonErr)
		}
		v, err := extractPath(prior.json, t.arg)
		if err != nil {
			return nil, fmt.Errorf("$RESPONSE['%s'] in the response of test %q: %w", t.arg, prior.name, err)
		}
		return v, nil
	}
	return nil, fmt.Errorf("unknown substitution $%s", kind)
}
