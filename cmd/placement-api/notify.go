package main

import "net"

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
