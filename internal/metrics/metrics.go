// Package metrics is a small Prometheus text-format registry: counters,
// histograms and gauges read at scrape time, with labels. It exists so the
// service exposes /metrics without a client library; the registry is
// created in main and passed to whoever counts. Every method is safe on a
// nil receiver (and then does nothing), so tests and tools need no registry.
package metrics

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// DefaultBuckets are latency buckets in seconds.
var DefaultBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// Registry holds metric families in registration order.
type Registry struct {
	mu       sync.Mutex
	families []family
	names    map[string]bool
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{names: map[string]bool{}} }

type family interface {
	write(w *bufio.Writer)
}

func (r *Registry) register(name string, f family) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.names[name] {
		panic("metrics: duplicate metric " + name)
	}
	r.names[name] = true
	r.families = append(r.families, f)
}

// WriteText writes every family in the Prometheus text exposition format
// (version 0.0.4).
func (r *Registry) WriteText(w io.Writer) error {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	fams := append([]family(nil), r.families...)
	r.mu.Unlock()
	bw := bufio.NewWriter(w)
	for _, f := range fams {
		f.write(bw)
	}
	return bw.Flush()
}

// ContentType is the media type of WriteText's output.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// Handler serves WriteText.
func (r *Registry) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", ContentType)
		r.WriteText(w)
	})
}

// vec keeps one child per label-value combination.
type vec[T any] struct {
	name, help, typ string
	labels          []string
	mu              sync.RWMutex
	children        map[string]*child[T]
	newT            func() *T
}

type child[T any] struct {
	values []string
	v      *T
}

func (v *vec[T]) with(values []string) *T {
	if len(values) != len(v.labels) {
		panic(fmt.Sprintf("metrics: %s takes %d label values, got %d", v.name, len(v.labels), len(values)))
	}
	key := strings.Join(values, "\xff")
	v.mu.RLock()
	c, ok := v.children[key]
	v.mu.RUnlock()
	if ok {
		return c.v
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if c, ok = v.children[key]; !ok {
		c = &child[T]{values: append([]string(nil), values...), v: v.newT()}
		v.children[key] = c
	}
	return c.v
}

// sorted returns the children ordered by label values, for stable output.
func (v *vec[T]) sorted() []*child[T] {
	v.mu.RLock()
	out := make([]*child[T], 0, len(v.children))
	for _, c := range v.children {
		out = append(out, c)
	}
	v.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		return strings.Join(out[i].values, "\xff") < strings.Join(out[j].values, "\xff")
	})
	return out
}

func (v *vec[T]) header(w *bufio.Writer) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", v.name, escapeHelp(v.help), v.name, v.typ)
}

// CounterVec is a counter family with labels.
type CounterVec struct{ vec[Counter] }

// Counter is a monotonically increasing value.
type Counter struct{ bits atomic.Uint64 }

// Add adds d (which must not be negative).
func (c *Counter) Add(d float64) {
	if c == nil {
		return
	}
	for {
		old := c.bits.Load()
		if c.bits.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+d)) {
			return
		}
	}
}

// Inc adds one.
func (c *Counter) Inc() { c.Add(1) }

// Value returns the current value.
func (c *Counter) Value() float64 {
	if c == nil {
		return 0
	}
	return math.Float64frombits(c.bits.Load())
}

// NewCounter registers a counter family.
func (r *Registry) NewCounter(name, help string, labels ...string) *CounterVec {
	if r == nil {
		return nil
	}
	v := &CounterVec{vec[Counter]{name: name, help: help, typ: "counter", labels: labels, children: map[string]*child[Counter]{}, newT: func() *Counter { return &Counter{} }}}
	r.register(name, v)
	return v
}

// With returns the counter for the label values (in registration order).
func (v *CounterVec) With(values ...string) *Counter {
	if v == nil {
		return nil
	}
	return v.with(values)
}

func (v *CounterVec) write(w *bufio.Writer) {
	v.header(w)
	for _, c := range v.sorted() {
		fmt.Fprintf(w, "%s%s %s\n", v.name, labelPairs(v.labels, c.values, "", ""), formatFloat(c.v.Value()))
	}
}

// HistogramVec is a histogram family with labels.
type HistogramVec struct {
	vec[Histogram]
	buckets []float64
}

