package upgradecheck

import (
	"slices"
	"strings"
	"testing"
)

// TestWrap compares with Python 3's textwrap.wrap(text, 60,
// subsequent_indent='  '), whose output is pasted here.
func TestWrap(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		text string
		want []string
	}{
		{"the root provider message wraps at spaces",
			`There is at least one resource provider table record which misses its root provider id. Run the "placement-manage db online_data_migrations" command.`,
			[]string{`There is at least one resource provider table record which`, `  misses its root provider id. Run the "placement-manage db`, `  online_data_migrations" command.`}},
		{"the policy message breaks after hyphens and cuts the long URL",
			"Your policy file is JSON-formatted which is deprecated. You need to switch to YAML-formatted file. Use the ``oslopolicy-convert-json-to-yaml`` tool to convert the existing JSON-formatted files to YAML in a backwards-compatible manner: https://docs.openstack.org/oslo.policy/latest/cli/oslopolicy-convert-json-to-yaml.html.",
			[]string{"Your policy file is JSON-formatted which is deprecated. You", "  need to switch to YAML-formatted file. Use the", "  ``oslopolicy-convert-json-to-yaml`` tool to convert the", "  existing JSON-formatted files to YAML in a backwards-", "  compatible manner: https://docs.openstack.org/oslo.policy/", "  latest/cli/oslopolicy-convert-json-to-yaml.html."}},
		{"hyphens after digits or single letters do not break",
			"a-b-c-d abc-def-ghi ab-c-de x-yz-ab well-known e-mail x--y 1-2 ab-12",
			[]string{"a-b-c-d abc-def-ghi ab-c-de x-yz-ab well-known e-mail x--y", "  1-2 ab-12"}},
		{"a word longer than a line is cut",
			"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz-abc end",
			[]string{"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefgh", "  ijklmnopqrstuvwxyz-abc end"}},
		{"tabs expand to columns of eight and trailing spaces go",
			"short\twith\ttabs and   many   spaces  ",
			[]string{"short   with    tabs and   many   spaces"}},
		{"a long hyphenated word is cut at its last fitting hyphen",
			"x abcdefghij-abcdefghij-abcdefghij-abcdefghij-abcdefghij-abcdefghij-abcdefghij-abcdefghij-k",
			[]string{"x abcdefghij-abcdefghij-abcdefghij-abcdefghij-abcdefghij-", "  abcdefghij-abcdefghij-abcdefghij-k"}},
		{"the lookbehind sees the previous chunk",
			"ab-c-de ab-c-de ab-c-de ab-c-de ab-c-de ab-c-de ab-c-de ab-c-de ab-c-de ab-c-de ab-c-de ab-c-de ",
			[]string{"ab-c-de ab-c-de ab-c-de ab-c-de ab-c-de ab-c-de ab-c-de ab-", "  c-de ab-c-de ab-c-de ab-c-de ab-c-de"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := wrap(tt.text, 60, "  "); !slices.Equal(got, tt.want) {
				t.Errorf("wrap =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}
