package placement

import (
	"sort"
	"strings"
	"testing"
)

func TestStandardResourceClasses(t *testing.T) {
	t.Parallel()
	if got := len(StandardResourceClasses); got != 21 {
		t.Fatalf("len(StandardResourceClasses) = %d, want 21", got)
	}
	known := map[string]int{
		"VCPU":                                   0,
		"MEMORY_MB":                              1,
		"DISK_GB":                                2,
		"PCPU":                                   14,
		"NET_PACKET_RATE_IGR_KILOPACKET_PER_SEC": 20,
	}
	for name, id := range known {
		if StandardResourceClasses[id] != name {
			t.Errorf("StandardResourceClasses[%d] = %q, want %q", id, StandardResourceClasses[id], name)
		}
	}
	seen := map[string]bool{}
	for _, name := range StandardResourceClasses {
		if seen[name] {
			t.Errorf("duplicate standard resource class %q", name)
		}
		seen[name] = true
		if IsCustomResourceClassName(name) {
			t.Errorf("standard resource class %q looks custom", name)
		}
	}
	if len(StandardResourceClasses) >= CustomResourceClassMinID {
		t.Errorf("standard ids overlap the custom id range")
	}
}

func TestStandardTraits(t *testing.T) {
	t.Parallel()
	if got := len(StandardTraits); got != 377 {
		t.Fatalf("len(StandardTraits) = %d, want 377", got)
	}
	if !sort.StringsAreSorted(StandardTraits) {
		t.Errorf("StandardTraits is not sorted")
	}
	for i := 1; i < len(StandardTraits); i++ {
		if StandardTraits[i] == StandardTraits[i-1] {
			t.Errorf("duplicate standard trait %q", StandardTraits[i])
		}
	}
	for _, name := range StandardTraits {
		if strings.HasPrefix(name, "CUSTOM_") {
			t.Errorf("standard trait %q has the CUSTOM_ prefix", name)
		}
	}
	for _, name := range []string{"COMPUTE_ACCELERATORS", "HW_CPU_X86_AVX2", "HW_PCI_ONE_TIME_USE", "STORAGE_DISK_SSD"} {
		if i := sort.SearchStrings(StandardTraits, name); i == len(StandardTraits) || StandardTraits[i] != name {
			t.Errorf("StandardTraits lacks %q", name)
		}
	}
}

func TestIsCustomName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"a simple custom name is valid", "CUSTOM_FPGA", true},
		{"digits and underscores are allowed", "CUSTOM_A_1__2", true},
		{"the bare prefix is invalid", "CUSTOM_", false},
		{"lower case is invalid", "CUSTOM_fpga", false},
		{"a standard name is not custom", "VCPU", false},
		{"other characters are invalid", "CUSTOM_A-B", false},
		{"a trailing newline is invalid", "CUSTOM_A\n", false},
		{"255 characters are allowed", "CUSTOM_" + strings.Repeat("A", 248), true},
		{"256 characters are too many", "CUSTOM_" + strings.Repeat("A", 249), false},
		{"the empty string is invalid", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := IsCustomResourceClassName(tt.in); got != tt.want {
				t.Errorf("IsCustomResourceClassName(%q) = %v, want %v", tt.in, got, tt.want)
			}
			if got := IsCustomTraitName(tt.in); got != tt.want {
				t.Errorf("IsCustomTraitName(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}
