package store_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/openstack-placement-go/placement/internal/placement"
	"github.com/openstack-placement-go/placement/internal/store"
)

// TestClassify_TextTheDatabaseRefuses sends a NUL byte to PostgreSQL, as a
// request would if the API's own check missed one, and expects a 400 kind.
func TestClassify_TextTheDatabaseRefuses(t *testing.T) {
	t.Parallel()
	s, _ := rpStore(t)
	_, err := s.CreateProvider(context.Background(), store.NewProvider{UUID: uuid.NewString(), Name: "a\x00b"})
	if err == nil {
		t.Fatal("PostgreSQL accepted a NUL byte")
	}
	got := store.Classify(err)
	if placement.KindOf(got) != placement.Invalid || got.Error() != store.MsgUnstorableText {
		t.Fatalf("Classify(%v) = %v (kind %v), want Invalid %q", err, got, placement.KindOf(got), store.MsgUnstorableText)
	}
	if other := store.Classify(context.Canceled); other != context.Canceled {
		t.Fatalf("Classify(context.Canceled) = %v, want it unchanged", other)
	}
}
