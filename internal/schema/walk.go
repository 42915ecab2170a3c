package schema

import (
	"fmt"
	"math/big"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/openstack-placement-go/placement/internal/pycompat"
)

// pyError is jsonschema.ValidationError: paths are relative deques, with
// the keyword last in schemaPath.
type pyError struct {
	set          bool
	keyword      string
	keywordValue any
	schema       any // the (sub)schema holding keyword
	instance     any
	message      string
	path         []any // instance path: string keys and int indexes
	schemaPath   []any
	context      []*pyError
}

// walker re-runs a draft-4 schema the way jsonschema's Draft4Validator
// does, to find every error in Python's order. It only explains failures;
// the library decides validity.
type walker struct {
	root    any
	regexps map[string]*regexp.Regexp
	formats func(name string) func(any) bool
}

// maxRefDepth stops a $ref cycle that never descends into the instance.
const maxRefDepth = 200

func prepend(x any, s []any) []any {
	return append([]any{x}, s...)
}

func (w *walker) regexp(pattern string) *regexp.Regexp {
	if re, ok := w.regexps[pattern]; ok {
		return re
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil
	}
	return re
}

// search is re.search: true if pattern matches anywhere in s.
func (w *walker) search(pattern, s string) bool {
	re := w.regexp(pattern)
	return re != nil && re.MatchString(s)
}

// iterErrors is Validator.iter_errors.
func (w *walker) iterErrors(inst, sch any, refDepth int) []*pyError {
	obj, ok := sch.(*pycompat.Object)
	if !ok {
		// Draft 4 has no boolean schemas; the library refuses them.
		return nil
	}
	keys := obj.Keys()
	if obj.Has("$ref") {
		// Draft 4: all other properties in a "$ref" object are ignored.
		keys = []string{"$ref"}
	}
	var out []*pyError
	for _, k := range keys {
		v := obj.Get(k)
		for _, e := range w.keyword(k, v, inst, obj, refDepth) {
			if !e.set {
				e.set = true
				e.keyword, e.keywordValue, e.instance, e.schema = k, v, inst, obj
			}
			if k != "$ref" {
				e.schemaPath = prepend(k, e.schemaPath)
			}
			out = append(out, e)
		}
	}
	return out
}

// descend is Validator.descend; nil path or schemaPath adds nothing.
func (w *walker) descend(inst, sch any, path, schemaPath any, refDepth int) []*pyError {
	errs := w.iterErrors(inst, sch, refDepth)
	for _, e := range errs {
		if path != nil {
			e.path = prepend(path, e.path)
		}
		if schemaPath != nil {
			e.schemaPath = prepend(schemaPath, e.schemaPath)
		}
	}
	return errs
}

func (w *walker) isValid(inst, sch any, refDepth int) bool {
	return len(w.iterErrors(inst, sch, refDepth)) == 0
}

func newError(format string, args ...any) *pyError {
	return &pyError{message: fmt.Sprintf(format, args...)}
}

func isType(inst any, typ string) bool {
	switch typ {
	case "object":
		_, ok := inst.(*pycompat.Object)
		return ok
	case "array":
		_, ok := inst.([]any)
		return ok
	case "string":
		_, ok := inst.(string)
		return ok
	case "boolean":
		_, ok := inst.(bool)
		return ok
	case "null":
		return inst == nil
	case "number":
		_, ok := asNumber(inst)
		return ok
	case "integer":
		n, ok := asNumber(inst)
		return ok && n.isInteger()
	}
	return false
}

// keywordFunc runs one draft-4 keyword k, whose value in the schema sch
// is v, on inst. Its messages are jsonschema 4.x's.
type keywordFunc func(w *walker, k string, v, inst any, sch *pycompat.Object, refDepth int) []*pyError

// keywords maps each draft-4 keyword to its check; others are ignored. It
// is filled by init because the checks descend into subschemas, which
// looks keywords up again.
var keywords map[string]keywordFunc

