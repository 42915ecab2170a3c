package placement

import "math"

// ResourceAmount is a requested amount of one resource class: a term of
// a resources query parameter.
type ResourceAmount struct {
	Class  string
	Amount int64
}

// Inventory is the amount of one resource class a provider offers.
type Inventory struct {
	Total           int
	Reserved        int
	MinUnit         int
	MaxUnit         int
	StepSize        int
	AllocationRatio float64
}

// Capacity is what may be allocated in total: (total - reserved) * ratio,
// as a float exactly like upstream computes it.
func (inv Inventory) Capacity() float64 {
	return float64(inv.Total-inv.Reserved) * inv.AllocationRatio
}

// SummaryCapacity is the capacity provider summaries show, upstream's
// int((total - reserved) * allocation_ratio): an integer, though possibly
// past int64 (allocation_ratio goes up to 3.4e38); print it with
// pycompat.AppendTrunc.
func (inv Inventory) SummaryCapacity() float64 {
	return math.Trunc(inv.Capacity())
}

// FitsUnits reports whether a single allocation of amount respects
// min_unit, max_unit and step_size.
func (inv Inventory) FitsUnits(amount int) bool {
	if amount < inv.MinUnit || amount > inv.MaxUnit {
		return false
	}
	return inv.StepSize <= 0 || amount%inv.StepSize == 0
}

// FitsCapacity reports whether amount more can be allocated on top of used.
// This is the one capacity rule: the write path and allocation candidates
// both call it, so every candidate can be claimed unchanged.
func (inv Inventory) FitsCapacity(used, amount int64) bool {
	return float64(used+amount) <= inv.Capacity()
}
