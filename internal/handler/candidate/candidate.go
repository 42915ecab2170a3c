// Package candidate serves GET /allocation_candidates (microversion 1.10+):
// parse the query (query.go), load the relevant provider trees (store),
// check the names it uses, generate (internal/engine), and serialise the result for the request's
// microversion.
package candidate

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/openstack-placement-go/placement/internal/engine"
	"github.com/openstack-placement-go/placement/internal/microversion"
	"github.com/openstack-placement-go/placement/internal/placement"
	"github.com/openstack-placement-go/placement/internal/pycompat"
	"github.com/openstack-placement-go/placement/internal/store"
	"github.com/openstack-placement-go/placement/internal/web"
)

// Handler serves the allocation candidates endpoint. Randomize,
// MaxCandidates and Strategy are [placement]
// randomize_allocation_candidates, max_allocation_candidates (as
// engine.MaxCandidatesFromConfig maps it: zero or negative here means
// unlimited) and allocation_candidates_generation_strategy; MemoryLimit
// and Timeout are [placement] allocation_candidates_memory_limit_mb (in
// bytes here) and allocation_candidates_timeout (zero or negative: none).
type Handler struct {
	Store         *store.Store
	Randomize     bool
	MaxCandidates int
	Strategy      engine.Strategy
	MemoryLimit   int64
	Timeout       time.Duration
}

// msgTimeout is the message of the 503 for a request that outlived
// [placement] allocation_candidates_timeout.
const msgTimeout = "The allocation candidates for this request took longer than the %g seconds " +
	"one request may take ([placement] allocation_candidates_timeout). Narrow the request or pass a limit."

// List answers GET /allocation_candidates: 200 with allocation_requests
// and provider_summaries, possibly empty; 400 for a bad query, an unknown
// class or trait, or an answer over the memory budget
// (CodeCandidatesMemoryLimit); 503 past the timeout
// (CodeCandidatesTimeout). Generation stops as soon as the client goes
// away.
//
// Unless randomize_allocation_candidates needs the whole set, the
// candidates are encoded as they are generated (engine.Stream) and never
// held. The status goes out with the first 64 KiB of the body; a
// generation that fails after that (past the timeout, say) can no longer
// change it, and the connection is closed instead, so that the client sees
// a truncated body rather than a complete answer.
func (h Handler) List(w http.ResponseWriter, r *http.Request) error {
	v := web.Version(r)
	req, err := ParseQuery(r.URL.RawQuery, v)
	if err != nil {
		return err
	}
	ctx, cancel := h.deadline(r)
	defer cancel()
	opts := h.options()
	// While the store asks the database whether its cached snapshot is
	// still current, generate from that snapshot and, for answers of
	// moderate size, encode the body too; both are used only if the
	// snapshot is confirmed.
	var (
		guess = h.Store.CachedSnapshot()
		ahead ahead
		wg    sync.WaitGroup
	)
	if guess != nil {
		wg.Go(func() { ahead = encodeAhead(ctx, guess, req, opts, v) })
	}
	snap, names, err := h.Store.CandidateSnapshot(ctx, req)
	wg.Wait()
	if ahead.body != nil {
		defer putBody(ahead.body)
	}
	if err != nil {
		return h.bounded(ctx, err)
	}
	if k, trait, err := checkNames(req, names); err != nil {
		empty, err2 := shortCircuited(ctx, h.Store, req, k, trait, opts)
		if err2 != nil {
			return h.bounded(ctx, err2)
		}
		if !empty {
			return err
		}
		return Encode(&committer{w: w, r: r}, snap, req, &engine.Result{}, v)
	}
	if snap == guess && ahead.ok {
		switch {
		case ahead.err != nil:
			return h.bounded(ctx, ahead.err)
		case ahead.body != nil:
			web.CacheHeaders(w, r, time.Time{})
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", strconv.Itoa(ahead.body.Len()))
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(ahead.body.Bytes())
			return nil
		case ahead.res != nil:
			// A large randomised answer: generated already, and
			// streamed now. Once the status is sent a write error can
			// only be a gone client.
			out := &committer{w: w, r: r}
			_ = Encode(out, snap, req, ahead.res, v)
			return nil
		}
		// A streamed answer too large to encode ahead.
	}
	// Let a stale guess go before generating again, so that one request
	// never holds two results.
	ahead.res = nil
	return h.stream(ctx, w, r, snap, req, opts, v)
}

// ahead is what encodeAhead did with the cached snapshot: ok once it ran
// to the end, then the error, or the encoded body of an answer of at most
// maxBufferedCandidates, or (randomised answers only) the larger result.
// A streamed answer that is larger has neither.
type ahead struct {
	ok   bool
	err  error
	body *bytes.Buffer
	res  *engine.Result
}

