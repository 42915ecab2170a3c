package e2e

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"testing"
	"time"
)

// freeAddr returns an address on 127.0.0.1 with a port that is free when
// it is called.
func freeAddr(t *testing.T) *net.TCPAddr {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr)
}

// process is a command started for one test.
type process struct {
	done chan struct{} // closed when the command has exited
	err  error         // what Wait returned, once done is closed
}

// start starts cmd and stops it when the test ends: an interrupt, then a
// kill if it has not exited within grace. When the test failed, it logs
// what log returns (nil: nothing).
func start(t *testing.T, cmd *exec.Cmd, grace time.Duration, log func() string) *process {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-p.done:
		case <-time.After(grace):
			_ = cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() && log != nil {
			t.Logf("%s log:\n%s", cmd.Args[0], log())
		}
	})
	return p
}

// waitUp waits until GET base/ answers, for at most within.
func waitUp(t *testing.T, base string, within time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(within); ; time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get(base + "/"); err == nil {
			resp.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer within %v", base, within)
		}
	}
}

// fileText returns a function that reads the file name, for start's log.
func fileText(name string) func() string {
	return func() string {
		data, _ := os.ReadFile(name)
		return string(data)
	}
}
