package provider

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"testing"

	"github.com/openstack-placement-go/placement/internal/microversion"
	"github.com/openstack-placement-go/placement/internal/store"
)

func TestAppendString(t *testing.T) {
	for _, s := range []string{"", "plain", `quo"te\back`, "tab\tnew\nline\r\x01", "ünïcødé ☃", "sep\u2028x", "bad\xffutf8"} {
		var got string
		if err := json.Unmarshal(appendString(nil, s), &got); err != nil {
			t.Fatalf("appendString(%q) is not JSON: %v", s, err)
		}
		want := s
		if s == "bad\xffutf8" {
			want = "bad\ufffdutf8"
		}
		if got != want {
			t.Errorf("round trip of %q gave %q", s, got)
		}
	}
}

func TestEncoderPerVersion(t *testing.T) {
	parent := "pppppppp"
	p := store.Provider{UUID: "u1", Name: "n", Generation: 3, RootUUID: "r", ParentUUID: &parent}
	tests := []struct {
		minor int
		links int
		tree  bool
	}{{0, 3, false}, {1, 4, false}, {5, 4, false}, {6, 5, false}, {10, 5, false}, {11, 6, false}, {13, 6, false}, {14, 6, true}, {39, 6, true}}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/resource_providers", nil)
		r = r.WithContext(microversion.NewContext(r.Context(), mv(tt.minor)))
		var doc map[string]any
		var body bytes.Buffer
		if err := newEncoder(r).writeList(&body, []store.Provider{p, p}); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(body.Bytes(), &doc); err != nil {
			t.Fatalf("1.%d: not JSON: %v\n%s", tt.minor, err, body.String())
		}
		rp := doc["resource_providers"].([]any)[1].(map[string]any)
		if n := len(rp["links"].([]any)); n != tt.links {
			t.Errorf("1.%d: %d links, want %d", tt.minor, n, tt.links)
		}
		if _, ok := rp["root_provider_uuid"]; ok != tt.tree {
			t.Errorf("1.%d: tree fields present = %v", tt.minor, ok)
		}
		if rp["generation"].(float64) != 3 || rp["uuid"] != "u1" {
			t.Errorf("1.%d: bad provider %v", tt.minor, rp)
		}
		self := rp["links"].([]any)[0].(map[string]any)
		if self["rel"] != "self" || self["href"] != "/resource_providers/u1" {
			t.Errorf("1.%d: bad self link %v", tt.minor, self)
		}
	}
}

// chunks records the size of each write.
type chunks []int

func (c *chunks) Write(p []byte) (int, error) {
	*c = append(*c, len(p))
	return len(p), nil
}

// countingWriter counts the bytes written to it.
type countingWriter int

func (c *countingWriter) Write(p []byte) (int, error) {
	*c += countingWriter(len(p))
	return len(p), nil
}

// TestWriteList_InPieces: a long list is written in pieces of about
// listChunk bytes that together are the whole list.
func TestWriteList_InPieces(t *testing.T) {
	ps := make([]store.Provider, 1000)
	for i := range ps {
		ps[i] = store.Provider{UUID: fmt.Sprintf("u%d", i), Name: "compute-node", RootUUID: "r"}
	}
	r := httptest.NewRequest("GET", "/resource_providers", nil)
	r = r.WithContext(microversion.NewContext(r.Context(), mv(39)))
	var whole bytes.Buffer
	var sizes chunks
	if err := newEncoder(r).writeList(io.MultiWriter(&whole, &sizes), ps); err != nil {
		t.Fatal(err)
	}
	if len(sizes) < 2 {
		t.Fatalf("%d bytes in %d write(s), want pieces of about %d", whole.Len(), len(sizes), listChunk)
	}
	for _, n := range sizes[:len(sizes)-1] {
		if n < listChunk || n > listChunk+1024 {
			t.Errorf("a piece of %d bytes, want about %d", n, listChunk)
		}
	}
	var doc struct {
		Providers []struct{ UUID string } `json:"resource_providers"`
	}
	if err := json.Unmarshal(whole.Bytes(), &doc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if len(doc.Providers) != len(ps) || doc.Providers[999].UUID != "u999" {
		t.Fatalf("%d providers, the last %v", len(doc.Providers), doc.Providers[len(doc.Providers)-1])
	}
}

// BenchmarkEncodeList encodes 50,000 providers: the encoder allocates only
// its one piece's buffer, nothing per provider.
func BenchmarkEncodeList(b *testing.B) {
	root := "11111111-2222-3333-4444-555555555555"
	ps := make([]store.Provider, 50000)
	for i := range ps {
		ps[i] = store.Provider{UUID: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", Name: "compute-node-0001", Generation: i, RootUUID: root, ParentUUID: &root}
	}
	r := httptest.NewRequest("GET", "/resource_providers", nil)
	r = r.WithContext(microversion.NewContext(r.Context(), mv(39)))
	b.ReportAllocs()
	var size countingWriter
	for b.Loop() {
		size = 0
		if err := newEncoder(r).writeList(&size, ps); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(size))
}
