package engine_test

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	. "github.com/openstack-placement-go/placement/internal/engine"
)

// TestUpdate_MatchesNewSnapshot: a snapshot updated with random changes
// (traits, the sharing trait, aggregates, inventories and usage changed;
// new roots and new children, some sharing) is the snapshot NewSnapshot
// builds from the changed data, in every index and in the candidates of
// random requests, over several updates in a row; and the snapshot it was
// updated from is left as it was.
func TestUpdate_MatchesNewSnapshot(t *testing.T) {
	t.Parallel()
	for seed := range runs(1500, 200) {
		r, w, _ := randomCase(t, seed, 7)
		data := slices.Clone(w.data)
		snap := w.snap
		for round := range 1 + r.IntN(3) {
			before := DumpSnapshot(snap)
			var touched map[int64]bool
			var gone []int64
			data, touched, gone = randomEdits(r, data, snap.Provider(int32(snap.Len()-1)).ID)
			numberClasses(data)
			var changed []ProviderData
			for _, d := range data {
				if touched[d.ID] {
					changed = append(changed, d)
				}
			}
			if r.Float64() < 0.2 {
				changed = data // unchanged providers cost a comparison
			}
			updated, ok := snap.Update(changed, gone)
			fresh, err := NewSnapshot(data, hasParent(data))
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				// Only when the deleted would leave over 256 places and a
				// quarter of them empty.
				if n := Gone(snap) + len(gone); n <= 256 || 4*n <= snap.Len()+len(data)-len(w.data)+len(gone) {
					t.Fatalf("seed %d round %d: Update refused %+v, deleting %v", seed, round, changed, gone)
				}
				w.data, w.snap, snap = data, fresh, fresh
				continue
			}
			if got, want := DumpSnapshot(updated), DumpSnapshot(fresh); got != want {
				t.Fatalf("seed %d round %d: changed %+v\nupdated:\n%s\nnew:\n%s", seed, round, changed, got, want)
			}
			if DumpSnapshot(snap) != before {
				t.Fatalf("seed %d round %d: Update changed the snapshot it was given", seed, round)
			}
			w.data, w.snap = data, fresh
			for range 5 {
				req := randomRequest(r, w)
				want := w.shows(generate(t, fresh, req, Options{}), true)
				w.snap = updated
				got := w.shows(generate(t, updated, req, Options{}), true)
				w.snap = fresh
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("seed %d round %d: request %+v\n got %q\nwant %q", seed, round, *req, got, want)
				}
			}
			snap = updated
		}
	}
}

func hasParent(data []ProviderData) bool {
	return slices.ContainsFunc(data, func(d ProviderData) bool { return d.ParentID != 0 })
}

// randomEdits changes one to four providers of data, adds new ones with
// ids above last (ids are never used again) or deletes ones without
// children, and returns the new data, the ids it changed and those it
// deleted.
func randomEdits(r *rand.Rand, data []ProviderData, last int64) ([]ProviderData, map[int64]bool, []int64) {
	data = slices.Clone(data)
	traits := []string{"CUSTOM_T1", "CUSTOM_T2", "CUSTOM_T3", "CUSTOM_NEW", SharingTrait}
	aggs := []string{aggUUID("G1"), aggUUID("G2"), aggUUID("G3")}
	toggle := func(list []string, x string) []string {
		if i := slices.Index(list, x); i >= 0 {
			return slices.Delete(slices.Clone(list), i, i+1)
		}
		return append(slices.Clone(list), x)
	}
	touched, created := map[int64]bool{}, map[int64]bool{}
	var gone []int64
	for range 1 + r.IntN(4) {
		if r.Float64() < 0.15 && len(data) > 1 {
			k := r.IntN(len(data))
			id := data[k].ID
			if !slices.ContainsFunc(data, func(d ProviderData) bool { return d.ID != id && (d.ParentID == id || d.RootID == id) }) {
				data = slices.Delete(data, k, k+1)
				if !created[id] { // one created since is simply not there
					gone = append(gone, id)
				}
				delete(touched, id)
			}
			continue
		}
		if r.Float64() < 0.3 {
			last = max(last, data[len(data)-1].ID)
			d := ProviderData{ID: last + 1 + int64(r.IntN(3)), Inventories: []Inventory{iv("VCPU", 1+r.IntN(4))}}
			d.UUID, d.RootID = provUUID(int(d.ID)), d.ID
			if r.Float64() < 0.6 {
				parent := data[r.IntN(len(data))]
				d.ParentID, d.RootID = parent.ID, parent.RootID
			}
			if r.Float64() < 0.3 {
				d.Traits = []string{traits[r.IntN(len(traits))]}
			}
			if r.Float64() < 0.4 {
				d.Aggregates = []string{aggs[r.IntN(len(aggs))]}
			}
			data = append(data, d)
			touched[d.ID], created[d.ID] = true, true
			continue
		}
		k := r.IntN(len(data))
		d := &data[k]
		switch r.IntN(5) {
		case 4:
			reparent(r, data, k, touched)
		case 0:
			d.Traits = toggle(d.Traits, traits[r.IntN(len(traits))])
		case 1:
			d.Aggregates = toggle(d.Aggregates, aggs[r.IntN(len(aggs))])
		case 2:
			invs := slices.Clone(d.Inventories)
			if i := r.IntN(4); i < len(invs) {
				invs = slices.Delete(invs, i, i+1)
			} else if !slices.ContainsFunc(invs, func(x Inventory) bool { return x.Class == "CUSTOM_NEW" }) {
				invs = append(invs, iv("CUSTOM_NEW", 2))
			}
			d.Inventories = invs
		default:
			if len(d.Inventories) > 0 {
				d.Inventories = slices.Clone(d.Inventories)
				d.Inventories[0].Used = int64(r.IntN(3))
			}
		}
		touched[d.ID] = true
	}
	return data, touched, gone
}

