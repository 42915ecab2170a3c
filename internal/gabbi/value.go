package gabbi

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/openstack-placement-go/placement/internal/pycompat"
)

// Values flowing through the runner (decoded YAML, decoded JSON responses,
// substitution results) use one representation: nil, bool, string,
// json.Number, []any and *pycompat.Object. Keeping object key order matters because
// `.*`, `..key` and `sorted` on an object follow document order, as they do
// in Python where dicts keep insertion order.

// show renders v for failure messages.
func show(v any) string {
	b, err := pycompat.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	return string(b)
}

// decodeJSON decodes one JSON document, keeping object key order and
// numbers as json.Number.
func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeJSONValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("invalid JSON: unexpected data after the top-level value")
	}
	return v, nil
}

func decodeJSONValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			m := pycompat.NewObject()
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, ok := kt.(string)
				if !ok {
					return nil, fmt.Errorf("invalid JSON object key %v", kt)
				}
				v, err := decodeJSONValue(dec)
				if err != nil {
					return nil, err
				}
				m.Set(k, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return m, nil
		case '[':
			list := []any{}
			for dec.More() {
				v, err := decodeJSONValue(dec)
				if err != nil {
					return nil, err
				}
				list = append(list, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return list, nil
		}
		return nil, fmt.Errorf("invalid JSON: unexpected %v", t)
	default:
		return t, nil
	}
}

// yaml11Bools are the plain scalars PyYAML (YAML 1.1) reads as booleans but
// yaml.v3 keeps as strings; gabbi files are written for PyYAML.
var yaml11Bools = map[string]bool{
	"yes": true, "Yes": true, "YES": true, "on": true, "On": true, "ON": true,
	"no": false, "No": false, "NO": false, "off": false, "Off": false, "OFF": false,
}

// fromYAML converts a yaml.v3 node tree into runner values, resolving
// aliases and `<<` merge keys. A repeated mapping key keeps the last value,
// as PyYAML does.
func fromYAML(n *yaml.Node) (any, error) {
	switch n.Kind {
	case 0:
		return nil, nil
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return fromYAML(n.Content[0])
	case yaml.AliasNode:
		return fromYAML(n.Alias)
	case yaml.SequenceNode:
		list := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := fromYAML(c)
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
		return list, nil
	case yaml.MappingNode:
		return yamlMapping(n)
	case yaml.ScalarNode:
		return yamlScalar(n)
	}
	return nil, fmt.Errorf("line %d: unsupported YAML node", n.Line)
}

func isMergeKey(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge"
}

func yamlMapping(n *yaml.Node) (*pycompat.Object, error) {
	m := pycompat.NewObject()
	explicit := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if isMergeKey(n.Content[i]) {
			continue
		}
		k, err := yamlKey(n.Content[i])
		if err != nil {
			return nil, err
		}
		explicit[k] = true
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		if isMergeKey(kn) {
			// Explicit keys override merged ones, and earlier maps in a
			// merge sequence override later ones (YAML merge key spec).
			src := vn
			if src.Kind == yaml.AliasNode {
				src = src.Alias
			}
			var sources []*yaml.Node
			switch src.Kind {
			case yaml.MappingNode:
				sources = []*yaml.Node{src}
			case yaml.SequenceNode:
				sources = src.Content
			default:
				return nil, fmt.Errorf("line %d: merge key value must be a mapping or a list of mappings", vn.Line)
			}
			for _, s := range sources {
				v, err := fromYAML(s)
				if err != nil {
					return nil, err
				}
				sm, ok := v.(*pycompat.Object)
				if !ok {
					return nil, fmt.Errorf("line %d: merge key value must be a mapping or a list of mappings", s.Line)
				}
				for _, k := range sm.Keys() {
					if explicit[k] || m.Has(k) {
						continue
					}
					m.Set(k, sm.Get(k))
				}
			}
			continue
		}
		k, err := yamlKey(kn)
		if err != nil {
			return nil, err
		}
		v, err := fromYAML(vn)
		if err != nil {
			return nil, err
		}
		m.Set(k, v)
	}
	return m, nil
}

