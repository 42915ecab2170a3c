package inventory

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/openstack-placement-go/placement/internal/microversion"
	"github.com/openstack-placement-go/placement/internal/placement"
)

func TestPyNumber(t *testing.T) {
	t.Parallel()
	// What upstream echoes for each token: Python parses integer literals
	// as int and everything else as float, then re-serialises.
	tests := map[string]string{
		"16":         "16",
		"16.0":       "16.0",
		"0":          "0",
		"-0":         "0",
		"0.0":        "0.0",
		"-0.0":       "-0.0",
		"1.50":       "1.5",
		"1e2":        "100.0",
		"1E-300":     "1e-300",
		"1e16":       "1e+16",
		"-0.5":       "-0.5",
		"2147483647": "2147483647",
	}
	for in, want := range tests {
		if got := string(pyNumber(json.Number(in))); got != want {
			t.Errorf("pyNumber(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestFromBody(t *testing.T) {
	t.Parallel()
	var b body
	if err := json.Unmarshal([]byte(`{"total": 16.0, "allocation_ratio": 0, "max_unit": 8}`), &b); err != nil {
		t.Fatal(err)
	}
	inv, rec := fromBody(b)
	want := placement.Inventory{Total: 16, Reserved: 0, MinUnit: 1, MaxUnit: 8, StepSize: 1, AllocationRatio: 0}
	if inv != want {
		t.Errorf("inventory = %+v, want %+v", inv, want)
	}
	got, _ := json.Marshal(rec)
	const wantJSON = `{"total":16.0,"reserved":0,"min_unit":1,"max_unit":8,"step_size":1,"allocation_ratio":0}`
	if string(got) != wantJSON {
		t.Errorf("echo = %s, want %s", got, wantJSON)
	}

	b = body{Total: "4"}
	_, rec = fromBody(b)
	got, _ = json.Marshal(rec)
	if !strings.Contains(string(got), `"max_unit":2147483647`) || !strings.Contains(string(got), `"allocation_ratio":1.0`) {
		t.Errorf("defaults echo = %s", got)
	}
}

func TestFromInventory(t *testing.T) {
	t.Parallel()
	rec := fromInventory(placement.Inventory{Total: 4, MinUnit: 1, MaxUnit: 4, StepSize: 1, AllocationRatio: 16})
	got, _ := json.Marshal(rec)
	const want = `{"total":4,"reserved":0,"min_unit":1,"max_unit":4,"step_size":1,"allocation_ratio":16.0}`
	if string(got) != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestCapacityError(t *testing.T) {
	t.Parallel()
	v := func(minor int) microversion.Version { return microversion.Version{Major: 1, Minor: minor} }
	inv := func(total, reserved int, ratio float64) placement.Inventory {
		return placement.Inventory{Total: total, Reserved: reserved, MinUnit: 1, MaxUnit: total, StepSize: 1, AllocationRatio: ratio}
	}
	const geq = "greater than or equal to total."
	const gt = "The reserved value is greater than total."
	tests := []struct {
		name    string
		version int
		inv     placement.Inventory
		want    string // "" means accepted
	}{
		{"positive capacity is fine before 1.26", 25, inv(10, 9, 1), ""},
		{"reserved equal to total is refused before 1.26", 25, inv(10, 10, 1), geq},
		{"reserved equal to total is fine from 1.26", 26, inv(10, 10, 1), ""},
		{"reserved above total is refused from 1.26", 26, inv(10, 11, 1), gt},
		{"ratio zero is refused before 1.26", 25, inv(10, 0, 0), geq},
		{"ratio zero is fine from 1.26", 39, inv(10, 0, 0), ""},
		{"capacity truncated to zero is refused before 1.26", 25, inv(4, 0, 0.2), geq},
		{"capacity truncated to zero is fine from 1.26", 26, inv(4, 0, 0.2), ""},
		{"negative ratio is refused", 39, inv(10, 0, -1), gt},
		{"negative capacity above -1 truncates to zero, as upstream", 39, inv(2, 1, -0.5), ""},
		{"a fractional capacity above one is fine", 1, inv(3, 0, 0.5), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := capacityError(v(tc.version), "u", "VCPU", tc.inv)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.HasSuffix(err.Error(), tc.want)):
				t.Errorf("error = %v, want suffix %q", err, tc.want)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "Invalid inventory for 'VCPU' on resource provider 'u'.") {
				t.Errorf("message = %q", err)
			}
		})
	}
}
