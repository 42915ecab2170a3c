package engine_test

import (
	"fmt"
	"slices"
	"testing"

	. "github.com/openstack-placement-go/placement/internal/engine"
	"github.com/openstack-placement-go/placement/internal/handler/candidate"
)

// flatHosts is n flat compute hosts (VCPU, MEMORY_MB, DISK_GB), host i
// in the aggregates aggs(i).
func flatHosts(n int, aggs func(i int) []string) []ProviderData {
	var ps []ProviderData
	for i := 1; i <= n; i++ {
		ps = append(ps, ProviderData{ID: int64(i), UUID: fmt.Sprintf("%08x-0000-4000-8000-000000000000", i), RootID: int64(i),
			Traits: []string{"HW_CPU_X86_AVX2", "COMPUTE_NODE"}, Aggregates: aggs(i),
			Inventories: []Inventory{iv("VCPU", 32), iv("MEMORY_MB", 131072), iv("DISK_GB", 2000)}})
	}
	return ps
}

func mustSnapshot(tb testing.TB, ps []ProviderData, nested bool) *Snapshot {
	s, err := NewSnapshot(ps, nested)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// flatWorld has n flat compute hosts and, when shared, a disk pool in the
// aggregate of every host.
func flatWorld(tb testing.TB, n int, shared bool) *Snapshot {
	if !shared {
		return mustSnapshot(tb, flatHosts(n, func(int) []string { return nil }), false)
	}
	pool := []string{aggUUID("POOL")}
	ps := append(flatHosts(n, func(int) []string { return pool }),
		ProviderData{ID: int64(n + 1), UUID: "ffffffff-0000-4000-8000-000000000000", RootID: int64(n + 1),
			Traits: []string{SharingTrait}, Aggregates: pool, Inventories: []Inventory{iv("DISK_GB", 100000)}})
	return mustSnapshot(tb, ps, false)
}

// zonedWorld has n flat compute hosts spread over ten availability
// zones, an aggregate each ("AZ0" to "AZ9", host i in AZ i%10).
func zonedWorld(tb testing.TB, n int) *Snapshot {
	return mustSnapshot(tb, flatHosts(n, func(i int) []string { return []string{aggUUID(fmt.Sprintf("AZ%d", i%10))} }), false)
}

// nestedWorld has n trees of 7 providers: compute root, two NUMA nodes
// (VCPU, MEMORY_MB), a GPU under each NUMA and two PFs under the root.
func nestedWorld(tb testing.TB, n int) *Snapshot {
	var ps []ProviderData
	id := int64(0)
	add := func(parent, root int64, invs []Inventory, traits ...string) int64 {
		id++
		if root == 0 {
			root = id
		}
		ps = append(ps, ProviderData{ID: id, UUID: fmt.Sprintf("%08x-1111-4000-8000-000000000000", id), ParentID: parent, RootID: root, Traits: traits, Inventories: invs})
		return id
	}
	for i := 0; i < n; i++ {
		r := add(0, 0, []Inventory{iv("DISK_GB", 1000)}, "COMPUTE_NODE")
		for k := 0; k < 2; k++ {
			numa := add(r, r, []Inventory{iv("VCPU", 16), iv("MEMORY_MB", 65536)}, "HW_NUMA_ROOT")
			add(numa, r, []Inventory{iv("VGPU", 4)})
			add(r, r, []Inventory{iv("SRIOV_NET_VF", 8)}, fmt.Sprintf("CUSTOM_PHYSNET%d", k))
		}
	}
	s, err := NewSnapshot(ps, true)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func benchQuery(b *testing.B, s *Snapshot, minor int, query string, wantMin int) {
	benchQueryOpts(b, s, minor, query, wantMin, Options{})
}

func benchQueryOpts(b *testing.B, s *Snapshot, minor int, query string, wantMin int, opt Options) {
	req, err := candidate.ParseQuery(query, ver(minor))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if res := generate(b, s, req, opt); len(res.Requests) < wantMin {
			b.Fatalf("%d candidates, want >= %d", len(res.Requests), wantMin)
		}
	}
}

func BenchmarkGenerate(b *testing.B) {
	flat := flatWorld(b, 50000, false)
	shared := flatWorld(b, 50000, true)
	nested := nestedWorld(b, 1000)
	const q = "resources=VCPU:2,MEMORY_MB:4096,DISK_GB:20"
	b.Run("flat50k-limit5", func(b *testing.B) { benchQuery(b, flat, 39, q+"&limit=5", 5) })
	b.Run("flat50k-all", func(b *testing.B) { benchQuery(b, flat, 39, q, 50000) })
	b.Run("shared50k-all", func(b *testing.B) { benchQuery(b, shared, 39, q, 100000) })
	b.Run("nested1k-all", func(b *testing.B) {
		benchQuery(b, nested, 39, "resources=VCPU:2,MEMORY_MB:4096,DISK_GB:20&resources_G=VGPU:1&resources_N=SRIOV_NET_VF:1&required_N=CUSTOM_PHYSNET0&group_policy=none", 1000)
	})
	b.Run("nested1k-limit5", func(b *testing.B) {
		benchQuery(b, nested, 39, "resources=VCPU:2,MEMORY_MB:4096&resources1=VGPU:1&group_policy=none&limit=5", 5)
	})
	// One availability zone of ten, as Nova asks for it: the walk visits
	// only the zone's hosts.
	zoned := zonedWorld(b, 50000)
	zq := q + "&member_of=" + aggUUID("AZ3")
	b.Run("zoned50k-limit5", func(b *testing.B) { benchQuery(b, zoned, 39, zq+"&limit=5", 5) })
	b.Run("zoned50k-limit1000", func(b *testing.B) { benchQuery(b, zoned, 39, zq+"&limit=1000", 1000) })
	b.Run("zoned50k-all", func(b *testing.B) { benchQuery(b, zoned, 39, zq, 5000) })
}

// BenchmarkGenerateBreadthFirst: the same queries taken round robin over
// the hosts, uncapped and with a cap of 1000 candidates.
func BenchmarkGenerateBreadthFirst(b *testing.B) {
	flat := flatWorld(b, 50000, false)
	nested := nestedWorld(b, 1000)
	const q = "resources=VCPU:2,MEMORY_MB:4096,DISK_GB:20"
	const nq = "resources=VCPU:2,MEMORY_MB:4096,DISK_GB:20&resources_G=VGPU:1&resources_N=SRIOV_NET_VF:1&required_N=CUSTOM_PHYSNET0&group_policy=none"
	bf := Options{Strategy: BreadthFirst}
	capped := Options{Strategy: BreadthFirst, MaxCandidates: 1000}
	b.Run("flat50k-all", func(b *testing.B) { benchQueryOpts(b, flat, 39, q, 50000, bf) })
	b.Run("flat50k-cap1000", func(b *testing.B) { benchQueryOpts(b, flat, 39, q, 1000, capped) })
	b.Run("nested1k-all", func(b *testing.B) { benchQueryOpts(b, nested, 39, nq, 1000, bf) })
	b.Run("nested1k-cap1000", func(b *testing.B) { benchQueryOpts(b, nested, 39, nq, 1000, capped) })
}

// BenchmarkUpdate measures the snapshot side of a refresh after one
// write at growing provider counts: an allocation (one provider's usage
// changes), a trait set on a provider, a provider created, a provider
// deleted. None should grow with the count.
func BenchmarkUpdate(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		var data []ProviderData
		for i := 1; i <= n; i++ {
			data = append(data, ProviderData{ID: int64(i), UUID: fmt.Sprintf("%08x-0000-4000-8000-000000000000", i), RootID: int64(i),
				Inventories: []Inventory{iv("VCPU", 16), iv("MEMORY_MB", 16)}, Traits: []string{"HW_CPU_X86_AVX"}})
		}
		base, err := NewSnapshot(data, false)
		if err != nil {
			b.Fatal(err)
		}
		edits := map[string]func(k int, s *Snapshot) ProviderData{
			"allocation": func(k int, _ *Snapshot) ProviderData {
				d := data[(k*7919)%n]
				d.Inventories = slices.Clone(d.Inventories)
				d.Inventories[0].Used = int64(k % 16)
				return d
			},
			"trait": func(k int, _ *Snapshot) ProviderData {
				d := data[(k*7919)%n]
				d.Traits = []string{"HW_CPU_X86_AVX", fmt.Sprintf("CUSTOM_T%d", k%4)}
				return d
			},
			"provider": func(_ int, s *Snapshot) ProviderData {
				id := s.Provider(int32(s.Len()-1)).ID + 1
				return ProviderData{ID: id, UUID: fmt.Sprintf("%08x-0000-4000-8000-000000000000", id), RootID: id,
					Inventories: []Inventory{iv("VCPU", 16), iv("MEMORY_MB", 16)}, Traits: []string{"HW_CPU_X86_AVX"}}
			},
		}
		b.Run(fmt.Sprintf("deleted/%d", n), func(b *testing.B) {
			s := base
			b.ReportAllocs()
			k := 0
			for b.Loop() {
				k++
				if s, _ = s.Update(nil, []int64{int64((k*7919)%n + 1)}); s == nil {
					b.Fatal("Update refused")
				}
				if k == n/5 {
					b.StopTimer()
					s, k = base, 0
					b.StartTimer()
				}
			}
		})
		for _, name := range []string{"allocation", "trait", "provider"} {
			b.Run(fmt.Sprintf("%s/%d", name, n), func(b *testing.B) {
				s := base
				b.ReportAllocs()
				k := 0
				for b.Loop() {
					k++
					if s, _ = s.Update([]ProviderData{edits[name](k, s)}, nil); s == nil {
						b.Fatal("Update refused")
					}
				}
			})
		}
	}
}
