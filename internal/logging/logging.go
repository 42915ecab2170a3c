// Package logging turns the oslo.log options of placement.conf ([DEFAULT]
// debug, log_file, log_dir, use_stderr, use_json) into a slog.Logger, and
// reopens the log file on demand (SIGHUP, for logrotate).
package logging

import (
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
	Program   string // names the file when only Dir is given: <Dir>/<Program>.log
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
	file *reopenable // nil when not logging to a file
}

// Open builds the logger: to the log file when one is configured (and to
// stderr as well with use_stderr), otherwise to stderr.
func Open(o Options, stderr io.Writer) (*Logger, error) {
	l := &Logger{}
	var out io.Writer = stderr
	if path := o.Path(); path != "" {
		f, err := openReopenable(path)
		if err != nil {
			return nil, err
		}
		l.file = f
		out = f
		if o.UseStderr {
			out = io.MultiWriter(f, stderr)
		}
	}
	level := slog.LevelInfo
	if o.Debug {
		level = slog.LevelDebug
	}
	ho := &slog.HandlerOptions{Level: level}
	if o.JSON {
		l.Logger = slog.New(slog.NewJSONHandler(out, ho))
	} else {
		l.Logger = slog.New(slog.NewTextHandler(out, ho))
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

// Close closes the log file, if any.
func (l *Logger) Close() error {
	if l.file == nil {
		return nil
	}
	return l.file.close()
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
