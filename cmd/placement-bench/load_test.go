package main

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
)

func TestParallel(t *testing.T) {
	t.Parallel()
	t.Run("every item runs once", func(t *testing.T) {
		t.Parallel()
		var seen [100]atomic.Int32
		if err := parallel(context.Background(), 100, 7, func(_ context.Context, i int) error {
			seen[i].Add(1)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		for i := range seen {
			if n := seen[i].Load(); n != 1 {
				t.Errorf("item %d ran %d times", i, n)
			}
		}
	})
	t.Run("the first error stops the rest", func(t *testing.T) {
		t.Parallel()
		boom := errors.New("boom")
		var ran atomic.Int32
		err := parallel(context.Background(), 1000, 1, func(_ context.Context, i int) error {
			ran.Add(1)
			if i == 3 {
				return boom
			}
			return nil
		})
		if !errors.Is(err, boom) || ran.Load() != 4 {
			t.Errorf("err = %v after %d items, want boom after 4", err, ran.Load())
		}
	})
	t.Run("a cancelled context is an error", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := parallel(ctx, 10, 2, func(context.Context, int) error { return nil }); !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	})
	t.Run("no items is fine", func(t *testing.T) {
		t.Parallel()
		if err := parallel(context.Background(), 0, 4, func(context.Context, int) error { return errors.New("called") }); err != nil {
			t.Error(err)
		}
	})
}

func TestFanOut(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	var stopped atomic.Int32
	err := fanOut(context.Background(), 3, func(ctx context.Context) error {
		if stopped.Add(1) == 1 {
			return boom
		}
		<-ctx.Done() // the first error cancels the others
		return ctx.Err()
	})
	if !errors.Is(err, boom) || stopped.Load() != 3 {
		t.Errorf("err = %v after %d workers, want boom after 3", err, stopped.Load())
	}
	if err := fanOut(context.Background(), 0, func(context.Context) error { return boom }); err != nil {
		t.Errorf("no workers: err = %v", err)
	}
}
