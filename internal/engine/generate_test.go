package engine_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	. "github.com/openstack-placement-go/placement/internal/engine"
	"github.com/openstack-placement-go/placement/internal/handler/candidate"
	"github.com/openstack-placement-go/placement/internal/placement"
)

type example struct {
	name     string
	minor    int
	query    string
	want     []string // sorted by the test; mappings included when withMaps
	withMaps bool
	summary  []string // nil: not checked
}

func runExamples(t *testing.T, w *world, cases []example) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			res := w.run(t, c.minor, c.query, Options{})
			got := w.shows(res, c.withMaps)
			if want := sorted(c.want...); !reflect.DeepEqual(got, want) {
				t.Errorf("%s at 1.%d\n got %q\nwant %q", c.query, c.minor, got, want)
			}
			if c.summary != nil {
				if got, want := w.summaryNames(res), sorted(c.summary...); !reflect.DeepEqual(got, want) {
					t.Errorf("summaries\n got %q\nwant %q", got, want)
				}
			}
		})
	}
}

// worldF is spec 07 §7.1: flat hosts and a shared disk.
func worldF(t testing.TB) *world {
	return newWorld(t,
		tp{name: "CN_A", inv: []Inventory{iv("VCPU", 8), iv("MEMORY_MB", 8192), iv("DISK_GB", 200)}, traits: []string{"HW_CPU_X86_AVX2"}, aggs: []string{"AGG1"}},
		tp{name: "CN_B", inv: []Inventory{iv("VCPU", 8), iv("MEMORY_MB", 8192)}, aggs: []string{"AGG1", "AGG2"}},
		tp{name: "CN_C", inv: []Inventory{iv("VCPU", 4), iv("MEMORY_MB", 4096), iv("DISK_GB", 100)}, traits: []string{"CUSTOM_GOLD"}},
		tp{name: "NFS", inv: []Inventory{iv("DISK_GB", 1000)}, traits: []string{SharingTrait}, aggs: []string{"AGG1"}},
	)
}

func TestGenerate_WorldF(t *testing.T) {
	t.Parallel()
	w := worldF(t)
	const base = "resources=VCPU:2,MEMORY_MB:1024,DISK_GB:50"
	aAll := "CN_A{DISK_GB:50,MEMORY_MB:1024,VCPU:2}"
	cAll := "CN_C{DISK_GB:50,MEMORY_MB:1024,VCPU:2}"
	aNFS := "CN_A{MEMORY_MB:1024,VCPU:2} NFS{DISK_GB:50}"
	bNFS := "CN_B{MEMORY_MB:1024,VCPU:2} NFS{DISK_GB:50}"
	runExamples(t, w, []example{
		{name: "local or shared disk", minor: 39, query: base, want: []string{aAll, cAll, aNFS, bNFS},
			summary: []string{"CN_A", "CN_B", "CN_C", "NFS"}},
		{name: "required trait from the compute host", minor: 39, query: base + "&required=HW_CPU_X86_AVX2", want: []string{aAll, aNFS}},
		{name: "required sharing trait", minor: 39, query: base + "&required=MISC_SHARES_VIA_AGGREGATE", want: []string{aNFS, bNFS}},
		{name: "forbidden sharing trait", minor: 39, query: base + "&required=!MISC_SHARES_VIA_AGGREGATE", want: []string{aAll, cAll}},
		{name: "member_of AGG1", minor: 39, query: base + "&member_of=$AGG1", want: []string{aAll, aNFS, bNFS}},
		{name: "member_of AGG2 matches nothing", minor: 39, query: base + "&member_of=$AGG2"},
		{name: "forbidden AGG2", minor: 39, query: base + "&member_of=!$AGG2", want: []string{aAll, cAll, aNFS}},
		{name: "disk alone is deduplicated", minor: 39, query: "resources=DISK_GB:50",
			want: []string{"CN_A{DISK_GB:50}", "CN_C{DISK_GB:50}", "NFS{DISK_GB:50}"}},
		{name: "large disk only shared", minor: 39, query: "resources=VCPU:2,DISK_GB:960",
			want: []string{"CN_A{VCPU:2} NFS{DISK_GB:960}", "CN_B{VCPU:2} NFS{DISK_GB:960}"}},
		{name: "isolate", minor: 39, withMaps: true,
			query: "resources1=VCPU:2,MEMORY_MB:1024&resources2=DISK_GB:50&group_policy=isolate",
			want:  []string{aNFS + " map 1=CN_A 2=NFS", bNFS + " map 1=CN_B 2=NFS"}},
		{name: "policy none", minor: 39, withMaps: true,
			query: "resources1=VCPU:2,MEMORY_MB:1024&resources2=DISK_GB:50&group_policy=none",
			want: []string{aNFS + " map 1=CN_A 2=NFS", bNFS + " map 1=CN_B 2=NFS",
				aAll + " map 1=CN_A 2=CN_A", cAll + " map 1=CN_C 2=CN_C"}},
		{name: "suffixed member_of", minor: 39, withMaps: true,
			query: "resources=VCPU:2&resources1=DISK_GB:50&member_of1=$AGG1",
			want: []string{"CN_A{DISK_GB:50,VCPU:2} map 1=CN_A =CN_A",
				"CN_A{VCPU:2} NFS{DISK_GB:50} map 1=NFS =CN_A", "CN_B{VCPU:2} NFS{DISK_GB:50} map 1=NFS =CN_B"}},
		{name: "merged amounts exceed the shared disk", minor: 39,
			query: "resources=DISK_GB:50&resources1=DISK_GB:960&group_policy=none",
			want:  []string{"CN_A{DISK_GB:50} NFS{DISK_GB:960}"}},
		{name: "groups cannot span hosts", minor: 39,
			query: "resources=VCPU:4&resources1=VCPU:4&resources2=VCPU:1&group_policy=none"},
	})
}

