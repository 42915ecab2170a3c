package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The reference service's line for the same request (placement 8.0.0,
// oslo.log defaults; its trailing colour reset left out).
const referenceLine = `2026-12-04 14:25:50.244 20482 INFO placement.requestlog [None req-dcb29f6d-b60b-4144-b5b7-93b6ccfaf319 admin admin - - - -] 127.0.0.1 "GET /resource_providers?resources=CUSTOM_GPU:2" status: 200 len: 80624 microversion: 1.39`

func TestOslo_RequestLineAsUpstream(t *testing.T) {
	var buf bytes.Buffer
	l, err := Open(Options{}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	LogRequest(context.Background(), l.Logger, Request{
		Remote: "127.0.0.1:49352", Method: "GET", URI: "/resource_providers?resources=CUSTOM_GPU:2",
		Status: 200, Length: 80624, Microversion: "1.39",
		RequestID: "req-dcb29f6d-b60b-4144-b5b7-93b6ccfaf319", User: "admin", Project: "admin",
		Duration: 1500 * time.Microsecond,
	})
	got := strings.TrimSuffix(buf.String(), "\n")
	// Time and process differ; the rest is upstream's, then the duration.
	stamp := regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \d+ `)
	if !stamp.MatchString(got) {
		t.Fatalf("line %q does not start with oslo.log's time and process", got)
	}
	want := stamp.ReplaceAllString(referenceLine, "") + " duration=1.5ms"
	if rest := stamp.ReplaceAllString(got, ""); rest != want {
		t.Errorf("line after the time and process:\n got %s\nwant %s", rest, want)
	}
	if pid := fmt.Sprintf(" %d ", os.Getpid()); !strings.Contains(got, pid) {
		t.Errorf("line %q lacks the process id", got)
	}
}

func TestOslo_DefaultLineAttrsAndDebugSuffix(t *testing.T) {
	var buf bytes.Buffer
	l, err := Open(Options{Debug: true}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	l.With("pool", "main").WithGroup("db").Warn("slow query", "ms", 12, "sql", "SELECT 1")
	l.Info("no request", "user", "u1")
	l.Debug("detail")
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("lines = %q", lines)
	}
	if !strings.HasSuffix(lines[1], ` INFO placement [-] no request user=u1`) {
		t.Errorf("a user without a request id = %q", lines[1])
	}
	if !strings.HasSuffix(lines[0], ` WARNING placement [-] slow query pool=main db.ms=12 db.sql="SELECT 1"`) {
		t.Errorf("warning line = %q", lines[0])
	}
	if !regexp.MustCompile(` DEBUG placement \[-\] detail TestOslo_DefaultLineAttrsAndDebugSuffix \S+/oslo_test\.go:\d+$`).MatchString(lines[2]) {
		t.Errorf("debug line = %q", lines[2])
	}
}

func TestOslo_ConfiguredFormats(t *testing.T) {
	var buf bytes.Buffer
	l, err := Open(Options{Format: Format{
		Context:      "%(levelname)-8s|%(name)s|%(request_id)s|%(user_identity)s|%(message)s|%(nosuchfield)s|100%%",
		Default:      "%(asctime)s %(levelno)d %(message)s",
		UserIdentity: "%(user)s@%(tenant)s",
		DateFormat:   "%d/%b/%Y",
	}}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	l.Info("plain")
	l.Info("in a request", "request_id", "req-1", "user", "u1", "project", "p1")
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if want := time.Now().Format("02/Jan/2006") + " 20 plain"; lines[0] != want {
		t.Errorf("default line = %q, want %q", lines[0], want)
	}
	if want := "INFO    |placement|req-1|u1@p1|in a request||100%"; lines[1] != want {
		t.Errorf("context line = %q, want %q", lines[1], want)
	}
	for _, bad := range []string{"%(name", "%(name)q", "50% off"} {
		if _, err := Open(Options{Format: Format{Context: bad}}, &buf); err == nil || !strings.Contains(err.Error(), "logging_context_format_string") {
			t.Errorf("format %q: err = %v", bad, err)
		}
	}
}

func TestOslo_DateWithMicroseconds(t *testing.T) {
	var buf bytes.Buffer
	l, err := Open(Options{Format: Format{Default: "%(asctime)s %(message)s", DateFormat: "%S.%f"}}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	l.Info("a")
	time.Sleep(2 * time.Millisecond)
	l.Info("b")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || lines[0][:9] == lines[1][:9] {
		t.Errorf("two lines 2 ms apart with %%f in the date: %q", lines)
	}
}

func TestStrftime(t *testing.T) {
	tm := time.Date(2026, 3, 7, 15, 4, 5, 123456000, time.UTC)
	for layout, want := range map[string]string{
		"%Y-%m-%d %H:%M:%S":    "2026-03-07 15:04:05",
		"%y%j %I%p %f":         "26066 03PM 123456",
		"%a %A %b %B %Z %z %%": "Sat Saturday Mar March UTC +0000 %",
		"%Q":                   "%Q",
	} {
		if got := strftime(tm, layout); got != want {
			t.Errorf("strftime(%q) = %q, want %q", layout, got, want)
		}
	}
}

// TestOsloJSON_RequestRecord: use_json writes oslo.log's JSONFormatter
// objects; the access log's carries upstream's template and arguments and
// the request's context.
func TestOsloJSON_RequestRecord(t *testing.T) {
	var buf bytes.Buffer
	l, err := Open(Options{JSON: true}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	LogRequest(context.Background(), l.Logger, Request{
		Remote: "10.0.0.9:5555", Method: "PUT", URI: "/allocations/c1", Status: 204, Length: 0, Microversion: "1.39",
		RequestID: "req-1", GlobalRequestID: "-", User: "u1", Project: "p1", Duration: time.Millisecond,
	})
	l.Warn("pool busy", "in_use", 15)
	var recs []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		recs = append(recs, rec)
	}
	if len(recs) != 2 {
		t.Fatalf("%d records", len(recs))
	}
	req := recs[0]
	want := map[string]any{
		"message":   `10.0.0.9 "PUT /allocations/c1" status: 204 len: 0 microversion: 1.39`,
		"msg":       `%(REMOTE_ADDR)s "%(REQUEST_METHOD)s %(REQUEST_URI)s" status: %(status)s len: %(bytes)s microversion: %(microversion)s`,
		"name":      "placement.requestlog",
		"levelname": "INFO",
		"levelno":   20.0,
	}
	for k, v := range want {
		if req[k] != v {
			t.Errorf("%s = %#v, want %#v", k, req[k], v)
		}
	}
	if args, _ := req["args"].(map[string]any); args["status"] != "204" || args["REMOTE_ADDR"] != "10.0.0.9" {
		t.Errorf("args = %v", req["args"])
	}
	if ctx, _ := req["context"].(map[string]any); ctx["request_id"] != "req-1" || ctx["user"] != "u1" || ctx["project"] != "p1" || ctx["global_request_id"] != nil {
		t.Errorf("context = %v", req["context"])
	}
	if extra, _ := req["extra"].(map[string]any); len(extra) != 1 || extra["duration"] != "1ms" {
		t.Errorf("extra = %v, want only the duration", req["extra"])
	}
	if w := recs[1]; w["levelname"] != "WARNING" || w["message"] != "pool busy" || len(w["context"].(map[string]any)) != 0 ||
		w["extra"].(map[string]any)["in_use"] != 15.0 || w["funcname"] != "TestOsloJSON_RequestRecord" {
		t.Errorf("warning record = %v", w)
	}
}

func TestLogRequestStart_DebugOnly(t *testing.T) {
	for _, debug := range []bool{false, true} {
		var buf bytes.Buffer
		l, err := Open(Options{Debug: debug}, &buf)
		if err != nil {
			t.Fatal(err)
		}
		LogRequestStart(context.Background(), l.Logger, "[::1]:5000", "GET", "/traits?name=in:A", "req-7", "-")
		want := ` DEBUG placement.requestlog [None req-7 - - - - - -] Starting request: ::1 "GET /traits?name=in:A" LogRequestStart `
		if got := buf.String(); debug != strings.Contains(got, want) || !debug && got != "" {
			t.Errorf("debug %v: %q", debug, got)
		}
	}
}

// TestOsloJSON_ValueJSONCannotHold: the record is written with the value's
// text rather than lost.
func TestOsloJSON_ValueJSONCannotHold(t *testing.T) {
	var buf bytes.Buffer
	l, err := Open(Options{JSON: true}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	l.Info("ratio", "value", math.NaN())
	var rec struct {
		Message string            `json:"message"`
		Extra   map[string]string `json:"extra"`
	}
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil || rec.Message != "ratio" || rec.Extra["value"] != "NaN" {
		t.Errorf("record %q: %v", buf.String(), err)
	}
}

// TestOslo_Stack: a stack follows the record's line, each of its lines
// after logging_exception_prefix, as oslo.log writes a traceback; in JSON
// it is the traceback's list of lines.
func TestOslo_Stack(t *testing.T) {
	var buf bytes.Buffer
	l, err := Open(Options{Format: Format{ExceptionPrefix: "%(process)d TRACE %(name)s "}}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	l.Error("Placement API unexpected error: boom", LoggerAttr, "placement.fault_wrap", "request_id", "req-9",
		StackAttr, "goroutine 7 [running]:\nmain.f()\n\t/src/f.go:3\n")
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	pid := strconv.Itoa(os.Getpid())
	want := []string{
		" ERROR placement.fault_wrap [None req-9 - - - - - -] Placement API unexpected error: boom",
		pid + " TRACE placement.fault_wrap goroutine 7 [running]:",
		pid + " TRACE placement.fault_wrap main.f()",
		pid + " TRACE placement.fault_wrap \t/src/f.go:3",
	}
	if len(lines) != len(want) || !strings.HasSuffix(lines[0], want[0]) || !slices.Equal(lines[1:], want[1:]) {
		t.Errorf("lines:\n%s\nwant (the first as a suffix):\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}

	buf.Reset()
	l, err = Open(Options{JSON: true}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	l.Error("boom", StackAttr, "a\nb\n")
	var rec struct {
		Traceback []string       `json:"traceback"`
		Extra     map[string]any `json:"extra"`
	}
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil || !slices.Equal(rec.Traceback, []string{"a", "b"}) || len(rec.Extra) != 0 {
		t.Errorf("JSON record %q (%v)", buf.String(), err)
	}
}
