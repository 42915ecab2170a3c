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
	"slices"
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
	// ExceptionPrefix (logging_exception_prefix) starts each line of a
	// record's stack (StackAttr).
	ExceptionPrefix string
}

// oslo.log's defaults.
const (
	defaultContextFormat = "%(asctime)s.%(msecs)03d %(process)d %(levelname)s %(name)s " +
		"[%(global_request_id)s %(request_id)s %(user_identity)s] %(instance)s%(message)s"
	defaultDefaultFormat   = "%(asctime)s.%(msecs)03d %(process)d %(levelname)s %(name)s [-] %(instance)s%(message)s"
	defaultDebugSuffix     = "%(funcName)s %(pathname)s:%(lineno)d"
	defaultUserIdentity    = "%(user)s %(project)s %(domain)s %(system_scope)s %(user_domain)s %(project_domain)s"
	defaultDateFormat      = "%Y-%m-%d %H:%M:%S"
	defaultExceptionPrefix = "%(asctime)s.%(msecs)03d %(process)d ERROR %(name)s %(instance)s"
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
// is DefaultLogger. StackAttr holds a stack trace, written on the lines
// after the record's, each after logging_exception_prefix (a traceback's
// lines in JSON).
const (
	LoggerAttr    = "logger"
	DefaultLogger = "placement"
	StackAttr     = "stack"
)

// osloLine formats records with a compiled Format.
type osloLine struct {
	context, plain, debugSuffix, identity, exception pyFormat
	date                                             string
	usesSource, usesIsotime                          bool // a line format names them
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
		{&l.exception, f.ExceptionPrefix, defaultExceptionPrefix, "logging_exception_prefix"},
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
	for _, f := range []pyFormat{l.context, l.plain} {
		l.usesSource = l.usesSource || f.uses(fFuncName, fPathname, fFilename, fModule, fLineno)
		l.usesIsotime = l.usesIsotime || f.uses(fIsotime)
	}
	l.usesIsotime = l.usesIsotime || l.debugSuffix.uses(fIsotime)
	return &l, nil
}

// osloHandler writes one oslo.log line per record to out: text, or with
// json the JSONFormatter's object (osloj.go).
type osloHandler struct {
	level    slog.Leveler
	format   *osloLine
	json     bool
	out      *lockedWriter
	clock    *asctimeCache
	pid      int
	hostname string
	scope
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func newOsloHandler(w io.Writer, level slog.Leveler, f *osloLine, json bool) *osloHandler {
	host, _ := os.Hostname()
	return &osloHandler{level: level, format: f, json: json, out: &lockedWriter{w: w}, clock: &asctimeCache{},
		pid: os.Getpid(), hostname: host}
}

func (h *osloHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

func (h *osloHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.scope = h.with(attrs)
	return &c
}

func (h *osloHandler) WithGroup(name string) slog.Handler {
	c := *h
	c.scope = h.group(name)
	return &c
}

// scope is what WithAttrs and WithGroup gave a handler: attributes, their
// keys prefixed with the groups around them, and the groups of later ones.
type scope struct {
	attrs  []slog.Attr
	prefix string // "a.b."
}

func (s scope) with(attrs []slog.Attr) scope {
	s.attrs = append(s.attrs[:len(s.attrs):len(s.attrs)], prefixed(s.prefix, attrs)...)
	return s
}

func (s scope) group(name string) scope {
	if name != "" {
		s.prefix += name + "."
	}
	return s
}

// each calls visit with the scope's attributes and then r's, keys
// prefixed, values resolved.
func (s scope) each(r slog.Record, visit func(slog.Attr)) {
	for _, a := range s.attrs {
		visit(slog.Attr{Key: a.Key, Value: a.Value.Resolve()})
	}
	r.Attrs(func(a slog.Attr) bool {
		visit(slog.Attr{Key: s.prefix + a.Key, Value: a.Value.Resolve()})
		return true
	})
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
	line, err := h.line(r)
	if err != nil {
		return err
	}
	h.out.mu.Lock()
	defer h.out.mu.Unlock()
	_, err = h.out.w.Write(line)
	return err
}

// line is r formatted, with its newline.
func (h *osloHandler) line(r slog.Record) ([]byte, error) {
	if h.json {
		return h.jsonLine(r)
	}
	return h.textLine(r), nil
}

// textLine is r as oslo.log's ContextFormatter writes it.
func (h *osloHandler) textLine(r slog.Record) []byte {
	var v values
	v.s[fAsctime] = h.clock.asctime(r.Time, h.format.date)
	v.n[fMsecs] = r.Time.Nanosecond() / 1e6
	v.n[fProcess] = h.pid
	v.s[fProcessName], v.s[fThreadName] = "MainProcess", "MainThread"
	v.s[fLevelname], v.n[fLevelno] = levelName(r.Level), pyLevel(r.Level)
	v.s[fName] = DefaultLogger
	v.s[fGlobalRequestID] = "None" // Python's str(None)
	debug := r.Level < slog.LevelInfo
	if h.format.usesSource || debug {
		source(r.PC, &v)
	}
	if h.format.usesIsotime {
		v.s[fIsotime] = r.Time.Local().Format("2006-01-02T15:04:05.000000-07:00")
	}
	var extra, who []slog.Attr
	var stack string
	requestID := false
	h.each(r, func(a slog.Attr) {
		val := a.Value
		switch f := contextAttrs[a.Key]; {
		case a.Key == LoggerAttr:
			v.s[fName] = val.String()
		case a.Key == StackAttr:
			stack = val.String()
		case a.Key == MsgAttr || a.Key == ArgsAttr:
			// The JSON lines' msg and args; the message says it all.
		case f != fNone:
			if s := val.String(); s != "" && s != "-" {
				v.s[f] = s
				requestID = requestID || f == fRequestID
				who = append(who, a)
			}
		default:
			extra = append(extra, a)
		}
	})
	if !requestID {
		// The default format has no place for them.
		extra = append(extra, who...)
	}
	msg := make([]byte, 0, len(r.Message)+64)
	msg = append(msg, r.Message...)
	for _, a := range extra {
		msg = append(msg, ' ')
		msg = append(msg, a.Key...)
		msg = append(msg, '=')
		msg = append(msg, quoteValue(a.Value)...)
	}
	v.s[fMessage] = string(msg)
	format := h.format.plain
	if requestID {
		for _, f := range []field{fUser, fProject, fDomain, fSystemScope, fUserDomain, fProjectDomain} {
			if v.s[f] == "" {
				v.s[f] = "-"
			}
		}
		v.s[fUserIdentity] = string(h.format.identity.append(nil, &v))
		format = h.format.context
	}
	line := format.append(make([]byte, 0, 128+len(msg)), &v)
	if debug {
		line = append(line, ' ')
		line = h.format.debugSuffix.append(line, &v)
	}
	line = append(line, '\n')
	if stack != "" {
		prefix := h.format.exception.append(nil, &v)
		for _, l := range strings.Split(strings.TrimRight(stack, "\n"), "\n") {
			line = append(append(append(line, prefix...), l...), '\n')
		}
	}
	return line
}

// asctimeCache keeps the last second's %(asctime)s: every line of a
// second has the same.
type asctimeCache struct {
	mu  sync.Mutex
	sec int64
	s   string
}

func (c *asctimeCache) asctime(t time.Time, layout string) string {
	if strings.Contains(layout, "%f") {
		return strftime(t.Local(), layout) // changes within the second
	}
	sec := t.Unix()
	c.mu.Lock()
	defer c.mu.Unlock()
	if sec != c.sec || c.s == "" {
		c.sec, c.s = sec, strftime(t.Local(), layout)
	}
	return c.s
}

// source fills Python's location fields from a record's program counter.
func source(pc uintptr, v *values) {
	v.s[fFuncName], v.s[fPathname], v.s[fFilename], v.s[fModule] = "-", "-", "-", "-"
	if pc == 0 {
		return
	}
	f, _ := runtime.CallersFrames([]uintptr{pc}).Next()
	fn := f.Function
	if i := strings.LastIndexByte(fn, '.'); i >= 0 {
		fn = fn[i+1:]
	}
	v.s[fFuncName], v.s[fPathname], v.n[fLineno] = fn, f.File, f.Line
	v.s[fFilename] = filepath.Base(f.File)
	v.s[fModule] = strings.TrimSuffix(v.s[fFilename], ".go")
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

// field is a field of a Python log record that a format may name.
type field uint8

const (
	fNone field = iota // unknown here: formats as empty
	fAsctime
	fMsecs
	fIsotime
	fProcess
	fProcessName
	fThread
	fThreadName
	fLevelname
	fLevelno
	fName
	fInstance
	fColor
	fGlobalRequestID
	fRequestID
	fUserIdentity
	fMessage
	fFuncName
	fPathname
	fFilename
	fModule
	fLineno
	fUser
	fProject
	fDomain
	fSystemScope
	fUserDomain
	fProjectDomain
	nFields
)

var fieldNames = map[string]field{
	"asctime": fAsctime, "msecs": fMsecs, "isotime": fIsotime, "process": fProcess, "processName": fProcessName,
	"thread": fThread, "threadName": fThreadName, "levelname": fLevelname, "levelno": fLevelno, "name": fName,
	"instance": fInstance, "color": fColor, "global_request_id": fGlobalRequestID, "request_id": fRequestID,
	"user_identity": fUserIdentity, "message": fMessage, "funcName": fFuncName, "pathname": fPathname,
	"filename": fFilename, "module": fModule, "lineno": fLineno,
	"user": fUser, "project": fProject, "tenant": fProject, "domain": fDomain, "system_scope": fSystemScope,
	"user_domain": fUserDomain, "project_domain": fProjectDomain,
}

// contextAttrs are the record attributes that fill the context fields.
var contextAttrs = map[string]field{"request_id": fRequestID, "global_request_id": fGlobalRequestID, "user": fUser, "project": fProject}

// numeric fields hold integers (values.n); the others strings (values.s).
var numeric = [nFields]bool{fMsecs: true, fProcess: true, fThread: true, fLevelno: true, fLineno: true}

// values are one record's fields.
type values struct {
	s [nFields]string
	n [nFields]int
}

// pyFormat is a compiled Python %-format with named fields: literal text
// and %(name)spec conversions.
type pyFormat []pyPart

type pyPart struct {
	literal string
	field   field
	conv    bool   // a conversion, not a literal
	spec    string // Go fmt spec: "%" flags width precision verb
	bare    bool   // spec is plain %s or %d: no fmt needed
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
		numericVerb := strings.Contains("diouxXeEfFgGc", verb)
		switch verb {
		case "i", "u":
			verb = "d"
		case "r", "a":
			verb = "s"
		case "F":
			verb = "f"
		}
		spec := "%" + m[2] + m[3] + m[4] + verb
		out = append(out, pyPart{field: fieldNames[m[1]], conv: true, spec: spec, bare: spec == "%s" || spec == "%d", numeric: numericVerb})
		i += len(m[0])
	}
	if lit.Len() > 0 {
		out = append(out, pyPart{literal: lit.String()})
	}
	return out, nil
}

// uses reports whether f names any of fields.
func (f pyFormat) uses(fields ...field) bool {
	for _, p := range f {
		if p.conv && slices.Contains(fields, p.field) {
			return true
		}
	}
	return false
}

// append appends f filled from v to b; an unknown field is empty.
func (f pyFormat) append(b []byte, v *values) []byte {
	for _, p := range f {
		switch {
		case !p.conv:
			b = append(b, p.literal...)
		case p.field == fNone:
			if !p.numeric {
				b = fmt.Appendf(b, p.spec, "")
			}
		case numeric[p.field] && p.bare:
			b = strconv.AppendInt(b, int64(v.n[p.field]), 10)
		case numeric[p.field] && p.numeric:
			n := v.n[p.field]
			if strings.ContainsAny(p.spec[len(p.spec)-1:], "eEfgG") {
				b = fmt.Appendf(b, p.spec, float64(n))
			} else {
				b = fmt.Appendf(b, p.spec, n)
			}
		case numeric[p.field]:
			b = fmt.Appendf(b, p.spec, strconv.Itoa(v.n[p.field]))
		case p.bare || p.numeric:
			b = append(b, v.s[p.field]...)
		default:
			b = fmt.Appendf(b, p.spec, v.s[p.field])
		}
	}
	return b
}

// strftimeLayouts are the Go layouts of the C directives Python's
// time.strftime knows (the common ones).
var strftimeLayouts = map[byte]string{
	'Y': "2006", 'y': "06", 'm': "01", 'd': "02", 'H': "15", 'I': "03", 'M': "04", 'S': "05",
	'j': "002", 'p': "PM", 'b': "Jan", 'B': "January", 'a': "Mon", 'A': "Monday", 'z': "-0700", 'Z': "MST",
}

// strftime formats t as layout's strftime directives say; %f is the
// microseconds, %% a percent sign, and an unknown directive is copied.
func strftime(t time.Time, layout string) string {
	var b strings.Builder
	for i := 0; i < len(layout); i++ {
		c := layout[i]
		if c != '%' || i+1 == len(layout) {
			b.WriteByte(c)
			continue
		}
		i++
		d := layout[i]
		switch goLayout, ok := strftimeLayouts[d]; {
		case ok:
			b.WriteString(t.Format(goLayout))
		case d == 'f':
			b.WriteString(t.Format(".000000")[1:])
		case d == '%':
			b.WriteByte('%')
		default:
			b.WriteByte('%')
			b.WriteByte(d)
		}
	}
	return b.String()
}
