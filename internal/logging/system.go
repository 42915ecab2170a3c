package logging

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync"
)

// The system logs of [DEFAULT] use_syslog and use_journal, as oslo.log
// writes them: one message per record, its priority from the record's
// level, the program as the identifier, the facility of
// syslog_log_facility.

// facilities are syslog's facility codes by oslo.log's names (without
// the LOG_ prefix, which syslog_log_facility may omit).
var facilities = map[string]int{
	"KERN": 0, "USER": 1, "MAIL": 2, "DAEMON": 3, "AUTH": 4, "SYSLOG": 5,
	"LPR": 6, "NEWS": 7, "UUCP": 8, "CRON": 9, "AUTHPRIV": 10, "FTP": 11,
	"LOCAL0": 16, "LOCAL1": 17, "LOCAL2": 18, "LOCAL3": 19,
	"LOCAL4": 20, "LOCAL5": 21, "LOCAL6": 22, "LOCAL7": 23,
}

// Facility returns the facility code of an oslo.log facility name
// ("LOG_LOCAL0" or "local0"; "" is LOG_USER).
func Facility(name string) (int, error) {
	if name == "" {
		return facilities["USER"], nil
	}
	f, ok := facilities[strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(name)), "LOG_")]
	if !ok {
		return 0, fmt.Errorf("[DEFAULT] syslog_log_facility: %q is not a syslog facility (LOG_USER, LOG_DAEMON, LOG_LOCAL0 … LOG_LOCAL7, …)", name)
	}
	return f, nil
}

// severity is the syslog severity of a level, as oslo.log maps Python's.
func severity(l slog.Level) int {
	switch {
	case l >= slog.LevelError:
		return 3 // LOG_ERR
	case l >= slog.LevelWarn:
		return 4 // LOG_WARNING
	case l >= slog.LevelInfo:
		return 6 // LOG_INFO
	}
	return 7 // LOG_DEBUG
}

// systemHandler formats each record as the log file's lines are
// (osloHandler, by default without the time, process and level, which
// the system log keeps) and sends it, framed in the daemon's protocol.
type systemHandler struct {
	level  slog.Leveler
	format *osloHandler // its own output is unused
	// frame wraps the formatted record in the daemon's protocol.
	frame func(r slog.Record, message []byte) []byte
	out   *datagrams
}

func (h *systemHandler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= h.level.Level()
}

func (h *systemHandler) Handle(_ context.Context, r slog.Record) error {
	line, err := h.format.line(r)
	if err != nil {
		return err
	}
	return h.out.send(h.frame(r, bytes.TrimSuffix(line, []byte("\n"))))
}

func (h *systemHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.format = h.format.WithAttrs(attrs).(*osloHandler)
	return &c
}

func (h *systemHandler) WithGroup(name string) slog.Handler {
	c := *h
	c.format = h.format.WithGroup(name).(*osloHandler)
	return &c
}

// datagrams sends each message in one datagram over a Unix socket,
// redialling after a failure (the daemon restarted).
type datagrams struct {
	addr string
	mu   sync.Mutex
	conn net.Conn
}

func dialDatagrams(addr string) (*datagrams, error) {
	d := &datagrams{addr: addr}
	conn, err := net.Dial("unixgram", addr)
	if err != nil {
		return nil, err
	}
	d.conn = conn
	return d, nil
}

func (d *datagrams) send(p []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conn != nil {
		if _, err := d.conn.Write(p); err == nil {
			return nil
		}
		d.conn.Close()
		d.conn = nil
	}
	conn, err := net.Dial("unixgram", d.addr)
	if err != nil {
		return err
	}
	d.conn = conn
	_, err = conn.Write(p)
	return err
}

func (d *datagrams) close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conn == nil {
		return nil
	}
	return d.conn.Close()
}

// syslogFrame is the C library's syslog() format, as the local syslog
// daemon (/dev/log) takes it: "<PRI>TIMESTAMP TAG: MESSAGE".
func syslogFrame(tag string, facility int) func(slog.Record, []byte) []byte {
	return func(r slog.Record, message []byte) []byte {
		var b bytes.Buffer
		fmt.Fprintf(&b, "<%d>%s %s: ", facility<<3|severity(r.Level), r.Time.Format("Jan _2 15:04:05"), tag)
		b.Write(message)
		return b.Bytes()
	}
}

// journalFrame is systemd's native journal protocol
// (/run/systemd/journal/socket), with the fields oslo.log's journal
// handler sets: the source, the level, the identifier, and the request's
// ids.
func journalFrame(identifier string, facility int) func(slog.Record, []byte) []byte {
	return func(r slog.Record, message []byte) []byte {
		var b bytes.Buffer
		field := func(name string, value []byte) {
			if bytes.IndexByte(value, '\n') < 0 {
				b.WriteString(name + "=")
				b.Write(value)
				b.WriteByte('\n')
				return
			}
			b.WriteString(name + "\n")
			binary.Write(&b, binary.LittleEndian, uint64(len(value)))
			b.Write(value)
			b.WriteByte('\n')
		}
		field("MESSAGE", message)
		field("PRIORITY", []byte(strconv.Itoa(severity(r.Level))))
		field("SYSLOG_IDENTIFIER", []byte(identifier))
		field("SYSLOG_FACILITY", []byte(strconv.Itoa(facility)))
		field("LOGGER_LEVEL", []byte(levelName(r.Level)))
		if r.PC != 0 {
			f, _ := runtime.CallersFrames([]uintptr{r.PC}).Next()
			field("CODE_FILE", []byte(f.File))
			field("CODE_LINE", []byte(strconv.Itoa(f.Line)))
			field("CODE_FUNC", []byte(f.Function))
		}
		r.Attrs(func(a slog.Attr) bool {
			if key, ok := journalKeys[a.Key]; ok {
				if v := a.Value.String(); v != "" && v != "-" {
					field(key, []byte(v))
				}
			}
			return true
		})
		return b.Bytes()
	}
}

// journalKeys are oslo.log's journal fields for this service's attributes.
var journalKeys = map[string]string{"request_id": "REQUEST_ID", "project": "PROJECT_ID", "user": "USER_ID"}

// levelName is Python's name of a level.
func levelName(l slog.Level) string {
	switch {
	case l >= slog.LevelError:
		return "ERROR"
	case l >= slog.LevelWarn:
		return "WARNING"
	case l >= slog.LevelInfo:
		return "INFO"
	}
	return "DEBUG"
}
