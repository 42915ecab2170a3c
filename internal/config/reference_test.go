package config

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var updateDocs = flag.Bool("update-docs", false, "rewrite the generated part of docs/configuration.md")

// Markers around the generated part of docs/configuration.md.
const (
	beginGenerated = "<!-- BEGIN GENERATED: options (go test ./internal/config -run TestConfigurationPage -update-docs; make docs) -->\n"
	endGenerated   = "<!-- END GENERATED -->\n"
)

// TestConfigurationPage keeps the option reference in
// docs/configuration.md equal to what Reference generates from the option
// table; make docs (go test ./internal/config -run TestConfigurationPage
// -update-docs) rewrites it.
func TestConfigurationPage(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "configuration.md")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	page := string(data)
	head, rest, ok := strings.Cut(page, beginGenerated)
	_, tail, ok2 := strings.Cut(rest, endGenerated)
	if !ok || !ok2 {
		t.Fatalf("%s lacks the markers %q and %q", path, beginGenerated, endGenerated)
	}
	want := head + beginGenerated + "\n" + Reference() + "\n" + endGenerated + tail
	if *updateDocs && want != page {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		page = want
	}
	if page != want {
		t.Fatalf("%s is out of date: run make docs", path)
	}
}

// TestOptionDocs: every option the service acts on is documented in
// optionDocs and has a type, and optionDocs names no other option.
func TestOptionDocs(t *testing.T) {
	t.Parallel()
	var missing, stale []string
	for g, grp := range groups {
		if !slices.Contains(groupOrder, g) && !grp.silent {
			t.Errorf("group [%s] is not in groupOrder, so not on the configuration page", g)
		}
		for name, o := range grp.options {
			if o.set == nil || o.alias != "" {
				continue
			}
			if optionDocs[g+"."+name].help == "" {
				missing = append(missing, g+"."+name)
			}
			if o.kind == "" || o.get == nil {
				t.Errorf("option %s.%s has no kind or getter", g, name)
			}
		}
	}
	for key := range optionDocs {
		g, name, _ := strings.Cut(key, ".")
		if o, ok := groups[g].options[name]; !ok || o.set == nil || o.alias != "" {
			stale = append(stale, key)
		}
	}
	slices.Sort(missing)
	slices.Sort(stale)
	if len(missing) > 0 {
		t.Errorf("options without an entry in optionDocs: %s", strings.Join(missing, ", "))
	}
	if len(stale) > 0 {
		t.Errorf("optionDocs entries for options the table does not act on: %s", strings.Join(stale, ", "))
	}
}

// TestReference_ListsEveryOption: the generated text names every option of
// every group in groupOrder, ignored ones and deprecated names included.
func TestReference_ListsEveryOption(t *testing.T) {
	t.Parallel()
	ref := Reference()
	for _, g := range groupOrder {
		if !strings.Contains(ref, "### ["+g+"]\n") {
			t.Errorf("no section for [%s]", g)
		}
		for name := range groups[g].options {
			if !strings.Contains(ref, "`"+name+"`") {
				t.Errorf("[%s] %s is not on the page", g, name)
			}
		}
	}
	if !strings.Contains(ref, "| `max_allocation_candidates` | integer | `-1` |") {
		t.Errorf("defaults are not rendered from Defaults():\n%s", ref)
	}
}
