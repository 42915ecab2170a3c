package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/openstack-placement-go/placement/internal/testdb"
)

// childEnv makes the test binary run placement-api itself (TestMain), so
// that a test can start it as a process of its own with the file
// descriptors systemd would pass.
const childEnv = "PLACEMENT_API_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := Main{Stdout: os.Stdout, Stderr: os.Stderr}.Run(ctx, os.Args[1:], os.Environ())
		stop()
		os.Exit(code)
	}
	testdb.Main(m)
}

// listenTCP listens on a free port of 127.0.0.1 until the test ends.
func listenTCP(t *testing.T) *net.TCPListener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln.(*net.TCPListener)
}

// socketFile returns ln's socket as a file (a duplicate descriptor), closed
// when the test ends.
func socketFile(t *testing.T, ln *net.TCPListener) *os.File {
	t.Helper()
	f, err := ln.File()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// passFD returns a duplicate of f's descriptor, as systemd would pass it:
// a bare number, owned by whoever takes it (systemdSockets closes it).
func passFD(t *testing.T, f interface{ Fd() uintptr }) int {
	t.Helper()
	fd, err := syscall.Dup(int(f.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	return fd
}

func TestSystemdSockets(t *testing.T) {
	pid := os.Getpid()
	env := func(kv ...string) []string { return kv }
	t.Run("not for this process: nothing passed", func(t *testing.T) {
		for _, e := range [][]string{
			nil,
			env("LISTEN_FDS=1"),
			env("LISTEN_PID="+strconv.Itoa(pid+1), "LISTEN_FDS=1"),
		} {
			got, err := systemdSockets(e, pid, 1<<20)
			if got != nil || err != nil {
				t.Errorf("systemdSockets(%q) = %v, %v; want nothing", e, got, err)
			}
		}
	})
	t.Run("a count that is not one is refused", func(t *testing.T) {
		_, err := systemdSockets(env("LISTEN_PID="+strconv.Itoa(pid), "LISTEN_FDS=x"), pid, 1<<20)
		if err == nil || !strings.Contains(err.Error(), `LISTEN_FDS="x"`) {
			t.Errorf("err = %v; want it to name LISTEN_FDS", err)
		}
	})
	t.Run("listening sockets are taken, with their names", func(t *testing.T) {
		a := listenTCP(t)
		fd := passFD(t, socketFile(t, a))
		got, err := systemdSockets(env("LISTEN_PID="+strconv.Itoa(pid), "LISTEN_FDS=1", "LISTEN_FDNAMES=metrics"), pid, fd)
		if err != nil || len(got) != 1 {
			t.Fatalf("systemdSockets = %v, %v; want one socket", got, err)
		}
		defer got[0].ln.Close()
		if got[0].name != "metrics" || got[0].ln.Addr().String() != a.Addr().String() {
			t.Errorf("passed socket = %s at %s; want metrics at %s", got[0].name, got[0].ln.Addr(), a.Addr())
		}
	})
	t.Run("a descriptor that is not a listening socket is refused", func(t *testing.T) {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		fd := passFD(t, r)
		r.Close()
		_, err = systemdSockets(env("LISTEN_PID="+strconv.Itoa(pid), "LISTEN_FDS=1", "LISTEN_FDNAMES=api"), pid, fd)
		if want := fmt.Sprintf("socket %d (api) passed by systemd", fd); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v; want it to contain %q", err, want)
		}
	})
}

func TestOpenListeners(t *testing.T) {
	t.Run("passed sockets take the place of the flags", func(t *testing.T) {
		api, metrics := listenTCP(t), listenTCP(t)
		never := filepath.Join(t.TempDir(), "never.sock")
		l, err := openListeners(options{bind: "unix:" + never, metricsBind: "unix:" + never},
			[]passedSocket{{"metrics", metrics}, {"placement-api", api}})
		if err != nil {
			t.Fatal(err)
		}
		defer l.api.Close()
		defer l.metrics.Close()
		if l.api != api || l.metrics != metrics || !l.systemd {
			t.Errorf("listeners = %v, %v (systemd %v); want the passed ones", l.api.Addr(), l.metrics.Addr(), l.systemd)
		}
		if _, err := os.Stat(never); err == nil {
			t.Errorf("--bind was listened on too")
		}
	})
	t.Run("two sockets for the API are refused, and closed", func(t *testing.T) {
		a, b := listenTCP(t), listenTCP(t)
		_, err := openListeners(options{bind: "127.0.0.1:0"}, []passedSocket{{"x", a}, {"y", b}})
		if err == nil || !strings.Contains(err.Error(), "FileDescriptorName=metrics") {
			t.Errorf("err = %v; want the two sockets refused", err)
		}
		if _, err := a.Accept(); err == nil {
			t.Errorf("a refused socket was left open")
		}
	})
	t.Run("only metrics passed: the API listens on --bind", func(t *testing.T) {
		metrics := listenTCP(t)
		l, err := openListeners(options{bind: "127.0.0.1:0"}, []passedSocket{{"metrics", metrics}})
		if err != nil {
			t.Fatal(err)
		}
		defer l.api.Close()
		defer l.metrics.Close()
		if l.systemd || l.metrics != metrics || l.api.Addr().(*net.TCPAddr).Port == 0 {
			t.Errorf("listeners = %v, %v (systemd %v)", l.api.Addr(), l.metrics.Addr(), l.systemd)
		}
	})
}

func TestListenOn_UnixSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "api.sock")
	ln, err := listenOn("unix:" + path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := listenOn("unix:" + path); err == nil || !strings.Contains(err.Error(), "another process is listening on "+path) {
		t.Errorf("second listener: err = %v; want it refused while the first accepts", err)
	}
	// A socket file left behind by a process that did not close it (kill
	// -9) is replaced.
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("stale socket file: %v", err)
	}
	ln, err = listenOn("unix:" + path)
	if err != nil {
		t.Fatalf("over a stale socket file: %v", err)
	}
	ln.Close()
	if _, err := os.Stat(path); err == nil {
		t.Errorf("socket file left after Close")
	}
	notSocket := filepath.Join(t.TempDir(), "placement.conf")
	os.WriteFile(notSocket, nil, 0o600)
	if _, err := listenOn("unix:" + notSocket); err == nil || !strings.Contains(err.Error(), "is not a socket") {
		t.Errorf("over a regular file: err = %v; want it refused", err)
	}
	if _, err := listenOn("unix:"); err == nil {
		t.Errorf("unix: without a path was accepted")
	}
}

