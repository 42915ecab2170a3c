package main

import (
	"bufio"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/openstack-placement-go/placement/internal/testdb"
)

// TestShutdown_AnswersAcceptedConnections opens a connection, lets
// placement-api begin to shut down, and only then sends a request on it:
// the request is answered, with Connection: close. (http.Server.Shutdown
// alone closes such a connection unanswered.)
func TestShutdown_AnswersAcceptedConnections(t *testing.T) {
	t.Parallel()
	s := serving(t, testdb.Migrated(t), "")
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	time.Sleep(100 * time.Millisecond) // accepted
	stopped := make(chan int, 1)
	go func() { stopped <- s.stop() }()
	for !strings.Contains(s.stderr.String(), "placement-api shutting down") {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	if _, err := conn.Write([]byte("GET /resource_providers HTTP/1.1\r\nHost: x\r\nX-Auth-Token: admin\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("request sent on a connection accepted before the shutdown: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !resp.Close {
		t.Errorf("answer = %d, Connection: %q; want 200 closing the connection", resp.StatusCode, resp.Header.Get("Connection"))
	}
	if code := <-stopped; code != 0 {
		t.Errorf("exit code = %d", code)
	}
}
