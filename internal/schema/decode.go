package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/openstack-placement-go/placement/internal/pycompat"
)

// maxDepth bounds nesting of decoded documents. Python raises RecursionError
// at about this depth; we answer with a SyntaxError instead.
const maxDepth = 1000

// SyntaxError reports input that is not JSON, worded as Python's json
// module (behind oslo.serialization) words it, so that a handler can answer
// "Malformed JSON: " + err.Error().
type SyntaxError struct {
	// Msg is the bare message, e.g. "Expecting value".
	Msg string
	// Line and Column are 1-based; Offset counts characters from 0. All are
	// zero when the input was rejected before parsing (bad UTF-8, nesting).
	Line, Column, Offset int
}

// Error returns e.g. "Expecting value: line 1 column 1 (char 0)".
func (e *SyntaxError) Error() string {
	if e.Line == 0 {
		return e.Msg
	}
	return fmt.Sprintf("%s: line %d column %d (char %d)", e.Msg, e.Line, e.Column, e.Offset)
}

var utf8BOM = []byte{0xef, 0xbb, 0xbf}

// DecodeJSON decodes a request body the way Python's json.loads does and
// returns the document with its key order: nil, bool, string, json.Number,
// []any and *pycompat.Object (pycompat.Unordered gives encoding/json's
// generic form). A repeated key keeps its first position and its last
// value. Malformed input yields a *SyntaxError whose text matches
// json.loads, e.g. "Expecting value: line 1 column 1 (char 0)" for an empty
// body. Python's NaN, Infinity and -Infinity literals are the float64
// values (HasNonFinite finds them).
//
// It mirrors CPython's C scanner (Modules/_json.c) so that errors carry
// the same message and position.
func DecodeJSON(data []byte) (any, error) {
	// Upstream decodes the body before parsing it, so this error comes
	// first.
	if msg := pycompat.UTF8Error(data); msg != "" {
		return nil, &SyntaxError{Msg: msg}
	}
	d := &decoder{data: data}
	if bytes.HasPrefix(data, utf8BOM) {
		return nil, d.syntaxError(&scanError{"Unexpected UTF-8 BOM (decode using utf-8-sig)", 0})
	}
	i := d.skipWS(0)
	v, end, serr := d.value(i)
	if serr == nil {
		end = d.skipWS(end)
		if end != len(data) {
			serr = &scanError{"Extra data", end}
		}
	}
	if serr != nil {
		return nil, d.syntaxError(serr)
	}
	return v, nil
}

type decoder struct {
	data  []byte
	depth int
}

// scanError is a failure at a byte offset, converted to Python's character
// positions by syntaxError.
type scanError struct {
	msg string
	off int
}

func (d *decoder) syntaxError(e *scanError) error {
	if e.off < 0 {
		return &SyntaxError{Msg: e.msg}
	}
	before := d.data[:e.off]
	pos := utf8.RuneCount(before)
	col := pos + 1
	if nl := bytes.LastIndexByte(before, '\n'); nl >= 0 {
		col = pos - utf8.RuneCount(before[:nl])
	}
	return &SyntaxError{
		Msg:    e.msg,
		Line:   bytes.Count(before, []byte{'\n'}) + 1,
		Column: col,
		Offset: pos,
	}
}

