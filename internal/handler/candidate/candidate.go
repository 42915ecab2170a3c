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
	// snapshot is confirmed. (A panic there is dropped: generating again
	// below on this goroutine repeats it where the recoverer middleware
	// turns it into a 500.)
	var (
		guess     = h.Store.CachedSnapshot()
		guessOK   bool
		guessRes  *engine.Result
		guessErr  error
		guessBody *bytes.Buffer
		wg        sync.WaitGroup
	)
	if guess != nil {
		wg.Go(func() {
			defer func() {
				if recover() != nil {
					guessOK, guessRes, guessBody = false, nil, nil
				}
			}()
			guessRes, guessErr = engine.Generate(ctx, guess, req, opts)
			guessOK = true
			if guessErr == nil && len(guessRes.Requests) <= maxBufferedCandidates {
				guessBody = bodies.Get().(*bytes.Buffer)
				_ = Encode(guessBody, guess, req, guessRes, v) // a bytes.Buffer does not fail
			}
		})
	}
	snap, names, err := h.Store.CandidateSnapshot(ctx, req)
	wg.Wait()
	if guessBody != nil {
		defer putBody(guessBody)
	}
	if err != nil {
		return h.bounded(ctx, err)
	}
	if err := checkNames(req, names); err != nil {
		return err
	}
	var res *engine.Result
	if snap == guess && guessOK {
		if guessErr != nil {
			return h.bounded(ctx, guessErr)
		}
		res = guessRes
	} else {
		// Let a stale guess go before generating again, so that one
		// request never holds two results.
		guessRes = nil
		if res, err = engine.Generate(ctx, snap, req, opts); err != nil {
			return h.bounded(ctx, err)
		}
	}
	web.CacheHeaders(w, r, time.Time{})
	w.Header().Set("Content-Type", "application/json")
	if snap == guess && guessBody != nil {
		w.Header().Set("Content-Length", strconv.Itoa(guessBody.Len()))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(guessBody.Bytes())
		return nil
	}
	w.WriteHeader(http.StatusOK)
	// Once the status is sent a write error can only be a gone client.
	// Encode streams: the body is never held whole, so it adds a fixed
	// buffer, not a second copy of the result.
	_ = Encode(w, snap, req, res, v)
	return nil
}

// msgClientGone is what the access log records (as a 503) for a client
// that closed its connection before the answer was ready; nobody reads it.
const msgClientGone = "The client closed the connection before the allocation candidates were ready."

// bounded turns the end of ctx into the client's error: past the handler's
// own timeout a 503 with CodeCandidatesTimeout; for a client that went
// away a 503 that is not logged as an unexpected error.
func (h Handler) bounded(ctx context.Context, err error) error {
	switch cause := ctx.Err(); {
	case h.Timeout > 0 && (errors.Is(err, context.DeadlineExceeded) || errors.Is(cause, context.DeadlineExceeded)):
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

// Encode streams the response body for microversion v (spec 07 §4) to w.
// It writes JSON by hand through a buffer: a large cloud yields tens of
// thousands of candidates (tens of megabytes), and reflection-based
// encoding of nested maps would dominate the request.
func Encode(w io.Writer, snap *engine.Snapshot, req *engine.Request, res *engine.Result, v microversion.Version) error {
	b := writers.Get().(*bufio.Writer)
	b.Reset(w)
	defer func() {
		b.Reset(nil) // drop w
		writers.Put(b)
	}()
	b.WriteString(`{"allocation_requests": [`)
	for i, ar := range res.Requests {
		if i > 0 {
			b.WriteString(", ")
		}
		switch {
		case v.AtLeast(1, 34):
			writeRequestDict(b, snap, ar, true)
		case v.AtLeast(1, 12):
			writeRequestDict(b, snap, ar, false)
		default:
			writeRequestList(b, snap, ar)
		}
	}
	b.WriteString(`], "provider_summaries": {`)
	writeSummaries(b, snap, req, res, v)
	b.WriteString("}}")
	return b.Flush()
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
func writeSummaries(b *bufio.Writer, snap *engine.Snapshot, req *engine.Request, res *engine.Result, v microversion.Version) {
	requested := req.Classes()
	for i, idx := range res.Summaries {
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
		writeInt(b, inv.SummaryCapacity())
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
