package allocation

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/openstack-placement-go/placement/internal/microversion"
	"github.com/openstack-placement-go/placement/internal/placement"
)

func ver(minor int) microversion.Version { return microversion.Version{Major: 1, Minor: minor} }

func TestFromList(t *testing.T) {
	t.Parallel()
	inc := Incomplete{ProjectID: "ip", UserID: "iu"}
	tests := []struct {
		name string
		body string
		want placement.ConsumerAllocations
	}{{
		name: "a repeated provider keeps only its last item",
		body: `{"allocations": [{"resource_provider": {"uuid": "rp1"}, "resources": {"VCPU": 1}},
			{"resource_provider": {"uuid": "rp2"}, "resources": {"VCPU": 2}},
			{"resource_provider": {"uuid": "rp1"}, "resources": {"DISK_GB": 3}}]}`,
		want: placement.ConsumerAllocations{ConsumerUUID: "c", ProjectID: "ip", UserID: "iu",
			Allocations: map[string]map[string]int{"rp1": {"DISK_GB": 3}, "rp2": {"VCPU": 2}}},
	}, {
		name: "project and user from the body at 1.8",
		body: `{"allocations": [{"resource_provider": {"uuid": "rp1"}, "resources": {"VCPU": 1}}], "project_id": "p", "user_id": "u"}`,
		want: placement.ConsumerAllocations{ConsumerUUID: "c", ProjectID: "p", UserID: "u",
			Allocations: map[string]map[string]int{"rp1": {"VCPU": 1}}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var body listBody
			if err := json.Unmarshal([]byte(tt.body), &body); err != nil {
				t.Fatal(err)
			}
			if got := fromList("c", body, inc); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("fromList = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestFromEntry(t *testing.T) {
	t.Parallel()
	gen := 3
	typ := "INSTANCE"
	tests := []struct {
		name string
		v    microversion.Version
		body string
		want placement.ConsumerAllocations
	}{{
		name: "provider generation and mappings are dropped",
		v:    ver(38),
		body: `{"allocations": {"rp1": {"resources": {"VCPU": 1}, "generation": 7}}, "project_id": "p", "user_id": "u",
			"consumer_generation": 3, "consumer_type": "INSTANCE", "mappings": {"": ["rp1"]}}`,
		want: placement.ConsumerAllocations{ConsumerUUID: "c", ProjectID: "p", UserID: "u", Generation: &gen,
			CheckGeneration: true, ConsumerType: &typ, Allocations: map[string]map[string]int{"rp1": {"VCPU": 1}}},
	}, {
		name: "null generation means a new consumer at 1.28",
		v:    ver(28),
		body: `{"allocations": {}, "project_id": "p", "user_id": "u", "consumer_generation": null}`,
		want: placement.ConsumerAllocations{ConsumerUUID: "c", ProjectID: "p", UserID: "u", CheckGeneration: true,
			Allocations: map[string]map[string]int{}},
	}, {
		name: "no generation check before 1.28",
		v:    ver(27),
		body: `{"allocations": {"rp1": {"resources": {"VCPU": 1}}}, "project_id": "p", "user_id": "u"}`,
		want: placement.ConsumerAllocations{ConsumerUUID: "c", ProjectID: "p", UserID: "u",
			Allocations: map[string]map[string]int{"rp1": {"VCPU": 1}}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var e Entry
			if err := json.Unmarshal([]byte(tt.body), &e); err != nil {
				t.Fatal(err)
			}
			if got := FromEntry(tt.v, "c", e); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("FromEntry = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestFromEntriesKeepsBodyOrder(t *testing.T) {
	t.Parallel()
	data := []byte(`{"b": {"allocations": {}, "project_id": "p", "user_id": "u"}, "a": {"allocations": {}, "project_id": "p", "user_id": "u"}}`)
	var body map[string]Entry
	if err := json.Unmarshal(data, &body); err != nil {
		t.Fatal(err)
	}
	set := FromEntries(ver(13), body, ObjectKeys(data))
	if len(set) != 2 || set[0].ConsumerUUID != "b" || set[1].ConsumerUUID != "a" {
		t.Errorf("order = %v, want b, a", set)
	}
	if set := FromEntries(ver(13), body, nil); set[0].ConsumerUUID != "a" {
		t.Errorf("without key order: %v, want sorted", set)
	}
}

func TestCanonicalUUID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"0A1B2C3D4E5F60718293A4B5C6D7E8F9", "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9", true},
		{"{0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9}", "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9", true},
		{"urn:uuid:0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9", "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9", true},
		{"not-a-uuid", "", false},
	}
	for _, tt := range tests {
		got, ok := canonicalUUID(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("canonicalUUID(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestBodyOrder(t *testing.T) {
	t.Parallel()
	k := func(rp, rc string) placement.AllocationKey { return placement.AllocationKey{Provider: rp, Class: rc} }
	dict := `{"rp2": {"resources": {"VCPU": 1, "DISK_GB": 2}, "generation": 3}, "rp1": {"resources": {"MEMORY_MB": 3}}}`
	if got, want := dictOrder([]byte(dict)), []placement.AllocationKey{k("rp2", "VCPU"), k("rp2", "DISK_GB"), k("rp1", "MEMORY_MB")}; !reflect.DeepEqual(got, want) {
		t.Errorf("dictOrder = %v, want %v", got, want)
	}
	// A provider named twice keeps its first position and its last item's classes.
	list := `[{"resource_provider": {"uuid": "rp2"}, "resources": {"VCPU": 1}},
	          {"resource_provider": {"uuid": "rp1"}, "resources": {"MEMORY_MB": 3}},
	          {"resource_provider": {"uuid": "rp2"}, "resources": {"DISK_GB": 2, "PCPU": 1}}]`
	if got, want := listOrder([]byte(list)), []placement.AllocationKey{k("rp2", "DISK_GB"), k("rp2", "PCPU"), k("rp1", "MEMORY_MB")}; !reflect.DeepEqual(got, want) {
		t.Errorf("listOrder = %v, want %v", got, want)
	}
	set := placement.AllocationSet{{ConsumerUUID: "c2"}, {ConsumerUUID: "c1"}}
	WithBodyOrder(set, []byte(`{"c1": {"allocations": {}}, "c2": {"allocations": `+dict+`}}`))
	if set[1].Order != nil || len(set[0].Order) != 3 {
		t.Errorf("WithBodyOrder: %v", set)
	}
	if dictOrder([]byte(`[]`)) != nil || listOrder([]byte(`{}`)) != nil {
		t.Error("non-matching JSON must give no order")
	}
}
