package textbox

import (
	"strings"
	"testing"
)

// TestWrite compares the centred table with prettytable 3.6's output for
// the same rows.
func TestWrite(t *testing.T) {
	t.Parallel()
	rows := [][]string{{"abc", "7"}, {"abcd", "12"}}
	tests := []struct {
		name  string
		align Align
		want  string
	}{
		{"centred as prettytable", Centre, `+------+-------+
|  ab  | Total |
+------+-------+
| abc  |   7   |
| abcd |   12  |
+------+-------+
`},
		{"first column left, the others right", FirstLeft, `+------+-------+
| ab   | Total |
+------+-------+
| abc  |     7 |
| abcd |    12 |
+------+-------+
`},
	}
	for _, tt := range tests {
		var b strings.Builder
		Write(&b, []string{"ab", "Total"}, rows, tt.align)
		if b.String() != tt.want {
			t.Errorf("%s:\n%swant\n%s", tt.name, b.String(), tt.want)
		}
	}
}
