package web

import "testing"

func TestQueryUTF8Error(t *testing.T) {
	if got, want := queryUTF8Error("uuid=x&name=ab%FFc"), "'utf-8' codec can't decode byte 0xff in position 2: invalid start byte"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := queryUTF8Error("name=%E2%98%83&x"); got != "" {
		t.Errorf("got %q, want none", got)
	}
}
