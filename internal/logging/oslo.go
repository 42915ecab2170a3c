package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Text lines as oslo.log writes them, so that what reads the Python
// service's log files (kolla's fluentd patterns, grep for "status: 500")
// reads ours:
//
//	2026-12-04 14:25:50.244 20482 INFO placement.requestlog [None req-dcb2… admin admin - - - -] 127.0.0.1 "GET /resource_providers" status: 200 len: 80624 microversion: 1.39
//
// The format strings are oslo.log's options, with its defaults. A
// record's attributes that oslo.log has no place for follow the message as
// key=value pairs; request_id, global_request_id, user and project fill
// the context part, and "logger" names the logger.

// Format holds oslo.log's format options ([DEFAULT] logging_*_format_*,
// log_date_format). Empty fields take oslo.log's defaults.
type Format struct {
	Context      string // logging_context_format_string: records of a request
	Default      string // logging_default_format_string: the others
	DebugSuffix  string // logging_debug_format_suffix: appended to DEBUG records
	UserIdentity string // logging_user_identity_format: %(user_identity)s
	DateFormat   string // log_date_format: %(asctime)s, strftime
}

// oslo.log's defaults.
const (
	defaultContextFormat = "%(asctime)s.%(msecs)03d %(process)d %(levelname)s %(name)s " +
		"[%(global_request_id)s %(request_id)s %(user_identity)s] %(instance)s%(message)s"
	defaultDefaultFormat = "%(asctime)s.%(msecs)03d %(process)d %(levelname)s %(name)s [-] %(instance)s%(message)s"
	defaultDebugSuffix   = "%(funcName)s %(pathname)s:%(lineno)d"
	defaultUserIdentity  = "%(user)s %(project)s %(domain)s %(system_scope)s %(user_domain)s %(project_domain)s"
	defaultDateFormat    = "%Y-%m-%d %H:%M:%S"
)

// The system logs' defaults: oslo.log's lines without the time, process
// and level, which syslog and the journal record themselves.
const (
	systemContextFormat = "%(name)s [%(global_request_id)s %(request_id)s %(user_identity)s] %(instance)s%(message)s"
	systemDefaultFormat = "%(name)s [-] %(instance)s%(message)s"
)

// forSystem returns the Format of the system logs: f, with the system
// defaults for the line formats f leaves unset.
func (f Format) forSystem() Format {
	if f.Context == "" {
		f.Context = systemContextFormat
	}
	if f.Default == "" {
		f.Default = systemDefaultFormat
	}
	return f
}

// LoggerAttr names the logger of a record (%(name)s); without it the name
// is DefaultLogger.
const (
	LoggerAttr    = "logger"
	DefaultLogger = "placement"
)

// contextAttrs are the attributes that fill a line's context part.
var contextAttrs = map[string]bool{"request_id": true, "global_request_id": true, "user": true, "project": true}

// osloLine formats records with a compiled Format.
type osloLine struct {
	context, plain, debugSuffix, identity pyFormat
	date                                  string
}

func compileFormat(f Format) (*osloLine, error) {
	var l osloLine
	var err error
	for _, c := range []struct {
		dst            *pyFormat
		val, def, name string
	}{
		{&l.context, f.Context, defaultContextFormat, "logging_context_format_string"},
		{&l.plain, f.Default, defaultDefaultFormat, "logging_default_format_string"},
		{&l.debugSuffix, f.DebugSuffix, defaultDebugSuffix, "logging_debug_format_suffix"},
		{&l.identity, f.UserIdentity, defaultUserIdentity, "logging_user_identity_format"},
	} {
		v := c.val
		if v == "" {
			v = c.def
		}
		if *c.dst, err = parsePyFormat(v); err != nil {
			return nil, fmt.Errorf("[DEFAULT] %s: %w", c.name, err)
		}
	}
	l.date = f.DateFormat
	if l.date == "" {
		l.date = defaultDateFormat
	}
	return &l, nil
}

