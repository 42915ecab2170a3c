package web

import (
	"reflect"
	"testing"
)

// TestParseQuery holds what WebOb's parse_qsl_text (upstream's request.GET)
// makes of each query string.
func TestParseQuery(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		raw  string
		want []QueryParam
	}{
		{"a=1&b=2", []QueryParam{{"a", "1"}, {"b", "2"}}},
		{"a=1;b=2", []QueryParam{{"a", "1"}, {"b", "2"}}},
		{"&&a=1;;", []QueryParam{{"a", "1"}}},
		{"a", []QueryParam{{"a", ""}}},
		{"=x", []QueryParam{{"", "x"}}},
		{"a=%zz", []QueryParam{{"a", "%zz"}}},
		{"a=%", []QueryParam{{"a", "%"}}},
		{"a=%4", []QueryParam{{"a", "\x04"}}},
		{"a=%41%4", []QueryParam{{"a", "A\x04"}}},
		{"a=%+4", []QueryParam{{"a", "\x04"}}},
		{"a=%-0x", []QueryParam{{"a", "\x00x"}}},
		{"a=%-1", []QueryParam{{"a", "%-1"}}},
		{"a=%%41", []QueryParam{{"a", "%A"}}},
		{"a+b=c+d", []QueryParam{{"a b", "c d"}}},
		{"a=%2B", []QueryParam{{"a", "+"}}},
		{"a=%e2%98%83", []QueryParam{{"a", "\xe2\x98\x83"}}},
		{"a=%0", []QueryParam{{"a", "\x00"}}},
		{"a=%_1", []QueryParam{{"a", "%_1"}}},
		{"a=%1_", []QueryParam{{"a", "%1_"}}},
		{"k=%G1", []QueryParam{{"k", "%G1"}}},
	} {
		got, err := ParseQuery(tt.raw)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseQuery(%q) = %q, %v; want %q", tt.raw, got, err, tt.want)
		}
	}
}

func TestParseQuery_NotUTF8(t *testing.T) {
	t.Parallel()
	_, err := ParseQuery("uuid=x&name=ab%FFc")
	want := "Invalid query string parameters: 'utf-8' codec can't decode byte 0xff in position 2: invalid start byte"
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %q", err, want)
	}
}