// worldN is spec 07 §7.2: one nested host.
func worldN(t testing.TB) *world {
	return newWorld(t,
		tp{name: "HOST", inv: []Inventory{iv("DISK_GB", 100)}, traits: []string{"COMPUTE_VOLUME_MULTI_ATTACH"}},
		tp{name: "NUMA0", parent: "HOST", inv: []Inventory{iv("VCPU", 4), iv("MEMORY_MB", 2048)}, traits: []string{"HW_NUMA_ROOT"}},
		tp{name: "GPU0", parent: "NUMA0", inv: []Inventory{iv("VGPU", 2)}},
		tp{name: "NUMA1", parent: "HOST", inv: []Inventory{iv("VCPU", 4), iv("MEMORY_MB", 2048)}, traits: []string{"HW_NUMA_ROOT", "HW_CPU_X86_AVX2"}},
		tp{name: "GPU1", parent: "NUMA1", inv: []Inventory{iv("VGPU", 2)}},
		tp{name: "NIC", parent: "HOST", traits: []string{"CUSTOM_NIC"}},
		tp{name: "PF_A", parent: "NIC", inv: []Inventory{iv("SRIOV_NET_VF", 8)}, traits: []string{"CUSTOM_PHYSNET_A"}},
		tp{name: "PF_B", parent: "NIC", inv: []Inventory{iv("SRIOV_NET_VF", 8)}, traits: []string{"CUSTOM_PHYSNET_B"}},
	)
}

