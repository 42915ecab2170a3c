package logging

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"
)

// JSON lines as oslo.log's JSONFormatter writes them (use_json = true):
// one object per record with Python's record fields, the request's
// context, and the record's other attributes under "extra".

// started stands for the time Python's logging module was loaded
// (relative_created).
var started = time.Now()

// osloRecord is the object, its members in JSONFormatter's order.
type osloRecord struct {
	Message         string         `json:"message"`
	Asctime         string         `json:"asctime"`
	Name            string         `json:"name"`
	Msg             string         `json:"msg"`
	Args            any            `json:"args"`
	Levelname       string         `json:"levelname"`
	Levelno         int            `json:"levelno"`
	Pathname        string         `json:"pathname"`
	Filename        string         `json:"filename"`
	Module          string         `json:"module"`
	Lineno          int            `json:"lineno"`
	Funcname        string         `json:"funcname"`
	Created         float64        `json:"created"`
	Msecs           float64        `json:"msecs"`
	RelativeCreated float64        `json:"relative_created"`
	Thread          int            `json:"thread"`
	ThreadName      string         `json:"thread_name"`
	ProcessName     string         `json:"process_name"`
	Process         int            `json:"process"`
	Traceback       any            `json:"traceback"`
	Hostname        string         `json:"hostname"`
	ErrorSummary    string         `json:"error_summary"`
	Context         map[string]any `json:"context"`
	Extra           map[string]any `json:"extra"`
}

// MsgAttr and ArgsAttr carry a record's Python message template and its
// arguments (msg and args), when the message was built from them.
const (
	MsgAttr  = "msg_template"
	ArgsAttr = "msg_args"
)

// jsonLine is r as oslo.log's JSONFormatter writes it.
func (h *osloHandler) jsonLine(r slog.Record) ([]byte, error) {
	var v values
	source(r.PC, &v)
	created := float64(r.Time.UnixNano()) / 1e9
	rec := osloRecord{
		Message: r.Message, Asctime: strftime(r.Time.Local(), h.format.date), Name: DefaultLogger,
		Msg: r.Message, Args: []any{},
		Levelname: levelName(r.Level), Levelno: pyLevel(r.Level),
		Pathname: v.s[fPathname], Filename: v.s[fFilename], Module: v.s[fModule], Lineno: v.n[fLineno], Funcname: v.s[fFuncName],
		Created: created, Msecs: float64(r.Time.Nanosecond()) / 1e6, RelativeCreated: float64(r.Time.Sub(started)) / 1e6,
		ThreadName: "MainThread", ProcessName: "MainProcess", Process: os.Getpid(),
		Hostname: h.hostname, Context: map[string]any{}, Extra: map[string]any{},
	}
	who := map[string]string{}
	h.each(r, func(a slog.Attr) {
		val := a.Value
		switch f := contextAttrs[a.Key]; {
		case a.Key == LoggerAttr:
			rec.Name = val.String()
		case a.Key == MsgAttr:
			rec.Msg = val.String()
		case a.Key == ArgsAttr:
			rec.Args = jsonValue(val)
		case a.Key == StackAttr:
			rec.Traceback = strings.Split(strings.TrimRight(val.String(), "\n"), "\n")
		case f != fNone:
			if s := val.String(); s != "" && s != "-" {
				who[a.Key] = s
			}
		default:
			rec.Extra[a.Key] = jsonValue(val)
		}
	})
	if who["request_id"] != "" {
		rec.Context = requestContext(who)
	} else {
		for k, s := range who {
			rec.Extra[k] = s
		}
	}
	b, err := json.Marshal(rec)
	if err != nil {
		// A value JSON cannot hold (NaN, a channel): its text instead, as
		// oslo.log's dumps falls back to repr.
		for k, v := range rec.Extra {
			rec.Extra[k] = fmt.Sprint(v)
		}
		rec.Args = fmt.Sprint(rec.Args)
		b, err = json.Marshal(rec)
	}
	return append(b, '\n'), err
}

// requestContext is oslo.context's dictionary of a request's context, with
// what this service knows of it (the rest null).
func requestContext(who map[string]string) map[string]any {
	or := func(k string) any {
		if s, ok := who[k]; ok {
			return s
		}
		return nil
	}
	dash := func(k string) string {
		if s, ok := who[k]; ok {
			return s
		}
		return "-"
	}
	return map[string]any{
		"user": or("user"), "project_id": or("project"), "system_scope": nil, "project": or("project"),
		"domain": nil, "user_domain": nil, "project_domain": nil,
		"is_admin": nil, "read_only": false, "show_deleted": false, "auth_token": nil,
		"request_id": or("request_id"), "global_request_id": or("global_request_id"), "resource_uuid": nil,
		"roles": []string{}, "user_identity": dash("user") + " " + dash("project") + " - - -", "is_admin_project": true,
	}
}

// jsonValue is an attribute's value as JSON should show it: durations as
// their text, groups as objects.
func jsonValue(v slog.Value) any {
	switch v.Kind() {
	case slog.KindDuration:
		return v.Duration().String()
	case slog.KindTime:
		return v.Time().Format(time.RFC3339Nano)
	case slog.KindGroup:
		m := map[string]any{}
		for _, a := range v.Group() {
			m[a.Key] = jsonValue(a.Value.Resolve())
		}
		return m
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			return err.Error()
		}
	}
	return v.Any()
}
