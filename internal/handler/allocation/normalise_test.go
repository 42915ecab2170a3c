package allocation

import (
	"math"
	"reflect"
	"slices"
	"testing"

	"github.com/openstack-placement-go/placement/internal/microversion"
	"github.com/openstack-placement-go/placement/internal/placement"
	"github.com/openstack-placement-go/placement/internal/pycompat"
	"github.com/openstack-placement-go/placement/internal/schema"
)

func ver(minor int) microversion.Version { return microversion.Version{Major: 1, Minor: minor} }

func key(rp, rc string) placement.AllocationKey {
	return placement.AllocationKey{Provider: rp, Class: rc}
}

// decoded is body as web.ReadJSON returns it.
func decoded(t *testing.T, body string) *pycompat.Object {
	t.Helper()
	doc, err := schema.DecodeJSON([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	return object(doc)
}

// normaliseCase is a body and the consumer allocations it normalises to;
// v is the microversion for the forms that take one.
type normaliseCase struct {
	name string
	v    microversion.Version
	body string
	want placement.ConsumerAllocations
}

// checkNormalise runs each case's decoded body through normalise, named fn
// in failures, and wants the case's allocations and no number error.
func checkNormalise(t *testing.T, fn string, tests []normaliseCase,
	normalise func(v microversion.Version, body *pycompat.Object, n *numbers) placement.ConsumerAllocations) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var n numbers
			if got := normalise(tt.v, decoded(t, tt.body), &n); !reflect.DeepEqual(got, tt.want) || n.err() != nil {
				t.Errorf("%s = %+v, %v; want %+v", fn, got, n.err(), tt.want)
			}
		})
	}
}

func TestFromList(t *testing.T) {
	t.Parallel()
	inc := incompleteIDs{ProjectID: "ip", UserID: "iu"}
	checkNormalise(t, "fromList", []normaliseCase{{
		name: "a repeated provider keeps its first position and only its last item",
		body: `{"allocations": [{"resource_provider": {"uuid": "rp2"}, "resources": {"VCPU": 1}},
			{"resource_provider": {"uuid": "rp1"}, "resources": {"MEMORY_MB": 3}},
			{"resource_provider": {"uuid": "rp2"}, "resources": {"DISK_GB": 2, "PCPU": 1}}]}`,
		want: placement.ConsumerAllocations{ConsumerUUID: "c", ProjectID: "ip", UserID: "iu",
			Allocations: map[string]map[string]int{"rp1": {"MEMORY_MB": 3}, "rp2": {"DISK_GB": 2, "PCPU": 1}},
			Order:       []placement.AllocationKey{key("rp2", "DISK_GB"), key("rp2", "PCPU"), key("rp1", "MEMORY_MB")}},
	}, {
		name: "project and user from the body at 1.8",
		body: `{"allocations": [{"resource_provider": {"uuid": "rp1"}, "resources": {"VCPU": 16.0}}], "project_id": "p", "user_id": "u"}`,
		want: placement.ConsumerAllocations{ConsumerUUID: "c", ProjectID: "p", UserID: "u",
			Allocations: map[string]map[string]int{"rp1": {"VCPU": 16}}, Order: []placement.AllocationKey{key("rp1", "VCPU")}},
	}}, func(_ microversion.Version, body *pycompat.Object, n *numbers) placement.ConsumerAllocations {
		return fromList("c", body, inc, n)
	})
}

func TestFromEntry(t *testing.T) {
	t.Parallel()
	gen := 3
	typ := "INSTANCE"
	checkNormalise(t, "fromEntry", []normaliseCase{{
		name: "provider generation and mappings are dropped, pairs kept in body order",
		v:    ver(38),
		body: `{"allocations": {"rp2": {"resources": {"VCPU": 1, "DISK_GB": 2}, "generation": 7}, "rp1": {"resources": {"MEMORY_MB": 3}}},
			"project_id": "p", "user_id": "u", "consumer_generation": 3, "consumer_type": "INSTANCE", "mappings": {"": ["rp1"]}}`,
		want: placement.ConsumerAllocations{ConsumerUUID: "c", ProjectID: "p", UserID: "u", Generation: &gen,
			CheckGeneration: true, ConsumerType: &typ,
			Allocations: map[string]map[string]int{"rp2": {"VCPU": 1, "DISK_GB": 2}, "rp1": {"MEMORY_MB": 3}},
			Order:       []placement.AllocationKey{key("rp2", "VCPU"), key("rp2", "DISK_GB"), key("rp1", "MEMORY_MB")}},
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
			Allocations: map[string]map[string]int{"rp1": {"VCPU": 1}}, Order: []placement.AllocationKey{key("rp1", "VCPU")}},
	}}, func(v microversion.Version, body *pycompat.Object, n *numbers) placement.ConsumerAllocations {
		return fromEntry(v, "c", body, n, "")
	})
}

func TestFromEntriesKeepsBodyOrder(t *testing.T) {
	t.Parallel()
	var n numbers
	set := fromEntries(ver(13), decoded(t, `{"b": {"allocations": {}, "project_id": "p", "user_id": "u"},
		"a": {"allocations": {}, "project_id": "p", "user_id": "u"}}`), &n, "")
	if len(set) != 2 || set[0].ConsumerUUID != "b" || set[1].ConsumerUUID != "a" {
		t.Errorf("order = %v, want b, a", set)
	}
}

func TestNumbers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
		want       []int
	}{
		{"integral floats are integers", `{"a": 16.0, "b": 1e1}`, []int{16, 10}},
		// Beyond int64 (upstream's ints are unbounded): the nearest
		// int64, which matches no generation and passes no max_unit.
		{"a float no int holds", `{"a": 1, "b": 1e20, "c": -1e20}`, []int{1, math.MaxInt64, math.MinInt64}},
		{"an integer no int holds", `{"a": 100000000000000000000, "b": -100000000000000000000}`, []int{math.MaxInt64, math.MinInt64}},
	}
	for _, tt := range tests {
		var n numbers
		body := decoded(t, tt.body)
		var got []int
		for _, k := range body.Keys() {
			got = append(got, n.int(body.Get(k), "f"))
		}
		if err := n.err(); err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("%s: %v, %v; want %v", tt.name, got, err, tt.want)
		}
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
