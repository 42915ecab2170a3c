package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/openstack-placement-go/placement/internal/microversion"
	"github.com/openstack-placement-go/placement/internal/placement"
	"github.com/openstack-placement-go/placement/internal/store"
	"github.com/openstack-placement-go/placement/internal/web"
)

// explanations are WebOb's standard texts that upstream puts first in detail.
var explanations = map[int]string{
	http.StatusBadRequest:            "The server could not comply with the request since it is either malformed or otherwise incorrect.",
	http.StatusForbidden:             "Access was denied to this resource.",
	http.StatusNotFound:              "The resource could not be found.",
	http.StatusConflict:              "There was a conflict when trying to complete your request.",
	http.StatusInternalServerError:   "The server has either erred or is incapable of performing the requested operation.",
	http.StatusRequestEntityTooLarge: "The request is larger than the server is willing or able to process.",
	http.StatusServiceUnavailable:    "The server is currently unavailable. Please try again at a later time.",
}

// statuses maps each error kind to its HTTP status; any other kind is a 500.
var statuses = map[placement.Kind]int{
	placement.Invalid:          http.StatusBadRequest,
	placement.NotFound:         http.StatusNotFound,
	placement.Conflict:         http.StatusConflict,
	placement.Forbidden:        http.StatusForbidden,
	placement.NotAcceptable:    http.StatusNotAcceptable,
	placement.UnsupportedMedia: http.StatusUnsupportedMediaType,
	placement.MethodNotAllowed: http.StatusMethodNotAllowed,
	placement.TooLarge:         http.StatusRequestEntityTooLarge,
	placement.Unavailable:      http.StatusServiceUnavailable,
}

func statusOf(kind placement.Kind) int {
	if status, ok := statuses[kind]; ok {
		return status
	}
	return http.StatusInternalServerError
}

// errorBody is one member of the "errors" list.
type errorBody struct {
	Status     int    `json:"status"`
	Title      string `json:"title"`
	Detail     string `json:"detail"`
	Code       string `json:"code,omitempty"`
	RequestID  string `json:"request_id"`
	MaxVersion string `json:"max_version,omitempty"`
	MinVersion string `json:"min_version,omitempty"`
	// message is the handler's text, for the HTML page.
	message string
}

// detail lays out the message the way upstream's WebOb templates do; the
// message always ends up on the last line, which is what osc-placement shows.
func detail(status int, r *http.Request, message string) string {
	// WebOb's template turns the message's newlines into spaces.
	message = strings.ReplaceAll(message, "\n", " ")
	switch status {
	case http.StatusMethodNotAllowed:
		return fmt.Sprintf("The method %s is not allowed for this resource. \n\n %s", r.Method, message)
	case http.StatusNotAcceptable:
		return fmt.Sprintf("The resource could not be generated that was acceptable to your browser (content of type %s. \n\n %s", r.Header.Get("Accept"), message)
	case http.StatusUnsupportedMediaType:
		return fmt.Sprintf("The request media type %s is not supported by this server. \n\n %s", requestContentType(r), message)
	}
	return explanations[status] + "\n\n " + message + "  "
}

// htmlDetail is the body of WebOb's HTML error page: the class's template
// with the message HTML-escaped as Python's html.escape does.
func htmlDetail(status int, r *http.Request, message string) string {
	message = htmlEscape(message)
	switch status {
	case http.StatusMethodNotAllowed:
		return fmt.Sprintf("The method %s is not allowed for this resource. <br /><br />\n%s", htmlEscape(r.Method), message)
	case http.StatusNotAcceptable:
		return fmt.Sprintf("The resource could not be generated that was acceptable to your browser\n(content of type %s. <br /><br />\n%s", htmlEscape(r.Header.Get("Accept")), message)
	case http.StatusUnsupportedMediaType:
		return fmt.Sprintf("The request media type %s is not supported by this server.\n<br /><br />\n%s", htmlEscape(requestContentType(r)), message)
	}
	return explanations[status] + "<br /><br />\n" + message + "\n\n"
}

// requestContentType is the Content-Type WebOb's 415 page shows once
// upstream has set a missing media type to "None" (parameters kept).
func requestContentType(r *http.Request) string {
	ct := r.Header.Get("Content-Type")
	if web.MediaType(ct) == "" {
		ct = "None" + ct
	}
	return ct
}

var pyHTMLEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#x27;")

// htmlEscape is WebOb's html_escape: Python's html.escape, then every
// character outside ASCII as a decimal character reference (&#255;).
func htmlEscape(s string) string {
	s = pyHTMLEscaper.Replace(s)
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			var b strings.Builder
			for _, r := range s {
				if r < 0x80 {
					b.WriteRune(r)
				} else {
					fmt.Fprintf(&b, "&#%d;", r)
				}
			}
			return b.String()
		}
	}
	return s
}

