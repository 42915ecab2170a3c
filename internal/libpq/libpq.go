// Package libpq honours the connection parameters that libpq accepts in a
// database URL and pgx does not know.
//
// The Python service connects through psycopg2, that is libpq, so an
// operator's [placement_database] connection may carry any of libpq's
// parameters: keepalives_idle for a load balancer that drops idle
// connections, tcp_user_timeout against a database that stops answering,
// hostaddr to skip DNS. pgx passes every parameter it does not know to the
// server as a run-time setting, and the server refuses the connection
// ("unrecognized configuration parameter"). Apply takes them out of the
// run-time settings and does what libpq does with them, or fails with an
// error that names the parameter when this service cannot honour it
// safely (a certificate revocation list, say, is refused rather than
// ignored).
package libpq

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// ParseConfig is pgx.ParseConfig with libpq's client-side parameters
// applied (Apply); with load_balance_hosts=random the hosts are shuffled
// once.
func ParseConfig(dsn string) (*pgx.ConnConfig, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	shuffle, err := Apply(&cfg.Config)
	if err != nil {
		return nil, err
	}
	if shuffle != nil {
		shuffle(&cfg.Config)
	}
	return cfg, nil
}

// Connect opens one connection to dsn (ParseConfig).
func Connect(ctx context.Context, dsn string) (*pgx.Conn, error) {
	cfg, err := ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	return pgx.ConnectConfig(ctx, cfg)
}

// Apply moves libpq's client-side parameters out of cfg.RuntimeParams and
// applies them to cfg:
//
//   - keepalives, keepalives_idle, keepalives_interval, keepalives_count:
//     the TCP keepalive of every connection (0 for a time or count: the
//     system's default; absent: this service's, see keepaliveIdle);
//   - tcp_user_timeout: how long, in milliseconds, sent data may stay
//     unacknowledged before the connection is dropped (Linux);
//   - hostaddr: the address to connect to instead of looking the host up
//     (the host name still serves TLS verification);
//   - fallback_application_name: application_name when none is set
//     (default: the program's name);
//   - ssl_min_protocol_version, ssl_max_protocol_version: TLSv1 to TLSv1.3;
//   - load_balance_hosts: disable, or random, for which Apply returns the
//     function that shuffles the hosts, to be called for each connection;
//   - gssencmode disable or prefer, gsslib, gssdelegation and
//     sslcompression are accepted and have no effect (pgx speaks neither
//     GSSAPI encryption nor TLS compression).
//
// gssencmode=require, sslcrl, sslcrldir and requirepeer are refused.
func Apply(cfg *pgconn.Config) (shuffle func(*pgconn.Config), err error) {
	params := cfg.RuntimeParams
	take := func(name string) (string, bool) {
		v, ok := params[name]
		delete(params, name)
		return v, ok
	}
	if err := keepalive(cfg, take); err != nil {
		return nil, err
	}
	if v, ok := take("hostaddr"); ok {
		if err := hostaddr(cfg, v); err != nil {
			return nil, err
		}
	}
	fallback, ok := take("fallback_application_name")
	if !ok || fallback == "" {
		// The program's name, as psql and pg_dump give theirs: sessions
		// in pg_stat_activity (and the holders of locks a migration waits
		// for) say which of placement-api, placement-manage or the Python
		// service (which sets none) they belong to.
		fallback = programName()
	}
	if _, set := params["application_name"]; !set && fallback != "" {
		params["application_name"] = fallback
	}
	if err := tlsBound(cfg, take, "ssl_min_protocol_version", func(tc *tls.Config, v uint16) { tc.MinVersion = v }); err != nil {
		return nil, err
	}
	if err := tlsBound(cfg, take, "ssl_max_protocol_version", func(tc *tls.Config, v uint16) { tc.MaxVersion = v }); err != nil {
		return nil, err
	}
	if v, ok := take("load_balance_hosts"); ok {
		switch v {
		case "", "disable":
		case "random":
			shuffle = shuffleHosts
		default:
			return nil, fmt.Errorf("invalid load_balance_hosts value: %q (disable or random)", v)
		}
	}
	if v, ok := take("gssencmode"); ok && v != "disable" && v != "prefer" {
		if v == "require" {
			return nil, errors.New("gssencmode=require is not supported: this service cannot encrypt with GSSAPI; use TLS (sslmode)")
		}
		return nil, fmt.Errorf("invalid gssencmode value: %q", v)
	}
	for _, name := range []string{"gsslib", "gssdelegation", "sslcompression"} {
		take(name)
	}
	for _, name := range []string{"sslcrl", "sslcrldir", "requirepeer"} {
		if v, ok := take(name); ok && v != "" {
			return nil, fmt.Errorf("connection parameter %s is not supported by this service", name)
		}
	}
	return shuffle, nil
}

