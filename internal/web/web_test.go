package web

import (
	"net/http/httptest"
	"testing"
)

func TestPutResult(t *testing.T) {
	t.Parallel()
	for created, want := range map[bool]int{true: 201, false: 204} {
		w := httptest.NewRecorder()
		if err := PutResult(w, created); err != nil || w.Code != want || w.Body.Len() != 0 {
			t.Errorf("PutResult(created=%v) = %v, status %d, body %q; want status %d, no body", created, err, w.Code, w.Body, want)
		}
	}
}
