package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestRefreshWaitEndsWithRequest: a request waiting for another request's
// cache refresh stops waiting when its own context ends.
func TestRefreshWaitEndsWithRequest(t *testing.T) {
	c := newCandidateCache()
	c.refreshing <- struct{}{} // a refresh that never ends
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.refreshed(ctx, nil, start)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Fatalf("refreshed = %v after %v, want the deadline at once", err, time.Since(start))
	}
}