// Keepalive defaults, for a URL that sets none of libpq's keepalive
// parameters: a connection that has been silent for 15 s is probed three
// times, 5 s apart, so that a server gone silent (a partition, a paused
// VM) ends a request waiting on it after about 30 s. Go's default would
// take 150 s (15 s, then nine probes 15 s apart), libpq's the system's
// (two hours before the first probe on Linux). A busy but healthy server
// answers the probes from its kernel, so a long statement is never cut.
const (
	keepaliveIdle     = 15 * time.Second
	keepaliveInterval = 5 * time.Second
	keepaliveCount    = 3
)

// keepalive sets up the dialer: the keepalive parameters over the
// defaults above, and tcp_user_timeout.
func keepalive(cfg *pgconn.Config, take func(string) (string, bool)) error {
	ka := net.KeepAliveConfig{Enable: true, Idle: keepaliveIdle, Interval: keepaliveInterval, Count: keepaliveCount}
	for _, p := range []struct {
		name string
		set  func(int)
	}{
		{"keepalives", func(n int) { ka.Enable = n != 0 }},
		{"keepalives_idle", func(n int) { ka.Idle = seconds(n) }},
		{"keepalives_interval", func(n int) { ka.Interval = seconds(n) }},
		{"keepalives_count", func(n int) { ka.Count = systemDefault(n) }},
	} {
		v, ok := take(p.name)
		if !ok {
			continue
		}
		n, err := intParam(p.name, v)
		if err != nil {
			return err
		}
		p.set(n)
	}
	var userTimeout time.Duration
	if v, ok := take("tcp_user_timeout"); ok {
		n, err := intParam("tcp_user_timeout", v)
		if err != nil {
			return err
		}
		userTimeout = time.Duration(max(n, 0)) * time.Millisecond
	}
	if userTimeout > 0 && !userTimeoutSupported {
		return errors.New("connection parameter tcp_user_timeout is supported on Linux only")
	}
	d := &net.Dialer{KeepAliveConfig: ka, Timeout: cfg.ConnectTimeout} // as pgx's own dialer for connect_timeout
	if !ka.Enable {
		d.KeepAlive = -1
	}
	if userTimeout > 0 {
		d.Control = func(network, _ string, c syscall.RawConn) error {
			if !strings.HasPrefix(network, "tcp") {
				return nil
			}
			return setUserTimeout(c, userTimeout)
		}
	}
	cfg.DialFunc = d.DialContext
	return nil
}

// intParam parses an integer parameter as libpq does (spaces around it
// allowed).
func intParam(name, v string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return 0, fmt.Errorf("invalid integer value %q for connection parameter %s", v, name)
	}
	return n, nil
}

// seconds is a libpq keepalive time: 0 (or less) means the system's
// default, which a negative duration asks of net.KeepAliveConfig.
func seconds(n int) time.Duration {
	if n <= 0 {
		return -1
	}
	return time.Duration(n) * time.Second
}

// systemDefault is a libpq keepalive count: 0 (or less) is the system's.
func systemDefault(n int) int {
	if n <= 0 {
		return -1
	}
	return n
}

