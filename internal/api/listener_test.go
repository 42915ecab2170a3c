package api

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/openstack-placement-go/placement/internal/testutil"
)

// rawServer serves the API through Listener on a real socket.
func rawServer(t *testing.T) string {
	t.Helper()
	h := testAPI(Options{})
	srv := httptest.NewUnstartedServer(h)
	srv.Listener = Listener(srv.Listener, h)
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// exchange writes each raw request in turn on one connection and reads
// one response after each.
func exchange(t *testing.T, addr string, raw ...string) []*http.Response {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(conn)
	var out []*http.Response
	for _, r := range raw {
		if _, err := io.WriteString(conn, r); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("reading the answer to %q: %v", r, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body = io.NopCloser(strings.NewReader(string(body)))
		out = append(out, resp)
	}
	return out
}

func bodyOf(r *http.Response) string {
	b, _ := io.ReadAll(r.Body)
	return string(b)
}

const authed = "Host: placement\r\nX-Auth-Token: admin\r\nOpenStack-API-Version: placement latest\r\n"

func TestListener(t *testing.T) {
	t.Parallel()
	addr := rawServer(t)
	tests := []struct {
		name   string
		raw    []string
		status int
		want   []string // substrings of the last answer's body
	}{
		{"a Content-Length that is not an integer",
			[]string{"POST /resource_providers HTTP/1.1\r\n" + authed + "Content-Type: application/json\r\nContent-Length: abc\r\n\r\n{}"},
			400, []string{`"status":400`, "content-length header must be an integer", `"code":"placement.undefined_code"`, `"request_id":"req-`}},
		{"the same after a good request on a kept-alive connection",
			[]string{"GET / HTTP/1.1\r\nHost: placement\r\n\r\n", "GET /resource_providers HTTP/1.1\r\n" + authed + "Content-Length: 1.5\r\n\r\n"},
			400, []string{"content-length header must be an integer"}},
		{"a bad Content-Length without a token is a 401 first",
			[]string{"POST /resource_providers HTTP/1.1\r\nHost: placement\r\nContent-Type: application/json\r\nContent-Length: abc\r\n\r\n{}"},
			401, []string{"could not verify that you are authorized"}},
		{"a NUL in a header value",
			[]string{"GET /resource_providers HTTP/1.1\r\n" + authed + "X-Project-Id: a\x00b\r\n\r\n"},
			400, []string{"Header X-Project-Id must not contain NUL (0x00) characters.", `"code":"placement.undefined_code"`}},
		{"a negative Content-Length is no body, as upstream reads it",
			[]string{"GET / HTTP/1.1\r\nHost: placement\r\nContent-Length: -1\r\n\r\n"},
			200, []string{`"versions"`}},
		{"another malformed head keeps net/http's answer",
			[]string{"GET / HTTP/1.1\r\nContent-Length: abc\r\n\r\n"},
			400, []string{"400 Bad Request"}},
		{"a NUL in Host keeps net/http's answer",
			[]string{"GET / HTTP/1.1\r\nHost: a\x00b\r\n\r\n"},
			400, []string{"400 Bad Request"}},
		{"two Content-Length headers keep net/http's answer",
			[]string{"GET / HTTP/1.1\r\nHost: placement\r\nContent-Length: abc\r\nContent-Length: 0\r\n\r\n"},
			400, []string{"400 Bad Request"}},
		{"another control character beside a NUL keeps net/http's answer",
			[]string{"GET / HTTP/1.1\r\nHost: placement\r\nX-Project-Id: a\x00\x01\r\n\r\n"},
			400, []string{"400 Bad Request"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			answers := exchange(t, addr, tt.raw...)
			last := answers[len(answers)-1]
			body := bodyOf(last)
			if last.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d; body %s", last.StatusCode, tt.status, body)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("body %q lacks %q", body, w)
				}
			}
			if tt.status == 400 && strings.Contains(tt.want[0], "Bad Request") {
				if ct := last.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
					t.Errorf("Content-Type = %q, want net/http's text/plain", ct)
				}
				return
			}
			if !last.Close {
				t.Error("the salvaged exchange does not close the connection")
			}
			if last.Header.Get("X-Openstack-Request-Id") == "" {
				t.Error("no X-Openstack-Request-Id: not served by the API")
			}
		})
	}
}

// net/http half-closes a *net.TCPConn before closing it; the wrapper must
// keep that ability.
var _ interface{ CloseWrite() error } = (*salvageConn)(nil)

func TestIsCanned400(t *testing.T) {
	t.Parallel()
	testutil.WantOutputs(t, "isCanned400", func(s string) bool { return isCanned400([]byte(s)) }, []testutil.Pair[string, bool]{
		{"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request", true},
		{"HTTP/1.1 400 Bad Request: invalid header value\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request: invalid header value", true},
		{"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nDate: Wed, 02 Dec 2026 05:13:14 GMT\r\n\r\n", false},
		{"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nX-Openstack-Request-Id: req-1\r\n\r\n{}", false},
		{"HTTP/1.1 200 OK\r\n\r\n", false},
	})
}

func TestListener_TooLargeBodyStillAnswered(t *testing.T) {
	t.Parallel()
	addr := rawServer(t)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	const size = 2 << 20
	go func() {
		io.WriteString(conn, "POST /resource_classes HTTP/1.1\r\n"+authed+"Content-Type: application/json\r\nContent-Length: 2097152\r\n\r\n")
		conn.Write(make([]byte, size)) // fails once the server closes; that is fine
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	if body := bodyOf(resp); resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(body, `"code":"placement.undefined_code"`) {
		t.Fatalf("status %d body %s, want the 413 in the error format", resp.StatusCode, body)
	}
}

// A client that sends its whole body before it reads the answer (Python's
// http.client and urllib do) must get the 413, not a connection reset
// while it is still sending: the server reads the rest of an over-long
// body before it answers. One that asked "Expect: 100-continue" is
// answered without being asked for the body.
func TestListener_TooLargeBodySentWhole(t *testing.T) {
	t.Parallel()
	addr := rawServer(t)
	const size = 8 << 20
	body := strings.Repeat("x", size)
	head := "POST /resource_classes HTTP/1.1\r\n" + authed + "Content-Type: application/json\r\n"
	chunked := fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", size, body)
	for name, raw := range map[string]string{
		"Content-Length": head + fmt.Sprintf("Content-Length: %d\r\n\r\n", size) + body,
		"chunked":        head + "Transfer-Encoding: chunked\r\n\r\n" + chunked,
		"Expect":         head + fmt.Sprintf("Content-Length: %d\r\nExpect: 100-continue\r\n\r\n", size),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			resp := exchange(t, addr, raw)[0]
			if body := bodyOf(resp); resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(body, "larger than the 1048576 bytes") {
				t.Fatalf("status %d body %s, want the 413", resp.StatusCode, body)
			}
		})
	}
}
