// Package candidate serves GET /allocation_candidates (microversion 1.10+):
// parse the query (internal/candidate), load the relevant provider trees
// (store), generate, and serialise the result for the request's
// microversion.
package candidate

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/openstack-placement-go/placement/internal/candidate"
	"github.com/openstack-placement-go/placement/internal/microversion"
	"github.com/openstack-placement-go/placement/internal/store"
	"github.com/openstack-placement-go/placement/internal/web"
)

// Handler serves the allocation candidates endpoint. Randomize and
// MaxCandidates are [placement] randomize_allocation_candidates and
// max_allocation_candidates (zero or negative: unlimited).
type Handler struct {
	Store         *store.Store
	Randomize     bool
	MaxCandidates int
}

// List answers GET /allocation_candidates: 200 with allocation_requests
// and provider_summaries, possibly empty; 400 for a bad query or an
// unknown class or trait.
func (h Handler) List(w http.ResponseWriter, r *http.Request) error {
	v := web.Version(r)
	req, err := candidate.Parse(r.URL.RawQuery, v)
	if err != nil {
		return err
	}
	snap, err := h.Store.CandidateSnapshot(r.Context(), req)
	if err != nil {
		return err
	}
	res := candidate.Generate(snap, req, candidate.Options{Randomize: h.Randomize, MaxCandidates: h.MaxCandidates})
	web.CacheHeaders(w, r, time.Time{})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	// Once the status is sent a write error can only be a gone client.
	_ = Encode(w, snap, req, res, v)
	return nil
}

// Encode streams the response body for microversion v (spec 07 §4) to w.
// It writes JSON by hand through a buffer: a large cloud yields tens of
// thousands of candidates (tens of megabytes), and reflection-based
// encoding of nested maps would dominate the request.
func Encode(w io.Writer, snap *candidate.Snapshot, req *candidate.Request, res *candidate.Result, v microversion.Version) error {
	b := bufio.NewWriterSize(w, 64<<10)
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

// byProvider groups the (provider-sorted) allocations of ar.
func byProvider(ar candidate.AllocationRequest, each func(p int32, allocs []candidate.Allocation)) {
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

func writeResources(b *bufio.Writer, allocs []candidate.Allocation) {
	b.WriteByte('{')
	for i, a := range allocs {
		if i > 0 {
			b.WriteString(", ")
		}
		writeString(b, a.Class)
		b.WriteString(": ")
		b.WriteString(strconv.FormatInt(a.Amount, 10))
	}
	b.WriteByte('}')
}

// writeRequestList is the 1.10–1.11 shape: the pre-1.12 PUT list form.
func writeRequestList(b *bufio.Writer, snap *candidate.Snapshot, ar candidate.AllocationRequest) {
	b.WriteString(`{"allocations": [`)
	first := true
	byProvider(ar, func(p int32, allocs []candidate.Allocation) {
		if !first {
			b.WriteString(", ")
		}
		first = false
		b.WriteString(`{"resource_provider": {"uuid": `)
		writeString(b, snap.Providers[p].UUID)
		b.WriteString(`}, "resources": `)
		writeResources(b, allocs)
		b.WriteByte('}')
	})
	b.WriteString("]}")
}

// writeRequestDict is the 1.12+ shape, with mappings from 1.34.
func writeRequestDict(b *bufio.Writer, snap *candidate.Snapshot, ar candidate.AllocationRequest, mappings bool) {
	b.WriteString(`{"allocations": {`)
	first := true
	byProvider(ar, func(p int32, allocs []candidate.Allocation) {
		if !first {
			b.WriteString(", ")
		}
		first = false
		writeString(b, snap.Providers[p].UUID)
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
			uuids := make([]string, len(m.Providers))
			for k, p := range m.Providers {
				uuids[k] = snap.Providers[p].UUID
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
func writeSummaries(b *bufio.Writer, snap *candidate.Snapshot, req *candidate.Request, res *candidate.Result, v microversion.Version) {
	allResources := v.AtLeast(1, 27)
	requested := req.Classes()
	for i, idx := range res.Summaries {
		p := &snap.Providers[idx]
		if i > 0 {
			b.WriteString(", ")
		}
		writeString(b, p.UUID)
		b.WriteString(`: {"resources": {`)
		first := true
		for _, inv := range p.Inventories {
			if !allResources && !slices.Contains(requested, inv.Class) {
				continue
			}
			if !first {
				b.WriteString(", ")
			}
			first = false
			writeString(b, inv.Class)
			b.WriteString(`: {"capacity": `)
			b.WriteString(strconv.FormatInt(inv.SummaryCapacity(), 10))
			b.WriteString(`, "used": `)
			b.WriteString(strconv.FormatInt(inv.Used, 10))
			b.WriteByte('}')
		}
		b.WriteByte('}')
		if v.AtLeast(1, 17) {
			b.WriteString(`, "traits": `)
			writeStrings(b, p.Traits)
		}
		if v.AtLeast(1, 29) {
			b.WriteString(`, "parent_provider_uuid": `)
			if p.Parent >= 0 {
				writeString(b, snap.Providers[p.Parent].UUID)
			} else {
				b.WriteString("null")
			}
			b.WriteString(`, "root_provider_uuid": `)
			writeString(b, snap.Providers[p.Root].UUID)
		}
		b.WriteByte('}')
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
