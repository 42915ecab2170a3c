package logging

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"time"
)

// RequestLogger is the logger name of the access log, as upstream's
// placement.requestlog.
const RequestLogger = "placement.requestlog"

// Request is what the access log says about one request.
type Request struct {
	Remote          string // the client's address, host:port as net/http has it
	Method, URI     string
	Status, Length  int
	Microversion    string // "-" when none was negotiated
	RequestID       string
	GlobalRequestID string
	User, Project   string
	Duration        time.Duration
}

// requestTemplate is upstream's access log message (msg in oslo.log's JSON).
const requestTemplate = `%(REMOTE_ADDR)s "%(REQUEST_METHOD)s %(REQUEST_URI)s" status: %(status)s len: %(bytes)s microversion: %(microversion)s`

// requestFields are the attributes the access log's message already holds.
var requestFields = []string{"remote", "method", "path", "status", "len", "microversion"}

// LogRequest writes the access log line of a request. Its message is
// upstream's (`127.0.0.1 "GET /resource_providers" status: 200 len: 26
// microversion: 1.39`), its JSON msg and args upstream's template and
// arguments. The same facts are plain attributes too, for a logger with
// another handler (tests read them); this package's handlers leave those
// out.
func LogRequest(ctx context.Context, l *slog.Logger, q Request) {
	remote := remoteHost(q.Remote)
	msg := fmt.Sprintf("%s \"%s %s\" status: %d len: %d microversion: %s", remote, q.Method, q.URI, q.Status, q.Length, q.Microversion)
	l.LogAttrs(ctx, slog.LevelInfo, msg,
		slog.String(LoggerAttr, RequestLogger),
		slog.String(MsgAttr, requestTemplate),
		slog.Any(ArgsAttr, map[string]string{
			"REMOTE_ADDR": remote, "REQUEST_METHOD": q.Method, "REQUEST_URI": q.URI,
			"status": strconv.Itoa(q.Status), "bytes": strconv.Itoa(q.Length), "microversion": q.Microversion,
		}),
		slog.String("remote", q.Remote),
		slog.String("method", q.Method),
		slog.String("path", q.URI),
		slog.Int("status", q.Status),
		slog.Int("len", q.Length),
		slog.String("microversion", q.Microversion),
		slog.String("request_id", q.RequestID),
		slog.String("global_request_id", q.GlobalRequestID),
		slog.String("user", q.User),
		slog.String("project", q.Project),
		slog.Duration("duration", q.Duration),
	)
}

// LogRequestStart writes, at DEBUG, upstream's line for a request that
// begins (`Starting request: 127.0.0.1 "GET /resource_providers"`), which
// tells a request that never finished from one that never came.
func LogRequestStart(ctx context.Context, l *slog.Logger, remote, method, uri, requestID, globalRequestID string) {
	if !l.Enabled(ctx, slog.LevelDebug) {
		return
	}
	l.LogAttrs(ctx, slog.LevelDebug, fmt.Sprintf("Starting request: %s \"%s %s\"", remoteHost(remote), method, uri),
		slog.String(LoggerAttr, RequestLogger),
		slog.String("request_id", requestID),
		slog.String("global_request_id", globalRequestID),
	)
}

// remoteHost is the client's address without its port, "-" when unknown
// (a Unix socket's client).
func remoteHost(remote string) string {
	if host, _, err := net.SplitHostPort(remote); err == nil {
		remote = host
	}
	if remote == "" || remote == "@" {
		return "-"
	}
	return remote
}

// dropRequestFields leaves out of an access log record's extra
// attributes those its message holds.
func dropRequestFields(attrs []slog.Attr) []slog.Attr {
	return slices.DeleteFunc(attrs, func(a slog.Attr) bool { return slices.Contains(requestFields, a.Key) })
}
