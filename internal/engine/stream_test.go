package engine_test

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	. "github.com/openstack-placement-go/placement/internal/engine"
	"github.com/openstack-placement-go/placement/internal/handler/candidate"
	"github.com/openstack-placement-go/placement/internal/placement"
)

// stream is Stream with copies of the candidates it hands out, as a
// Result; any error fails the test.
func stream(tb testing.TB, s *Snapshot, req *Request, opt Options) *Result {
	tb.Helper()
	res := &Result{}
	sums, err := Stream(context.Background(), s, req, opt, func(ar AllocationRequest) error {
		kept := AllocationRequest{Allocations: slices.Clone(ar.Allocations)}
		for _, m := range ar.Mappings {
			kept.Mappings = append(kept.Mappings, Mapping{Suffix: m.Suffix, Providers: slices.Clone(m.Providers)})
		}
		res.Requests = append(res.Requests, kept)
		return nil
	})
	if err != nil {
		tb.Fatalf("Stream: %v", err)
	}
	res.Summaries = sums
	return res
}

// randomStreamCase is randomCase with either strategy and sometimes a
// limit or a cap.
func randomStreamCase(t *testing.T, seed int, stream uint64) (*rand.Rand, *world, *Request, Options) {
	r, w, req := randomCase(t, seed, stream)
	opt := Options{}
	if r.IntN(2) == 0 {
		opt.Strategy = BreadthFirst
	}
	switch r.IntN(4) {
	case 0:
		req.Limit = 1 + r.IntN(4)
	case 1:
		opt.MaxCandidates = 1 + r.IntN(4)
	}
	return r, w, req, opt
}

// TestStream_MatchesGenerate: over random worlds and requests, with
// either strategy, a limit or a cap, Stream hands out exactly Generate's
// candidates in Generate's order, and the same summaries.
func TestStream_MatchesGenerate(t *testing.T) {
	t.Parallel()
	n := runs(2000, 300)
	nonEmpty := 0
	for seed := 0; seed < n; seed++ {
		_, w, req, opt := randomStreamCase(t, seed, 61)
		want := generate(t, w.snap, req, opt)
		got := stream(t, w.snap, req, opt)
		if len(want.Requests) == 0 {
			want.Requests = nil
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("seed %d: request %+v %+v\nstreamed  %q %v\ngenerated %q %v", seed, *req, opt,
				w.shows(got, true), got.Summaries, w.shows(want, true), want.Summaries)
		}
		if len(want.Requests) > 0 {
			nonEmpty++
		}
	}
	if nonEmpty < n/5 {
		t.Errorf("only %d of %d random cases had candidates", nonEmpty, n)
	}
}

// TestStream_RandomizeGenerates: with Randomize Stream hands out
// Generate's answer for the same random source.
func TestStream_RandomizeGenerates(t *testing.T) {
	t.Parallel()
	w := wideWorld(t, 4)
	req, err := candidate.ParseQuery(wideQuery(3)+"&limit=7", ver(39))
	if err != nil {
		t.Fatal(err)
	}
	if Streams(Options{Randomize: true}) || !Streams(Options{}) {
		t.Fatal("Streams: only the generation order streams")
	}
	want := generate(t, w.snap, req, Options{Randomize: true, Rand: rand.New(rand.NewPCG(1, 2))})
	got := stream(t, w.snap, req, Options{Randomize: true, Rand: rand.New(rand.NewPCG(1, 2))})
	if !reflect.DeepEqual(got, want) || len(got.Requests) != 7 {
		t.Fatalf("streamed %q, generated %q", w.shows(got, true), w.shows(want, true))
	}
}

// TestStream_IsBounded: the streamed candidates do not count against the
// memory budget, which still bounds what generation holds; an error from
// emit ends generation.
func TestStream_IsBounded(t *testing.T) {
	t.Parallel()
	w := wideWorld(t, 4)
	req, err := candidate.ParseQuery(w.subst(wideQuery(8)), ver(39))
	if err != nil {
		t.Fatal(err)
	}
	opt := Options{MemoryLimit: 1 << 20}
	if _, err := Generate(context.Background(), w.snap, req, opt); placement.CodeOf(err) != placement.CodeCandidatesMemoryLimit {
		t.Fatalf("Generate: %v, want the memory limit", err)
	}
	n := 0
	sums, err := Stream(context.Background(), w.snap, req, opt, func(AllocationRequest) error { n++; return nil })
	if err != nil || n != 65436 || len(sums) != 5 {
		t.Fatalf("Stream: %d candidates, %d summaries, %v; want 65436, 5, nil", n, len(sums), err)
	}

	pw, q := wideProduct(t, 8, 7) // 8^7 option rows
	preq, err := candidate.ParseQuery(pw.subst(q), ver(39))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Stream(context.Background(), pw.snap, preq, opt, func(AllocationRequest) error { return nil }); placement.CodeOf(err) != placement.CodeCandidatesMemoryLimit {
		t.Fatalf("Stream over 8^7 option rows: %v, want the memory limit", err)
	}

	stop := errors.New("stop")
	n = 0
	_, err = Stream(context.Background(), w.snap, req, Options{}, func(AllocationRequest) error {
		if n++; n == 10 {
			return stop
		}
		return nil
	})
	if err != stop || n != 10 {
		t.Fatalf("Stream: %v after %d candidates, want stop after 10", err, n)
	}
}

// TestStream_EncodesLikeGenerate: over random worlds and requests, at
// every response shape, the streamed body is byte for byte the body
// encoded from Generate's result.
func TestStream_EncodesLikeGenerate(t *testing.T) {
	t.Parallel()
	n := runs(1500, 300)
	minors := []int{10, 12, 17, 27, 29, 34, 39}
	for seed := 0; seed < n; seed++ {
		r, w, req, opt := randomStreamCase(t, seed, 67)
		v := ver(minors[r.IntN(len(minors))])
		var want, got bytes.Buffer
		if err := candidate.Encode(&want, w.snap, req, generate(t, w.snap, req, opt), v); err != nil {
			t.Fatal(err)
		}
		if err := candidate.Stream(context.Background(), &got, w.snap, req, opt, v); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("seed %d at %v: request %+v %+v\nstreamed  %s\ngenerated %s", seed, v, *req, opt, got.Bytes(), want.Bytes())
		}
	}
}
