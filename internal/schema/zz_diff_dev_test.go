package schema

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"testing"
)

// Temporary differential harness (not to be committed).
func TestDevDiff(t *testing.T) {
	in := os.Getenv("DIFF_CASES")
	if in == "" {
		t.Skip()
	}
	f, _ := os.Open(in)
	out, _ := os.Create(os.Getenv("DIFF_OUT"))
	defer out.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<24), 1<<24)
	cache := map[string]*Schema{}
	for sc.Scan() {
		var c struct {
			Schema  string `json:"schema"`
			Body    string `json:"body"`
			BodyHex string `json:"body_hex"`
		}
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		s := cache[c.Schema]
		if s == nil {
			s = MustCompile("x", c.Schema)
			cache[c.Schema] = s
		}
		body := []byte(c.Body)
		if c.BodyHex != "" {
			body, _ = hex.DecodeString(c.BodyHex)
		}
		var res struct {
			Kind string `json:"kind"`
			Text string `json:"text"`
		}
		_, err := s.ValidateJSON(body)
		switch e := err.(type) {
		case nil:
			res.Kind = "ok"
		case *SyntaxError:
			res.Kind, res.Text = "malformed", e.Error()
		case *ValidationError:
			res.Kind, res.Text = "invalid", e.Error()
		default:
			res.Kind, res.Text = "crash", fmt.Sprint(err)
		}
		b, _ := json.Marshal(res)
		out.Write(append(b, '\n'))
	}
}