// statusClientClosed is what the access log and the metrics record for a
// request whose client closed the connection before the answer (nginx's
// 499): nobody reads the answer, and the failure is not the service's.
const statusClientClosed = 499

// clientGone reports whether err ended the request because its client
// closed the connection: the request's context was cancelled (the server
// does that when the connection ends; a deadline of the service's own is
// DeadlineExceeded instead).
func clientGone(r *http.Request, err error) bool {
	return errors.Is(err, context.Canceled) && errors.Is(r.Context().Err(), context.Canceled)
}

// msgOutOfTime is the 503 message of a request whose own deadline passed.
const msgOutOfTime = "The request could not be answered within the time the server allows. Please try again later."

// outOfTime reports whether err ended the request because the request's
// own deadline passed (placement-api's withDeadline: its answer could no
// longer be written), as opposed to a deadline of a handler's own, such
// as allocation_candidates_timeout.
func outOfTime(r *http.Request, err error) bool {
	return errors.Is(err, context.DeadlineExceeded) && errors.Is(r.Context().Err(), context.DeadlineExceeded)
}

// writeError renders err in the Placement error format. Internal errors are
// logged and answered with a generic message.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	if clientGone(r, err) {
		slog.InfoContext(r.Context(), "client closed the connection before the answer", "request_id", web.RequestID(r.Context()))
		w.WriteHeader(statusClientClosed)
		return
	}
	if outOfTime(r, err) {
		slog.WarnContext(r.Context(), "request ran out of time; its database work was cancelled", "request_id", web.RequestID(r.Context()))
		err = placement.E(placement.Unavailable, msgOutOfTime)
	}
	err = classifyRequest(r, err)
	var pe *placement.Error
	if !errors.As(err, &pe) {
		attrs := []any{"error", err, "request_id", web.RequestID(r.Context())}
		if hint := store.ConfigHint(err); hint != "" {
			attrs = append(attrs, "hint", hint)
		}
		slog.ErrorContext(r.Context(), "unexpected error", attrs...)
		pe = &placement.Error{Kind: placement.Internal, Message: "An unexpected error occurred; see the service log for request " + web.RequestID(r.Context()) + "."}
	} else if pe.Kind == placement.Internal && pe.Err != nil {
		slog.ErrorContext(r.Context(), "internal error", "error", pe.Err, "request_id", web.RequestID(r.Context()))
	}
	status := statusOf(pe.Kind)
	body := errorBody{
		Status:    status,
		Title:     http.StatusText(status),
		Detail:    detail(status, r, pe.Message),
		RequestID: web.RequestID(r.Context()),
		message:   pe.Message,
	}
	if microversion.Negotiated(r.Context()) && microversion.From(r.Context()).AtLeast(1, 23) {
		body.Code = placement.CodeOf(pe)
	}
	countError(r, status, placement.CodeOf(pe))
	writeErrorBody(w, r, body)
}

// writeErrorBody picks the representation from Accept as WebOb does: JSON
// when acceptable, else HTML, else plain text; none for HEAD.
func writeErrorBody(w http.ResponseWriter, r *http.Request, body errorBody) {
	h := w.Header()
	h.Del("Last-Modified")
	h.Del("Cache-Control")
	if r.Method == http.MethodHead {
		// WebOb renders no body for HEAD, so the error keeps its default
		// media type whatever Accept says.
		h.Set("Content-Type", "text/html; charset=UTF-8")
		h.Set("Content-Length", "0")
		w.WriteHeader(body.Status)
		return
	}
	switch requestAccept(r).errorMediaType() {
	case "application/json":
		data, _ := web.Marshal(map[string][]errorBody{"errors": {body}})
		h.Set("Content-Type", "application/json")
		w.WriteHeader(body.Status)
		w.Write(data)
	case "text/html":
		h.Set("Content-Type", "text/html; charset=UTF-8")
		w.WriteHeader(body.Status)
		line := fmt.Sprintf("%d %s", body.Status, body.Title)
		fmt.Fprintf(w, "<html>\n <head>\n  <title>%s</title>\n </head>\n <body>\n  <h1>%s</h1>\n  %s\n </body>\n</html>",
			line, line, htmlDetail(body.Status, r, body.message))
	default:
		h.Set("Content-Type", "text/plain; charset=UTF-8")
		w.WriteHeader(body.Status)
		fmt.Fprintf(w, "%d %s\n\n%s", body.Status, body.Title, body.Detail)
	}
}
