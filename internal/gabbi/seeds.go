package gabbi

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Seed is one request of a gabbit file, for seeding fuzz targets: its
// method, path, raw query, request headers and JSON body (nil for none).
// Substitutions are replaced by fixed values ($ENVIRON by a uuid), so a
// seed is a plausible request rather than the exact one the test sends.
type Seed struct {
	Method, Path, RawQuery string
	Headers                map[string]string
	Body                   []byte
}

var substitution = regexp.MustCompile(`\$(ENVIRON|RESPONSE|HISTORY\[[^\]]*\]\.\$RESPONSE|LOCATION|HEADERS)(\['[^']*'\]|\[\"[^\"]*\"\])?`)

// seedUUID stands for every substitution.
const seedUUID = "5a3ad8de-6f3b-4c6e-9d57-8b6b0f2f8c11"

func unsubstitute(s string) string { return substitution.ReplaceAllString(s, seedUUID) }

// Seeds reads every *.yaml gabbit file in dir and returns its requests.
// Files that do not parse are skipped.
func Seeds(dir string) ([]Seed, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	var out []Seed
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		suite, err := Parse(data)
		if err != nil {
			continue
		}
		for _, t := range suite.Tests {
			out = append(out, seedOf(t))
		}
	}
	return out, nil
}

// MustSeeds is Seeds for a fuzz test (or any test): it fails tb when dir
// cannot be read.
func MustSeeds(tb testing.TB, dir string) []Seed {
	tb.Helper()
	seeds, err := Seeds(dir)
	if err != nil {
		tb.Fatal(err)
	}
	return seeds
}

func seedOf(t Test) Seed {
	s := Seed{Method: t.Method, Headers: map[string]string{}}
	for _, h := range t.RequestHeaders {
		s.Headers[strings.ToLower(h.Name)] = unsubstitute(h.Value)
	}
	u := unsubstitute(t.URL)
	s.Path, s.RawQuery, _ = strings.Cut(u, "?")
	if len(t.QueryParameters) > 0 {
		q, _ := url.ParseQuery(s.RawQuery)
		for _, p := range t.QueryParameters {
			for _, v := range p.Values {
				q.Add(p.Name, unsubstitute(fmt.Sprint(v)))
			}
		}
		s.RawQuery = q.Encode()
	}
	switch d := t.Data.(type) {
	case nil:
	case string:
		if d != "" {
			s.Body = []byte(unsubstitute(d))
		}
	default:
		if b, err := json.Marshal(d); err == nil {
			s.Body = []byte(unsubstitute(string(b)))
		}
	}
	return s
}