func init() {
	keywords = map[string]keywordFunc{
		"$ref":                 (*walker).kwRef,
		"properties":           (*walker).kwProperties,
		"patternProperties":    (*walker).kwPatternProperties,
		"additionalProperties": (*walker).kwAdditionalProperties,
		"items":                (*walker).kwItems,
		"additionalItems":      (*walker).kwAdditionalItems,
		"type":                 (*walker).kwType,
		"enum":                 (*walker).kwEnum,
		"minimum":              (*walker).kwMinMax,
		"maximum":              (*walker).kwMinMax,
		"multipleOf":           (*walker).kwMultipleOf,
		"minLength":            (*walker).kwLength,
		"maxLength":            (*walker).kwLength,
		"minItems":             (*walker).kwItemCount,
		"maxItems":             (*walker).kwItemCount,
		"minProperties":        (*walker).kwPropertyCount,
		"maxProperties":        (*walker).kwPropertyCount,
		"uniqueItems":          (*walker).kwUniqueItems,
		"pattern":              (*walker).kwPattern,
		"format":               (*walker).kwFormat,
		"required":             (*walker).kwRequired,
		"dependencies":         (*walker).kwDependencies,
		"allOf":                (*walker).kwAllOf,
		"anyOf":                (*walker).kwAnyOf,
		"oneOf":                (*walker).kwOneOf,
		"not":                  (*walker).kwNot,
	}
}

// keyword runs one draft-4 keyword; unknown keywords find no error.
func (w *walker) keyword(k string, v, inst any, sch *pycompat.Object, refDepth int) []*pyError {
	if check := keywords[k]; check != nil {
		return check(w, k, v, inst, sch, refDepth)
	}
	return nil
}

// kwRef follows a $ref (draft 4 ignores the other keywords beside it).
func (w *walker) kwRef(k string, v, inst any, sch *pycompat.Object, refDepth int) []*pyError {
	ref, _ := v.(string)
	target, ok := w.resolve(ref)
	if !ok || refDepth >= maxRefDepth {
		return nil
	}
	return w.descend(inst, target, nil, nil, refDepth+1)
}

// kwProperties checks each property the schema names.
func (w *walker) kwProperties(k string, v, inst any, sch *pycompat.Object, refDepth int) []*pyError {
	io, props, ok := objects(inst, v)
	if !ok {
		return nil
	}
	var out []*pyError
	for _, p := range props.Keys() {
		if iv, ok := io.Lookup(p); ok {
			out = append(out, w.descend(iv, props.Get(p), p, p, 0)...)
		}
	}
	return out
}

// objects returns the instance and the value of a keyword that applies to
// objects and takes an object; ok is false, and the keyword does not
// apply, when either is something else.
func objects(inst, v any) (io, val *pycompat.Object, ok bool) {
	io, ok1 := inst.(*pycompat.Object)
	val, ok2 := v.(*pycompat.Object)
	return io, val, ok1 && ok2
}

// kwPatternProperties checks each property against every pattern it matches.
func (w *walker) kwPatternProperties(k string, v, inst any, sch *pycompat.Object, refDepth int) []*pyError {
	io, pats, ok := objects(inst, v)
	if !ok {
		return nil
	}
	var out []*pyError
	for _, pat := range pats.Keys() {
		for _, ik := range io.Keys() {
			if w.search(pat, ik) {
				out = append(out, w.descend(io.Get(ik), pats.Get(pat), ik, pat, 0)...)
			}
		}
	}
	return out
}

// kwAdditionalProperties checks or refuses the properties no other keyword covers.
func (w *walker) kwAdditionalProperties(k string, v, inst any, sch *pycompat.Object, refDepth int) []*pyError {
	io, ok := inst.(*pycompat.Object)
	if !ok {
		return nil
	}
	extras := w.additionalProperties(io, sch)
	if isType(v, "object") {
		var out []*pyError
		for _, extra := range extras {
			out = append(out, w.descend(io.Get(extra), v, extra, nil, 0)...)
		}
		return out
	}
	if pycompat.Truthy(v) || len(extras) == 0 {
		return nil
	}
	if pats, ok := sch.Get("patternProperties").(*pycompat.Object); ok {
		verb := "does"
		if len(extras) > 1 {
			verb = "do"
		}
		return []*pyError{newError("%s %s not match any of the regexes: %s",
			joinReprs(sortedStrings(extras)), verb, joinReprs(sortedStrings(pats.Keys())))}
	}
	verb := "was"
	if len(extras) > 1 {
		verb = "were"
	}
	// jsonschema's extras_msg sorts them (4.x; 3.x printed a set's order).
	return []*pyError{newError("Additional properties are not allowed (%s %s unexpected)", joinReprs(sortedStrings(extras)), verb)}
}

// kwItems checks every element against one schema, or each against its own.
func (w *walker) kwItems(k string, v, inst any, sch *pycompat.Object, refDepth int) []*pyError {
	arr, ok := inst.([]any)
	if !ok {
		return nil
	}
	var out []*pyError
	switch items := v.(type) {
	case *pycompat.Object:
		for i, e := range arr {
			out = append(out, w.descend(e, items, i, nil, 0)...)
		}
	case []any:
		for i := 0; i < len(arr) && i < len(items); i++ {
			out = append(out, w.descend(arr[i], items[i], i, i, 0)...)
		}
	}
	return out
}

