package config

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestSampleDocumentsEveryOption: every option this service acts on is
// documented, under its group, in api-ref/samples/placement.conf (the
// configuration reference), so the reference cannot fall behind the code.
func TestSampleDocumentsEveryOption(t *testing.T) {
	data, err := os.ReadFile("../../api-ref/samples/placement.conf")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{} // "group.option"
	group := ""
	section := regexp.MustCompile(`^\[([A-Za-z_]+)\]\s*$`)
	opt := regexp.MustCompile(`^#?\s*([a-z_]+)\s*=`)
	for _, line := range strings.Split(string(data), "\n") {
		if m := section.FindStringSubmatch(line); m != nil {
			group = m[1]
			continue
		}
		if m := opt.FindStringSubmatch(line); m != nil && group != "" {
			documented[group+"."+m[1]] = true
		}
	}
	var missing []string
	for g, grp := range groups {
		for name, o := range grp.options {
			if o.set == nil || o.alias != "" {
				continue // accepted and ignored, or another name of an option
			}
			if !documented[g+"."+name] {
				missing = append(missing, "["+g+"] "+name)
			}
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Errorf("options not documented in api-ref/samples/placement.conf:\n%s", strings.Join(missing, "\n"))
	}
}
