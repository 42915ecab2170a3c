package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestThroughput(t *testing.T) {
	t.Parallel()
	var down atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("{}"))
	}))
	defer srv.Close()
	c := NewClient(srv.URL, "admin", 4)
	if rate, err := Throughput(context.Background(), c, "/", 4, 50*time.Millisecond); err != nil || rate <= 0 {
		t.Errorf("Throughput = %v, %v; want a positive rate", rate, err)
	}
	down.Store(true)
	rate, err := Throughput(context.Background(), c, "/", 4, time.Minute)
	var se *StatusError
	if !errors.As(err, &se) || se.Status != http.StatusServiceUnavailable || rate != 0 {
		t.Errorf("Throughput against a failing server = %v, %v; want 0 and its 503", rate, err)
	}
}