func TestGenerate_WorldN(t *testing.T) {
	t.Parallel()
	w := worldN(t)
	all := []string{"HOST", "NUMA0", "GPU0", "NUMA1", "GPU1", "NIC", "PF_A", "PF_B"}
	n0 := "NUMA0{MEMORY_MB:512,VCPU:1}"
	n1 := "NUMA1{MEMORY_MB:512,VCPU:1}"
	split01 := "NUMA0{VCPU:1} NUMA1{MEMORY_MB:512}"
	split10 := "NUMA0{MEMORY_MB:512} NUMA1{VCPU:1}"
	runExamples(t, w, []example{
		{name: "split across NUMA nodes", minor: 29, query: "resources=VCPU:1,MEMORY_MB:512",
			want: []string{n0, n1, split01, split10}, summary: all},
		{name: "below 1.29 one provider per tree", minor: 28, query: "resources=VCPU:1,MEMORY_MB:512",
			want: []string{n0, n1}, summary: []string{"NUMA0", "NUMA1"}},
		{name: "NUMA times GPU", minor: 29, query: "resources=VCPU:1,VGPU:1",
			want: []string{"GPU0{VGPU:1} NUMA0{VCPU:1}", "GPU1{VGPU:1} NUMA0{VCPU:1}", "GPU0{VGPU:1} NUMA1{VCPU:1}", "GPU1{VGPU:1} NUMA1{VCPU:1}"}},
		{name: "NUMA times GPU below 1.29", minor: 28, query: "resources=VCPU:1,VGPU:1"},
		{name: "deep provider alone below 1.29", minor: 28, query: "resources=VGPU:1",
			want: []string{"GPU0{VGPU:1}", "GPU1{VGPU:1}"}, summary: []string{"GPU0", "GPU1"}},
		{name: "required trait on the contributor", minor: 39, query: "resources=VCPU:1&required=HW_CPU_X86_AVX2",
			want: []string{"NUMA1{VCPU:1}"}},
		{name: "required trait from either contributor", minor: 39, query: "resources=VCPU:1,MEMORY_MB:512&required=HW_CPU_X86_AVX2",
			want: []string{n1, split01, split10}},
		{name: "root trait does not count", minor: 39, query: "resources=VCPU:1&required=COMPUTE_VOLUME_MULTI_ATTACH"},
		{name: "root trait counts when the root contributes", minor: 39,
			query: "resources=VCPU:1,DISK_GB:10&required=COMPUTE_VOLUME_MULTI_ATTACH",
			want:  []string{"HOST{DISK_GB:10} NUMA0{VCPU:1}", "HOST{DISK_GB:10} NUMA1{VCPU:1}"}},
		{name: "root_required", minor: 35, query: "resources=VCPU:1&root_required=COMPUTE_VOLUME_MULTI_ATTACH",
			want: []string{"NUMA0{VCPU:1}", "NUMA1{VCPU:1}"}},
		{name: "in_tree names any provider of the tree", minor: 31, query: "resources=VCPU:1&in_tree=$GPU0",
			want: []string{"NUMA0{VCPU:1}", "NUMA1{VCPU:1}"}},
		{name: "verbose suffixes", minor: 33, query: "resources_C=VCPU:1,MEMORY_MB:512&resources_G=VGPU:1&group_policy=none",
			want: []string{"GPU0{VGPU:1} " + n0, "GPU1{VGPU:1} " + n0, "GPU0{VGPU:1} " + n1, "GPU1{VGPU:1} " + n1}},
		{name: "same_subtree", minor: 36, query: "resources_C=VCPU:1,MEMORY_MB:512&resources_G=VGPU:1&group_policy=none&same_subtree=_C,_G",
			want: []string{"GPU0{VGPU:1} " + n0, "GPU1{VGPU:1} " + n1}},
		{name: "resourceless group maps only", minor: 36, withMaps: true,
			query: "resources_G=VGPU:1&required_N=HW_NUMA_ROOT,HW_CPU_X86_AVX2&same_subtree=_G,_N&group_policy=none",
			want:  []string{"GPU1{VGPU:1} map _G=GPU1 _N=NUMA1"}},
		{name: "resourceless NIC isolate", minor: 36, withMaps: true,
			query: "resources_P1=SRIOV_NET_VF:1&required_P1=CUSTOM_PHYSNET_A&resources_P2=SRIOV_NET_VF:1&required_NIC=CUSTOM_NIC&same_subtree=_NIC,_P1,_P2&group_policy=isolate",
			want:  []string{"PF_A{SRIOV_NET_VF:1} PF_B{SRIOV_NET_VF:1} map _NIC=NIC _P1=PF_A _P2=PF_B"}},
		{name: "resourceless NIC none", minor: 36, withMaps: true,
			query: "resources_P1=SRIOV_NET_VF:1&required_P1=CUSTOM_PHYSNET_A&resources_P2=SRIOV_NET_VF:1&required_NIC=CUSTOM_NIC&same_subtree=_NIC,_P1,_P2&group_policy=none",
			want: []string{"PF_A{SRIOV_NET_VF:1} PF_B{SRIOV_NET_VF:1} map _NIC=NIC _P1=PF_A _P2=PF_B",
				"PF_A{SRIOV_NET_VF:2} map _NIC=NIC _P1=PF_A _P2=PF_A"}},
		{name: "two groups on two NUMA nodes", minor: 29, query: "resources=VCPU:3&resources1=VCPU:2&group_policy=none",
			want: []string{"NUMA0{VCPU:3} NUMA1{VCPU:2}", "NUMA0{VCPU:2} NUMA1{VCPU:3}"}},
		{name: "two groups below 1.29", minor: 28, query: "resources=VCPU:3&resources1=VCPU:2&group_policy=none"},
	})
}

// worldS is spec 07 §7.3: nested host with sharing storage.
func worldS(t testing.TB) *world {
	return newWorld(t,
		tp{name: "CN1", inv: []Inventory{iv("VCPU", 8), iv("MEMORY_MB", 4096)}, traits: []string{"CUSTOM_ROOTT"}, aggs: []string{"A"}},
		tp{name: "PF1", parent: "CN1", inv: []Inventory{iv("SRIOV_NET_VF", 4)}, traits: []string{"CUSTOM_PHYSNET1"}},
		tp{name: "PF2", parent: "CN1", inv: []Inventory{iv("SRIOV_NET_VF", 4)}, traits: []string{"CUSTOM_PHYSNET2"}},
		tp{name: "CN2", inv: []Inventory{iv("VCPU", 8), iv("DISK_GB", 100)}, aggs: []string{"A"}},
		tp{name: "SS", inv: []Inventory{iv("DISK_GB", 1000)}, traits: []string{SharingTrait}, aggs: []string{"A"}},
	)
}