// kwAdditionalItems checks or refuses the elements past a list of item schemas.
func (w *walker) kwAdditionalItems(k string, v, inst any, sch *pycompat.Object, refDepth int) []*pyError {
	arr, ok := inst.([]any)
	if !ok {
		return nil
	}
	items, ok := sch.Get("items").([]any)
	if !ok {
		// A missing or object "items" covers every element.
		return nil
	}
	if isType(v, "object") {
		var out []*pyError
		for i := len(items); i < len(arr); i++ {
			out = append(out, w.descend(arr[i], v, i, nil, 0)...)
		}
		return out
	}
	if !pycompat.Truthy(v) && len(arr) > len(items) {
		rest := arr[len(items):]
		verb := "was"
		if len(rest) > 1 {
			verb = "were"
		}
		return []*pyError{newError("Additional items are not allowed (%s %s unexpected)", joinReprs(rest), verb)}
	}
	return nil
}

// kwType checks the instance against one type or a list of types.
func (w *walker) kwType(k string, v, inst any, sch *pycompat.Object, refDepth int) []*pyError {
	types, ok := v.([]any)
	if !ok {
		types = []any{v}
	}
	for _, t := range types {
		if ts, ok := t.(string); ok && isType(inst, ts) {
			return nil
		}
	}
	return []*pyError{newError("%s is not of type %s", PyRepr(inst), joinReprs(types))}
}

// kwEnum checks that the instance equals one of the values.
func (w *walker) kwEnum(k string, v, inst any, sch *pycompat.Object, refDepth int) []*pyError {
	enums, _ := v.([]any)
	for _, e := range enums {
		if pycompat.Equal(inst, e) {
			return nil
		}
	}
	return []*pyError{newError("%s is not one of %s", PyRepr(inst), PyRepr(v))}
}

// kwMinMax is minimum and maximum, with their exclusive flags.
func (w *walker) kwMinMax(k string, v, inst any, sch *pycompat.Object, refDepth int) []*pyError {
	n, ok1 := asNumber(inst)
	lim, ok2 := asNumber(v)
	if !ok1 || !ok2 {
		return nil
	}
	c, ok := cmpNum(n, lim)
	if !ok {
		return nil
	}
	if k == "minimum" {
		if pycompat.Truthy(sch.Get("exclusiveMinimum")) {
			if c <= 0 {
				return []*pyError{newError("%s is less than or equal to the minimum of %s", n.repr(), lim.repr())}
			}
		} else if c < 0 {
			return []*pyError{newError("%s is less than the minimum of %s", n.repr(), lim.repr())}
		}
		return nil
	}
	if pycompat.Truthy(sch.Get("exclusiveMaximum")) {
		if c >= 0 {
			return []*pyError{newError("%s is greater than or equal to the maximum of %s", n.repr(), lim.repr())}
		}
	} else if c > 0 {
		return []*pyError{newError("%s is greater than the maximum of %s", n.repr(), lim.repr())}
	}
	return nil
}

// kwMultipleOf checks that a number is a multiple of the value.
func (w *walker) kwMultipleOf(k string, v, inst any, sch *pycompat.Object, refDepth int) []*pyError {
	n, ok1 := asNumber(inst)
	d, ok2 := asNumber(v)
	if !ok1 || !ok2 || isMultiple(n, d) {
		return nil
	}
	return []*pyError{newError("%s is not a multiple of %s", n.repr(), d.repr())}
}

// kwLength is minLength and maxLength, in code points.
func (w *walker) kwLength(k string, v, inst any, sch *pycompat.Object, refDepth int) []*pyError {
	s, ok := inst.(string)
	if !ok {
		return nil
	}
	if lengthFails(k, utf8.RuneCountInString(s), v) {
		return []*pyError{newError("%s is too %s", PyRepr(s), shortOrLong(k))}
	}
	return nil
}

// kwItemCount is minItems and maxItems.
func (w *walker) kwItemCount(k string, v, inst any, sch *pycompat.Object, refDepth int) []*pyError {
	arr, ok := inst.([]any)
	if !ok {
		return nil
	}
	if lengthFails(k, len(arr), v) {
		return []*pyError{newError("%s is too %s", PyRepr(arr), shortOrLong(k))}
	}
	return nil
}

// kwPropertyCount is minProperties and maxProperties.
func (w *walker) kwPropertyCount(k string, v, inst any, sch *pycompat.Object, refDepth int) []*pyError {
	io, ok := inst.(*pycompat.Object)
	if !ok || !lengthFails(k, io.Len(), v) {
		return nil
	}
	if k == "minProperties" {
		return []*pyError{newError("%s does not have enough properties", PyRepr(io))}
	}
	return []*pyError{newError("%s has too many properties", PyRepr(io))}
}

