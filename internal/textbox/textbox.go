// Package textbox draws the boxed tables that the command-line tools
// print, in the layout of Python's prettytable.
package textbox

import (
	"fmt"
	"io"
	"strings"
)

// Align pads text to width for the cell in column col.
type Align func(col int, text string, width int) string

// Centre centres every cell as prettytable does by default: an odd
// leftover space goes right of odd-length text and left of even-length
// text.
func Centre(_ int, text string, width int) string {
	pad := width - len(text)
	l := pad / 2
	if pad%2 == 1 && len(text)%2 == 0 {
		l++
	}
	return strings.Repeat(" ", l) + text + strings.Repeat(" ", pad-l)
}

// FirstLeft aligns the first column left and the others right.
func FirstLeft(col int, text string, width int) string {
	if col == 0 {
		return fmt.Sprintf("%-*s", width, text)
	}
	return fmt.Sprintf("%*s", width, text)
}

// Write draws header and rows to w, each column as wide as its widest
// cell, between borders of - and +.
func Write(w io.Writer, header []string, rows [][]string, align Align) {
	widths := make([]int, len(header))
	for i, h := range header {
		widths[i] = len(h)
	}
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], len(c))
		}
	}
	border := "+"
	for _, n := range widths {
		border += strings.Repeat("-", n+2) + "+"
	}
	line := func(cells []string) {
		var b strings.Builder
		b.WriteString("|")
		for i, c := range cells {
			b.WriteString(" " + align(i, c, widths[i]) + " |")
		}
		fmt.Fprintln(w, b.String())
	}
	fmt.Fprintln(w, border)
	line(header)
	fmt.Fprintln(w, border)
	for _, r := range rows {
		line(r)
	}
	fmt.Fprintln(w, border)
}