// osloHandler writes one oslo.log line per record to out.
type osloHandler struct {
	level  slog.Leveler
	format *osloLine
	out    *lockedWriter
	pid    int
	attrs  []slog.Attr // from WithAttrs, keys already prefixed with groups
	prefix string      // the groups of WithGroup, "a.b."
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func newOsloHandler(w io.Writer, level slog.Leveler, f *osloLine) *osloHandler {
	return &osloHandler{level: level, format: f, out: &lockedWriter{w: w}, pid: os.Getpid()}
}

func (h *osloHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

func (h *osloHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(h.attrs[:len(h.attrs):len(h.attrs)], prefixed(h.prefix, attrs)...)
	return &c
}

func (h *osloHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	c.prefix += name + "."
	return &c
}

func prefixed(prefix string, attrs []slog.Attr) []slog.Attr {
	if prefix == "" {
		return attrs
	}
	out := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		out[i] = slog.Attr{Key: prefix + a.Key, Value: a.Value}
	}
	return out
}

func (h *osloHandler) Handle(_ context.Context, r slog.Record) error {
	attrs := h.attrs
	r.Attrs(func(a slog.Attr) bool {
		attrs = append(attrs, prefixed(h.prefix, []slog.Attr{a})...)
		return true
	})
	local := r.Time.Local()
	fields := map[string]any{
		"asctime":           strftime(local, h.format.date),
		"msecs":             r.Time.Nanosecond() / 1e6,
		"isotime":           local.Format("2006-01-02T15:04:05.000000-07:00"),
		"process":           h.pid,
		"processName":       "MainProcess",
		"thread":            0,
		"threadName":        "MainThread",
		"levelname":         levelName(r.Level),
		"levelno":           pyLevel(r.Level),
		"name":              DefaultLogger,
		"instance":          "",
		"color":             "",
		"global_request_id": "None", // Python's str(None)
	}
	source(r.PC, fields)
	var extra, who []slog.Attr
	requestID := false
	for _, a := range attrs {
		v := a.Value.Resolve()
		switch {
		case a.Key == LoggerAttr:
			fields["name"] = v.String()
		case contextAttrs[a.Key]:
			if s := v.String(); s != "" && s != "-" {
				fields[a.Key] = s
				requestID = requestID || a.Key == "request_id"
				who = append(who, slog.Attr{Key: a.Key, Value: v})
			}
		default:
			extra = append(extra, slog.Attr{Key: a.Key, Value: v})
		}
	}
	if !requestID {
		// The default format has no place for them.
		extra = append(extra, who...)
	}
	if fields["name"] == RequestLogger {
		extra = dropRequestFields(extra)
	}
	var msg strings.Builder
	msg.WriteString(r.Message)
	for _, a := range extra {
		msg.WriteByte(' ')
		msg.WriteString(a.Key)
		msg.WriteByte('=')
		msg.WriteString(quoteValue(a.Value))
	}
	fields["message"] = msg.String()
	format := h.format.plain
	if requestID {
		ids := map[string]any{}
		for _, k := range []string{"user", "project", "domain", "system_scope", "user_domain", "project_domain"} {
			ids[k] = "-"
			if s, ok := fields[k].(string); ok {
				ids[k] = s
			}
		}
		ids["tenant"] = ids["project"]
		fields["user_identity"] = h.format.identity.format(ids)
		format = h.format.context
	}
	line := format.format(fields)
	if r.Level < slog.LevelInfo {
		line += " " + h.format.debugSuffix.format(fields)
	}
	h.out.mu.Lock()
	defer h.out.mu.Unlock()
	_, err := io.WriteString(h.out.w, line+"\n")
	return err
}

// source fills Python's location fields from a record's program counter.
func source(pc uintptr, fields map[string]any) {
	fields["funcName"], fields["pathname"], fields["filename"], fields["module"], fields["lineno"] = "-", "-", "-", "-", 0
	if pc == 0 {
		return
	}
	f, _ := runtime.CallersFrames([]uintptr{pc}).Next()
	fn := f.Function
	if i := strings.LastIndexByte(fn, '.'); i >= 0 {
		fn = fn[i+1:]
	}
	fields["funcName"], fields["pathname"], fields["lineno"] = fn, f.File, f.Line
	fields["filename"] = filepath.Base(f.File)
	fields["module"] = strings.TrimSuffix(filepath.Base(f.File), ".go")
}

// pyLevel is Python's number of a level.
func pyLevel(l slog.Level) int {
	switch levelName(l) {
	case "ERROR":
		return 40
	case "WARNING":
		return 30
	case "INFO":
		return 20
	}
	return 10
}

// quoteValue writes a value as slog's text handler does: quoted when it
// holds spaces, quotes, '=' or control characters.
func quoteValue(v slog.Value) string {
	s := v.String()
	if s == "" || strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == '"' || r == '=' || r == 0x7f }) {
		return strconv.Quote(s)
	}
	return s
}

