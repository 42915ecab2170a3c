package transfer

import (
	"bytes"
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/openstack-placement-go/placement/migrations"
)

// TestTables_MatchSchema checks that the copied columns are exactly the
// columns of the upstream tables in our initial migration, so that a
// schema change cannot silently leave a column behind.
func TestTables_MatchSchema(t *testing.T) {
	t.Parallel()
	data, err := fs.ReadFile(migrations.FS, "0001_initial.up.sql")
	if err != nil {
		t.Fatal(err)
	}
	create := regexp.MustCompile(`(?s)CREATE TABLE (\w+) \((.*?)\n\);`)
	column := regexp.MustCompile(`(?m)^    (\w+) \w`)
	schema := map[string][]string{}
	for _, m := range create.FindAllSubmatch(data, -1) {
		var cols []string
		for _, c := range column.FindAllSubmatch(m[2], -1) {
			if name := string(c[1]); name != "CONSTRAINT" {
				cols = append(cols, name)
			}
		}
		slices.Sort(cols)
		schema[string(m[1])] = cols
	}
	delete(schema, "alembic_version")
	if len(schema) != len(tables) {
		t.Errorf("the migration creates %d upstream tables, we copy %d", len(schema), len(tables))
	}
	for _, tb := range tables {
		got := slices.Sorted(slices.Values(tb.names()))
		if want := schema[tb.name]; !slices.Equal(got, want) {
			t.Errorf("%s: copied columns %v, schema has %v", tb.name, got, want)
		}
		for _, k := range tb.pk {
			if !slices.Contains(got, k) {
				t.Errorf("%s: primary key column %s is not copied", tb.name, k)
			}
		}
	}
}

func TestPrintResults(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	ok := printResults(&b, "source", "target", []result{
		{table: "traits", source: 3, target: 3, sourceSum: "a", targetSum: "a"},
		{table: "inventories", source: 2, target: 2, sourceSum: "a", targetSum: "b"},
	})
	if ok {
		t.Error("a checksum mismatch verified")
	}
	if !strings.Contains(b.String(), "| inventories |           2 |           2 |             NO |") ||
		!strings.Contains(b.String(), "| traits      |           3 |           3 |            yes |") {
		t.Errorf("table:\n%s", b.String())
	}
	b.Reset()
	if printResults(&b, "source", "target", []result{{table: "users", source: 2, target: 1, sourceSum: "a", targetSum: "a"}}) {
		t.Error("a row count mismatch verified")
	}
}
