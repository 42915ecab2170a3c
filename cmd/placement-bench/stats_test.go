package main

import (
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	t.Parallel()
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"no samples give zero", nil, 50, 0},
		{"one sample is every percentile", ms(7), 95, 7 * time.Millisecond},
		{"the median of an odd count is the middle sample", ms(1, 2, 3), 50, 2 * time.Millisecond},
		{"the median of an even count interpolates", ms(1, 2, 3, 4), 50, 2500 * time.Microsecond},
		{"p0 is the minimum", ms(1, 5, 9), 0, time.Millisecond},
		{"p100 is the maximum", ms(1, 5, 9), 100, 9 * time.Millisecond},
		{"p95 of 1..20 interpolates like numpy", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20), 95, 19050 * time.Microsecond},
		{"out-of-range p is clamped", ms(1, 2), 150, 2 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Percentile(tt.sorted, tt.p); got != tt.want {
				t.Errorf("Percentile(%v, %v) = %v, want %v", tt.sorted, tt.p, got, tt.want)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	t.Parallel()
	t.Run("unsorted samples are sorted without touching the input", func(t *testing.T) {
		ms := time.Millisecond
		in := []time.Duration{40 * ms, 10 * ms, 30 * ms, 20 * ms}
		got := Summarize(in)
		want := Summary{N: 4, Min: 10 * ms, Median: 25 * ms, P95: 38500 * time.Microsecond, P99: 39700 * time.Microsecond, Max: 40 * ms, Mean: 25 * ms}
		if got != want {
			t.Errorf("Summarize = %+v, want %+v", got, want)
		}
		if in[0] != 40*ms {
			t.Errorf("input was reordered: %v", in)
		}
	})
	t.Run("no samples give a zero summary", func(t *testing.T) {
		if got := Summarize(nil); got != (Summary{}) {
			t.Errorf("Summarize(nil) = %+v", got)
		}
	})
}

func TestRate(t *testing.T) {
	t.Parallel()
	if got := Rate(50, 2*time.Second); got != 25 {
		t.Errorf("Rate(50, 2s) = %v, want 25", got)
	}
	if got := Rate(50, 0); got != 0 {
		t.Errorf("Rate(50, 0) = %v, want 0", got)
	}
}
