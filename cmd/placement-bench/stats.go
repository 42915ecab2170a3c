package main

import (
	"math"
	"slices"
	"time"
)

// Summary is the latency distribution of one series of requests.
type Summary struct {
	N                int
	Min, Median, P95 time.Duration
	P99              time.Duration
	Max              time.Duration
	Mean             time.Duration
}

// Summarize returns the distribution of samples; percentiles use linear
// interpolation between closest ranks (numpy's default), so the median of an
// even count is the mean of the two middle samples.
func Summarize(samples []time.Duration) Summary {
	if len(samples) == 0 {
		return Summary{}
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	return Summary{
		N:      len(s),
		Min:    s[0],
		Median: Percentile(s, 50),
		P95:    Percentile(s, 95),
		P99:    Percentile(s, 99),
		Max:    s[len(s)-1],
		Mean:   sum / time.Duration(len(s)),
	}
}

// Percentile returns the p-th percentile (0–100) of sorted samples with
// linear interpolation between closest ranks. It returns 0 for no samples.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	p = math.Max(0, math.Min(100, p))
	rank := p / 100 * float64(len(sorted)-1)
	lo := int(math.Floor(rank))
	hi := int(math.Ceil(rank))
	frac := rank - float64(lo)
	return sorted[lo] + time.Duration(math.Round(frac*float64(sorted[hi]-sorted[lo])))
}

// Rate returns count per second over elapsed, 0 when nothing was timed.
func Rate(count int, elapsed time.Duration) float64 {
	if elapsed <= 0 {
		return 0
	}
	return float64(count) / elapsed.Seconds()
}