func TestGenerate_WorldS(t *testing.T) {
	t.Parallel()
	w := worldS(t)
	three := []string{"CN2{DISK_GB:10,VCPU:1}", "CN1{VCPU:1} SS{DISK_GB:10}", "CN2{VCPU:1} SS{DISK_GB:10}"}
	splitVF := "PF1{SRIOV_NET_VF:1} PF2{SRIOV_NET_VF:1}"
	runExamples(t, w, []example{
		{name: "nested aware", minor: 29, query: "resources=VCPU:1,DISK_GB:10", want: three,
			summary: []string{"CN1", "PF1", "PF2", "CN2", "SS"}},
		{name: "legacy", minor: 28, query: "resources=VCPU:1,DISK_GB:10", want: three,
			summary: []string{"CN1", "CN2", "SS"}},
		{name: "legacy 1.10", minor: 10, query: "resources=VCPU:1,DISK_GB:10", want: three},
		{name: "root_required anchors sharing", minor: 35, query: "resources=DISK_GB:10&root_required=CUSTOM_ROOTT",
			want: []string{"SS{DISK_GB:10}"}, summary: []string{"SS"}},
		{name: "root_required forbidden", minor: 35, query: "resources=DISK_GB:10&root_required=!CUSTOM_ROOTT",
			want: []string{"SS{DISK_GB:10}", "CN2{DISK_GB:10}"}},
		{name: "forbidden physnet", minor: 29, query: "resources=VCPU:1,SRIOV_NET_VF:1&required=!CUSTOM_PHYSNET1",
			want: []string{"CN1{VCPU:1} PF2{SRIOV_NET_VF:1}"}},
		{name: "forbidden trait of the only VCPU provider", minor: 29, query: "resources=VCPU:1,SRIOV_NET_VF:1&required=!CUSTOM_ROOTT"},
		{name: "required root trait", minor: 29, query: "resources=VCPU:1,DISK_GB:10&required=CUSTOM_ROOTT",
			want: []string{"CN1{VCPU:1} SS{DISK_GB:10}"}},
		{name: "in_tree on sharing group", minor: 31, query: "resources=VCPU:1&resources1=DISK_GB:10&in_tree1=$SS",
			want: []string{"CN1{VCPU:1} SS{DISK_GB:10}", "CN2{VCPU:1} SS{DISK_GB:10}"}},
		{name: "in_tree unsuffixed on sharing", minor: 31, query: "resources=DISK_GB:10&in_tree=$SS",
			want: []string{"SS{DISK_GB:10}"}},
		{name: "mappings distinguish", minor: 34, withMaps: true,
			query: "resources1=SRIOV_NET_VF:1&resources2=SRIOV_NET_VF:1&group_policy=none",
			want: []string{"PF1{SRIOV_NET_VF:2} map 1=PF1 2=PF1", "PF2{SRIOV_NET_VF:2} map 1=PF2 2=PF2",
				splitVF + " map 1=PF1 2=PF2", splitVF + " map 1=PF2 2=PF1"}},
		{name: "duplicates visible at 1.33", minor: 33,
			query: "resources1=SRIOV_NET_VF:1&resources2=SRIOV_NET_VF:1&group_policy=none",
			want:  []string{"PF1{SRIOV_NET_VF:2}", "PF2{SRIOV_NET_VF:2}", splitVF, splitVF}},
		{name: "isolate keeps split ones", minor: 34, withMaps: true,
			query: "resources1=SRIOV_NET_VF:1&resources2=SRIOV_NET_VF:1&group_policy=isolate",
			want:  []string{splitVF + " map 1=PF1 2=PF2", splitVF + " map 1=PF2 2=PF1"}},
		{name: "resourceless sharing mapping", minor: 36, withMaps: true,
			query:   "resources=VCPU:1&required1=MISC_SHARES_VIA_AGGREGATE&same_subtree=1",
			want:    []string{"CN1{VCPU:1} map 1=SS =CN1", "CN2{VCPU:1} map 1=SS =CN2"},
			summary: []string{"CN1", "PF1", "PF2", "CN2"}},
		{name: "sharing is not in the subtree", minor: 36,
			query: "resources1=VCPU:1&resources2=DISK_GB:1&same_subtree=1,2&group_policy=none",
			want:  []string{"CN2{DISK_GB:1,VCPU:1}"}},
		{name: "resourceless with only a forbidden trait", minor: 36,
			query: "resources1=VCPU:1&required2=!CUSTOM_ROOTT&same_subtree=1,2&group_policy=none"},
		{name: "in_tree ignored for resourceless", minor: 36, withMaps: true,
			query: "resources1=SRIOV_NET_VF:1&required2=CUSTOM_ROOTT&in_tree2=$CN2&same_subtree=1,2&group_policy=none",
			want:  []string{"PF1{SRIOV_NET_VF:1} map 1=PF1 2=CN1", "PF2{SRIOV_NET_VF:1} map 1=PF2 2=CN1"}},
		{name: "unknown in_tree empties", minor: 36, query: "resources=VCPU:1&in_tree=$NOSUCH"},
		{name: "unknown in_tree on resourceless empties", minor: 36,
			query: "resources1=SRIOV_NET_VF:1&required2=CUSTOM_ROOTT&in_tree2=$NOSUCH&same_subtree=1,2&group_policy=none"},
		{name: "any-of traits", minor: 39, query: "resources=VCPU:1,SRIOV_NET_VF:1&required=in:CUSTOM_PHYSNET2,CUSTOM_NOPE",
			want: []string{"CN1{VCPU:1} PF2{SRIOV_NET_VF:1}"}},
		{name: "unknown class matches nothing", minor: 39, query: "resources=CUSTOM_NOPE:1"},
	})
}

