package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/openstack-placement-go/placement/internal/testutil"
)

// WideShape is one tree shape of the wide scenario: Roots roots, each with
// Children identical children holding Total units of CUSTOM_GPU, queried
// with Groups granular groups of CUSTOM_GPU:1 under Policy.
type WideShape struct {
	Roots, Children, Total, Groups int
	Policy                         string
}

// Name is the shape's label in the result table.
func (w WideShape) Name() string {
	return fmt.Sprintf("wide %d×%d (total %d) %d groups %s", w.Roots, w.Children, w.Total, w.Groups, w.Policy)
}

// Query is the shape's candidates request, without a limit.
func (w WideShape) Query() string {
	var q strings.Builder
	q.WriteString("/allocation_candidates?group_policy=" + w.Policy)
	for g := 1; g <= w.Groups; g++ {
		fmt.Fprintf(&q, "&resources%d=CUSTOM_GPU:1", g)
	}
	return q.String()
}

// WideShapes are the shapes of issue 16 (upstream bugs 2070257 and
// 2126751): 3,000, 4,096, 20,160 and 262,144 candidates.
var WideShapes = []WideShape{
	{Roots: 50, Children: 4, Total: 2, Groups: 3, Policy: "none"},
	{Roots: 1, Children: 8, Total: 6, Groups: 4, Policy: "none"},
	{Roots: 1, Children: 8, Total: 1, Groups: 6, Policy: "isolate"},
	{Roots: 1, Children: 8, Total: 6, Groups: 6, Policy: "none"},
}

