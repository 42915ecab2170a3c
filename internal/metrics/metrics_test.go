package metrics

import (
	"strings"
	"testing"
)

func TestRegistry_WriteText(t *testing.T) {
	t.Parallel()
	reg := NewRegistry()
	c := reg.NewCounter("placement_things_total", "Things.\nCounted", "route", "status")
	c.With("/resource_providers/{uuid}", "200").Inc()
	c.With("/resource_providers/{uuid}", "200").Add(2)
	c.With(`/a"b\`, "404").Inc()
	h := reg.NewHistogram("placement_seconds", "Latency.", []float64{0.1, 1}, "route")
	h.With("/").Observe(0.05)
	h.With("/").Observe(0.5)
	h.With("/").Observe(5)
	reg.NewGaugeFunc("placement_pool", "Pool.", func() []Sample { return []Sample{{Value: 3}} })
	var b strings.Builder
	if err := reg.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	want := `# HELP placement_things_total Things.\nCounted
# TYPE placement_things_total counter
placement_things_total{route="/a\"b\\",status="404"} 1
placement_things_total{route="/resource_providers/{uuid}",status="200"} 3
# HELP placement_seconds Latency.
# TYPE placement_seconds histogram
placement_seconds_bucket{route="/",le="0.1"} 1
placement_seconds_bucket{route="/",le="1"} 2
placement_seconds_bucket{route="/",le="+Inf"} 3
placement_seconds_sum{route="/"} 5.55
placement_seconds_count{route="/"} 3
# HELP placement_pool Pool.
# TYPE placement_pool gauge
placement_pool 3
`
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestNilIsANoOp(t *testing.T) {
	t.Parallel()
	var p *Placement = NewPlacement(nil)
	if p != nil {
		t.Fatal("NewPlacement(nil) should be nil")
	}
	var c *CounterVec
	c.With("x").Inc()
	var h *HistogramVec
	h.With("x").Observe(1)
	var reg *Registry
	reg.NewGaugeFunc("x", "y", nil)
	if err := reg.WriteText(&strings.Builder{}); err != nil {
		t.Fatal(err)
	}
}

func TestDuplicateNamePanics(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	reg := NewRegistry()
	reg.NewCounter("a", "a")
	reg.NewCounter("a", "a")
}
