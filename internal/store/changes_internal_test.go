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

// TestCheckRoundOutlivesLeavingMember: a request that gives up waiting for
// a round that has not started leaves it usable for the requests that
// join it later.
func TestCheckRoundOutlivesLeavingMember(t *testing.T) {
	c := newCandidateCache()
	c.checking = true // a round in flight that never ends: the next one stays pending
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := c.joinCheck(ctx, nil, []string{"VCPU"}, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("joinCheck = %v, want the deadline", err)
	}
	r := c.pending
	if r == nil || r.members != 0 {
		t.Fatalf("pending round %+v, want one without members", r)
	}
	if r.ctx.Err() != nil {
		t.Fatal("the pending round was cancelled when its only member left; a request joining it later would fail")
	}
}