// TestGenerate_Tricky covers the paraphrased functional tests of §7.4.
func TestGenerate_Tricky(t *testing.T) {
	t.Parallel()
	t.Run("isolation with local and shared disk", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t,
			tp{name: "H1", inv: []Inventory{iv("VCPU", 8), iv("MEMORY_MB", 4096), iv("DISK_GB", 100)}, aggs: []string{"A"}},
			tp{name: "H2", inv: []Inventory{iv("VCPU", 8), iv("MEMORY_MB", 4096), iv("DISK_GB", 100)}, aggs: []string{"A"}},
			tp{name: "H3", inv: []Inventory{iv("VCPU", 8), iv("MEMORY_MB", 4096)}, aggs: []string{"A"}},
			tp{name: "P1", inv: []Inventory{iv("DISK_GB", 1000)}, traits: []string{SharingTrait}, aggs: []string{"A"}},
			tp{name: "P2", inv: []Inventory{iv("DISK_GB", 1000)}, traits: []string{SharingTrait}, aggs: []string{"A"}},
		)
		iso := w.shows(w.run(t, 34, "resources1=VCPU:1,MEMORY_MB:64&resources2=DISK_GB:10&group_policy=isolate", Options{}), false)
		if len(iso) != 6 {
			t.Errorf("isolate: %d candidates %q, want 6 host+pool pairs", len(iso), iso)
		}
		none := w.shows(w.run(t, 34, "resources1=VCPU:1,MEMORY_MB:64&resources2=DISK_GB:10&group_policy=none", Options{}), false)
		if len(none) != 8 {
			t.Errorf("none: %d candidates %q, want 8", len(none), none)
		}
	})
	t.Run("combining exceeds capacity", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t,
			tp{name: "H", inv: []Inventory{iv("CUSTOM_NET_MBPS", 4000)}, aggs: []string{"A"}},
			tp{name: "S", inv: []Inventory{iv("CUSTOM_NET_MBPS", 40000)}, traits: []string{SharingTrait}, aggs: []string{"A"}},
		)
		got := w.shows(w.run(t, 34, "resources=CUSTOM_NET_MBPS:2000&resources1=CUSTOM_NET_MBPS:3000&group_policy=none", Options{}), false)
		// 5000 never fits on H; both on S, or one group on each. The
		// unsuffixed group on S alone is offered under one anchor only,
		// the first in upstream's order of the trees: here H's (checked
		// against the reference), so it also merges with group 1 on H.
		want := sorted("H{CUSTOM_NET_MBPS:2000} S{CUSTOM_NET_MBPS:3000}", "H{CUSTOM_NET_MBPS:3000} S{CUSTOM_NET_MBPS:2000}", "S{CUSTOM_NET_MBPS:5000}")
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got %q want %q", got, want)
		}
	})
	t.Run("combining exceeds max_unit", func(t *testing.T) {
		t.Parallel()
		small := iv("VGPU", 8)
		small.MaxUnit = 2
		w := newWorld(t,
			tp{name: "SMALL", inv: []Inventory{small}},
			tp{name: "BIG", inv: []Inventory{iv("VGPU", 8)}},
		)
		got := w.shows(w.run(t, 34, "resources1=VGPU:1&resources2=VGPU:1&resources3=VGPU:1&group_policy=none", Options{}), false)
		if want := sorted("BIG{VGPU:3}"); !reflect.DeepEqual(got, want) {
			t.Errorf("got %q want %q", got, want)
		}
	})
	t.Run("aggregate on a non-root", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t,
			tp{name: "R1", aggs: []string{"A"}},
			tp{name: "N1a", parent: "R1", inv: []Inventory{iv("VCPU", 4)}, aggs: []string{"C"}},
			tp{name: "N1b", parent: "R1", inv: []Inventory{iv("VCPU", 4)}},
			tp{name: "R2", aggs: []string{"A"}},
			tp{name: "N2a", parent: "R2", inv: []Inventory{iv("VCPU", 4)}},
			tp{name: "D", inv: []Inventory{iv("DISK_GB", 100)}, traits: []string{SharingTrait}, aggs: []string{"C"}},
		)
		got := w.shows(w.run(t, 39, "resources=VCPU:1,DISK_GB:10&member_of=$C", Options{}), false)
		if want := sorted("D{DISK_GB:10} N1a{VCPU:1}"); !reflect.DeepEqual(got, want) {
			t.Errorf("member_of=C: got %q want %q", got, want)
		}
		got = w.shows(w.run(t, 39, "resources=VCPU:1&member_of=$A", Options{}), false)
		if want := sorted("N1a{VCPU:1}", "N1b{VCPU:1}", "N2a{VCPU:1}"); !reflect.DeepEqual(got, want) {
			t.Errorf("member_of=A: got %q want %q", got, want)
		}
		got = w.shows(w.run(t, 39, "resources1=VCPU:1&member_of1=$A", Options{}), false)
		if len(got) != 0 {
			t.Errorf("member_of1=A: got %q want none", got)
		}
	})
	t.Run("sharing reached through a child serves the whole tree", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t,
			tp{name: "R"},
			tp{name: "N0", parent: "R", inv: []Inventory{iv("VCPU", 4)}, aggs: []string{"A"}},
			tp{name: "N1", parent: "R", inv: []Inventory{iv("VCPU", 4)}},
			tp{name: "D", inv: []Inventory{iv("DISK_GB", 100)}, traits: []string{SharingTrait}, aggs: []string{"A"}},
		)
		got := w.shows(w.run(t, 39, "resources=VCPU:1,DISK_GB:10", Options{}), false)
		if want := sorted("D{DISK_GB:10} N0{VCPU:1}", "D{DISK_GB:10} N1{VCPU:1}"); !reflect.DeepEqual(got, want) {
			t.Errorf("got %q want %q", got, want)
		}
	})
	t.Run("chained same_subtree", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t,
			tp{name: "CN", inv: []Inventory{iv("VCPU", 8)}},
			tp{name: "NIC1", parent: "CN", traits: []string{"CUSTOM_NIC"}},
			tp{name: "PF11", parent: "NIC1", inv: []Inventory{iv("SRIOV_NET_VF", 4)}},
			tp{name: "PF12", parent: "NIC1", inv: []Inventory{iv("SRIOV_NET_VF", 4)}},
			tp{name: "NIC2", parent: "CN", traits: []string{"CUSTOM_NIC"}},
			tp{name: "PF21", parent: "NIC2", inv: []Inventory{iv("SRIOV_NET_VF", 4)}},
			tp{name: "PF22", parent: "NIC2", inv: []Inventory{iv("SRIOV_NET_VF", 4)}},
		)
		base := "resources_COMPUTE=VCPU:1&required_NIC=CUSTOM_NIC&resources_PORT1=SRIOV_NET_VF:1&group_policy=none"
		chained := w.run(t, 36, base+"&same_subtree=_NIC,_COMPUTE&same_subtree=_NIC,_PORT1", Options{})
		if n := len(chained.Requests); n != 4 {
			t.Errorf("chained: %d candidates, want 4", n)
		}
		single := w.run(t, 36, base+"&same_subtree=_NIC,_COMPUTE,_PORT1", Options{})
		if n := len(single.Requests); n != 8 {
			t.Errorf("single: %d candidates, want 8 (every NIC x every port)", n)
		}
	})
	t.Run("root_required does not remove sharing providers", func(t *testing.T) {
		t.Parallel()
		w := worldF(t)
		got := w.shows(w.run(t, 35, "resources=VCPU:1,DISK_GB:960&root_required=!MISC_SHARES_VIA_AGGREGATE", Options{}), false)
		if want := sorted("CN_A{VCPU:1} NFS{DISK_GB:960}", "CN_B{VCPU:1} NFS{DISK_GB:960}"); !reflect.DeepEqual(got, want) {
			t.Errorf("got %q want %q", got, want)
		}
	})
	t.Run("limit keeps the whole tree in summaries", func(t *testing.T) {
		t.Parallel()
		w := worldN(t)
		res := w.run(t, 39, "resources=VCPU:1&limit=1", Options{})
		if len(res.Requests) != 1 || len(res.Summaries) != 8 {
			t.Errorf("got %d requests, %d summaries; want 1 and 8", len(res.Requests), len(res.Summaries))
		}
	})
	t.Run("capacity uses reserved, ratio and usage", func(t *testing.T) {
		t.Parallel()
		inv := Inventory{Class: "VCPU", Inventory: placement.Inventory{Total: 4, Reserved: 1, MinUnit: 1, MaxUnit: 4, StepSize: 2, AllocationRatio: 2}, Used: 3}
		w := newWorld(t, tp{name: "H", inv: []Inventory{inv}})
		for amount, want := range map[string]int{"1": 0, "2": 1, "3": 0, "4": 0} {
			// capacity 6, used 3: 2 fits; 1 and 3 break step_size; 4 exceeds.
			if got := len(w.run(t, 39, "resources=VCPU:"+amount, Options{}).Requests); got != want {
				t.Errorf("VCPU:%s: %d candidates, want %d", amount, got, want)
			}
		}
	})
}

