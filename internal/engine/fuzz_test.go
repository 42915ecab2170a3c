package engine_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	. "github.com/openstack-placement-go/placement/internal/engine"
	"github.com/openstack-placement-go/placement/internal/gabbi"
	"github.com/openstack-placement-go/placement/internal/handler/candidate"
	"github.com/openstack-placement-go/placement/internal/placement"
)

// fuzzWorld has a bit of everything the generator handles: a nested tree
// with traits, a flat host, and a sharing provider in an aggregate with
// both.
func fuzzWorld(t testing.TB) *world {
	return newWorld(t,
		tp{name: "CN1", inv: []Inventory{iv("VCPU", 8), iv("MEMORY_MB", 4096)}, traits: []string{"HW_CPU_X86_AVX2"}, aggs: []string{"AGG"}},
		tp{name: "NUMA0", parent: "CN1", inv: []Inventory{iv("VCPU", 4), iv("CUSTOM_GPU", 2)}, traits: []string{"HW_NUMA_ROOT"}},
		tp{name: "NUMA1", parent: "CN1", inv: []Inventory{iv("VCPU", 4), iv("SRIOV_NET_VF", 4)}, traits: []string{"HW_NUMA_ROOT", "CUSTOM_PHYSNET"}},
		tp{name: "PF", parent: "NUMA1", inv: []Inventory{iv("SRIOV_NET_VF", 8)}},
		tp{name: "CN2", inv: []Inventory{iv("VCPU", 16), iv("MEMORY_MB", 8192), iv("DISK_GB", 100)}, aggs: []string{"AGG", "OTHER"}},
		tp{name: "NFS", inv: []Inventory{iv("DISK_GB", 1000)}, traits: []string{"MISC_SHARES_VIA_AGGREGATE"}, aggs: []string{"AGG"}},
	)
}

// boundedOK fails t where call, bounded by a deadline and a memory budget,
// gave neither a result (none) nor an error, or failed otherwise than by
// those bounds with an internal error; it reports whether there is a result
// to check.
func boundedOK(t *testing.T, call, raw string, none bool, err error) bool {
	t.Helper()
	switch {
	case err == nil && none:
		t.Fatalf("%s(%q): no result and no error", call, raw)
	case err != nil && !errors.Is(err, context.DeadlineExceeded) && placement.KindOf(err) == placement.Internal:
		t.Fatalf("%s(%q): %v", call, raw, err)
	}
	return err == nil
}

// FuzzParseAndGenerate: no query string may make the parser or the
// generator panic; the parser refuses with a client error (400) only, and
// the generator, bounded by a deadline and a memory budget, fails only by
// those bounds. Where it succeeds, the streamed body is the encoded one.
func FuzzParseAndGenerate(f *testing.F) {
	for _, s := range gabbi.MustSeeds(f, "../../gabbits") {
		if s.Path == "/allocation_candidates" {
			for _, minor := range []int{10, 17, 21, 25, 29, 31, 33, 35, 36, 39} {
				f.Add(s.RawQuery, minor)
			}
		}
	}
	f.Add("resources=VCPU:1&resources1=CUSTOM_GPU:1&resources2=SRIOV_NET_VF:1&group_policy=isolate&same_subtree=1,2", 39)
	f.Add("resources=VCPU:1&required=in:HW_CPU_X86_AVX2,CUSTOM_PHYSNET&member_of=!in:"+aggUUID("OTHER")+"&root_required=!HW_NUMA_ROOT", 39)
	w := fuzzWorld(f)
	f.Fuzz(func(t *testing.T, raw string, minor int) {
		v := ver(((minor % 40) + 40) % 40)
		req, err := candidate.ParseQuery(w.subst(raw), v)
		if err != nil {
			if placement.KindOf(err) != placement.Invalid {
				t.Fatalf("ParseQuery(%q) at %s: %v (kind %v), want a 400", raw, v, err, placement.KindOf(err))
			}
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		res, err := Generate(ctx, w.snap, req, Options{MemoryLimit: 8 << 20})
		if !boundedOK(t, "Generate", raw, res == nil, err) {
			return
		}
		// The streamed body is the encoded one, and holding less it
		// cannot fail where Generate did not (but for the deadline).
		var want, got bytes.Buffer
		if err := candidate.Encode(&want, w.snap, req, res, v); err != nil {
			t.Fatal(err)
		}
		if err := candidate.Stream(ctx, &got, w.snap, req, Options{MemoryLimit: 8 << 20}, v); err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				return
			}
			t.Fatalf("Stream(%q): %v", raw, err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("Stream(%q) at %s:\n%s\nEncode:\n%s", raw, v, got.Bytes(), want.Bytes())
		}
	})
}