// kwUniqueItems refuses equal elements (in JSON's sense of equal).
func (w *walker) kwUniqueItems(k string, v, inst any, sch *pycompat.Object, refDepth int) []*pyError {
	arr, ok := inst.([]any)
	if !ok || !pycompat.Truthy(v) {
		return nil
	}
	for i := range arr {
		for j := i + 1; j < len(arr); j++ {
			if pycompat.Equal(arr[i], arr[j]) {
				return []*pyError{newError("%s has non-unique elements", PyRepr(arr))}
			}
		}
	}
	return nil
}

// kwPattern is re.search of the pattern in a string.
func (w *walker) kwPattern(k string, v, inst any, sch *pycompat.Object, refDepth int) []*pyError {
	s, ok1 := inst.(string)
	pat, ok2 := v.(string)
	if !ok1 || !ok2 || w.search(pat, s) {
		return nil
	}
	return []*pyError{newError("%s does not match %s", PyRepr(s), PyRepr(pat))}
}

// kwFormat applies the named format checker, if there is one.
func (w *walker) kwFormat(k string, v, inst any, sch *pycompat.Object, refDepth int) []*pyError {
	name, _ := v.(string)
	check := w.formats(name)
	if check == nil || check(pycompat.Unordered(inst)) {
		return nil
	}
	return []*pyError{newError("%s is not a %s", PyRepr(inst), PyRepr(name))}
}

// kwRequired reports each required property that is missing.
func (w *walker) kwRequired(k string, v, inst any, sch *pycompat.Object, refDepth int) []*pyError {
	io, ok := inst.(*pycompat.Object)
	req, _ := v.([]any)
	if !ok {
		return nil
	}
	var out []*pyError
	for _, p := range req {
		if ps, ok := p.(string); ok && !io.Has(ps) {
			out = append(out, newError("%s is a required property", PyRepr(ps)))
		}
	}
	return out
}

// kwDependencies applies property and schema dependencies.
func (w *walker) kwDependencies(k string, v, inst any, sch *pycompat.Object, refDepth int) []*pyError {
	io, deps, ok := objects(inst, v)
	if !ok {
		return nil
	}
	var out []*pyError
	for _, p := range deps.Keys() {
		if !io.Has(p) {
			continue
		}
		if list, ok := deps.Get(p).([]any); ok {
			for _, each := range list {
				if es, ok := each.(string); ok && !io.Has(es) {
					out = append(out, newError("%s is a dependency of %s", PyRepr(es), PyRepr(p)))
				}
			}
			continue
		}
		out = append(out, w.descend(inst, deps.Get(p), nil, p, refDepth)...)
	}
	return out
}

// kwAllOf reports the errors of every subschema.
func (w *walker) kwAllOf(k string, v, inst any, sch *pycompat.Object, refDepth int) []*pyError {
	subs, _ := v.([]any)
	var out []*pyError
	for i, sub := range subs {
		out = append(out, w.descend(inst, sub, nil, i, refDepth)...)
	}
	return out
}

// kwAnyOf fails, with every subschema's errors as context, when none matches.
func (w *walker) kwAnyOf(k string, v, inst any, sch *pycompat.Object, refDepth int) []*pyError {
	subs, _ := v.([]any)
	var all []*pyError
	for i, sub := range subs {
		errs := w.descend(inst, sub, nil, i, refDepth)
		if len(errs) == 0 {
			return nil
		}
		all = append(all, errs...)
	}
	e := newError("%s is not valid under any of the given schemas", PyRepr(inst))
	e.context = all
	return []*pyError{e}
}

// kwOneOf fails when no subschema or more than one matches.
func (w *walker) kwOneOf(k string, v, inst any, sch *pycompat.Object, refDepth int) []*pyError {
	subs, _ := v.([]any)
	var all []*pyError
	first := -1
	for i, sub := range subs {
		errs := w.descend(inst, sub, nil, i, refDepth)
		if len(errs) == 0 {
			first = i
			break
		}
		all = append(all, errs...)
	}
	if first < 0 {
		e := newError("%s is not valid under any of the given schemas", PyRepr(inst))
		e.context = all
		return []*pyError{e}
	}
	var more []any
	for _, sub := range subs[first+1:] {
		if w.isValid(inst, sub, refDepth) {
			more = append(more, sub)
		}
	}
	if len(more) == 0 {
		return nil
	}
	more = append(more, subs[first])
	return []*pyError{newError("%s is valid under each of %s", PyRepr(inst), joinReprs(more))}
}