func TestGenerate_LimitAndCap(t *testing.T) {
	t.Parallel()
	var provs []tp
	for i := 0; i < 20; i++ {
		provs = append(provs, tp{name: "H" + string(rune('A'+i)), inv: []Inventory{iv("VCPU", 4)}})
	}
	w := newWorld(t, provs...)
	all := w.run(t, 39, "resources=VCPU:1", Options{})
	if len(all.Requests) != 20 {
		t.Fatalf("got %d, want 20", len(all.Requests))
	}
	first := w.run(t, 39, "resources=VCPU:1&limit=3", Options{})
	if !reflect.DeepEqual(first.Requests, all.Requests[:3]) {
		t.Errorf("limit without randomisation must keep generation order")
	}
	if len(first.Summaries) != 3 {
		t.Errorf("summaries after limit: %d, want 3", len(first.Summaries))
	}
	capped := w.run(t, 39, "resources=VCPU:1", Options{MaxCandidates: 7})
	if len(capped.Requests) != 7 {
		t.Errorf("max_allocation_candidates=7: got %d", len(capped.Requests))
	}
	seen := map[int32]int{}
	for i := 0; i < 200; i++ {
		r := w.run(t, 39, "resources=VCPU:1&limit=2", Options{Randomize: true, Rand: rand.New(rand.NewPCG(uint64(i), 7))})
		if len(r.Requests) != 2 || r.Requests[0].Allocations[0].Provider == r.Requests[1].Allocations[0].Provider {
			t.Fatalf("random sample of 2 distinct expected, got %v", r.Requests)
		}
		seen[r.Requests[0].Allocations[0].Provider]++
	}
	if len(seen) < 15 {
		t.Errorf("random sampling looks biased: only %d distinct first picks", len(seen))
	}
	shuffled := w.run(t, 39, "resources=VCPU:1", Options{Randomize: true, Rand: rand.New(rand.NewPCG(1, 2))})
	if len(shuffled.Requests) != 20 || reflect.DeepEqual(shuffled.Requests, all.Requests) {
		t.Errorf("randomize without limit must shuffle all 20")
	}
}

