package main

import (
	"strings"
	"testing"
)

func TestMetricRatio(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		m    Metric
		want string
	}{
		{"lower latency is better", Metric{Better: Lower, Ours: 5, Ref: 50, HasOur: true, HasRef: true}, "0.10 (10.0× better)"},
		{"higher latency is worse", Metric{Better: Lower, Ours: 100, Ref: 50, HasOur: true, HasRef: true}, "2.00 (2.0× worse)"},
		{"a higher rate is better", Metric{Better: Higher, Ours: 300, Ref: 100, HasOur: true, HasRef: true}, "3.00 (3.0× better)"},
		{"a lower rate is worse", Metric{Better: Higher, Ours: 25, Ref: 100, HasOur: true, HasRef: true}, "0.25 (4.0× worse)"},
		{"within 5% is about the same", Metric{Better: Higher, Ours: 102, Ref: 100, HasOur: true, HasRef: true}, "1.02 (about the same)"},
		{"equal counts are the same", Metric{Better: Neither, Ours: 25, Ref: 25, HasOur: true, HasRef: true}, "1.00 (same)"},
		{"different counts show only the ratio", Metric{Better: Neither, Ours: 3, Ref: 6, HasOur: true, HasRef: true}, "0.50"},
		{"two zeros are equal", Metric{Better: Neither, HasOur: true, HasRef: true}, "="},
		{"a zero reference has no ratio", Metric{Better: Neither, Ours: 1, HasOur: true, HasRef: true}, "-"},
		{"a missing side has no ratio", Metric{Better: Lower, Ours: 1, HasOur: true}, "-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.m.Ratio(); got != tt.want {
				t.Errorf("Ratio() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFormatValue(t *testing.T) {
	t.Parallel()
	for in, want := range map[float64]string{0: "0", 25: "25", 1234.56: "1235", 42.345: "42.3", 3.14159: "3.14", 0.5: "0.50"} {
		if got := formatValue(in); got != want {
			t.Errorf("formatValue(%v) = %q, want %q", in, got, want)
		}
	}
}

func TestRender(t *testing.T) {
	t.Parallel()
	r := &Results{}
	r.Set("flat: latency median", "ms", Lower, false, 5.5)
	r.Set("flat: latency median", "ms", Lower, true, 55)
	r.Set("flat: candidates returned", "", Neither, false, 500)
	r.Set("flat: load rate", "providers/s", Higher, true, 9.5)

	tests := []struct {
		name    string
		withRef bool
		want    string
	}{
		{"with a reference it prints four aligned columns", true,
			"| metric                        | ours | reference |      ours/reference |\n" +
				"| ----------------------------- | ---: | --------: | ------------------: |\n" +
				"| flat: latency median (ms)     | 5.50 |        55 | 0.10 (10.0× better) |\n" +
				"| flat: candidates returned     |  500 |         - |                   - |\n" +
				"| flat: load rate (providers/s) |    - |      9.50 |                   - |\n"},
		{"without a reference it prints two columns", false,
			"| metric                        | ours |\n" +
				"| ----------------------------- | ---: |\n" +
				"| flat: latency median (ms)     | 5.50 |\n" +
				"| flat: candidates returned     |  500 |\n" +
				"| flat: load rate (providers/s) |    - |\n"},
	}
	for _, tt := range tests {
		var b strings.Builder
		Render(&b, r, tt.withRef)
		if b.String() != tt.want {
			t.Errorf("%s: Render =\n%s\nwant\n%s", tt.name, b.String(), tt.want)
		}
	}
}

func TestResultsSet_replacesTheSameSide(t *testing.T) {
	t.Parallel()
	r := &Results{}
	r.Set("x", "", Neither, false, 1)
	r.Set("x", "", Neither, false, 2)
	if rows := r.Rows(); len(rows) != 1 || rows[0].Ours != 2 || rows[0].HasRef {
		t.Errorf("rows = %+v", rows[0])
	}
}