// TestSocketActivation_RestartRefusesNothing restarts placement-api under
// load the way systemd does with placement-api.socket: the socket stays
// open in the parent (here the test) while one process stops and the next
// starts, so no connection is refused, and each process says READY=1 and
// STOPPING=1 on NOTIFY_SOCKET. Without socket activation each process
// binds the port itself, and connections made between the two are
// refused.
func TestSocketActivation_RestartRefusesNothing(t *testing.T) {
	dsn := testdb.Migrated(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "placement.conf")
	text := "[api]\nauth_strategy = noauth2\n[placement_database]\nconnection = " + dsn + "\n"
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	ln := listenTCP(t)
	sock := socketFile(t, ln)
	notify, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: filepath.Join(dir, "notify"), Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer notify.Close()
	notes := make(chan string, 16)
	go func() {
		buf := make([]byte, 256)
		for {
			n, err := notify.Read(buf)
			if err != nil {
				return
			}
			notes <- string(buf[:n])
		}
	}()
	// expect waits for a notification that starts with want, past the
	// STATUS= ones before it, which it returns.
	expect := func(want string) (statuses []string) {
		t.Helper()
		for {
			select {
			case got := <-notes:
				if strings.HasPrefix(got, want) {
					return statuses
				}
				if !strings.HasPrefix(got, "STATUS=") {
					t.Fatalf("NOTIFY_SOCKET got %q; want %q", got, want)
				}
				statuses = append(statuses, got)
			case <-time.After(60 * time.Second):
				t.Fatalf("no %q on NOTIFY_SOCKET within 60 s", want)
			}
		}
	}
	never := filepath.Join(dir, "never.sock")
	startChild := func() *exec.Cmd {
		t.Helper()
		// systemd sets LISTEN_PID in the child after the fork; the shell
		// does the same before it execs the test binary.
		cmd := exec.Command("/bin/sh", "-c", `LISTEN_PID=$$ exec "$0" "$@"`, os.Args[0],
			"--config-file", conf, "--bind", "unix:"+never)
		cmd.Env = append(os.Environ(), childEnv+"=1", "LISTEN_FDS=1", "LISTEN_FDNAMES=placement-api",
			"NOTIFY_SOCKET="+notify.LocalAddr().String())
		cmd.ExtraFiles = []*os.File{sock} // descriptor 3
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			cmd.Process.Kill()
			cmd.Wait()
			if t.Failed() {
				t.Logf("placement-api (pid %d) stderr:\n%s", cmd.Process.Pid, stderr.String())
			}
		})
		if statuses := expect("READY=1\nSTATUS=serving on " + ln.Addr().String()); !slices.Contains(statuses, "STATUS=loading the allocation-candidates cache") {
			t.Errorf("statuses before READY=1: %q", statuses)
		}
		return cmd
	}

	first := startChild()
	if _, err := os.Stat(never); err == nil {
		t.Errorf("placement-api listened on --bind although systemd passed a socket")
	}
	// Clients without keep-alive: every request opens a connection, as a
	// refused one would show.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 30 * time.Second}
	url := "http://" + ln.Addr().String() + "/resource_providers"
	var ok, failed atomic.Int64
	var firstErr atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				req, _ := http.NewRequest("GET", url, nil)
				req.Header.Set("X-Auth-Token", "admin")
				resp, err := client.Do(req)
				if err == nil {
					resp.Body.Close()
					if resp.StatusCode != 200 {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				ok.Add(1)
			}
		}()
	}
	waitFor := func(n int64) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for ok.Load() < n {
			if time.Now().After(deadline) {
				t.Fatalf("only %d requests answered (%d failed: %v)", ok.Load(), failed.Load(), firstErr.Load())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitFor(50)
	if err := first.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	expect("STOPPING=1")
	if err := first.Wait(); err != nil {
		t.Errorf("first placement-api after SIGTERM: %v", err)
	}
	before := ok.Load()
	startChild()
	waitFor(before + 50)
	close(stop)
	wg.Wait()
	if failed.Load() != 0 {
		t.Errorf("%d of %d requests failed across the restart; first: %v", failed.Load(), ok.Load()+failed.Load(), firstErr.Load())
	}
}