// TestGenerate_ParentLoopEnds: two concurrent moves in the Python service
// (8.0.0) can leave a parent loop in the database. A same_subtree request
// over it must still end.
func TestGenerate_ParentLoopEnds(t *testing.T) {
	t.Parallel()
	// R is a root; A and B are each other's parent, both stored under R.
	snap, err := NewSnapshot([]ProviderData{
		{ID: 1, UUID: provUUID(1), RootID: 1, Inventories: []Inventory{iv("MEMORY_MB", 1024)}},
		{ID: 2, UUID: provUUID(2), ParentID: 3, RootID: 1, Inventories: []Inventory{iv("VCPU", 4)}},
		{ID: 3, UUID: provUUID(3), ParentID: 2, RootID: 1, Inventories: []Inventory{iv("CUSTOM_NET", 4)}},
	}, true)
	if err != nil {
		t.Fatal(err)
	}
	req, err := candidate.ParseQuery("resources1=VCPU:1&resources2=CUSTOM_NET:1&resources3=MEMORY_MB:1&same_subtree=1,2,3&group_policy=none", ver(36))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan *Result, 1)
	go func() { done <- generate(t, snap, req, Options{}) }()
	select {
	case res := <-done:
		t.Logf("%d candidates", len(res.Requests))
	case <-time.After(10 * time.Second):
		t.Fatal("Generate did not end within 10 s")
	}
}

