package main

import (
	"context"
	"fmt"
	"net"
	"strings"
)

// sdNotify sends state ("READY=1", "STOPPING=1") to the service manager
// when it asked for notifications: a systemd unit of Type=notify sets
// NOTIFY_SOCKET, a datagram socket (sd_notify(3)). Without it, nothing is
// sent.
func sdNotify(environ []string, state string) error {
	addr := getenv(environ, "NOTIFY_SOCKET")
	if addr == "" {
		return nil
	}
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Write([]byte(state))
	return err
}

type notifyKey struct{}

// withNotify makes ctx carry the service manager's environment, for
// notifyStatus deeper down the start-up.
func withNotify(ctx context.Context, environ []string) context.Context {
	return context.WithValue(ctx, notifyKey{}, environ)
}

// notifyStatus tells the service manager what the process is doing
// (STATUS=, which "systemctl status" shows): waiting for the database,
// migrating, loading the candidate cache. Nothing without NOTIFY_SOCKET.
func notifyStatus(ctx context.Context, format string, args ...any) {
	environ, _ := ctx.Value(notifyKey{}).([]string)
	sdNotify(environ, "STATUS="+strings.ReplaceAll(fmt.Sprintf(format, args...), "\n", " "))
}
