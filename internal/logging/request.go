package logging

import (
	"context"
	"fmt"
	"log/slog"
	"net"
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

// LogRequest writes the access log line of a request. Its message is
// upstream's (`127.0.0.1 "GET /resource_providers" status: 200 len: 26
// microversion: 1.39`); its facts are upstream's arguments too (ArgsAttr,
// the JSON lines' args), which the text lines leave out.
func LogRequest(ctx context.Context, l *slog.Logger, q Request) {
	remote := remoteHost(q.Remote)
	status, length := strconv.Itoa(q.Status), strconv.Itoa(q.Length)
	msg := remote + ` "` + q.Method + " " + q.URI + `" status: ` + status + " len: " + length + " microversion: " + q.Microversion
	l.LogAttrs(ctx, slog.LevelInfo, msg,
		slog.String(LoggerAttr, RequestLogger),
		slog.String(MsgAttr, requestTemplate),
		slog.Group(ArgsAttr, "REMOTE_ADDR", remote, "REQUEST_METHOD", q.Method, "REQUEST_URI", q.URI,
			"status", status, "bytes", length, "microversion", q.Microversion),
		slog.String("request_id", q.RequestID),
		slog.String("global_request_id", q.GlobalRequestID),
		slog.String("user", q.User),
		slog.String("project", q.Project),
		slog.Duration("duration", q.Duration),
	)
}

// LogRequestStart writes, at DEBUG, upstream's line for a request that
// begins (`Starting request: 127.0.0.1 "GET /resource_providers"`), which
// tells a request that never finished from one that never came. Callers
// on a hot path check l.Enabled(ctx, slog.LevelDebug) before building its
// arguments.
func LogRequestStart(ctx context.Context, l *slog.Logger, remote, method, uri, requestID, globalRequestID string) {
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