// TestGenerate_LimitedSummariesBelow129: when limit cuts the list below
// 1.29, the summaries are those of every candidate in the trees of the
// kept ones, as upstream's: the kept candidate on R brings in its child
// C, which only another candidate allocates from, but not F.
func TestGenerate_LimitedSummariesBelow129(t *testing.T) {
	t.Parallel()
	w := newWorld(t,
		tp{name: "R", inv: []Inventory{iv("VCPU", 4)}},
		tp{name: "C", parent: "R", inv: []Inventory{iv("VCPU", 4)}},
		tp{name: "F", inv: []Inventory{iv("VCPU", 4)}},
		tp{name: "E", parent: "F"},
	)
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"resources=VCPU:1&limit=1", []string{"C", "R"}},
		{"resources=VCPU:1&limit=3", []string{"C", "F", "R"}}, // nothing cut
	} {
		for _, stream := range []bool{false, true} {
			var sums []int32
			if stream {
				req, err := candidate.ParseQuery(w.subst(c.query), ver(27))
				if err != nil {
					t.Fatal(err)
				}
				if sums, err = Stream(context.Background(), w.snap, req, Options{}, func(AllocationRequest) error { return nil }); err != nil {
					t.Fatal(err)
				}
			} else {
				sums = w.run(t, 27, c.query, Options{}).Summaries
			}
			var got []string
			for _, i := range sums {
				got = append(got, w.names[w.snap.Provider(i).UUID])
			}
			slices.Sort(got)
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("%s (stream %v): summaries %v, want %v", c.query, stream, got, c.want)
			}
		}
	}
}

// TestGenerate_SameSubtreeAnchorPlacedLast: the groups placed first may
// take providers none of which is above the others, as long as a group
// placed later takes one above them all; and when no later group can, the
// walk gives up on that branch at once rather than try every remaining
// combination (five isolated groups of one child each, under a root of 40
// children, are 79 million combinations).
func TestGenerate_SameSubtreeAnchorPlacedLast(t *testing.T) {
	t.Parallel()
	w := newWorld(t,
		tp{name: "R"},
		tp{name: "PF1", parent: "R", inv: []Inventory{iv("NET_BW_EGR_KILOBIT_PER_SEC", 1000)}},
		tp{name: "VF1a", parent: "PF1", inv: []Inventory{iv("SRIOV_NET_VF", 1)}},
		tp{name: "VF1b", parent: "PF1", inv: []Inventory{iv("SRIOV_NET_VF", 1)}},
		tp{name: "PF2", parent: "R", inv: []Inventory{iv("NET_BW_EGR_KILOBIT_PER_SEC", 1000)}},
		tp{name: "VF2a", parent: "PF2", inv: []Inventory{iv("SRIOV_NET_VF", 1)}},
	)
	got := w.shows(w.run(t, 39, "resources_1=SRIOV_NET_VF:1&resources_2=SRIOV_NET_VF:1&resources_3=NET_BW_EGR_KILOBIT_PER_SEC:100"+
		"&group_policy=isolate&same_subtree=_1,_2,_3", Options{}), true)
	want := sorted(
		"PF1{NET_BW_EGR_KILOBIT_PER_SEC:100} VF1a{SRIOV_NET_VF:1} VF1b{SRIOV_NET_VF:1} map _1=VF1a _2=VF1b _3=PF1",
		"PF1{NET_BW_EGR_KILOBIT_PER_SEC:100} VF1a{SRIOV_NET_VF:1} VF1b{SRIOV_NET_VF:1} map _1=VF1b _2=VF1a _3=PF1")
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}

	wide := []tp{{name: "R"}}
	for i := range 40 {
		wide = append(wide, tp{name: fmt.Sprintf("GPU%d", i), parent: "R", inv: []Inventory{iv("VGPU", 1)}})
	}
	w = newWorld(t, wide...)
	req, err := candidate.ParseQuery("resources_1=VGPU:1&resources_2=VGPU:1&resources_3=VGPU:1&resources_4=VGPU:1&resources_5=VGPU:1"+
		"&group_policy=isolate&same_subtree=_1,_2,_3,_4,_5", ver(39))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := Generate(ctx, w.snap, req, Options{})
	if err != nil || len(res.Requests) != 0 {
		t.Fatalf("five children under one of them: %v, %d candidates", err, len(res.Requests))
	}
}
