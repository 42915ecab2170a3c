package provider

import (
	"net/url"
	"reflect"
	"testing"

	"github.com/openstack-placement-go/placement/internal/microversion"
	"github.com/openstack-placement-go/placement/internal/placement"
	"github.com/openstack-placement-go/placement/internal/store"
)

const (
	aggA = "aaaaaaaa-0000-0000-0000-000000000001"
	aggB = "bbbbbbbb-0000-0000-0000-000000000002"
)

func mv(minor int) microversion.Version { return microversion.Version{Major: 1, Minor: minor} }

func TestParseFilter(t *testing.T) {
	tests := []struct {
		name    string
		minor   int
		query   string
		want    store.ProviderFilter
		wantErr string
	}{
		{name: "nothing", minor: 0, query: ""},
		{name: "name and uuid", minor: 0, query: "name=n&uuid=" + aggA, want: store.ProviderFilter{Name: "n", UUID: aggA}},
		{name: "member_of one", minor: 3, query: "member_of=" + aggA, want: store.ProviderFilter{MemberOf: [][]string{{aggA}}}},
		{name: "member_of in", minor: 3, query: "member_of=in:" + aggA + "," + aggB, want: store.ProviderFilter{MemberOf: [][]string{{aggA, aggB}}}},
		{name: "member_of repeated before 1.24", minor: 23, query: "member_of=" + aggA + "&member_of=" + aggB, wantErr: msgMultipleMemberOf},
		{name: "member_of repeated at 1.24", minor: 24, query: "member_of=" + aggA + "&member_of=" + aggB, want: store.ProviderFilter{MemberOf: [][]string{{aggA}, {aggB}}}},
		{name: "member_of commas without in", minor: 24, query: "member_of=" + aggA + "," + aggB, wantErr: "Multiple values for 'member_of' must be prefixed with the 'in:' or '!in:' keyword using the valid microversion. Got: " + aggA + "," + aggB},
		{name: "member_of bad uuid", minor: 3, query: "member_of=in:" + aggA + ",x", wantErr: "Invalid query string parameters: Expected 'member_of' parameter to contain valid UUID(s). Got: x"},
		{name: "forbidden before 1.32", minor: 31, query: "member_of=!" + aggA, wantErr: msgForbiddenMemberOf},
		{name: "forbidden at 1.32", minor: 32, query: "member_of=!in:" + aggA + "," + aggB + "&member_of=" + aggA, want: store.ProviderFilter{MemberOf: [][]string{{aggA}}, NotMemberOf: []string{aggA, aggB}}},
		{name: "double bang", minor: 32, query: "member_of=!!" + aggA, wantErr: "Got: !" + aggA},
		{name: "required", minor: 18, query: "required=A,%20B", want: store.ProviderFilter{Required: [][]string{{"A"}, {"B"}}}},
		{name: "forbidden trait before 1.22", minor: 21, query: "required=A,!B", wantErr: "Invalid query string parameters: Expected 'required' parameter value of the form: HW_CPU_X86_VMX,CUSTOM_MAGIC. Got: A,!B"},
		{name: "forbidden trait at 1.22", minor: 22, query: "required=A,!!B", want: store.ProviderFilter{Required: [][]string{{"A"}}, Forbidden: []string{"B"}}},
		{name: "empty trait", minor: 22, query: "required=A,,B", wantErr: "Expected 'required' parameter value of the form: HW_CPU_X86_VMX,!CUSTOM_MAGIC. Got an empty trait in: A,,B"},
		{name: "empty trait before 1.22", minor: 21, query: "required=!", wantErr: "of the form: HW_CPU_X86_VMX,CUSTOM_MAGIC. Got an empty trait in: !"},
		{name: "last required wins before 1.39", minor: 38, query: "required=,&required=A", want: store.ProviderFilter{Required: [][]string{{"A"}}}},
		{name: "any-of before 1.39", minor: 38, query: "required=in:A,B", wantErr: "only supported since microversion 1.39. Got: in:A,B"},
		{name: "any-of and repetition at 1.39", minor: 39, query: "required=in:A,%20B&required=C,!D", want: store.ProviderFilter{Required: [][]string{{"A", "B"}, {"C"}}, Forbidden: []string{"D"}}},
		{name: "any-of empty", minor: 39, query: "required=in:A,", wantErr: "of the form: in:HW_CPU_X86_VMX,CUSTOM_MAGIC. Got an empty trait in: in:A,"},
		{name: "any-of forbidden", minor: 39, query: "required=in:A,!B", wantErr: "does not support forbidden traits. Got: in:A,!B"},
		{name: "resources", minor: 4, query: "resources=VCPU:2,MEMORY_MB:%20%2B1_024%20,VCPU:3", want: store.ProviderFilter{Resources: []store.ResourceAmount{{Class: "VCPU", Amount: 3}, {Class: "MEMORY_MB", Amount: 1024}}}},
		{name: "resources huge", minor: 4, query: "resources=VCPU:99999999999999999999", want: store.ProviderFilter{Resources: []store.ResourceAmount{{Class: "VCPU", Amount: maxAmount}}}},
		{name: "resources empty", minor: 4, query: "resources=%20", wantErr: "Got: empty string."},
		{name: "resources no amount", minor: 4, query: "resources=VCPU", wantErr: "?resources=VCPU:2,MEMORY_MB:1024. Got: VCPU."},
		{name: "resources not int", minor: 4, query: "resources=VCPU:1.5", wantErr: "Requested resource VCPU expected positive integer amount. Got: 1.5."},
		{name: "resources zero", minor: 4, query: "resources=VCPU:-0", wantErr: "Requested resource VCPU requires amount >= 1. Got: 0."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			got, err := parseFilter(mv(tt.minor), q)
			if tt.wantErr != "" {
				if err == nil || placement.KindOf(err) != placement.Invalid || !contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func TestCanonicalUUID(t *testing.T) {
	for in, want := range map[string]string{
		"AAAABBBBCCCCDDDDEEEEFFFF00001111":              "aaaabbbb-cccc-dddd-eeee-ffff00001111",
		"{aaaabbbb-cccc-dddd-eeee-ffff00001111}":        "aaaabbbb-cccc-dddd-eeee-ffff00001111",
		"urn:uuid:aaaabbbb-cccc-dddd-eeee-ffff00001111": "aaaabbbb-cccc-dddd-eeee-ffff00001111",
		"aaaa-bbbbccccddddeeeeffff0000-1111":            "aaaabbbb-cccc-dddd-eeee-ffff00001111",
	} {
		if got := canonicalUUID(in); got != want {
			t.Errorf("canonicalUUID(%q) = %q, want %q", in, got, want)
		}
	}
}
