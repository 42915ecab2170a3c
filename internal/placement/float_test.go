package placement

import (
	"encoding/json"
	"math"
	"testing"
)

func TestFormatFloat(t *testing.T) {
	t.Parallel()
	// Expected values are Python 3's repr() of the same float.
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0.0"},
		{math.Copysign(0, -1), "-0.0"},
		{1, "1.0"},
		{16, "16.0"},
		{1.5, "1.5"},
		{-0.5, "-0.5"},
		{0.3, "0.3"},
		{0.30000000000000004, "0.30000000000000004"},
		{0.0001, "0.0001"},
		{0.00001, "1e-05"},
		{0.000123, "0.000123"},
		{1e-300, "1e-300"},
		{123.456, "123.456"},
		{1e15, "1000000000000000.0"},
		{1234567890123456, "1234567890123456.0"},
		{1e16, "1e+16"},
		{1.5e16, "1.5e+16"},
		{3.40282e+38, "3.40282e+38"},
		{2147483647, "2147483647.0"},
		{-1e100, "-1e+100"},
		{5e-324, "5e-324"},
	}
	for _, tc := range tests {
		if got := FormatFloat(tc.in); got != tc.want {
			t.Errorf("FormatFloat(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestFloat_MarshalJSON(t *testing.T) {
	t.Parallel()
	got, err := json.Marshal(map[string]Float{"allocation_ratio": 16})
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != `{"allocation_ratio":16.0}` {
		t.Errorf("got %s", got)
	}
	if _, err := json.Marshal(Float(math.NaN())); err == nil {
		t.Error("NaN marshalled without error")
	}
}
