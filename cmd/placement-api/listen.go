package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// Where placement-api listens: on the sockets systemd passes it (socket
// activation), else on --bind and --metrics-bind, each HOST:PORT or
// unix:PATH.
//
// A socket systemd holds outlives the process: while placement-api
// restarts (an upgrade, a configuration change) new connections wait in the
// socket's backlog and are served by the next process, instead of being
// refused as they are between two processes that each bind the port.

// listenFDsStart is the first file descriptor systemd passes (SD_LISTEN_FDS_START).
const listenFDsStart = 3

// metricsFDName is the FileDescriptorName of a passed socket that serves
// /metrics rather than the API.
const metricsFDName = "metrics"

// listeners are the sockets placement-api serves on.
type listeners struct {
	api, metrics net.Listener // metrics is nil unless configured
	systemd      bool         // api came from systemd
}

// openListeners takes the listeners from the sockets systemd passed
// (systemdSockets), and opens --bind and --metrics-bind for what it did not
// pass. On error it closes them all.
func openListeners(o options, passed []passedSocket) (listeners, error) {
	var l listeners
	var err error
	var apis []string
	for _, s := range passed {
		if s.name == metricsFDName {
			l.metrics = s.ln
			continue
		}
		if l.api == nil {
			l.api, l.systemd = s.ln, true
		}
		apis = append(apis, s.ln.Addr().String())
	}
	if len(apis) > 1 {
		closeAll(passed)
		return listeners{}, fmt.Errorf("systemd passed %d sockets for the API (%s): placement-api serves one; "+
			"a socket for /metrics must have FileDescriptorName=%s", len(apis), strings.Join(apis, ", "), metricsFDName)
	}
	if l.api == nil {
		if l.api, err = listenOn(o.bind); err != nil {
			closeAll(passed)
			return listeners{}, err
		}
	}
	if l.metrics == nil && o.metricsBind != "" {
		if l.metrics, err = listenOn(o.metricsBind); err != nil {
			l.api.Close()
			closeAll(passed)
			return listeners{}, err
		}
	}
	return l, nil
}

// passedSocket is one socket systemd passed, with its FileDescriptorName.
type passedSocket struct {
	name string
	ln   net.Listener
}

func closeAll(s []passedSocket) {
	for _, p := range s {
		p.ln.Close()
	}
}

// systemdSockets returns the listening sockets passed as described in
// sd_listen_fds(3): LISTEN_PID names this process (pid), LISTEN_FDS counts
// the descriptors from start on, LISTEN_FDNAMES names them, colon-separated.
// Without LISTEN_PID, or with another process's, nothing was passed to this
// process.
func systemdSockets(environ []string, pid, start int) ([]passedSocket, error) {
	if getenv(environ, "LISTEN_PID") != strconv.Itoa(pid) {
		return nil, nil
	}
	n, err := strconv.Atoi(getenv(environ, "LISTEN_FDS"))
	if err != nil || n < 0 {
		return nil, fmt.Errorf("LISTEN_FDS=%q from systemd is not a count of sockets", getenv(environ, "LISTEN_FDS"))
	}
	var names []string
	if v := getenv(environ, "LISTEN_FDNAMES"); v != "" {
		names = strings.Split(v, ":")
	}
	var out []passedSocket
	for i := range n {
		fd := start + i
		name := "unknown"
		if i < len(names) {
			name = names[i]
		}
		syscall.CloseOnExec(fd)
		f := os.NewFile(uintptr(fd), name)
		ln, err := net.FileListener(f) // a duplicate; systemd keeps the original
		f.Close()
		if err != nil {
			closeAll(out)
			return nil, fmt.Errorf("socket %d (%s) passed by systemd: %w (ListenStream= sockets only)", fd, name, err)
		}
		out = append(out, passedSocket{name: name, ln: ln})
	}
	return out, nil
}

// listenOn listens on addr: HOST:PORT, or unix:PATH for a Unix domain
// socket (unix:@NAME for one in the abstract namespace).
func listenOn(addr string) (net.Listener, error) {
	path, unix := strings.CutPrefix(addr, "unix:")
	if !unix {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("listen on %s: %w", addr, err)
		}
		return ln, nil
	}
	if path == "" {
		return nil, fmt.Errorf("listen on %s: no socket path after unix:", addr)
	}
	if err := removeStaleSocket(path); err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ln, nil // removes the socket file when closed
}

// removeStaleSocket removes the socket file a process that ended without
// closing its listener left at path, so that listening there succeeds. It
// leaves a file that is not a socket, and a socket some process still
// accepts on, and says so.
func removeStaleSocket(path string) error {
	if strings.HasPrefix(path, "@") {
		return nil // abstract: no file
	}
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Mode()&os.ModeSocket == 0 {
		return fmt.Errorf("%s exists and is not a socket", path)
	}
	if c, err := net.Dial("unix", path); err == nil {
		c.Close()
		return fmt.Errorf("another process is listening on %s", path)
	}
	return os.Remove(path)
}

// getenv returns the value of name in environ ("" when unset).
func getenv(environ []string, name string) string {
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			return v
		}
	}
	return ""
}