// Histogram counts observations into cumulative buckets.
type Histogram struct {
	mu     sync.Mutex
	upper  []float64
	counts []uint64
	count  uint64
	sum    float64
}

// Observe records one value.
func (h *Histogram) Observe(x float64) {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, u := range h.upper {
		if x <= u {
			h.counts[i]++
		}
	}
	h.count++
	h.sum += x
}

// NewHistogram registers a histogram family; nil buckets means
// DefaultBuckets.
func (r *Registry) NewHistogram(name, help string, buckets []float64, labels ...string) *HistogramVec {
	if r == nil {
		return nil
	}
	if buckets == nil {
		buckets = DefaultBuckets
	}
	b := append([]float64(nil), buckets...)
	sort.Float64s(b)
	v := &HistogramVec{buckets: b}
	v.vec = vec[Histogram]{name: name, help: help, typ: "histogram", labels: labels, children: map[string]*child[Histogram]{}, newT: func() *Histogram {
		return &Histogram{upper: b, counts: make([]uint64, len(b))}
	}}
	r.register(name, v)
	return v
}

// With returns the histogram for the label values.
func (v *HistogramVec) With(values ...string) *Histogram {
	if v == nil {
		return nil
	}
	return v.with(values)
}

func (v *HistogramVec) write(w *bufio.Writer) {
	v.header(w)
	for _, c := range v.sorted() {
		h := c.v
		h.mu.Lock()
		counts := append([]uint64(nil), h.counts...)
		count, sum := h.count, h.sum
		h.mu.Unlock()
		for i, u := range h.upper {
			fmt.Fprintf(w, "%s_bucket%s %d\n", v.name, labelPairs(v.labels, c.values, "le", formatFloat(u)), counts[i])
		}
		fmt.Fprintf(w, "%s_bucket%s %d\n", v.name, labelPairs(v.labels, c.values, "le", "+Inf"), count)
		fmt.Fprintf(w, "%s_sum%s %s\n", v.name, labelPairs(v.labels, c.values, "", ""), formatFloat(sum))
		fmt.Fprintf(w, "%s_count%s %d\n", v.name, labelPairs(v.labels, c.values, "", ""), count)
	}
}

// Sample is one value of a function-backed family.
type Sample struct {
	Labels []string // values for the family's labels
	Value  float64
}

// funcFamily is read at scrape time.
type funcFamily struct {
	name, help, typ string
	labels          []string
	fn              func() []Sample
}

// NewGaugeFunc registers a gauge family whose samples fn returns at every
// scrape (pool statistics, for instance).
func (r *Registry) NewGaugeFunc(name, help string, fn func() []Sample, labels ...string) {
	r.newFunc(name, help, "gauge", fn, labels)
}

// NewCounterFunc is NewGaugeFunc for values that only grow.
func (r *Registry) NewCounterFunc(name, help string, fn func() []Sample, labels ...string) {
	r.newFunc(name, help, "counter", fn, labels)
}

func (r *Registry) newFunc(name, help, typ string, fn func() []Sample, labels []string) {
	if r == nil {
		return
	}
	r.register(name, &funcFamily{name: name, help: help, typ: typ, labels: labels, fn: fn})
}

func (f *funcFamily) write(w *bufio.Writer) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", f.name, escapeHelp(f.help), f.name, f.typ)
	for _, s := range f.fn() {
		fmt.Fprintf(w, "%s%s %s\n", f.name, labelPairs(f.labels, s.Labels, "", ""), formatFloat(s.Value))
	}
}

func labelPairs(names, values []string, extraName, extraValue string) string {
	if len(names) == 0 && extraName == "" {
		return ""
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		val := ""
		if i < len(values) {
			val = values[i]
		}
		b.WriteString(n)
		b.WriteString(`="`)
		b.WriteString(escapeLabel(val))
		b.WriteByte('"')
	}
	if extraName != "" {
		if len(names) > 0 {
			b.WriteByte(',')
		}
		b.WriteString(extraName)
		b.WriteString(`="`)
		b.WriteString(extraValue)
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

var (
	labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
)

func escapeLabel(s string) string { return labelEscaper.Replace(s) }
func escapeHelp(s string) string  { return helpEscaper.Replace(s) }

func formatFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	case math.IsNaN(f):
		return "NaN"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
