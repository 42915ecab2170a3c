package testutil

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"sync/atomic"
	"testing"
	"time"
)

func TestFreePort(t *testing.T) {
	t.Parallel()
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatalf("port %d is not free: %v", port, err)
	}
	ln.Close()
}

func TestRandHex(t *testing.T) {
	t.Parallel()
	a, b := RandHex(4), RandHex(4)
	if !regexp.MustCompile(`^[0-9a-f]{8}$`).MatchString(a) || a == b {
		t.Errorf("RandHex(4) = %q then %q; want two different 8-digit hex strings", a, b)
	}
}

func TestRun(t *testing.T) {
	t.Parallel()
	run := func(args, environ []string, stdout, stderr io.Writer) int {
		fmt.Fprint(stdout, args[0])
		fmt.Fprint(stderr, len(environ))
		return 3
	}
	if got, want := Run(run, "x", "y"), (Result{3, "x", "0"}); got != want {
		t.Errorf("Run = %+v, want %+v", got, want)
	}
}

func TestRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("bad y"), false},
		{errors.New("very bad x indeed"), true},
	}
	for _, tt := range tests {
		if got := refused(tt.err, "bad x"); got != tt.want {
			t.Errorf("refused(%v, %q) = %v, want %v", tt.err, "bad x", got, tt.want)
		}
	}
	var seen []string
	WantErrors(t, func(t *testing.T, in string) error {
		seen = append(seen, in) // the subtests are parallel: they run after this test
		return errors.New("bad " + in)
	}, []ErrorCase{{"a refused input", "x", "bad x"}})
	t.Cleanup(func() {
		if len(seen) != 1 || seen[0] != "x" {
			t.Errorf("check saw %q, want [x]", seen)
		}
	})
}

func TestMatches(t *testing.T) {
	t.Parallel()
	want := Result{1, "out", "err"}
	tests := []struct {
		got              Result
		exact, contained bool
	}{
		{Result{1, "out", "err"}, true, true},
		{Result{1, "the out", "an err"}, false, true},
		{Result{2, "out", "err"}, false, false},
		{Result{1, "ou", "err"}, false, false},
		{Result{1, "out", ""}, false, false},
	}
	for _, tt := range tests {
		if got := matches(tt.got, want, false); got != tt.exact {
			t.Errorf("matches(%+v, exact) = %v, want %v", tt.got, got, tt.exact)
		}
		if got := matches(tt.got, want, true); got != tt.contained {
			t.Errorf("matches(%+v, contains) = %v, want %v", tt.got, got, tt.contained)
		}
	}
	run := func(args, environ []string, stdout, stderr io.Writer) int {
		fmt.Fprint(stdout, "usage: ", args)
		return len(args)
	}
	WantRuns(t, run, []RunCase{{"exact", []string{"a"}, 1, "usage: [a]", ""}})
	WantRunsContaining(t, run, []RunCase{{"containing", []string{"a", "b"}, 2, "usage", ""}})
}

// reports records what a check reports.
type reports []string

func (*reports) Helper() {}

func (r *reports) Errorf(format string, args ...any) { *r = append(*r, fmt.Sprintf(format, args...)) }

func TestWantOutputs(t *testing.T) {
	t.Parallel()
	double := func(s string) []string { return []string{s, s} }
	var r reports
	checkOutputs(&r, "double", double, []Pair[string, []string]{{"a", []string{"a", "a"}}, {"b", []string{"b"}}, {"", []string{"", ""}}})
	if want := []string{`double("b") = []string{"b", "b"}, want []string{"b"}`}; !reflect.DeepEqual([]string(r), want) {
		t.Errorf("reports = %q, want %q", r, want)
	}
	WantOutputs(t, "double", double, []Pair[string, []string]{{"a", []string{"a", "a"}}})
}

func TestPingEvery(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if calls.Add(1) == 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	stop := PingEvery(srv.Client(), srv.URL, time.Millisecond)
	for calls.Load() < 3 {
		time.Sleep(time.Millisecond)
	}
	p := stop()
	if p.Count < 3 || !reflect.DeepEqual(p.Failures, []string{"503 Service Unavailable"}) || p.Slowest <= 0 {
		t.Errorf("PingEvery saw %+v; want 3 or more pings, the one 503 and a slowest", p)
	}
	if n := calls.Load(); int(n) != p.Count {
		t.Errorf("the server answered %d pings, PingEvery counted %d", n, p.Count)
	}
}

func TestConcurrently(t *testing.T) {
	t.Parallel()
	const n = 5
	started := make(chan struct{}, n)
	release := make(chan struct{})
	go func() {
		// Every call must be running at once before any may return.
		for range n {
			<-started
		}
		close(release)
	}()
	errs := Concurrently(n, func(i int) error {
		started <- struct{}{}
		<-release
		if i%2 == 1 {
			return fmt.Errorf("odd %d", i)
		}
		return nil
	})
	for i, err := range errs {
		if (err != nil) != (i%2 == 1) || (err != nil && err.Error() != fmt.Sprintf("odd %d", i)) {
			t.Errorf("errs[%d] = %v", i, err)
		}
	}
}
