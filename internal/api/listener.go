package api

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Listener wraps ln so that two requests net/http refuses before any
// handler runs reach h after all, and are answered in the Placement error
// format instead of net/http's plain-text "400 Bad Request": a
// Content-Length that is not an integer (upstream answers "content-length
// header must be an integer") and a header value holding a NUL byte. Serve
// the API with http.Server.Serve(api.Listener(ln, handler)).
//
// net/http has no hook for this: it parses the request head and writes its
// canned answer straight to the connection. So each connection remembers
// the bytes read since its last response; when net/http writes the canned
// 400, the head is parsed again with those header values swapped for
// harmless ones and, if that parse succeeds, h serves the request (original
// values, empty body) and the connection closes, as it would have. Anything
// else (another malformed head, a head too large to remember, pipelined
// requests) keeps net/http's answer.
func Listener(ln net.Listener, h http.Handler) net.Listener {
	return &salvageListener{Listener: ln, h: h}
}

type salvageListener struct {
	net.Listener
	h http.Handler
}

func (l *salvageListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &salvageConn{Conn: c, h: l.h}, nil
}

// maxSalvageHead bounds what a connection remembers of a request head; a
// longer head keeps net/http's answer. Real heads are a few hundred bytes
// (a Keystone token is at most auth.MaxTokenBytes).
const maxSalvageHead = 32 << 10

var endOfHead = []byte("\r\n\r\n")

// salvageTimeout bounds the handler run for a salvaged request (it has no
// body, and the API refuses it before any database work).
const salvageTimeout = 30 * time.Second

// cannedBadRequest is the start of every 400 net/http writes itself
// (server.go, conn.serve); the handlers' responses always carry more
// headers (Date, X-Openstack-Request-Id) between these lines.
var cannedBadRequest = []byte("HTTP/1.1 400 Bad Request")

const cannedHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

type salvageConn struct {
	net.Conn
	h http.Handler

	mu       sync.Mutex
	head     []byte // bytes read since the last write, up to the end of the head
	complete bool   // head holds a whole head; what follows is body
	overflow bool   // head was cut at maxSalvageHead
	wrote    bool   // a write happened since the last read
}

func (c *salvageConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if err != nil {
		answerPlainHTTP(err)
	}
	if n > 0 {
		c.mu.Lock()
		if c.wrote {
			c.head, c.complete, c.overflow, c.wrote = c.head[:0], false, false, false
		}
		switch {
		case c.complete || c.overflow:
		case len(c.head)+n <= maxSalvageHead:
			c.head = append(c.head, p[:n]...)
			c.complete = bytes.Contains(c.head, endOfHead)
		default:
			c.overflow = true
		}
		c.mu.Unlock()
	}
	return n, err
}