// pyFormat is a compiled Python %-format with named fields: literal text
// and %(name)spec conversions.
type pyFormat []pyPart

type pyPart struct {
	literal string
	field   string // "" for a literal
	spec    string // Go fmt spec: "%" flags width precision verb
	numeric bool   // d, i, f...: a string value prints as %s
}

var pyConversion = regexp.MustCompile(`^%\(([^)]*)\)([#0\- +]*)(\d*)(\.\d+)?([diouxXeEfFgGcrsa])`)

func parsePyFormat(s string) (pyFormat, error) {
	var out pyFormat
	var lit strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '%' {
			lit.WriteByte(s[i])
			i++
			continue
		}
		if strings.HasPrefix(s[i:], "%%") {
			lit.WriteByte('%')
			i += 2
			continue
		}
		m := pyConversion.FindStringSubmatch(s[i:])
		if m == nil {
			return nil, fmt.Errorf("cannot read the conversion at %q", s[i:])
		}
		if lit.Len() > 0 {
			out = append(out, pyPart{literal: lit.String()})
			lit.Reset()
		}
		verb := m[5]
		numeric := strings.Contains("diouxXeEfFgGc", verb)
		switch verb {
		case "i", "u":
			verb = "d"
		case "r", "a":
			verb = "s"
		case "F":
			verb = "f"
		}
		out = append(out, pyPart{field: m[1], spec: "%" + m[2] + m[3] + m[4] + verb, numeric: numeric})
		i += len(m[0])
	}
	if lit.Len() > 0 {
		out = append(out, pyPart{literal: lit.String()})
	}
	return out, nil
}

// format fills the conversions from fields; a missing field is empty.
func (f pyFormat) format(fields map[string]any) string {
	var b strings.Builder
	for _, p := range f {
		if p.field == "" {
			b.WriteString(p.literal)
			continue
		}
		v, ok := fields[p.field]
		if !ok {
			v = ""
		}
		switch x := v.(type) {
		case int:
			if !p.numeric {
				v = strconv.Itoa(x)
			}
		case string:
			if p.numeric {
				b.WriteString(x)
				continue
			}
		}
		if p.numeric && strings.ContainsAny(p.spec[len(p.spec)-1:], "eEfgG") {
			if x, ok := v.(int); ok {
				v = float64(x)
			}
		}
		fmt.Fprintf(&b, p.spec, v)
	}
	return b.String()
}

// strftime formats t with the C directives Python's time.strftime knows
// (the common ones; others are copied as they are).
func strftime(t time.Time, layout string) string {
	var b strings.Builder
	for i := 0; i < len(layout); i++ {
		c := layout[i]
		if c != '%' || i+1 == len(layout) {
			b.WriteByte(c)
			continue
		}
		i++
		switch layout[i] {
		case 'Y':
			fmt.Fprintf(&b, "%04d", t.Year())
		case 'y':
			fmt.Fprintf(&b, "%02d", t.Year()%100)
		case 'm':
			fmt.Fprintf(&b, "%02d", int(t.Month()))
		case 'd':
			fmt.Fprintf(&b, "%02d", t.Day())
		case 'H':
			fmt.Fprintf(&b, "%02d", t.Hour())
		case 'I':
			fmt.Fprintf(&b, "%02d", (t.Hour()+11)%12+1)
		case 'M':
			fmt.Fprintf(&b, "%02d", t.Minute())
		case 'S':
			fmt.Fprintf(&b, "%02d", t.Second())
		case 'f':
			fmt.Fprintf(&b, "%06d", t.Nanosecond()/1000)
		case 'j':
			fmt.Fprintf(&b, "%03d", t.YearDay())
		case 'p':
			b.WriteString(t.Format("PM"))
		case 'b':
			b.WriteString(t.Format("Jan"))
		case 'B':
			b.WriteString(t.Format("January"))
		case 'a':
			b.WriteString(t.Format("Mon"))
		case 'A':
			b.WriteString(t.Format("Monday"))
		case 'z':
			b.WriteString(t.Format("-0700"))
		case 'Z':
			b.WriteString(t.Format("MST"))
		case '%':
			b.WriteByte('%')
		default:
			b.WriteByte('%')
			b.WriteByte(layout[i])
		}
	}
	return b.String()
}
