package schema

import (
	"errors"
	"testing"

	"github.com/openstack-placement-go/placement/internal/gabbi"
)

// FuzzDecodeJSON: any body decodes or fails with a SyntaxError (the
// "Malformed JSON" 400), never panics, and a body that decodes validates
// against a schema without panicking.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range gabbi.MustSeeds(f, "../../gabbits") {
		if len(s.Body) > 0 {
			f.Add(s.Body)
		}
	}
	f.Add([]byte(`{"a": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}`))
	f.Add([]byte("{\"a\": 1, \"a\": 2, \"\xff\": \"\x00\"}"))
	s := MustCompile("fuzz", `{"type": "object", "properties": {"name": {"type": "string", "maxLength": 200},
		"n": {"type": "integer", "minimum": 1}}, "additionalProperties": false}`)
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := DecodeJSON(data); err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("DecodeJSON(%q): %v, want a SyntaxError", data, err)
			}
			return
		}
		_, _ = s.ValidateJSON(data)
	})
}