// CloseWrite lets net/http half-close the connection before closing it, as
// it does on a bare TCP connection so that the client reads the answer to
// a request whose body was not read (a 413) instead of a reset.
func (c *salvageConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

func (c *salvageConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.wrote = true
	var head []byte
	if !c.overflow && isCanned400(p) {
		head = bytes.Clone(c.head)
	}
	c.mu.Unlock()
	if head != nil {
		if req := salvageRequest(head); req != nil {
			req.RemoteAddr = c.RemoteAddr().String()
			if err := c.serve(req); err != nil {
				return 0, err
			}
			return len(p), nil
		}
	}
	return c.Conn.Write(p)
}

// answerPlainHTTP answers a plain HTTP request sent to a TLS listener (the
// error of a TLS connection's first read) as net/http does for its own TLS
// connections, which it no longer recognises once this Listener wraps them.
func answerPlainHTTP(err error) {
	var re tls.RecordHeaderError
	if !errors.As(err, &re) || re.Conn == nil {
		return
	}
	switch string(re.RecordHeader[:]) {
	case "GET /", "HEAD ", "POST ", "PUT /", "OPTIO", "DELET", "PATCH":
		io.WriteString(re.Conn, "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n")
		re.Conn.Close()
	}
}

// isCanned400 recognises net/http's own "400 Bad Request" (with or without
// a ": reason").
func isCanned400(p []byte) bool {
	if !bytes.HasPrefix(p, cannedBadRequest) {
		return false
	}
	rest := p[len(cannedBadRequest):]
	if i := bytes.Index(rest, []byte(cannedHeaders)); i >= 0 {
		line := rest[:i]
		return len(line) == 0 || bytes.HasPrefix(line, []byte(": "))
	}
	return false
}

// serve runs h on req and writes its response, closing the exchange.
func (c *salvageConn) serve(req *http.Request) error {
	ctx, cancel := context.WithTimeout(context.Background(), salvageTimeout)
	defer cancel()
	w := &bufferedResponse{header: http.Header{}}
	c.h.ServeHTTP(w, req.WithContext(ctx))
	if w.status == 0 {
		w.status = http.StatusOK
	}
	var out bytes.Buffer
	fmt.Fprintf(&out, "HTTP/1.1 %03d %s\r\n", w.status, http.StatusText(w.status))
	w.header.Set("Content-Length", strconv.Itoa(w.body.Len()))
	w.header.Set("Connection", "close")
	if w.header.Get("Date") == "" {
		w.header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	}
	w.header.Write(&out)
	out.WriteString("\r\n")
	if req.Method != http.MethodHead {
		out.Write(w.body.Bytes())
	}
	_, err := c.Conn.Write(out.Bytes())
	return err
}

// bufferedResponse collects a handler's response.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header { return b.header }

func (b *bufferedResponse) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

// salvageRequest parses head (the bytes of one request, possibly followed
// by part of its body) and returns the request, without a body, when its
// only faults are ones the API answers itself: a Content-Length that is not
// a non-negative integer, and header values holding NUL bytes. Those values
// are replaced by harmless ones, net/http parses the head (so every other
// rule still applies), and the originals are put back. It returns nil for
// anything else.
func salvageRequest(head []byte) *http.Request {
	end := bytes.Index(head, endOfHead)
	if end < 0 {
		return nil
	}
	lines := strings.Split(string(head[:end]), "\r\n")
	type original struct{ name, placeholder, value string }
	var faulty []original
	lengths := 0
	for i, line := range lines[1:] {
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return nil
		}
		value = strings.Trim(value, " \t")
		name = textproto.CanonicalMIMEHeaderKey(name)
		placeholder := ""
		switch {
		case strings.IndexByte(value, 0) >= 0:
			for j := 0; j < len(value); j++ {
				if b := value[j]; b != 0 && b != '\t' && b < ' ' || b == 0x7f {
					return nil // net/http's refusal stands
				}
			}
			placeholder = "salvaged-" + strconv.Itoa(i)
		case name == "Content-Length":
			if lengths++; lengths > 1 {
				return nil // net/http's rules on repeated lengths stand
			}
			if _, err := strconv.ParseUint(value, 10, 63); err != nil {
				placeholder = "0"
			}
		}
		if placeholder != "" {
			faulty = append(faulty, original{name, placeholder, value})
			lines[i+1] = name + ": " + placeholder
		}
	}
	if len(faulty) == 0 {
		return nil
	}
	req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(strings.Join(lines, "\r\n") + "\r\n\r\n")))
	if err != nil || req.TransferEncoding != nil {
		return nil
	}
	// The server's rule beyond ReadRequest's: HTTP/1.1 needs a Host.
	if req.Host == "" && req.ProtoAtLeast(1, 1) {
		return nil
	}
	for _, f := range faulty {
		if f.name == "Host" {
			return nil
		}
		vs := req.Header[f.name]
		if k := slices.Index(vs, f.placeholder); k >= 0 {
			vs[k] = f.value
		}
	}
	req.Body, req.ContentLength, req.Close = http.NoBody, 0, true
	return req
}