// errTooMany stops encodeAhead's generation past maxBufferedCandidates.
var errTooMany = errors.New("too many candidates to encode ahead")

// encodeAhead generates the answer from snap and encodes it if it is of
// moderate size. A panic is dropped (ok stays false): generating again
// on the request's goroutine repeats it where the recoverer middleware
// turns it into a 500.
func encodeAhead(ctx context.Context, snap *engine.Snapshot, req *engine.Request, opts engine.Options, v microversion.Version) (a ahead) {
	defer func() {
		if recover() != nil {
			a = ahead{}
		}
	}()
	if !engine.Streams(opts) {
		res, err := engine.Generate(ctx, snap, req, opts)
		a.ok, a.err = true, err
		if err != nil {
			return a
		}
		if len(res.Requests) > maxBufferedCandidates {
			a.res = res
			return a
		}
		a.body = bodies.Get().(*bytes.Buffer)
		_ = Encode(a.body, snap, req, res, v) // a bytes.Buffer does not fail
		return a
	}
	body := bodies.Get().(*bytes.Buffer)
	e := newEncoder(body, snap, req, v)
	sums, err := engine.Stream(ctx, snap, req, opts, func(ar engine.AllocationRequest) error {
		if e.n == maxBufferedCandidates {
			return errTooMany
		}
		return e.request(ar)
	})
	a.ok = true
	if err != nil {
		e.discard()
		putBody(body)
		if err != errTooMany {
			a.err = err
		}
		return a
	}
	_ = e.finish(sums)
	a.body = body
	return a
}

// stream generates the answer from snap and encodes each candidate as it
// comes (engine.Stream). An error before the first bytes leave is the
// request's error; after that the connection is aborted.
func (h Handler) stream(ctx context.Context, w http.ResponseWriter, r *http.Request, snap *engine.Snapshot, req *engine.Request, opts engine.Options, v microversion.Version) error {
	out := &committer{w: w, r: r}
	if err := Stream(ctx, out, snap, req, opts, v); err != nil {
		if !out.sent {
			return h.bounded(ctx, err)
		}
		// The status is sent (and an error now is likely a gone
		// client): all the client can still be told is that the body is
		// incomplete.
		panic(http.ErrAbortHandler)
	}
	return nil
}

// Stream generates the answer to req from snap with opts (engine.Stream)
// and writes its body for microversion v to w as it goes, through a
// buffer: byte for byte what Encode writes for engine.Generate's result.
// On an error from generation or from w, what is still buffered is
// dropped.
func Stream(ctx context.Context, w io.Writer, snap *engine.Snapshot, req *engine.Request, opts engine.Options, v microversion.Version) error {
	e := newEncoder(w, snap, req, v)
	sums, err := engine.Stream(ctx, snap, req, opts, e.request)
	if err != nil {
		e.discard()
		return err
	}
	return e.finish(sums)
}

// committer sends the status and headers of a 200 with the first bytes of
// the body.
type committer struct {
	w    http.ResponseWriter
	r    *http.Request
	sent bool
}

func (c *committer) Write(p []byte) (int, error) {
	if !c.sent {
		c.sent = true
		web.CacheHeaders(c.w, c.r, time.Time{})
		c.w.Header().Set("Content-Type", "application/json")
		c.w.WriteHeader(http.StatusOK)
	}
	return c.w.Write(p)
}

// msgClientGone is what the access log records (as a 503) for a client
// that closed its connection before the answer was ready; nobody reads it.
const msgClientGone = "The client closed the connection before the allocation candidates were ready."

// bounded turns the end of ctx into the client's error: past the handler's
// own timeout a 503 with CodeCandidatesTimeout; for a client that went
// away a 503 that is not logged as an unexpected error. Other errors stay
// as they are, among them the store's 503 for a database connection that
// did not become ready within pool_timeout (a deadline of its own).
func (h Handler) bounded(ctx context.Context, err error) error {
	switch cause := ctx.Err(); {
	case h.Timeout > 0 && errors.Is(cause, context.DeadlineExceeded):
		return &placement.Error{Kind: placement.Unavailable, Code: placement.CodeCandidatesTimeout,
			Message: fmt.Sprintf(msgTimeout, h.Timeout.Seconds()), Err: err}
	case errors.Is(cause, context.Canceled):
		return &placement.Error{Kind: placement.Unavailable, Message: msgClientGone, Err: err}
	}
	return err
}

// maxBufferedCandidates bounds the answers encoded ahead into memory
// (about 500 bytes each); larger ones are streamed.
const maxBufferedCandidates = 4096

// bodies recycles the buffers of answers encoded ahead.
var bodies = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func putBody(b *bytes.Buffer) {
	if b.Cap() > 4<<20 {
		return // an unusually large answer: let it go
	}
	b.Reset()
	bodies.Put(b)
}