func yamlKey(n *yaml.Node) (string, error) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind != yaml.ScalarNode {
		return "", fmt.Errorf("line %d: mapping keys must be scalars", n.Line)
	}
	return n.Value, nil
}

func yamlScalar(n *yaml.Node) (any, error) {
	switch n.ShortTag() {
	case "!!null":
		return nil, nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
		return b, nil
	case "!!int", "!!float":
		if isJSONNumber(n.Value) {
			return json.Number(n.Value), nil
		}
		// A YAML-only spelling (0x1f, 1_000, .5, +1): YAML's value,
		// written as Python writes an int or a float.
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
		f, isFloat := v.(float64)
		if !isFloat {
			return json.Number(fmt.Sprint(v)), nil
		}
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, fmt.Errorf("line %d: unsupported float %q", n.Line, n.Value)
		}
		return json.Number(pycompat.FloatRepr(f)), nil
	case "!!str", "!!timestamp", "!!binary":
		if n.Style == 0 {
			if b, ok := yaml11Bools[n.Value]; ok {
				return b, nil
			}
		}
		return n.Value, nil
	}
	return nil, fmt.Errorf("line %d: unsupported YAML tag %s", n.Line, n.Tag)
}

// isJSONNumber reports whether s is a number in JSON syntax.
func isJSONNumber(s string) bool {
	if s == "" {
		return false
	}
	var v any
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return false
	}
	n, ok := v.(json.Number)
	return ok && string(n) == s
}

func isIntText(s string) bool {
	return !strings.ContainsAny(s, ".eE")
}

// compareNumbers compares integers exactly and anything else as float64.
func compareNumbers(a, b json.Number) (int, error) {
	if isIntText(string(a)) && isIntText(string(b)) {
		x, ok1 := new(big.Int).SetString(string(a), 10)
		y, ok2 := new(big.Int).SetString(string(b), 10)
		if ok1 && ok2 {
			return x.Cmp(y), nil
		}
	}
	x, err := strconv.ParseFloat(string(a), 64)
	if err != nil {
		return 0, fmt.Errorf("invalid number %q", a)
	}
	y, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return 0, fmt.Errorf("invalid number %q", b)
	}
	switch {
	case x < y:
		return -1, nil
	case x > y:
		return 1, nil
	}
	return 0, nil
}

// compareOrder orders two values the way Python's < does for the types
// JSON has, and fails where Python would raise TypeError.
func compareOrder(a, b any) (int, error) {
	switch x := a.(type) {
	case json.Number:
		if y, ok := b.(json.Number); ok {
			return compareNumbers(x, y)
		}
	case string:
		if y, ok := b.(string); ok {
			return strings.Compare(x, y), nil
		}
	case bool:
		if y, ok := b.(bool); ok {
			switch {
			case x == y:
				return 0, nil
			case !x:
				return -1, nil
			}
			return 1, nil
		}
	case []any:
		if y, ok := b.([]any); ok {
			for i := 0; i < len(x) && i < len(y); i++ {
				if pycompat.Equal(x[i], y[i]) {
					continue
				}
				return compareOrder(x[i], y[i])
			}
			return cmp.Compare(len(x), len(y)), nil
		}
	}
	return 0, fmt.Errorf("cannot order %s and %s", show(a), show(b))
}

// pyStr renders a value as Python's str() would, which is what gabbi puts
// into a string when a substitution is embedded in it and what a /regex/
// expectation is matched against.
func pyStr(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return "None"
	case bool:
		if x {
			return "True"
		}
		return "False"
	case json.Number:
		return pyNumber(x)
	}
	return pyRepr(v)
}

func pyNumber(n json.Number) string {
	s := string(n)
	if isIntText(s) {
		if i, ok := new(big.Int).SetString(s, 10); ok {
			return i.String()
		}
		return s
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return s
	}
	return pycompat.FloatRepr(f)
}

func pyRepr(v any) string {
	switch x := v.(type) {
	case string:
		return pycompat.StrRepr(x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = pyRepr(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case *pycompat.Object:
		parts := make([]string, x.Len())
		for i, k := range x.Keys() {
			parts[i] = pycompat.StrRepr(k) + ": " + pyRepr(x.Get(k))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return pyStr(v)
}
