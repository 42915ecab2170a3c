package logging

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPath(t *testing.T) {
	for _, tc := range []struct {
		o    Options
		want string
	}{
		{Options{}, ""},
		{Options{File: "a.log"}, "a.log"},
		{Options{File: "a.log", Dir: "/var/log/p"}, "/var/log/p/a.log"},
		{Options{Dir: "/var/log/p", Program: "placement-api"}, "/var/log/p/placement-api.log"},
	} {
		if got := tc.o.Path(); got != tc.want {
			t.Errorf("%+v: Path = %q, want %q", tc.o, got, tc.want)
		}
	}
}

func TestOpen_FileStderrJSONLevel(t *testing.T) {
	dir := t.TempDir()
	var stderr bytes.Buffer
	l, err := Open(Options{Dir: dir, Program: "p", UseStderr: true, JSON: true}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	l.Debug("hidden")
	l.Info("hello", "k", 1)
	data, err := os.ReadFile(filepath.Join(dir, "p.log"))
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		Message string         `json:"message"`
		Extra   map[string]any `json:"extra"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(data), &rec); err != nil || rec.Message != "hello" || rec.Extra["k"] != 1.0 {
		t.Fatalf("file holds %q (%v), want one JSON line for hello", data, err)
	}
	if stderr.String() != string(data) {
		t.Errorf("stderr %q differs from the file %q", stderr.String(), data)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	var quiet bytes.Buffer
	l, err = Open(Options{Debug: true}, &quiet)
	if err != nil {
		t.Fatal(err)
	}
	l.Debug("shown")
	if !strings.Contains(quiet.String(), " DEBUG placement [-] shown ") {
		t.Errorf("debug text line missing: %q", quiet.String())
	}
}

// TestReopen: after logrotate moves the file away, Reopen starts a new one
// and later lines go there.
func TestReopen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "p.log")
	l, err := Open(Options{File: path}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.Info("before")
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	l.Info("moved")
	if err := l.Reopen(); err != nil {
		t.Fatal(err)
	}
	l.Info("after")
	old, _ := os.ReadFile(path + ".1")
	cur, _ := os.ReadFile(path)
	if !strings.Contains(string(old), "before") || !strings.Contains(string(old), "moved") || strings.Contains(string(old), "after") {
		t.Errorf("rotated file: %q", old)
	}
	if !strings.Contains(string(cur), "after") || strings.Contains(string(cur), "before") {
		t.Errorf("new file: %q", cur)
	}
}
