package testserver

import (
	"context"
	"io"
	"testing"
)

func TestRequest(t *testing.T) {
	req, err := Request(context.Background(), "1.39", "PUT", "http://h/traits/CUSTOM_A", map[string]int{"a": 1})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(req.Body)
	for k, want := range map[string]string{"X-Auth-Token": "admin", "OpenStack-API-Version": "placement 1.39",
		"Accept": "application/json", "Content-Type": "application/json"} {
		if got := req.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if string(body) != `{"a":1}` || req.Method != "PUT" || req.URL.Path != "/traits/CUSTOM_A" {
		t.Errorf("request %s %s %s", req.Method, req.URL, body)
	}
	req, _ = Request(context.Background(), "latest", "GET", "http://h/", nil)
	if req.Body != nil || req.Header.Get("Content-Type") != "" {
		t.Errorf("GET without a body: body %v, content-type %q", req.Body, req.Header.Get("Content-Type"))
	}
}
