package web

import (
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/openstack-placement-go/placement/internal/placement"
)

// TestParseQuery holds what WebOb's parse_qsl_text (upstream's request.GET)
// makes of each query string.
func TestParseQuery(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		raw  string
		want []QueryParam
	}{
		{"a=1&b=2", []QueryParam{{"a", "1"}, {"b", "2"}}},
		{"a=1;b=2", []QueryParam{{"a", "1"}, {"b", "2"}}},
		{"&&a=1;;", []QueryParam{{"a", "1"}}},
		{"a", []QueryParam{{"a", ""}}},
		{"=x", []QueryParam{{"", "x"}}},
		{"a=%zz", []QueryParam{{"a", "%zz"}}},
		{"a=%", []QueryParam{{"a", "%"}}},
		{"a=%4", []QueryParam{{"a", "\x04"}}},
		{"a=%41%4", []QueryParam{{"a", "A\x04"}}},
		{"a=%+4", []QueryParam{{"a", "\x04"}}},
		{"a=%-0x", []QueryParam{{"a", "\x00x"}}},
		{"a=%-1", []QueryParam{{"a", "%-1"}}},
		{"a=%%41", []QueryParam{{"a", "%A"}}},
		{"a+b=c+d", []QueryParam{{"a b", "c d"}}},
		{"a=%2B", []QueryParam{{"a", "+"}}},
		{"a=%e2%98%83", []QueryParam{{"a", "\xe2\x98\x83"}}},
		{"a=%0", []QueryParam{{"a", "\x00"}}},
		{"a=%_1", []QueryParam{{"a", "%_1"}}},
		{"a=%1_", []QueryParam{{"a", "%1_"}}},
		{"k=%G1", []QueryParam{{"k", "%G1"}}},
	} {
		got, err := ParseQuery(tt.raw)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseQuery(%q) = %q, %v; want %q", tt.raw, got, err, tt.want)
		}
	}
}

func TestParseQuery_NotUTF8(t *testing.T) {
	t.Parallel()
	_, err := ParseQuery("uuid=x&name=ab%FFc")
	want := "Invalid query string parameters: 'utf-8' codec can't decode byte 0xff in position 2: invalid start byte"
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %q", err, want)
	}
}

func TestParseResources(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []placement.ResourceAmount
		err  string
	}{
		{in: "VCPU:2,MEMORY_MB:1024", want: []placement.ResourceAmount{{Class: "VCPU", Amount: 2}, {Class: "MEMORY_MB", Amount: 1024}}},
		// A repeated class keeps its first position and its last amount.
		{in: "VCPU:2,DISK_GB:5,VCPU:4", want: []placement.ResourceAmount{{Class: "VCPU", Amount: 4}, {Class: "DISK_GB", Amount: 5}}},
		{in: "VCPU:99999999999999999999", want: []placement.ResourceAmount{{Class: "VCPU", Amount: math.MaxInt64}}},
		{in: "VCPU: 2", want: []placement.ResourceAmount{{Class: "VCPU", Amount: 2}}}, // Python's int() strips
		{in: " ", err: "Badly formed resources parameter. Expected resources query string parameter in form: ?resources=VCPU:2,MEMORY_MB:1024. Got: empty string."},
		{in: "VCPU", err: "Got: VCPU."},
		{in: "VCPU:1:2", err: "Got: VCPU:1:2."},
		{in: "VCPU:1,", err: "Got: ."},
		{in: "VCPU:x", err: "Requested resource VCPU expected positive integer amount. Got: x."},
		{in: "VCPU:0", err: "Requested resource VCPU requires amount >= 1. Got: 0."},
		{in: "VCPU:-3", err: "Requested resource VCPU requires amount >= 1. Got: -3."},
	} {
		got, err := ParseResources(tt.in)
		if tt.err != "" {
			if err == nil || placement.KindOf(err) != placement.Invalid || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseResources(%q) = %v, %v; want Invalid %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("ParseResources(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}
