package main

import (
	"context"
	"net"
	"net/http"
	"sync"
	"time"
)

// Draining without dropping a request. http.Server.Shutdown closes the
// listener and waits for active connections, but a connection it had
// accepted whose request was still on its way (net/http's StateNew) is
// closed without an answer once that request arrives: the client reads
// EOF. Under load that is a few requests at every restart. So placement-api
// first stops accepting, answers every request that reached it with
// "Connection: close", and only then calls Shutdown.

// connStates follows every connection of a server (its ConnState hook).
type connStates struct {
	mu    sync.Mutex
	state map[net.Conn]http.ConnState
}

func (c *connStates) hook(conn net.Conn, s http.ConnState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == nil {
		c.state = map[net.Conn]http.ConnState{}
	}
	switch s {
	case http.StateNew, http.StateActive:
		c.state[conn] = s
	default: // idle, hijacked or closed
		delete(c.state, conn)
	}
}

// busy counts the connections serving a request and those that may still
// bring one.
func (c *connStates) busy() (active, fresh int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.state {
		if s == http.StateActive {
			active++
		} else {
			fresh++
		}
	}
	return active, fresh
}

// newConnGrace is how long draining waits for the request of a connection
// accepted but still silent; Shutdown counts such a connection idle after
// 5 s too.
const newConnGrace = 5 * time.Second

// drain stops srv, which serves on ln (served reports when its Serve
// returned): it stops accepting, makes every answer close its connection
// (closing idle ones), waits until every connection has been answered or
// closed (a silent new one at most newConnGrace) and then shuts srv down,
// all within ctx.
func drain(ctx context.Context, srv *http.Server, states *connStates, ln net.Listener, served <-chan error) error {
	srv.SetKeepAlivesEnabled(false)
	ln.Close()
	<-served
	start := time.Now()
	for {
		active, fresh := states.busy()
		if active == 0 && (fresh == 0 || time.Since(start) > newConnGrace) {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	return srv.Shutdown(ctx)
}
