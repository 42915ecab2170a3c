package engine_test

import (
	"context"
	"fmt"
	"hash/crc32"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	. "github.com/openstack-placement-go/placement/internal/engine"
	"github.com/openstack-placement-go/placement/internal/handler/candidate"
	"github.com/openstack-placement-go/placement/internal/microversion"
	"github.com/openstack-placement-go/placement/internal/placement"
)

// tp describes a test provider by name; parents come before children.
type tp struct {
	name, parent string
	inv          []Inventory
	traits, aggs []string
}

// iv is an inventory with every default: min 1, max total, step 1, ratio 1.
func iv(class string, total int) Inventory {
	return Inventory{Class: class, Inventory: placement.Inventory{Total: total, MinUnit: 1, MaxUnit: total, StepSize: 1, AllocationRatio: 1}}
}

func aggUUID(name string) string {
	return fmt.Sprintf("a%07x-0000-4000-8000-000000000000", crc32.ChecksumIEEE([]byte(name))&0xfffffff)
}

func provUUID(id int) string { return fmt.Sprintf("%08d-0000-4000-8000-000000000000", id) }

// world is a snapshot plus the names of its providers.
type world struct {
	snap  *Snapshot
	data  []ProviderData
	names map[string]string // uuid -> name
	uuids map[string]string // name -> uuid
	// suffixes of the request's groups, for the brute-force renderer
	suffixes []string
}

func newWorld(t testing.TB, provs ...tp) *world {
	t.Helper()
	w := &world{names: map[string]string{}, uuids: map[string]string{}}
	ids := map[string]int64{}
	roots := map[string]int64{}
	nested := false
	for i, p := range provs {
		id := int64(i + 1)
		ids[p.name] = id
		u := provUUID(i + 1)
		w.names[u], w.uuids[p.name] = p.name, u
		d := ProviderData{ID: id, UUID: u, RootID: id, Traits: p.traits, Inventories: p.inv}
		if p.parent != "" {
			pid, ok := ids[p.parent]
			if !ok {
				t.Fatalf("parent %s of %s not defined yet", p.parent, p.name)
			}
			d.ParentID, d.RootID = pid, roots[p.parent]
			nested = true
		}
		roots[p.name] = d.RootID
		for _, a := range p.aggs {
			d.Aggregates = append(d.Aggregates, aggUUID(a))
		}
		w.data = append(w.data, d)
	}
	numberClasses(w.data)
	s, err := NewSnapshot(w.data, nested)
	if err != nil {
		t.Fatal(err)
	}
	w.snap = s
	return w
}

// numberClasses gives the inventories the ids the database would: a
// standard class its own, custom classes 10000 on in order of first use.
func numberClasses(ps []ProviderData) {
	custom := map[string]int64{}
	for i := range ps {
		invs := slices.Clone(ps[i].Inventories)
		for k := range invs {
			name := invs[k].Class
			if id := slices.Index(placement.StandardResourceClasses, name); id >= 0 {
				invs[k].ClassID = int64(id)
				continue
			}
			if _, ok := custom[name]; !ok {
				custom[name] = 10000 + int64(len(custom))
			}
			invs[k].ClassID = custom[name]
		}
		ps[i].Inventories = invs
	}
}

var dollar = regexp.MustCompile(`\$([A-Za-z0-9_]+)`)

// subst replaces $NAME by the provider's uuid, or else the aggregate's.
func (w *world) subst(q string) string {
	return dollar.ReplaceAllStringFunc(q, func(m string) string {
		if u, ok := w.uuids[m[1:]]; ok {
			return u
		}
		return aggUUID(m[1:])
	})
}

func ver(minor int) microversion.Version { return microversion.Version{Major: 1, Minor: minor} }

func (w *world) run(t testing.TB, minor int, query string, opt Options) *Result {
	t.Helper()
	req, err := candidate.ParseQuery(w.subst(query), ver(minor))
	if err != nil {
		t.Fatalf("ParseQuery(%q): %v", query, err)
	}
	return generate(t, w.snap, req, opt)
}

// generate is Generate without a deadline; any error fails the test.
func generate(tb testing.TB, s *Snapshot, req *Request, opt Options) *Result {
	tb.Helper()
	res, err := Generate(context.Background(), s, req, opt)
	if err != nil {
		tb.Fatalf("Generate: %v", err)
	}
	return res
}

// show renders a candidate as "A{RC:n,RC:n} B{RC:n}" (providers by name).
func (w *world) show(ar AllocationRequest, withMappings bool) string {
	per := map[string][]string{}
	for _, a := range ar.Allocations {
		n := w.names[w.snap.Provider(a.Provider).UUID]
		per[n] = append(per[n], fmt.Sprintf("%s:%d", a.Class, a.Amount))
	}
	var parts []string
	for n, rs := range per {
		sort.Strings(rs)
		parts = append(parts, n+"{"+strings.Join(rs, ",")+"}")
	}
	sort.Strings(parts)
	s := strings.Join(parts, " ")
	if withMappings {
		var ms []string
		for _, m := range ar.Mappings {
			var ns []string
			for _, p := range m.Providers {
				ns = append(ns, w.names[w.snap.Provider(p).UUID])
			}
			sort.Strings(ns)
			ms = append(ms, fmt.Sprintf("%s=%s", m.Suffix, strings.Join(ns, ",")))
		}
		sort.Strings(ms)
		s += " map " + strings.Join(ms, " ")
	}
	return s
}

func (w *world) shows(res *Result, withMappings bool) []string {
	out := []string{}
	for _, ar := range res.Requests {
		out = append(out, w.show(ar, withMappings))
	}
	sort.Strings(out)
	return out
}

func (w *world) summaryNames(res *Result) []string {
	out := []string{}
	for _, p := range res.Summaries {
		out = append(out, w.names[w.snap.Provider(p).UUID])
	}
	sort.Strings(out)
	return out
}

func sorted(in ...string) []string {
	out := slices.Clone(in)
	if out == nil {
		out = []string{}
	}
	sort.Strings(out)
	return out
}