// hostaddr replaces the host of each connection attempt with the address
// given for it: one address per host (pgx makes up to two attempts per
// host, with TLS and without), empty for a host to look up as usual.
func hostaddr(cfg *pgconn.Config, v string) error {
	addrs := strings.Split(v, ",")
	list := attempts(cfg)
	groups := byHost(list)
	if len(addrs) != len(groups) {
		return fmt.Errorf("connection parameter hostaddr names %d addresses for %d hosts", len(addrs), len(groups))
	}
	for i, g := range groups {
		addr := strings.TrimSpace(addrs[i])
		if addr == "" {
			continue
		}
		if net.ParseIP(addr) == nil {
			return fmt.Errorf("invalid hostaddr value: %q is not an IP address", addr)
		}
		for _, a := range g {
			if strings.HasPrefix(a.Host, "/") {
				return errors.New("connection parameter hostaddr needs a host name or address beside it (host=), not a socket directory")
			}
			a.Host = addr
		}
	}
	setAttempts(cfg, list)
	return nil
}

// shuffleHosts puts cfg's hosts in a random order, keeping each host's
// attempts together and in their order (load_balance_hosts=random).
func shuffleHosts(cfg *pgconn.Config) {
	groups := byHost(attempts(cfg))
	rand.Shuffle(len(groups), func(i, j int) { groups[i], groups[j] = groups[j], groups[i] })
	var list []*pgconn.FallbackConfig
	for _, g := range groups {
		list = append(list, g...)
	}
	setAttempts(cfg, list)
}

// attempts lists cfg's connection attempts in order: its own host, port
// and TLS configuration, then its fallbacks.
func attempts(cfg *pgconn.Config) []*pgconn.FallbackConfig {
	return append([]*pgconn.FallbackConfig{{Host: cfg.Host, Port: cfg.Port, TLSConfig: cfg.TLSConfig}}, cfg.Fallbacks...)
}

// setAttempts makes list cfg's connection attempts.
func setAttempts(cfg *pgconn.Config, list []*pgconn.FallbackConfig) {
	cfg.Host, cfg.Port, cfg.TLSConfig = list[0].Host, list[0].Port, list[0].TLSConfig
	cfg.Fallbacks = list[1:]
}

// byHost groups consecutive attempts at the same host and port: pgx makes
// two when sslmode allows both a TLS and a plain connection.
func byHost(list []*pgconn.FallbackConfig) [][]*pgconn.FallbackConfig {
	var groups [][]*pgconn.FallbackConfig
	for i, a := range list {
		if i > 0 && a.Host == list[i-1].Host && a.Port == list[i-1].Port {
			groups[len(groups)-1] = append(groups[len(groups)-1], a)
			continue
		}
		groups = append(groups, []*pgconn.FallbackConfig{a})
	}
	return groups
}

// tlsVersions are libpq's names of the TLS versions, lower-cased.
var tlsVersions = map[string]uint16{
	"tlsv1":   tls.VersionTLS10,
	"tlsv1.1": tls.VersionTLS11,
	"tlsv1.2": tls.VersionTLS12,
	"tlsv1.3": tls.VersionTLS13,
}

// tlsBound applies ssl_min_protocol_version or ssl_max_protocol_version
// (name) to every TLS configuration of cfg through set.
func tlsBound(cfg *pgconn.Config, take func(string) (string, bool), name string, set func(*tls.Config, uint16)) error {
	v, ok := take(name)
	if !ok || v == "" {
		return nil
	}
	version, known := tlsVersions[strings.ToLower(v)]
	if !known {
		return fmt.Errorf("invalid %s value: %q (TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3)", name, v)
	}
	for _, a := range attempts(cfg) {
		if a.TLSConfig != nil {
			set(a.TLSConfig, version)
		}
	}
	return nil
}

// programName is the running program's file name, cut to PostgreSQL's
// 63-byte identifier length.
func programName() string {
	name := filepath.Base(os.Args[0])
	if len(name) > 63 {
		name = name[:63]
	}
	return name
}
