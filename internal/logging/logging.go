// Package logging turns the oslo.log options of placement.conf ([DEFAULT]
// debug, log_file, log_dir, use_stderr, use_json, use_syslog, use_journal,
// syslog_log_facility, the logging_*_format_* options and log_date_format)
// into a slog.Logger writing oslo.log's lines, and reopens the log file on
// demand (SIGHUP, for logrotate).
package logging

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
)

// Options are the oslo.log options this service honours.
type Options struct {
	Debug     bool   // [DEFAULT] debug: DEBUG level instead of INFO
	File      string // [DEFAULT] log_file
	Dir       string // [DEFAULT] log_dir
	UseStderr bool   // [DEFAULT] use_stderr: also log to stderr when logging to a file
	JSON      bool   // [DEFAULT] use_json: one JSON object per line
	Syslog    bool   // [DEFAULT] use_syslog: also to the local syslog daemon
	Journal   bool   // [DEFAULT] use_journal: to systemd's journal
	Facility  string // [DEFAULT] syslog_log_facility, for both (default LOG_USER)
	Program   string // names the file when only Dir is given: <Dir>/<Program>.log; the system logs' identifier
	Format    Format // the text lines' format (oslo.go)

	// SyslogAddr and JournalAddr are the daemons' sockets (empty: /dev/log
	// and /run/systemd/journal/socket).
	SyslogAddr, JournalAddr string
}

// Path returns the log file oslo.log would write: log_dir/log_file, or
// log_file alone, or log_dir/<program>.log; "" for none.
func (o Options) Path() string {
	switch {
	case o.File != "" && o.Dir != "":
		return filepath.Join(o.Dir, o.File)
	case o.File != "":
		return o.File
	case o.Dir != "":
		return filepath.Join(o.Dir, o.Program+".log")
	}
	return ""
}

// Logger is a slog.Logger whose file can be reopened.
type Logger struct {
	*slog.Logger
	// Warnings says which system log could not be reached at start (the
	// daemon's socket is missing); the caller logs them.
	Warnings []string
	file     *reopenable  // nil when not logging to a file
	system   []*datagrams // the system logs' sockets
}

// Open builds the logger with oslo.log's outputs: the log file when one
// is configured, stderr with use_stderr, the journal with use_journal,
// stderr when none of these, and syslog too with use_syslog. A system log
// whose daemon cannot be reached is left out with a warning (and stderr
// takes the journal's place).
func Open(o Options, stderr io.Writer) (*Logger, error) {
	facility := 0
	if o.Syslog || o.Journal {
		f, err := Facility(o.Facility)
		if err != nil {
			return nil, err
		}
		facility = f
	}
	l := &Logger{}
	level := slog.LevelInfo
	if o.Debug {
		level = slog.LevelDebug
	}
	lines, err := compileFormat(o.Format)
	if err != nil {
		return nil, err
	}
	systemLines, err := compileFormat(o.Format.forSystem())
	if err != nil {
		return nil, err
	}
	stream := func(w io.Writer) slog.Handler {
		return newOsloHandler(w, level, lines, o.JSON)
	}
	var streams []io.Writer
	if path := o.Path(); path != "" {
		f, err := openReopenable(path)
		if err != nil {
			return nil, err
		}
		l.file = f
		streams = append(streams, f)
	}
	if o.UseStderr {
		streams = append(streams, stderr)
	}
	var handlers []slog.Handler
	system := func(enabled bool, frame func(string, int) func(slog.Record, []byte) []byte, addr, option string) bool {
		if !enabled {
			return false
		}
		d, err := dialDatagrams(addr)
		if err != nil {
			l.Warnings = append(l.Warnings, fmt.Sprintf("[DEFAULT] %s = true, but %s", option, err))
			return false
		}
		l.system = append(l.system, d)
		handlers = append(handlers, &systemHandler{level: level, format: newOsloHandler(io.Discard, level, systemLines, o.JSON), frame: frame(o.Program, facility), out: d})
		return true
	}
	journal := system(o.Journal, journalFrame, cmp.Or(o.JournalAddr, "/run/systemd/journal/socket"), "use_journal")
	if len(streams) == 0 && !journal {
		streams = append(streams, stderr)
	}
	system(o.Syslog, syslogFrame, cmp.Or(o.SyslogAddr, "/dev/log"), "use_syslog")
	switch len(streams) {
	case 0:
	case 1:
		handlers = append(handlers, stream(streams[0]))
	default:
		handlers = append(handlers, stream(io.MultiWriter(streams...)))
	}
	if len(handlers) == 1 {
		l.Logger = slog.New(handlers[0])
	} else {
		l.Logger = slog.New(slog.NewMultiHandler(handlers...))
	}
	return l, nil
}

// Reopen closes and reopens the log file, so that a file moved away by
// logrotate is replaced by a new one. Without a file it does nothing.
func (l *Logger) Reopen() error {
	if l.file == nil {
		return nil
	}
	return l.file.reopen()
}

// Close closes the log file and the system logs' sockets.
func (l *Logger) Close() error {
	var errs []error
	for _, d := range l.system {
		errs = append(errs, d.close())
	}
	if l.file != nil {
		errs = append(errs, l.file.close())
	}
	return errors.Join(errs...)
}

// reopenable is an append-only file that can be swapped for a new one
// while other goroutines write to it.
type reopenable struct {
	path string
	mu   sync.Mutex
	f    *os.File
}

func openReopenable(path string) (*reopenable, error) {
	r := &reopenable{path: path}
	if err := r.reopen(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *reopenable) reopen() error {
	f, err := os.OpenFile(r.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("log file: %w", err)
	}
	r.mu.Lock()
	old := r.f
	r.f = f
	r.mu.Unlock()
	if old != nil {
		return old.Close()
	}
	return nil
}

func (r *reopenable) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.f.Write(p)
}

func (r *reopenable) close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.f.Close()
}
