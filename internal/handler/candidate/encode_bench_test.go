package candidate

import (
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/openstack-placement-go/placement/internal/engine"
	"github.com/openstack-placement-go/placement/internal/microversion"
	"github.com/openstack-placement-go/placement/internal/placement"
)

// flatSnapshot is the placement-bench flat scenario: n compute nodes in one
// aggregate, every other one with HW_CPU_X86_AVX2.
func flatSnapshot(tb testing.TB, n int) *engine.Snapshot {
	inv := func(class string, total int) engine.Inventory {
		return engine.Inventory{Class: class, Inventory: placement.Inventory{Total: total, MaxUnit: total, MinUnit: 1, StepSize: 1, AllocationRatio: 1}}
	}
	var ps []engine.ProviderData
	for i := 1; i <= n; i++ {
		d := engine.ProviderData{ID: int64(i), UUID: fmt.Sprintf("%08x-0000-4000-8000-000000000000", i), RootID: int64(i),
			Aggregates:  []string{"aaaaaaaa-0000-4000-8000-000000000000"},
			Inventories: []engine.Inventory{inv("DISK_GB", 1000), inv("MEMORY_MB", 32768), inv("VCPU", 16)}}
		if i%2 == 0 {
			d.Traits = []string{"HW_CPU_X86_AVX2"}
		}
		ps = append(ps, d)
	}
	s, err := engine.NewSnapshot(ps, false)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// BenchmarkFlat measures generation plus encoding of the bench's flat query
// over 1000 providers (500 candidates), without the database and HTTP.
func BenchmarkFlat(b *testing.B) {
	snap := flatSnapshot(b, 1000)
	v := microversion.Version{Major: 1, Minor: 39}
	for name, q := range map[string]string{"all": "", "limit5": "&limit=5"} {
		b.Run(name, func(b *testing.B) {
			req, err := ParseQuery("resources=VCPU:1,DISK_GB:10,MEMORY_MB:256&member_of=aaaaaaaa-0000-4000-8000-000000000000&required=HW_CPU_X86_AVX2"+q, v)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				res, err := engine.Generate(context.Background(), snap, req, engine.Options{MemoryLimit: 256 << 20})
				if err != nil {
					b.Fatal(err)
				}
				if err := Encode(io.Discard, snap, req, res, v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// wideSnapshot is the placement-bench wide scenario: roots roots, each with
// children children holding total units of CUSTOM_GPU.
func wideSnapshot(tb testing.TB, roots, children, total int) *engine.Snapshot {
	var ps []engine.ProviderData
	id := int64(0)
	for range roots {
		id++
		root := id
		ps = append(ps, engine.ProviderData{ID: root, UUID: fmt.Sprintf("%08x-0000-4000-8000-000000000000", root), RootID: root})
		for range children {
			id++
			ps = append(ps, engine.ProviderData{ID: id, UUID: fmt.Sprintf("%08x-0000-4000-8000-000000000000", id),
				ParentID: root, RootID: root, Inventories: []engine.Inventory{{Class: "CUSTOM_GPU",
					Inventory: placement.Inventory{Total: total, MaxUnit: total, MinUnit: 1, StepSize: 1, AllocationRatio: 1}}}})
		}
	}
	s, err := engine.NewSnapshot(ps, true)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// widest is the largest wide shape (one root, 8 children with 6 units
// each) and its 6-group query at 1.39.
func widest(b *testing.B) (*engine.Snapshot, *engine.Request, microversion.Version) {
	v := microversion.Version{Major: 1, Minor: 39}
	req, err := ParseQuery("group_policy=none&resources1=CUSTOM_GPU:1&resources2=CUSTOM_GPU:1&resources3=CUSTOM_GPU:1"+
		"&resources4=CUSTOM_GPU:1&resources5=CUSTOM_GPU:1&resources6=CUSTOM_GPU:1", v)
	if err != nil {
		b.Fatal(err)
	}
	return wideSnapshot(b, 1, 8, 6), req, v
}

// BenchmarkWide measures generation plus encoding of the largest wide
// shape: one root, 8 children with 6 units each, 6 groups (262,144
// candidates).
func BenchmarkWide(b *testing.B) {
	snap, req, v := widest(b)
	b.ReportAllocs()
	for b.Loop() {
		res, err := engine.Generate(context.Background(), snap, req, engine.Options{MemoryLimit: 1 << 30})
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Requests) != 262144 {
			b.Fatalf("%d candidates", len(res.Requests))
		}
		if err := Encode(io.Discard, snap, req, res, v); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWideEncode measures the encoding of the 262,144 candidates of
// BenchmarkWide alone.
func BenchmarkWideEncode(b *testing.B) {
	snap, req, v := widest(b)
	res, err := engine.Generate(context.Background(), snap, req, engine.Options{MemoryLimit: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := Encode(io.Discard, snap, req, res, v); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWideStream is BenchmarkWide through Stream: the candidates are
// encoded as they are generated and never held.
func BenchmarkWideStream(b *testing.B) {
	snap := wideSnapshot(b, 1, 8, 6)
	v := microversion.Version{Major: 1, Minor: 39}
	req, err := ParseQuery("group_policy=none&resources1=CUSTOM_GPU:1&resources2=CUSTOM_GPU:1&resources3=CUSTOM_GPU:1"+
		"&resources4=CUSTOM_GPU:1&resources5=CUSTOM_GPU:1&resources6=CUSTOM_GPU:1", v)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := Stream(context.Background(), io.Discard, snap, req, engine.Options{MemoryLimit: 1 << 30}, v); err != nil {
			b.Fatal(err)
		}
	}
}
