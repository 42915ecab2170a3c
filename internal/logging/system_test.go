package logging

import (
	"bytes"
	"encoding/binary"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// daemon listens on a Unix datagram socket, as syslogd and journald do,
// and returns its address and a function that reads the next datagram.
func daemon(t *testing.T, name string) (string, func() []byte) {
	t.Helper()
	dir, err := os.MkdirTemp("", "log") // short: a socket path has ~100 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	addr := filepath.Join(dir, name)
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return addr, func() []byte {
		t.Helper()
		buf := make([]byte, 64<<10)
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return buf[:n]
	}
}

// TestSyslog: each record is one datagram in the C library's format, with
// the facility and the level's severity in its priority.
func TestSyslog(t *testing.T) {
	addr, next := daemon(t, "log")
	var stderr bytes.Buffer
	l, err := Open(Options{Syslog: true, SyslogAddr: addr, Facility: "local3", Program: "placement-api"}, &stderr)
	if err != nil || len(l.Warnings) > 0 {
		t.Fatalf("Open: %v %v", err, l.Warnings)
	}
	defer l.Close()
	l.Info("served", "status", 200)
	l.With("request_id", "req-1").Error("failed")
	for _, want := range []string{
		"<158>", // local3 (19) << 3 | info (6)
		"<155>", // local3 << 3 | err (3)
	} {
		got := string(next())
		if !strings.HasPrefix(got, want) || !strings.Contains(got, " placement-api: ") {
			t.Errorf("datagram %q, want priority %s and the program's tag", got, want)
		}
		if strings.Contains(got, "ERROR") || strings.Contains(got, "INFO") || strings.Contains(got, time.Now().Format("2006-01-02")) {
			t.Errorf("datagram %q repeats the time or level", got)
		}
		if want == "<158>" && !strings.HasSuffix(got, ` placement-api: placement [-] served status=200`) {
			t.Errorf("datagram %q lacks the record's attributes", got)
		}
		if want == "<155>" && !strings.HasSuffix(got, ` placement-api: placement [None req-1 - - - - - -] failed`) {
			t.Errorf("datagram %q lacks the logger's request id", got)
		}
	}
	// syslog is added to the other outputs: stderr still has both lines.
	if n := strings.Count(stderr.String(), "\n"); n != 2 {
		t.Errorf("stderr has %d lines, want 2: %q", n, stderr.String())
	}
}

// journalFields decodes a native-protocol datagram.
func journalFields(t *testing.T, p []byte) map[string]string {
	t.Helper()
	fields := map[string]string{}
	for len(p) > 0 {
		line, rest, _ := bytes.Cut(p, []byte("\n"))
		if name, value, ok := bytes.Cut(line, []byte("=")); ok {
			fields[string(name)] = string(value)
			p = rest
			continue
		}
		n := binary.LittleEndian.Uint64(rest[:8])
		fields[string(line)] = string(rest[8 : 8+n])
		p = rest[8+n+1:]
	}
	return fields
}

// TestJournal: the journal gets oslo.log's fields, a multi-line message in
// the binary form, and stderr is left out.
func TestJournal(t *testing.T) {
	addr, next := daemon(t, "journal")
	var stderr bytes.Buffer
	l, err := Open(Options{Journal: true, JournalAddr: addr, Program: "placement-api"}, &stderr)
	if err != nil || len(l.Warnings) > 0 {
		t.Fatalf("Open: %v %v", err, l.Warnings)
	}
	defer l.Close()
	l.Warn("two\nlines", "request_id", "req-2", "project", "p1", "user", "-")
	f := journalFields(t, next())
	want := map[string]string{"MESSAGE": "placement [None req-2 - p1 - - - -] two\nlines", "PRIORITY": "4",
		"SYSLOG_IDENTIFIER": "placement-api", "SYSLOG_FACILITY": "1", "LOGGER_LEVEL": "WARNING",
		"REQUEST_ID": "req-2", "PROJECT_ID": "p1"}
	for k, v := range want {
		if f[k] != v {
			t.Errorf("%s = %q, want %q", k, f[k], v)
		}
	}
	if _, ok := f["USER_ID"]; ok {
		t.Errorf("USER_ID set from a placeholder: %v", f)
	}
	if !strings.HasSuffix(f["CODE_FILE"], "system_test.go") || f["CODE_LINE"] == "" {
		t.Errorf("no source: %v", f)
	}
	l.Info("a\nb")
	if f := journalFields(t, next()); f["MESSAGE"] != "placement [-] a\nb" {
		t.Errorf("MESSAGE %q", f["MESSAGE"])
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr written beside the journal: %q", stderr.String())
	}
}

// TestSystemLogMissing: a daemon that is not there is a warning, and the
// journal's place goes to stderr.
func TestSystemLogMissing(t *testing.T) {
	var stderr bytes.Buffer
	l, err := Open(Options{Journal: true, JournalAddr: "/nonexistent/journal", Syslog: true, SyslogAddr: "/nonexistent/log"}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Warnings) != 2 || !strings.Contains(l.Warnings[0], "use_journal") || !strings.Contains(l.Warnings[1], "use_syslog") {
		t.Errorf("warnings %q", l.Warnings)
	}
	l.Info("still here")
	if !strings.Contains(stderr.String(), "still here") {
		t.Errorf("stderr %q", stderr.String())
	}
	if _, err := Open(Options{Syslog: true, Facility: "LOG_NOPE"}, &stderr); err == nil || !strings.Contains(err.Error(), "syslog_log_facility") {
		t.Errorf("bad facility: %v", err)
	}
	if _, err := Open(Options{Facility: "LOG_NOPE"}, &stderr); err != nil {
		t.Errorf("bad facility without a system log: %v (oslo.log checks it only then)", err)
	}
}

func TestFacility(t *testing.T) {
	for name, want := range map[string]int{"": 1, "LOG_USER": 1, "user": 1, "LOG_DAEMON": 3, "local0": 16, "LOG_LOCAL7": 23} {
		if got, err := Facility(name); err != nil || got != want {
			t.Errorf("Facility(%q) = %d, %v, want %d", name, got, err, want)
		}
	}
}
