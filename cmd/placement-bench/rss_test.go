package main

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

func TestParseVmRSS(t *testing.T) {
	t.Parallel()
	got, err := parseVmRSS([]byte("Name:\tplacement-api\nVmPeak:\t  900 kB\nVmRSS:\t   27412 kB\nThreads:\t9\n"))
	if err != nil || got != 27412 {
		t.Errorf("parseVmRSS = %d, %v; want 27412", got, err)
	}
	if _, err := parseVmRSS([]byte("Name:\tkthreadd\n")); err == nil {
		t.Error("parseVmRSS without a VmRSS line succeeded")
	}
}

func TestParsePPID(t *testing.T) {
	t.Parallel()
	got, err := parsePPID([]byte("4242 (uwsgi (x) y) S 17 4242 4242 0 -1\n"))
	if err != nil || got != 17 {
		t.Errorf("parsePPID = %d, %v; want 17", got, err)
	}
}

func TestTreeRSS_ofThisProcess(t *testing.T) {
	t.Parallel()
	kib, err := TreeRSS(os.Getpid())
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	if kib <= 0 {
		t.Errorf("TreeRSS(self) = %d KiB", kib)
	}
}

// TestServer_RSS: the server's pid comes from PID, else from PIDFile, and
// without either there is no figure.
func TestServer_RSS(t *testing.T) {
	t.Parallel()
	if _, err := TreeRSS(os.Getpid()); err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	pidFile := filepath.Join(t.TempDir(), "server.pid")
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*Server{{PID: os.Getpid()}, {PIDFile: pidFile}} {
		if kib, ok := s.RSS(); !ok || kib <= 0 {
			t.Errorf("%+v: RSS = %d, %v", s, kib, ok)
		}
		if kib, ok := s.PeakRSS(); !ok || kib <= 0 {
			t.Errorf("%+v: PeakRSS = %d, %v", s, kib, ok)
		}
	}
	for _, s := range []*Server{{}, {PIDFile: filepath.Join(t.TempDir(), "missing.pid")}} {
		if kib, ok := s.RSS(); ok {
			t.Errorf("%+v: RSS = %d, true; want no figure", s, kib)
		}
	}
}
