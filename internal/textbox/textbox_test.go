package textbox

import (
	"strings"
	"testing"
)

// TestWrite compares the centred table with prettytable 3.6's output for
// the same rows.
func TestWrite(t *testing.T) {
	t.Parallel()
	const border = "+------+-------+\n"
	rows := [][]string{{"abc", "7"}, {"abcd", "12"}}
	tests := []struct {
		name  string
		align Align
		body  string // the lines between the first border and the last
	}{
		{"centred as prettytable", Centre, "|  ab  | Total |\n" + border + "| abc  |   7   |\n| abcd |   12  |\n"},
		{"first column left, the others right", FirstLeft, "| ab   | Total |\n" + border + "| abc  |     7 |\n| abcd |    12 |\n"},
	}
	for _, tt := range tests {
		var b strings.Builder
		Write(&b, []string{"ab", "Total"}, rows, tt.align)
		if want := border + tt.body + border; b.String() != want {
			t.Errorf("%s:\n%swant\n%s", tt.name, b.String(), want)
		}
	}
}
