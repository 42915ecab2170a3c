package gabbi

import (
	"strings"
	"testing"
)

func TestSeeds(t *testing.T) {
	seeds, err := Seeds("../../gabbits")
	if err != nil {
		t.Fatal(err)
	}
	var candidates, bodies int
	for _, s := range seeds {
		if s.Path == "/allocation_candidates" && s.RawQuery != "" {
			candidates++
		}
		if len(s.Body) > 0 {
			bodies++
		}
		if strings.Contains(s.Path+s.RawQuery+string(s.Body), "$ENVIRON") {
			t.Errorf("unsubstituted seed: %s %s?%s %s", s.Method, s.Path, s.RawQuery, s.Body)
		}
	}
	if len(seeds) < 500 || candidates < 50 || bodies < 200 {
		t.Errorf("%d seeds, %d candidate queries, %d bodies: the gabbits hold many more", len(seeds), candidates, bodies)
	}
}

func TestMustSeeds(t *testing.T) {
	want, err := Seeds("../../gabbits")
	if err != nil {
		t.Fatal(err)
	}
	if got := MustSeeds(t, "../../gabbits"); len(got) == 0 || len(got) != len(want) {
		t.Errorf("MustSeeds gave %d seeds, Seeds %d", len(got), len(want))
	}
}
