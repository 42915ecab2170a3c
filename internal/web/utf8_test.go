package web

import "testing"

func TestPyUTF8Error(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"abc", ""},
		{"\u2603", ""},
		{"\xff", "'utf-8' codec can't decode byte 0xff in position 0: invalid start byte"},
		{"a\xff", "'utf-8' codec can't decode byte 0xff in position 1: invalid start byte"},
		{"\xc3", "'utf-8' codec can't decode byte 0xc3 in position 0: unexpected end of data"},
		{"\xc3(", "'utf-8' codec can't decode byte 0xc3 in position 0: invalid continuation byte"},
		{"\xe2\x82", "'utf-8' codec can't decode bytes in position 0-1: unexpected end of data"},
		{"\xe2\x82(", "'utf-8' codec can't decode bytes in position 0-1: invalid continuation byte"},
		{"\xed\xa0\x80", "'utf-8' codec can't decode byte 0xed in position 0: invalid continuation byte"},
		{"\xc0\x80", "'utf-8' codec can't decode byte 0xc0 in position 0: invalid start byte"},
	}
	for _, tt := range tests {
		if got := pyUTF8Error([]byte(tt.in)); got != tt.want {
			t.Errorf("pyUTF8Error(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestQueryUTF8Error(t *testing.T) {
	if got, want := queryUTF8Error("uuid=x&name=ab%FFc"), "'utf-8' codec can't decode byte 0xff in position 2: invalid start byte"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := queryUTF8Error("name=%E2%98%83&x"); got != "" {
		t.Errorf("got %q, want none", got)
	}
}