// Encode writes the response body for microversion v (spec 07 §4) of res
// to w, through a buffer: the body is never held whole.
func Encode(w io.Writer, snap *engine.Snapshot, req *engine.Request, res *engine.Result, v microversion.Version) error {
	e := newEncoder(w, snap, req, v)
	for _, ar := range res.Requests {
		_ = e.request(ar) // a write error sticks and finish reports it
	}
	return e.finish(res.Summaries)
}

// encoder writes a response body (spec 07 §4) one candidate at a time, so
// that Encode and engine.Stream share every byte of it. It writes JSON by
// hand through a pooled buffer: a large cloud yields tens of thousands of
// candidates (tens of megabytes), and reflection-based encoding of nested
// maps would dominate the request.
type encoder struct {
	b    *bufio.Writer
	snap *engine.Snapshot
	req  *engine.Request
	v    microversion.Version
	n    int // candidates written
}

// newEncoder writes the start of the body. The encoder must end with
// finish or discard, which return its buffer.
func newEncoder(w io.Writer, snap *engine.Snapshot, req *engine.Request, v microversion.Version) *encoder {
	b := writers.Get().(*bufio.Writer)
	b.Reset(w)
	b.WriteString(`{"allocation_requests": [`)
	return &encoder{b: b, snap: snap, req: req, v: v}
}

// request writes one candidate and returns the first write error so far.
func (e *encoder) request(ar engine.AllocationRequest) error {
	b := e.b
	if e.n > 0 {
		b.WriteString(", ")
	}
	e.n++
	switch {
	case e.v.AtLeast(1, 34):
		writeRequestDict(b, e.snap, ar, true)
	case e.v.AtLeast(1, 12):
		writeRequestDict(b, e.snap, ar, false)
	default:
		writeRequestList(b, e.snap, ar)
	}
	_, err := b.Write(nil) // the buffer's sticky error
	return err
}

// finish writes the provider summaries of the providers summaries (as
// engine.Result.Summaries) and the end of the body, and flushes.
func (e *encoder) finish(summaries []int32) error {
	b := e.b
	b.WriteString(`], "provider_summaries": {`)
	writeSummaries(b, e.snap, e.req, summaries, e.v)
	b.WriteString("}}")
	err := b.Flush()
	e.discard()
	return err
}

// discard gives the buffer back, dropping what it has not written yet.
func (e *encoder) discard() {
	if e.b == nil {
		return
	}
	e.b.Reset(nil) // drop w
	writers.Put(e.b)
	e.b = nil
}

// writers recycles the encoder's 64 KiB buffers.
var writers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 64<<10) }}

// writeInt writes n in decimal without allocating.
func writeInt(b *bufio.Writer, n int64) {
	if b.Available() < 20 {
		b.Flush() // a write error sticks to b and is reported by the last Flush
	}
	b.Write(strconv.AppendInt(b.AvailableBuffer(), n, 10))
}

// byProvider groups the (provider-sorted) allocations of ar.
func byProvider(ar engine.AllocationRequest, each func(p int32, allocs []engine.Allocation)) {
	allocs := ar.Allocations
	for len(allocs) > 0 {
		n := 1
		for n < len(allocs) && allocs[n].Provider == allocs[0].Provider {
			n++
		}
		each(allocs[0].Provider, allocs[:n])
		allocs = allocs[n:]
	}
}

func writeResources(b *bufio.Writer, allocs []engine.Allocation) {
	b.WriteByte('{')
	for i, a := range allocs {
		if i > 0 {
			b.WriteString(", ")
		}
		writeString(b, a.Class)
		b.WriteString(": ")
		writeInt(b, a.Amount)
	}
	b.WriteByte('}')
}

// writeRequestList is the 1.10–1.11 shape: the pre-1.12 PUT list form.
func writeRequestList(b *bufio.Writer, snap *engine.Snapshot, ar engine.AllocationRequest) {
	b.WriteString(`{"allocations": [`)
	first := true
	byProvider(ar, func(p int32, allocs []engine.Allocation) {
		if !first {
			b.WriteString(", ")
		}
		first = false
		b.WriteString(`{"resource_provider": {"uuid": `)
		writeString(b, snap.Provider(p).UUID)
		b.WriteString(`}, "resources": `)
		writeResources(b, allocs)
		b.WriteByte('}')
	})
	b.WriteString("]}")
}

