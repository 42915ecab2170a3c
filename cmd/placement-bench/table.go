package main

import (
	"fmt"
	"io"
	"math"
	"strings"
)

// Better says which direction of a metric is an improvement.
type Better int

// Directions of improvement; Neither is for counts that must simply match.
const (
	Neither Better = iota
	Higher
	Lower
)

// Metric is one line of the result table. A side that was not measured has
// ok == false and renders as "-".
type Metric struct {
	Name   string
	Unit   string
	Better Better
	Ours   float64
	Ref    float64
	HasOur bool
	HasRef bool
}

// Results collects metrics in the order they were measured; a later value for
// the same name and side replaces the earlier one.
type Results struct {
	rows []*Metric
}

// Set records a value for one side (ref selects the reference column).
func (r *Results) Set(name, unit string, better Better, ref bool, v float64) {
	var m *Metric
	for _, row := range r.rows {
		if row.Name == name {
			m = row
			break
		}
	}
	if m == nil {
		m = &Metric{Name: name, Unit: unit, Better: better}
		r.rows = append(r.rows, m)
	}
	if ref {
		m.Ref, m.HasRef = v, true
	} else {
		m.Ours, m.HasOur = v, true
	}
}

// Rows returns the metrics in insertion order.
func (r *Results) Rows() []*Metric { return r.rows }

// formatValue prints v with a precision that suits its size.
func formatValue(v float64) string {
	switch a := math.Abs(v); {
	case v == math.Trunc(v) && a < 1e9:
		return fmt.Sprintf("%.0f", v)
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

// Ratio renders ours/reference followed by a verdict such as
// "(3.2× better)", using the metric's direction. It is "-" when either side
// is missing or the reference is zero.
func (m *Metric) Ratio() string {
	if !m.HasOur || !m.HasRef {
		return "-"
	}
	if m.Ref == 0 {
		if m.Ours == 0 {
			return "="
		}
		return "-"
	}
	r := m.Ours / m.Ref
	s := fmt.Sprintf("%.2f", r)
	if m.Better == Neither || r <= 0 {
		if m.Ours == m.Ref {
			return s + " (same)"
		}
		return s
	}
	factor := r
	if factor < 1 {
		factor = 1 / factor
	}
	better := (r > 1) == (m.Better == Higher)
	switch {
	case factor < 1.05:
		return s + " (about the same)"
	case better:
		return fmt.Sprintf("%s (%.1f× better)", s, factor)
	default:
		return fmt.Sprintf("%s (%.1f× worse)", s, factor)
	}
}

// Render writes the results as a Markdown table. With a reference column it
// has four columns (metric | ours | reference | ratio), otherwise two.
func Render(w io.Writer, r *Results, withRef bool) {
	header := []string{"metric", "ours"}
	if withRef {
		header = append(header, "reference", "ours/reference")
	}
	rows := [][]string{header}
	cell := func(ok bool, v float64) string {
		if !ok {
			return "-"
		}
		return formatValue(v)
	}
	for _, m := range r.rows {
		name := m.Name
		if m.Unit != "" {
			name += " (" + m.Unit + ")"
		}
		row := []string{name, cell(m.HasOur, m.Ours)}
		if withRef {
			row = append(row, cell(m.HasRef, m.Ref), m.Ratio())
		}
		rows = append(rows, row)
	}
	width := make([]int, len(header))
	for _, row := range rows {
		for i, c := range row {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	line := func(row []string) {
		var b strings.Builder
		b.WriteString("|")
		for i, c := range row {
			pad := strings.Repeat(" ", width[i]-len([]rune(c)))
			if i == 0 {
				b.WriteString(" " + c + pad + " |")
			} else {
				b.WriteString(" " + pad + c + " |")
			}
		}
		fmt.Fprintln(w, b.String())
	}
	line(rows[0])
	sep := make([]string, len(header))
	for i := range sep {
		if i == 0 {
			sep[i] = strings.Repeat("-", width[i])
		} else {
			sep[i] = strings.Repeat("-", width[i]-1) + ":"
		}
	}
	var b strings.Builder
	b.WriteString("|")
	for _, s := range sep {
		b.WriteString(" " + s + " |")
	}
	fmt.Fprintln(w, b.String())
	for _, row := range rows[1:] {
		line(row)
	}
}