// kwNot fails when the subschema matches.
func (w *walker) kwNot(k string, v, inst any, sch *pycompat.Object, refDepth int) []*pyError {
	if !w.isValid(inst, v, refDepth) {
		return nil
	}
	return []*pyError{newError("%s should not be valid under %s", PyRepr(inst), PyRepr(v))}
}

// additionalProperties is find_additional_properties, in instance order
// (Python iterates a set here, so any order is faithful).
func (w *walker) additionalProperties(inst, sch *pycompat.Object) []string {
	props, _ := sch.Get("properties").(*pycompat.Object)
	pats, _ := sch.Get("patternProperties").(*pycompat.Object)
	var extras []string
	for _, k := range inst.Keys() {
		if props != nil && props.Has(k) {
			continue
		}
		matched := false
		if pats != nil {
			for _, p := range pats.Keys() {
				if w.search(p, k) {
					matched = true
					break
				}
			}
		}
		if !matched {
			extras = append(extras, k)
		}
	}
	return extras
}

// resolve follows a local "#..." reference from the root schema.
func (w *walker) resolve(ref string) (any, bool) {
	frag, ok := strings.CutPrefix(ref, "#")
	if !ok {
		return nil, false
	}
	if f, err := url.PathUnescape(frag); err == nil {
		frag = f
	}
	cur := w.root
	if frag == "" {
		return cur, true
	}
	if !strings.HasPrefix(frag, "/") {
		return nil, false
	}
	for _, tok := range strings.Split(frag[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case *pycompat.Object:
			v, ok := c.Lookup(tok)
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

func lengthFails(k string, n int, limit any) bool {
	lim, ok := asNumber(limit)
	if !ok {
		return false
	}
	c, ok := cmpNum(pyNum{pycompat.Number{Int: big.NewInt(int64(n))}}, lim)
	if !ok {
		return false
	}
	if strings.HasPrefix(k, "min") {
		return c < 0
	}
	return c > 0
}

func shortOrLong(k string) string {
	if strings.HasPrefix(k, "min") {
		return "short"
	}
	return "long"
}

// joinReprs is ", ".join(repr(x) for x in xs).
func joinReprs[T any](xs []T) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = PyRepr(x)
	}
	return strings.Join(parts, ", ")
}

func sortedStrings(xs []string) []string {
	return slices.Sorted(slices.Values(xs))
}

// relevance is jsonschema.exceptions.relevance (4.10): shallower errors
// first, then errors other than anyOf/oneOf, then errors whose schema's
// "type" the instance does not match. Larger is more relevant.
type relevance struct {
	negDepth       int
	notWeak        bool
	notMatchesType bool
}

func relevanceOf(e *pyError) relevance {
	return relevance{
		negDepth:       -len(e.path),
		notWeak:        e.keyword != "anyOf" && e.keyword != "oneOf",
		notMatchesType: !matchesType(e),
	}
}

// matchesType is ValidationError._matches_type: the instance has the type
// the failing schema declares.
func matchesType(e *pyError) bool {
	sch, ok := e.schema.(*pycompat.Object)
	if !ok {
		return false
	}
	t, ok := sch.Lookup("type")
	if !ok {
		return false
	}
	types, ok := t.([]any)
	if !ok {
		types = []any{t}
	}
	for _, t := range types {
		if ts, ok := t.(string); ok && isType(e.instance, ts) {
			return true
		}
	}
	return false
}

func (r relevance) less(o relevance) bool {
	if r.negDepth != o.negDepth {
		return r.negDepth < o.negDepth
	}
	if r.notWeak != o.notWeak {
		return !r.notWeak
	}
	return !r.notMatchesType && o.notMatchesType
}

// bestMatch is jsonschema.exceptions.best_match (4.x).
func bestMatch(errs []*pyError) *pyError {
	if len(errs) == 0 {
		return nil
	}
	best := errs[0]
	for _, e := range errs[1:] {
		if relevanceOf(best).less(relevanceOf(e)) {
			best = e
		}
	}
	for len(best.context) > 0 {
		// Python takes heapq.nsmallest(2, context) and stops when the two
		// are equally relevant; otherwise it descends into the smallest.
		minIdx, ties := 0, 1
		for i, e := range best.context[1:] {
			switch r, m := relevanceOf(e), relevanceOf(best.context[minIdx]); {
			case r.less(m):
				minIdx, ties = i+1, 1
			case !m.less(r):
				ties++
			}
		}
		if ties > 1 {
			return best
		}
		best = best.context[minIdx]
	}
	return best
}