func (d *decoder) skipWS(i int) int {
	for i < len(d.data) {
		switch d.data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// value is scan_once: "Expecting value" stands for its StopIteration.
func (d *decoder) value(i int) (any, int, *scanError) {
	if i >= len(d.data) {
		return nil, i, &scanError{"Expecting value", i}
	}
	switch d.data[i] {
	case '"':
		return d.str(i + 1)
	case '{':
		return d.nested(i, d.object)
	case '[':
		return d.nested(i, d.array)
	case 'n':
		if bytes.HasPrefix(d.data[i:], []byte("null")) {
			return nil, i + 4, nil
		}
	case 't':
		if bytes.HasPrefix(d.data[i:], []byte("true")) {
			return true, i + 4, nil
		}
	case 'f':
		if bytes.HasPrefix(d.data[i:], []byte("false")) {
			return false, i + 5, nil
		}
	case 'N':
		if bytes.HasPrefix(d.data[i:], []byte("NaN")) {
			return math.NaN(), i + 3, nil
		}
	case 'I':
		if bytes.HasPrefix(d.data[i:], []byte("Infinity")) {
			return math.Inf(1), i + 8, nil
		}
	case '-':
		if bytes.HasPrefix(d.data[i:], []byte("-Infinity")) {
			return math.Inf(-1), i + 9, nil
		}
	}
	return d.number(i)
}

func (d *decoder) nested(i int, parse func(int) (any, int, *scanError)) (any, int, *scanError) {
	d.depth++
	defer func() { d.depth-- }()
	if d.depth > maxDepth {
		kind := "object"
		if d.data[i] == '[' {
			kind = "array"
		}
		return nil, i, &scanError{"maximum recursion depth exceeded while decoding a JSON " + kind + " from a unicode string", -1}
	}
	return parse(i + 1)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// number is _match_number_unicode: a fraction needs a digit after '.', and
// an exponent without digits is given back to the caller.
func (d *decoder) number(start int) (any, int, *scanError) {
	data := d.data
	i := start
	stop := &scanError{"Expecting value", start}
	if data[i] == '-' {
		i++
		if i >= len(data) {
			return nil, start, stop
		}
	}
	switch {
	case data[i] >= '1' && data[i] <= '9':
		i++
		for i < len(data) && isDigit(data[i]) {
			i++
		}
	case data[i] == '0':
		i++
	default:
		return nil, start, stop
	}
	if i+1 < len(data) && data[i] == '.' && isDigit(data[i+1]) {
		i += 2
		for i < len(data) && isDigit(data[i]) {
			i++
		}
	}
	if i+1 < len(data) && (data[i] == 'e' || data[i] == 'E') {
		eStart := i
		i++
		if i+1 < len(data) && (data[i] == '-' || data[i] == '+') {
			i++
		}
		for i < len(data) && isDigit(data[i]) {
			i++
		}
		if !isDigit(data[i-1]) {
			i = eStart
		}
	}
	lit := json.Number(data[start:i])
	// An integer literal is int(): CPython refuses more than 4,300 digits
	// with a ValueError, which json.loads lets through ("Malformed JSON:
	// Exceeds the limit …", without a position).
	if digits := len(strings.TrimPrefix(string(lit), "-")); digits > 4300 && !strings.ContainsAny(string(lit), ".eE") {
		if _, err := pycompat.ParseInt(string(lit), 10); err != nil {
			return nil, start, &scanError{err.Error(), -1}
		}
	}
	return lit, i, nil
}

// str is scanstring_unicode; start is just after the opening quote.
func (d *decoder) str(start int) (any, int, *scanError) {
	data := d.data
	begin := start - 1
	var out []byte
	end := start
	for {
		next := end
		var c byte
		for ; next < len(data); next++ {
			c = data[next]
			if c == '"' || c == '\\' {
				break
			}
			if c <= 0x1f {
				return nil, next, &scanError{"Invalid control character at", next}
			}
		}
		if next >= len(data) {
			return nil, begin, &scanError{"Unterminated string starting at", begin}
		}
		out = append(out, data[end:next]...)
		next++
		if c == '"' {
			end = next
			break
		}
		if next == len(data) {
			return nil, begin, &scanError{"Unterminated string starting at", begin}
		}
		c = data[next]
		if c != 'u' {
			end = next + 1
			switch c {
			case '"', '\\', '/':
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			default:
				return nil, end - 2, &scanError{`Invalid \escape`, end - 2}
			}
			out = append(out, c)
			continue
		}
		next++
		end = next + 4
		if end >= len(data) {
			return nil, next - 1, &scanError{`Invalid \uXXXX escape`, next - 1}
		}
		r, ok := hex4(data[next:end])
		if !ok {
			return nil, end - 5, &scanError{`Invalid \uXXXX escape`, end - 5}
		}
		if utf16.IsSurrogate(r) && r < 0xdc00 && end+6 < len(data) &&
			data[end] == '\\' && data[end+1] == 'u' {
			r2, ok := hex4(data[end+2 : end+6])
			if !ok {
				return nil, end + 1, &scanError{`Invalid \uXXXX escape`, end + 1}
			}
			if r2 >= 0xdc00 && r2 <= 0xdfff {
				r = utf16.DecodeRune(r, r2)
				end += 6
			}
		}
		if utf16.IsSurrogate(r) {
			// A lone surrogate stays, as in Python, written as UTF-8
			// would write it were it a character (invalid UTF-8, which
			// web.ReadJSON refuses once the schema has judged it).
			out = append(out, byte(0xe0|r>>12), byte(0x80|(r>>6)&0x3f), byte(0x80|r&0x3f))
			continue
		}
		out = utf8.AppendRune(out, r)
	}
	return string(out), end, nil
}

func hex4(b []byte) (rune, bool) {
	var r rune
	for _, c := range b {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return r, true
}

// object is _parse_object_unicode; i is just after '{'.
func (d *decoder) object(i int) (any, int, *scanError) {
	data := d.data
	o := pycompat.NewObject()
	i = d.skipWS(i)
	if i >= len(data) || data[i] != '}' {
		for {
			if i >= len(data) || data[i] != '"' {
				return nil, i, &scanError{"Expecting property name enclosed in double quotes", i}
			}
			key, next, err := d.str(i + 1)
			if err != nil {
				return nil, next, err
			}
			i = d.skipWS(next)
			if i >= len(data) || data[i] != ':' {
				return nil, i, &scanError{"Expecting ':' delimiter", i}
			}
			i = d.skipWS(i + 1)
			val, next, err := d.value(i)
			if err != nil {
				return nil, next, err
			}
			o.Set(key.(string), val)
			i = d.skipWS(next)
			if i < len(data) && data[i] == '}' {
				break
			}
			if i >= len(data) || data[i] != ',' {
				return nil, i, &scanError{"Expecting ',' delimiter", i}
			}
			i = d.skipWS(i + 1)
		}
	}
	return o, i + 1, nil
}

// array is _parse_array_unicode; i is just after '['.
func (d *decoder) array(i int) (any, int, *scanError) {
	data := d.data
	out := []any{}
	i = d.skipWS(i)
	if i >= len(data) || data[i] != ']' {
		for {
			val, next, err := d.value(i)
			if err != nil {
				return nil, next, err
			}
			out = append(out, val)
			i = d.skipWS(next)
			if i < len(data) && data[i] == ']' {
				break
			}
			if i >= len(data) || data[i] != ',' {
				return nil, i, &scanError{"Expecting ',' delimiter", i}
			}
			i = d.skipWS(i + 1)
		}
	}
	return out, i + 1, nil
}

// AnyLeaf reports whether leaf holds for some scalar or object key of a
// DecodeJSON document (or of its generic form).
func AnyLeaf(doc any, leaf func(v any) bool) bool {
	switch t := doc.(type) {
	case []any:
		return slices.ContainsFunc(t, func(e any) bool { return AnyLeaf(e, leaf) })
	case *pycompat.Object:
		return slices.ContainsFunc(t.Keys(), func(k string) bool { return leaf(k) || AnyLeaf(t.Get(k), leaf) })
	case map[string]any:
		for k, v := range t {
			if leaf(k) || AnyLeaf(v, leaf) {
				return true
			}
		}
		return false
	}
	return leaf(doc)
}

// HasNonFinite reports whether a document of DecodeJSON holds a NaN or an
// infinity written as a literal (NaN, Infinity, -Infinity). Literals too
// large for a float, such as 1e400, are json.Numbers and do not count.
func HasNonFinite(doc any) bool {
	return AnyLeaf(doc, func(v any) bool {
		f, ok := v.(float64)
		return ok && (math.IsNaN(f) || math.IsInf(f, 0))
	})
}

// hasInfiniteLiteral reports whether doc holds a float literal too large
// for a float64 (1e400), which Python reads as an infinity.
func hasInfiniteLiteral(doc any) bool {
	return AnyLeaf(doc, func(v any) bool {
		t, ok := v.(json.Number)
		if !ok {
			return false
		}
		n, ok := pycompat.NumberOf(t)
		return ok && n.IsFloat && math.IsInf(n.Float, 0)
	})
}
