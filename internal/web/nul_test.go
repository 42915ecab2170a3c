package web

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/openstack-placement-go/placement/internal/placement"
)

func TestCheckNUL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		target string
		header map[string]string
		want   string // "" means no error
	}{
		{"a clean request passes", "/resource_providers?name=a%20b&member_of=in:x,y", nil, ""},
		{"a percent-encoded NUL in the path", "/resource_providers/abc%00def", nil, MsgNULInPath},
		// The query is left to the handlers (validation, then the store).
		{"a NUL in a query value", "/resource_providers?name=%00", nil, ""},
		{"a NUL in a query name", "/resource_providers?na%00me=1", nil, ""},
		{"a NUL in a header value", "/resource_providers", map[string]string{"X-Project-Id": "p\x00"}, "Header X-Project-Id must not contain NUL (0x00) characters."},
		{"a literal %00 in a header is text", "/resource_providers", map[string]string{"X-Project-Id": "p%00"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("GET", tt.target, nil)
			for k, v := range tt.header {
				r.Header.Set(k, v)
			}
			err := CheckNUL(r)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("CheckNUL = %v, want nil", err)
				}
				return
			}
			if placement.KindOf(err) != placement.Invalid || err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("CheckNUL = %v (kind %v), want Invalid containing %q", err, placement.KindOf(err), tt.want)
			}
		})
	}
}

func TestDecodeBody_NUL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
		refused    bool
	}{
		{"a NUL in a string", `{"name": "a\u0000b"}`, true},
		{"a NUL in a nested key", `{"allocations": {"x\u0000": {}}}`, true},
		{"a NUL in a list", `{"traits": ["A", "\u0000"]}`, true},
		{"an escaped backslash before u0000", `{"name": "a\\u0000b"}`, false},
		{"no NUL", `{"name": "a"}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("POST", "/", strings.NewReader(tt.body))
			_, err := DecodeBody(r, nil, nil)
			if !tt.refused {
				if err != nil {
					t.Fatalf("DecodeBody = %v, want nil", err)
				}
				return
			}
			if placement.KindOf(err) != placement.Invalid || err.Error() != MsgNULInBody {
				t.Fatalf("DecodeBody = %v, want %q", err, MsgNULInBody)
			}
		})
	}
}

func TestDecodeBody_NotUTF8(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest("POST", "/", strings.NewReader("{\"name\": \"a\xff\"}"))
	_, err := DecodeBody(r, nil, nil)
	want := "Malformed JSON: 'utf-8' codec can't decode byte 0xff in position 11: invalid start byte"
	if placement.KindOf(err) != placement.Invalid || err.Error() != want {
		t.Fatalf("DecodeBody = %v, want Invalid %q", err, want)
	}
}