// TestUpdate_Refuses: changes Update cannot make in place.
func TestUpdate_Refuses(t *testing.T) {
	data := []ProviderData{
		{ID: 1, UUID: "r1", RootID: 1},
		{ID: 2, UUID: "c2", ParentID: 1, RootID: 1},
		{ID: 4, UUID: "r4", RootID: 4},
	}
	s, err := NewSnapshot(data, true)
	if err != nil {
		t.Fatal(err)
	}
	for name, changed := range map[string][]ProviderData{
		"another uuid":                   {{ID: 4, UUID: "x4", RootID: 4}},
		"a root moved without its child": {{ID: 1, UUID: "r1", ParentID: 4, RootID: 4}},
		"moved under a child":            {{ID: 4, UUID: "r4", ParentID: 2, RootID: 2}},
		"new below the highest id":       {{ID: 3, UUID: "n3", RootID: 3}},
		"new with no parent known":       {{ID: 5, UUID: "n5", ParentID: 9, RootID: 1}},
		"an id twice":                    {{ID: 4, UUID: "r4", RootID: 4, Traits: []string{"A"}}, {ID: 4, UUID: "r4", RootID: 4}},
	} {
		if _, ok := s.Update(changed, nil); ok {
			t.Errorf("%s: Update accepted %+v", name, changed)
		}
	}
	for name, gone := range map[string][]int64{
		"a root with a child":     {1},
		"an unknown provider":     {3},
		"a provider twice":        {4, 4},
		"a parent of a new child": {2},
	} {
		var changed []ProviderData
		if name == "a parent of a new child" {
			changed = []ProviderData{{ID: 5, UUID: "n5", ParentID: 2, RootID: 1}}
		}
		if _, ok := s.Update(changed, gone); ok {
			t.Errorf("deleting %s: Update accepted %v", name, gone)
		}
	}
	for name, changed := range map[string][]ProviderData{
		"another parent": {{ID: 2, UUID: "c2", ParentID: 4, RootID: 4}},
		"made a root":    {{ID: 2, UUID: "c2", RootID: 2}},
		// created, then re-parented under one created after it
		"new with a later parent": {{ID: 5, UUID: "n5", ParentID: 6, RootID: 6}, {ID: 6, UUID: "n6", RootID: 6}},
	} {
		if _, ok := s.Update(changed, nil); !ok {
			t.Errorf("%s: Update refused %+v", name, changed)
		}
	}
	u, ok := s.Update([]ProviderData{{ID: 5, UUID: "n5", ParentID: 2, RootID: 1}, {ID: 7, UUID: "n7", RootID: 7}}, nil)
	if !ok || u.Len() != 5 {
		t.Fatalf("Update refused a child and a root added: %v", ok)
	}
	if i, ok := u.ProviderByUUID("n5"); !ok || u.Provider(i).ID != 5 || u.Provider(u.Provider(i).Parent).UUID != "c2" {
		t.Errorf("new child at %d, %v", i, ok)
	}
}

// TestUpdate_AddsWithoutCopyingEverything: adding providers one update
// at a time keeps every chunk but the last shared, and finds each by
// uuid, across the merges of the uuids added into the index.
func TestUpdate_AddsWithoutCopyingEverything(t *testing.T) {
	var data []ProviderData
	for i := 1; i <= 4*ChunkSize; i++ {
		data = append(data, ProviderData{ID: int64(i), UUID: fmt.Sprintf("u%d", i), RootID: int64(i)})
	}
	s, err := NewSnapshot(data, false)
	if err != nil {
		t.Fatal(err)
	}
	for k := 1; k <= 3000; k++ {
		id := int64(4*ChunkSize + k)
		u, ok := s.Update([]ProviderData{{ID: id, UUID: fmt.Sprintf("u%d", id), RootID: id}}, nil)
		if !ok {
			t.Fatalf("Update refused provider %d", id)
		}
		if !SharesChunk(u, s, 0) {
			t.Fatalf("adding provider %d copied the first chunk", id)
		}
		s = u
	}
	for i := range int32(s.Len()) {
		if at, ok := s.ProviderByUUID(s.Provider(i).UUID); !ok || at != i {
			t.Fatalf("provider %d found at %d, %v", i, at, ok)
		}
	}
	if len(SnapshotRoots(s)) != s.Len() {
		t.Errorf("%d roots of %d providers", len(SnapshotRoots(s)), s.Len())
	}
}

// reparent gives data[k] another parent (or none), not in its own
// subtree, and its subtree that parent's root; it marks them touched.
func reparent(r *rand.Rand, data []ProviderData, k int, touched map[int64]bool) {
	sub := map[int64]bool{data[k].ID: true}
	for grew := true; grew; {
		grew = false
		for _, d := range data {
			if !sub[d.ID] && sub[d.ParentID] {
				sub[d.ID], grew = true, true
			}
		}
	}
	var parents []ProviderData
	for _, d := range data {
		if !sub[d.ID] {
			parents = append(parents, d)
		}
	}
	parent, root := int64(0), data[k].ID
	if len(parents) > 0 && r.IntN(3) > 0 {
		p := parents[r.IntN(len(parents))]
		parent, root = p.ID, p.RootID
	}
	data[k].ParentID = parent
	for i := range data {
		if sub[data[i].ID] {
			data[i].RootID = root
			touched[data[i].ID] = true
		}
	}
}
