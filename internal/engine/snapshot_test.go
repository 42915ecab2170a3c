package engine_test

import (
	"fmt"
	"testing"

	. "github.com/openstack-placement-go/placement/internal/engine"
)

// TestUpdateKeepsMemo: Update replaces the changed providers, shares
// everything else, forgets the memo of exactly the changed providers,
// and leaves the original snapshot as it was.
func TestUpdateKeepsMemo(t *testing.T) {
	data := []ProviderData{
		{ID: 1, UUID: "u1", RootID: 1, Inventories: []Inventory{iv("VCPU", 4)}},
		{ID: 2, UUID: "u2", RootID: 2, Inventories: []Inventory{iv("VCPU", 8)}},
	}
	s, err := NewSnapshot(data, false)
	if err != nil {
		t.Fatal(err)
	}
	builds := 0
	total := func(p *Provider) any { builds++; return fmt.Sprint(p.Inventories[0].Total) }
	if s.Memo(0, total) != "4" || s.Memo(1, total) != "8" || s.Memo(0, total) != "4" || builds != 2 {
		t.Fatalf("memo computed %d times", builds)
	}

	changed := data[1]
	changed.Inventories = []Inventory{iv("VCPU", 16)}
	u, ok := s.Update([]ProviderData{changed}, nil)
	if !ok {
		t.Fatal("Update refused an inventory change")
	}
	if got := u.Memo(1, total); got != "16" {
		t.Errorf("changed provider: memo %v, want 16", got)
	}
	if got := u.Memo(0, total); got != "4" || builds != 3 {
		t.Errorf("unchanged provider: memo %v after %d builds, want 4 after 3", got, builds)
	}
	if got := s.Memo(1, total); got != "8" || s.Provider(1).Inventories[0].Total != 8 {
		t.Errorf("original snapshot changed: memo %v, total %d", got, s.Provider(1).Inventories[0].Total)
	}

	traited := data[0]
	traited.Traits = []string{"CUSTOM_X"}
	v, ok := u.Update([]ProviderData{traited}, nil)
	if !ok {
		t.Fatal("Update refused a trait change")
	}
	if got := v.Memo(0, total); got != "4" || builds != 4 {
		t.Errorf("provider with a new trait: memo %v after %d builds, want 4 after 4", got, builds)
	}
	if got := v.Memo(1, total); got != "16" || builds != 4 {
		t.Errorf("unchanged provider: memo %v after %d builds, want 16 after 4", got, builds)
	}
}

// TestUpdateCopiesOnlyChangedChunks: a refresh that changes one provider
// copies the one chunk that holds it, whatever the number of providers;
// the other chunks are the original's.
func TestUpdateCopiesOnlyChangedChunks(t *testing.T) {
	var data []ProviderData
	for i := 1; i <= 3*ChunkSize+5; i++ {
		data = append(data, ProviderData{ID: int64(10 * i), UUID: fmt.Sprintf("u%d", i), RootID: int64(10 * i),
			Inventories: []Inventory{iv("VCPU", 4)}})
	}
	s, err := NewSnapshot(data, false)
	if err != nil {
		t.Fatal(err)
	}
	if Chunks(s) != 4 || s.Len() != len(data) {
		t.Fatalf("%d chunks, %d providers", Chunks(s), s.Len())
	}
	changed := data[ChunkSize+7] // in the second chunk
	changed.Inventories = []Inventory{iv("VCPU", 9)}
	u, ok := s.Update([]ProviderData{changed}, nil)
	if !ok {
		t.Fatal("Update refused an inventory change")
	}
	for c := range Chunks(s) {
		if shared := SharesChunk(u, s, c); shared != (c != 1) {
			t.Errorf("chunk %d shared = %v", c, shared)
		}
	}
	i, ok := Index(u, changed.ID)
	if !ok || i != ChunkSize+7 || u.Provider(i).Inventories[0].Total != 9 || s.Provider(i).Inventories[0].Total != 4 {
		t.Errorf("index %d %v; totals new %d, old %d", i, ok, u.Provider(i).Inventories[0].Total, s.Provider(i).Inventories[0].Total)
	}
	for k := range u.Len() {
		if got, want := u.Provider(int32(k)).ID, data[k].ID; got != want {
			t.Fatalf("provider %d has id %d, want %d", k, got, want)
		}
	}
	if _, ok := Index(u, 15); ok {
		t.Error("index found an id that is not there")
	}
	if _, ok := s.Update([]ProviderData{{ID: 15, UUID: "x", RootID: 15}}, nil); ok {
		t.Error("Update accepted an unknown provider")
	}
}