// writeRequestDict is the 1.12+ shape, with mappings from 1.34.
func writeRequestDict(b *bufio.Writer, snap *engine.Snapshot, ar engine.AllocationRequest, mappings bool) {
	b.WriteString(`{"allocations": {`)
	first := true
	byProvider(ar, func(p int32, allocs []engine.Allocation) {
		if !first {
			b.WriteString(", ")
		}
		first = false
		b.Write(encoded(snap, p).uuid)
		b.WriteString(`: {"resources": `)
		writeResources(b, allocs)
		b.WriteByte('}')
	})
	b.WriteByte('}')
	if mappings {
		b.WriteString(`, "mappings": {`)
		for i, m := range ar.Mappings {
			if i > 0 {
				b.WriteString(", ")
			}
			writeString(b, m.Suffix)
			b.WriteString(": ")
			if len(m.Providers) == 1 {
				// A suffixed group: one provider, its uuid encoded once
				// per snapshot.
				b.WriteByte('[')
				b.Write(encoded(snap, m.Providers[0]).uuid)
				b.WriteByte(']')
				continue
			}
			var buf [4]string
			uuids := buf[:0]
			for _, p := range m.Providers {
				uuids = append(uuids, snap.Provider(p).UUID)
			}
			slices.Sort(uuids)
			writeStrings(b, uuids)
		}
		b.WriteByte('}')
	}
	b.WriteByte('}')
}

// writeSummaries: resources of requested classes only below 1.27, every
// inventory from 1.27; traits from 1.17; parent and root from 1.29.
func writeSummaries(b *bufio.Writer, snap *engine.Snapshot, req *engine.Request, summaries []int32, v microversion.Version) {
	requested := req.Classes()
	for i, idx := range summaries {
		if i > 0 {
			b.WriteString(", ")
		}
		if !v.AtLeast(1, 27) {
			p := snap.Provider(idx)
			writeString(b, p.UUID)
			b.WriteString(": ")
			writeSummary(b, p, requested, false, v.AtLeast(1, 17))
			b.WriteByte('}')
			continue
		}
		// From 1.27 the summary does not depend on the request: it is
		// encoded once per snapshot.
		e := encoded(snap, idx)
		b.Write(e.uuid)
		b.WriteString(": ")
		b.Write(e.summary)
		if v.AtLeast(1, 29) {
			p := snap.Provider(idx)
			b.WriteString(`, "parent_provider_uuid": `)
			if p.Parent >= 0 {
				b.Write(encoded(snap, p.Parent).uuid)
			} else {
				b.WriteString("null")
			}
			b.WriteString(`, "root_provider_uuid": `)
			b.Write(encoded(snap, p.Root).uuid)
		}
		b.WriteByte('}')
	}
}

// encodedProvider is the JSON of a provider that the responses of one
// snapshot repeat: its quoted uuid, and its 1.27+ summary up to the
// traits, without the closing brace.
type encodedProvider struct {
	uuid, summary []byte
}

func encoded(snap *engine.Snapshot, i int32) *encodedProvider {
	return snap.Memo(i, func(p *engine.Provider) any {
		var buf bytes.Buffer
		b := bufio.NewWriterSize(&buf, 512)
		writeString(b, p.UUID)
		b.Flush()
		n := buf.Len()
		writeSummary(b, p, nil, true, true)
		b.Flush()
		out := buf.Bytes()
		return &encodedProvider{uuid: out[:n:n], summary: out[n:]}
	}).(*encodedProvider)
}

// writeSummary writes p's summary up to the traits, without the closing
// brace: resources of every class (all) or of those in requested, traits
// if asked for.
func writeSummary(b *bufio.Writer, p *engine.Provider, requested []string, all, traits bool) {
	b.WriteString(`{"resources": {`)
	first := true
	for _, inv := range p.Inventories {
		if !all && !slices.Contains(requested, inv.Class) {
			continue
		}
		if !first {
			b.WriteString(", ")
		}
		first = false
		writeString(b, inv.Class)
		b.WriteString(`: {"capacity": `)
		if b.Available() < 64 {
			b.Flush()
		}
		b.Write(pycompat.AppendTrunc(b.AvailableBuffer(), inv.SummaryCapacity()))
		b.WriteString(`, "used": `)
		writeInt(b, inv.Used)
		b.WriteByte('}')
	}
	b.WriteByte('}')
	if traits {
		b.WriteString(`, "traits": `)
		writeStrings(b, p.Traits)
	}
}

func writeStrings(b *bufio.Writer, ss []string) {
	b.WriteByte('[')
	for i, s := range ss {
		if i > 0 {
			b.WriteString(", ")
		}
		writeString(b, s)
	}
	b.WriteByte(']')
}

// writeString writes s as a JSON string; names and uuids are plain ASCII
// in practice, anything else goes through encoding/json.
func writeString(b *bufio.Writer, s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			enc, _ := json.Marshal(s)
			b.Write(enc)
			return
		}
	}
	b.WriteByte('"')
	b.WriteString(s)
	b.WriteByte('"')
}