// loadWide creates the shape's trees through the API. Names maps every
// uuid to a name that is the same on both sides ("r3/c5"), so that the
// candidate sets can be compared.
func loadWide(ctx context.Context, c *Client, w WideShape, workers int) (*Dataset, map[string]string, error) {
	if err := c.Do(ctx, http.MethodPut, "/resource_classes/CUSTOM_GPU", version, nil, nil); err != nil {
		return nil, nil, err
	}
	names := map[string]string{}
	roots := make([]string, w.Roots)
	children := make([][]string, w.Roots)
	for r := range roots {
		roots[r] = uuid.NewString()
		names[roots[r]] = fmt.Sprintf("r%d", r)
		for ch := range w.Children {
			id := uuid.NewString()
			children[r] = append(children[r], id)
			names[id] = fmt.Sprintf("r%d/c%d", r, ch)
		}
	}
	run := testutil.RandHex(3)
	err := parallel(ctx, w.Roots, workers, func(ctx context.Context, r int) error {
		if err := createProvider(ctx, c, roots[r], fmt.Sprintf("bench-%s-wide-%d", run, r), "", nil, nil, nil); err != nil {
			return err
		}
		for ch, id := range children[r] {
			if err := createProvider(ctx, c, id, fmt.Sprintf("bench-%s-wide-%d-%d", run, r, ch), roots[r],
				inventory{"CUSTOM_GPU": w.Total}, nil, nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	d := &Dataset{Query: w.Query(), LimitQuery: w.Query() + "&limit=5"}
	for r := range roots {
		for _, id := range children[r] {
			d.Providers = append(d.Providers, Provider{UUID: id, Depth: 1})
		}
		d.Providers = append(d.Providers, Provider{UUID: roots[r]})
	}
	return d, names, nil
}

// candidateDigest reads a candidates answer one allocation request at a
// time and returns how many it holds and a digest of the set: each request
// written with provider names instead of uuids (allocations and mappings,
// sorted), hashed, and the sorted hashes hashed again. Two answers with
// the same digest hold the same set, whatever their order.
func candidateDigest(body []byte, names map[string]string) (int, string, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := seekKey(dec, "allocation_requests"); err != nil {
		return 0, "", err
	}
	if _, err := dec.Token(); err != nil { // [
		return 0, "", err
	}
	var sums [][sha256.Size]byte
	for dec.More() {
		var ar struct {
			Allocations map[string]struct {
				Resources map[string]int `json:"resources"`
			} `json:"allocations"`
			Mappings map[string][]string `json:"mappings"`
		}
		if err := dec.Decode(&ar); err != nil {
			return 0, "", err
		}
		var parts []string
		for id, a := range ar.Allocations {
			for rc, n := range a.Resources {
				parts = append(parts, fmt.Sprintf("%s:%s=%d", nameOf(names, id), rc, n))
			}
		}
		for suffix, ids := range ar.Mappings {
			var ns []string
			for _, id := range ids {
				ns = append(ns, nameOf(names, id))
			}
			slices.Sort(ns)
			parts = append(parts, "map"+suffix+"="+strings.Join(ns, ","))
		}
		slices.Sort(parts)
		sums = append(sums, sha256.Sum256([]byte(strings.Join(parts, ";"))))
	}
	slices.SortFunc(sums, func(a, b [sha256.Size]byte) int { return bytes.Compare(a[:], b[:]) })
	h := sha256.New()
	for _, s := range sums {
		h.Write(s[:])
	}
	return len(sums), hex.EncodeToString(h.Sum(nil))[:16], nil
}

func nameOf(names map[string]string, id string) string {
	if n, ok := names[id]; ok {
		return n
	}
	return id
}

// seekKey advances dec to the value of the top-level key.
func seekKey(dec *json.Decoder, key string) error {
	if _, err := dec.Token(); err != nil { // {
		return err
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		if t == key {
			return nil
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return err
		}
	}
	return fmt.Errorf("no %q in the answer", key)
}

// slowRequest is how long a first request may take before the bench stops
// repeating it: the reference needs minutes for the largest wide shape.
const slowRequest = time.Minute

// adaptiveLatency times one request and, unless it took longer than
// slowRequest (then it is the only sample), warmups more unmeasured ones
// and n measured ones. It returns the distribution and the body of the
// first answer.
func adaptiveLatency(ctx context.Context, c *Client, path string, warmups, n int) (Summary, []byte, error) {
	var body chunkedBody
	d, err := timedGet(ctx, c, path, &body)
	if err != nil {
		return Summary{}, nil, err
	}
	first := body.Bytes()
	if d > slowRequest {
		return Summarize([]time.Duration{d}), first, nil
	}
	var buf bytes.Buffer
	samples := []time.Duration{}
	for i := range warmups - 1 + n {
		if i == warmups-1 {
			runtime.GC()
		}
		d, err := timedGet(ctx, c, path, &buf)
		if err != nil {
			return Summary{}, nil, err
		}
		if i >= warmups-1 {
			samples = append(samples, d)
		}
	}
	return Summarize(samples), first, nil
}

// chunkedBody holds a body read once in 1 MiB chunks. Reading a body of
// hundreds of megabytes into a growing bytes.Buffer copies it over and over
// and took the bench 8 s for a body that arrives in 1.6 s; chunks are never
// copied.
type chunkedBody struct {
	chunks [][]byte
}

func (b *chunkedBody) Reset() { b.chunks = nil }

func (b *chunkedBody) ReadFrom(r io.Reader) (int64, error) {
	var total int64
	for {
		c := make([]byte, 1<<20)
		n, err := io.ReadFull(r, c)
		total += int64(n)
		if n > 0 {
			b.chunks = append(b.chunks, c[:n])
		}
		switch err {
		case nil:
		case io.EOF, io.ErrUnexpectedEOF:
			return total, nil
		default:
			return total, err
		}
	}
}

// Bytes joins the chunks (outside any timing).
func (b *chunkedBody) Bytes() []byte { return bytes.Join(b.chunks, nil) }

func (b *chunkedBody) String() string { return string(b.Bytes()) }

// wide runs every wide shape against one side, each on a fresh server.
func (r *runner) wide(ctx context.Context, sd side) {
	for _, i := range r.o.WideShapes {
		r.wideShape(ctx, sd, WideShapes[i-1])
	}
}

func (r *runner) wideShape(ctx context.Context, sd side, w WideShape) {
	prefix := w.Name()
	srv, err := r.acquire(ctx, sd)
	if err != nil {
		r.fail(sd, "starting the server", err)
		return
	}
	c := NewClient(srv.URL, r.o.Token, r.o.Workers)
	r.logf("%s: loading %s", sd.label, prefix)
	d, names, err := loadWide(ctx, c, w, r.o.Workers)
	defer r.release(ctx, sd, srv, c, d, nil)
	if err != nil {
		r.fail(sd, prefix+" loading", err)
		return
	}
	sum, body, err := adaptiveLatency(ctx, c, d.Query, r.o.Warmups, r.o.WideRequests)
	if err != nil {
		r.fail(sd, prefix, err)
		return
	}
	count, digest, err := candidateDigest(body, names)
	body = nil
	if err != nil {
		r.fail(sd, prefix+" reading the answer", err)
		return
	}
	r.res.Set(prefix+": candidates returned", "", Neither, sd.ref, float64(count))
	r.res.Set(prefix+": latency median", "ms", Lower, sd.ref, ms(sum.Median))
	r.logf("%s: %d candidates (set %s), median %.1f ms over %d requests", sd.label, count, digest, ms(sum.Median), sum.N)
	r.compareSets(sd, prefix, digest)

	sum, _, err = adaptiveLatency(ctx, c, d.LimitQuery, r.o.Warmups, r.o.WideRequests)
	if err != nil {
		r.fail(sd, prefix+" limit=5", err)
		return
	}
	r.res.Set(prefix+": limit=5 latency median", "ms", Lower, sd.ref, ms(sum.Median))
	if kib, ok := srv.PeakRSS(); ok {
		r.res.Set(prefix+": server peak RSS", "MiB", Lower, sd.ref, float64(kib)/1024)
	}
}

// compareSets records a candidate set digest and, once both sides have
// one, whether they are equal; different sets are a failure.
func (r *runner) compareSets(sd side, prefix, digest string) {
	if r.digests == nil {
		r.digests = map[string][2]string{}
	}
	pair := r.digests[prefix]
	i := 0
	if sd.ref {
		i = 1
	}
	pair[i] = digest
	r.digests[prefix] = pair
	if pair[0] == "" || pair[1] == "" {
		return
	}
	same := 0.0
	if pair[0] == pair[1] {
		same = 1
	} else {
		r.fail(sd, prefix, fmt.Errorf("candidate sets differ (ours %s, reference %s)", pair[0], pair[1]))
	}
	r.res.Set(prefix+": same candidate set as the reference", "1 = yes", Neither, false, same)
}
