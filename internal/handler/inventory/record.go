package inventory

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"github.com/openstack-placement-go/placement/internal/microversion"
	"github.com/openstack-placement-go/placement/internal/placement"
	"github.com/openstack-placement-go/placement/internal/pycompat"
)

// body is an inventory record as sent. Numbers stay json.Number so that
// write responses can echo them the way upstream does (spec 03 §1.3).
type body struct {
	ResourceClass   string       `json:"resource_class"`
	Generation      *json.Number `json:"resource_provider_generation"`
	Total           json.Number  `json:"total"`
	Reserved        *json.Number `json:"reserved"`
	MinUnit         *json.Number `json:"min_unit"`
	MaxUnit         *json.Number `json:"max_unit"`
	StepSize        *json.Number `json:"step_size"`
	AllocationRatio *json.Number `json:"allocation_ratio"`
}

// record is an inventory record as returned. Generation is set in
// single-record responses and nil inside the collection.
type record struct {
	Total           json.RawMessage `json:"total"`
	Reserved        json.RawMessage `json:"reserved"`
	MinUnit         json.RawMessage `json:"min_unit"`
	MaxUnit         json.RawMessage `json:"max_unit"`
	StepSize        json.RawMessage `json:"step_size"`
	AllocationRatio json.RawMessage `json:"allocation_ratio"`
	Generation      *int            `json:"resource_provider_generation,omitempty"`
}

// collection is the GET/PUT …/inventories representation.
type collection struct {
	Generation  int               `json:"resource_provider_generation"`
	Inventories map[string]record `json:"inventories"`
}

// Write defaults of the optional fields (spec 03 §1.1); a PUT never merges
// with the stored values.
var (
	defaultReserved = json.Number("0")
	defaultMinUnit  = json.Number("1")
	defaultMaxUnit  = json.Number("2147483647")
	defaultStepSize = json.Number("1")
	defaultRatio    = json.Number("1.0")
)

// fromBody turns a schema-validated record into the Inventory to store and
// the record to echo: defaults filled in, numbers printed as Python prints
// the values it parsed (16.0 stays 16.0, 0 stays 0).
func fromBody(b body) (placement.Inventory, record) {
	or := func(n *json.Number, def json.Number) json.Number {
		if n == nil {
			return def
		}
		return *n
	}
	reserved, minUnit := or(b.Reserved, defaultReserved), or(b.MinUnit, defaultMinUnit)
	maxUnit, stepSize := or(b.MaxUnit, defaultMaxUnit), or(b.StepSize, defaultStepSize)
	ratio := or(b.AllocationRatio, defaultRatio)
	inv := placement.Inventory{
		Total:           toInt(b.Total),
		Reserved:        toInt(reserved),
		MinUnit:         toInt(minUnit),
		MaxUnit:         toInt(maxUnit),
		StepSize:        toInt(stepSize),
		AllocationRatio: toFloat(ratio),
	}
	return inv, record{
		Total:           pyNumber(b.Total),
		Reserved:        pyNumber(reserved),
		MinUnit:         pyNumber(minUnit),
		MaxUnit:         pyNumber(maxUnit),
		StepSize:        pyNumber(stepSize),
		AllocationRatio: pyNumber(ratio),
	}
}

// FromRecord returns the inventory a record of RecordSchema describes, as
// ReadJSON decoded it, with the defaults of the fields it omits. It checks
// no capacity rule.
func FromRecord(rec *pycompat.Object) placement.Inventory {
	field := func(k string) *json.Number {
		if n, ok := rec.Get(k).(json.Number); ok {
			return &n
		}
		return nil
	}
	b := body{Reserved: field("reserved"), MinUnit: field("min_unit"), MaxUnit: field("max_unit"),
		StepSize: field("step_size"), AllocationRatio: field("allocation_ratio")}
	if t := field("total"); t != nil {
		b.Total = *t
	}
	inv, _ := fromBody(b)
	return inv
}

// fromInventory renders a stored inventory: integers, and the ratio as a
// Python float.
func fromInventory(inv placement.Inventory) record {
	i := func(v int) json.RawMessage { return json.RawMessage(strconv.Itoa(v)) }
	return record{
		Total:           i(inv.Total),
		Reserved:        i(inv.Reserved),
		MinUnit:         i(inv.MinUnit),
		MaxUnit:         i(inv.MaxUnit),
		StepSize:        i(inv.StepSize),
		AllocationRatio: json.RawMessage(pycompat.FloatRepr(inv.AllocationRatio)),
	}
}

// isIntToken reports whether a JSON number token is an integer literal,
// which Python's json module parses as int rather than float.
func isIntToken(n json.Number) bool { return !strings.ContainsAny(string(n), ".eE") }

// pyNumber prints a JSON number token the way Python re-serialises what it
// parsed: integer literals as integers, everything else as a float repr.
func pyNumber(n json.Number) json.RawMessage {
	if isIntToken(n) {
		if s := string(n); s == "-0" {
			return json.RawMessage("0")
		}
		return json.RawMessage(n)
	}
	f := toFloat(n)
	if math.IsInf(f, 0) || math.IsNaN(f) {
		// Not reachable for stored values (capacity check), but never
		// produce invalid JSON.
		return json.RawMessage(string(n))
	}
	return json.RawMessage(pycompat.FloatRepr(f))
}

// toInt converts an integer-valued token the schema has bounded to
// 0 … 2^31-1 (16.0 is an integer for the schema).
func toInt(n json.Number) int {
	if i, err := n.Int64(); err == nil {
		return int(i)
	}
	return int(toFloat(n))
}

// toFloat parses a number token; out-of-range values become ±Inf as in
// Python.
func toFloat(n json.Number) float64 {
	f, _ := strconv.ParseFloat(string(n), 64)
	return f
}

// capacityError returns the write-time capacity rule failure (spec 03 §1.2)
// for the record of class on provider uuid, or nil. Below 1.26 the capacity
// must be positive, from 1.26 it may be zero. Capacity is truncated toward
// zero as upstream's int() does; a NaN capacity (ratio ±Inf with
// total == reserved) is refused rather than crashing as upstream does.
func capacityError(v microversion.Version, uuid, class string, inv placement.Inventory) error {
	c := inv.SummaryCapacity()
	if v.AtLeast(1, 26) {
		if c < 0 || math.IsNaN(c) {
			return placement.E(placement.Invalid,
				"Invalid inventory for '%s' on resource provider '%s'. The reserved value is greater than total.", class, uuid)
		}
		return nil
	}
	if c <= 0 || math.IsNaN(c) {
		return placement.E(placement.Invalid,
			"Invalid inventory for '%s' on resource provider '%s'. The reserved value is greater than or equal to total.", class, uuid)
	}
	return nil
}
