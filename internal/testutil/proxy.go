package testutil

import (
	"bytes"
	"net"
	"net/url"
	"sync"
	"testing"
)

// Proxy forwards TCP connections to a target address until the test ends.
// Stall makes it a server that stops answering without closing anything
// (a network partition, a frozen machine): what either side sends, and
// every new connection, is held until Resume. CutReply loses an answer
// and the connection it was on.
type Proxy struct {
	Addr string // host:port to connect to instead of the target

	ln     net.Listener
	target string
	mu     sync.Mutex
	open   chan struct{} // closed while traffic flows
	conns  []net.Conn
	cut    []byte // CutReply's marker
}

// NewProxy starts a proxy to target (host:port) on a free port of
// 127.0.0.1, closed with every connection when the test ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy: %v", err)
	}
	p := &Proxy{Addr: ln.Addr().String(), ln: ln, target: target, open: make(chan struct{})}
	close(p.open)
	go p.serve()
	t.Cleanup(p.close)
	return p
}

// ProxyDSN starts a proxy to the server of the database URL dsn and
// returns it with the URL that goes through it.
func ProxyDSN(t testing.TB, dsn string) (*Proxy, string) {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("proxy: %v", err)
	}
	p := NewProxy(t, u.Host)
	u.Host = p.Addr
	return p, u.String()
}

// Stall holds all traffic from now on.
func (p *Proxy) Stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.open:
		p.open = make(chan struct{})
	default:
	}
}

// Resume lets the held traffic, and what follows, through.
func (p *Proxy) Resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.open:
	default:
		close(p.open)
	}
}

// CutReply makes the proxy close a client's connection, instead of passing
// on what the server sends, when that contains marker (a command tag such
// as COMMIT, say): the server has done what it was asked and the client
// never learns it. CutReply("") stops that.
func (p *Proxy) CutReply(marker string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = nil
	if marker != "" {
		p.cut = []byte(marker)
	}
}

func (p *Proxy) cutMarker() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cut
}

// wait returns once traffic may flow.
func (p *Proxy) wait() {
	p.mu.Lock()
	open := p.open
	p.mu.Unlock()
	<-open
}

func (p *Proxy) track(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.conns = append(p.conns, c)
}

func (p *Proxy) close() {
	p.ln.Close()
	p.Resume()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
}

func (p *Proxy) serve() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.track(client)
		go func() {
			p.wait()
			server, err := net.Dial("tcp", p.target)
			if err != nil {
				client.Close()
				return
			}
			p.track(server)
			go p.pipe(server, client, func([]byte) bool { return true })
			p.pipe(client, server, func(b []byte) bool {
				m := p.cutMarker()
				return m == nil || !bytes.Contains(b, m)
			})
		}()
	}
}

// pipe copies from src to dst, holding each chunk while the proxy stalls;
// a chunk pass refuses ends the copy (and both connections) instead.
func (p *Proxy) pipe(dst, src net.Conn, pass func([]byte) bool) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.wait()
			if !pass(buf[:n]) {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
