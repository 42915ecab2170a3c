package config

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// sqlalchemyURL is SQLAlchemy's own URL pattern (sqlalchemy.engine.url), so
// that a password holding "/", "?" or ":" unencoded splits as it does there.
var sqlalchemyURL = regexp.MustCompile(`^([\w+]+)://` +
	`(?:([^:/]*)(?::([^@]*))?@)?` +
	`(?:(?:\[([^/?]+)\]|([^/:?]+))?(?::([^/?]*))?)?` +
	`(?:/([^?]*))?` +
	`(?:\?(.*))?$`)

// DSN translates [placement_database] connection into a pgx connection URL.
// It accepts postgresql:// and postgres:// and the SQLAlchemy forms
// postgresql+<driver>:// (psycopg2, psycopg, pg8000, asyncpg, …), keeps the
// user, password, host, port, database and query parameters, and appends
// connection_parameters. Percent-escapes already in the URL are kept as
// written; SQLAlchemy's "?host=/var/run/postgresql" socket form works
// because pgx reads host= too. Errors name the option and never contain the
// password.
func (c *Config) DSN() (string, error) {
	raw := strings.TrimSpace(c.Database.Connection)
	if raw == "" {
		return "", errors.New("[placement_database] connection is not set")
	}
	idx := sqlalchemyURL.FindStringSubmatchIndex(raw)
	if idx == nil {
		if scheme, _, ok := strings.Cut(raw, "://"); ok && isScheme(scheme) {
			return "", unsupportedScheme(scheme)
		}
		return "", errors.New("[placement_database] connection: not a database URL; only PostgreSQL is supported")
	}
	// group returns submatch n and whether it took part in the match.
	group := func(n int) (string, bool) {
		if idx[2*n] < 0 {
			return "", false
		}
		return raw[idx[2*n]:idx[2*n+1]], true
	}
	rawScheme, _ := group(1)
	dialect, driver, hasDriver := strings.Cut(strings.ToLower(rawScheme), "+")
	if (dialect != "postgresql" && dialect != "postgres") || (hasDriver && (driver == "" || dialect != "postgresql")) {
		return "", unsupportedScheme(rawScheme)
	}
	user, hasUser := group(2)
	password, hasPassword := group(3)
	ipv6, _ := group(4)
	host, _ := group(5)
	port, _ := group(6)
	database, _ := group(7)
	query, _ := group(8)

	var b strings.Builder
	b.WriteString("postgresql://")
	if hasUser {
		b.WriteString(escapeKeep(user, userinfoByte))
		if hasPassword {
			b.WriteByte(':')
			b.WriteString(escapeKeep(password, userinfoByte))
		}
		b.WriteByte('@')
	}
	netloc := host
	if ipv6 != "" {
		netloc = "[" + ipv6 + "]"
	}
	if port != "" {
		netloc += ":" + port
	}
	hosts, err := hostList(netloc)
	if err != nil {
		return "", err
	}
	b.WriteString(hosts)
	if database != "" {
		b.WriteString("/" + escapeKeep(database, pathByte))
	}

	var params []string
	if query != "" {
		query, err = joinHostParams(query)
		if err != nil {
			return "", err
		}
		params = append(params, escapeKeep(query, queryByte))
	}
	if extra := strings.Trim(strings.TrimSpace(c.Database.ConnectionParameters), "?&"); extra != "" {
		if _, err := url.ParseQuery(extra); err != nil {
			return "", errors.New("[placement_database] connection_parameters: invalid query string")
		}
		params = append(params, escapeKeep(extra, queryByte))
	}
	if len(params) > 0 {
		b.WriteString("?" + strings.Join(params, "&"))
	}

	dsn := b.String()
	if u, err := url.Parse(dsn); err != nil || u.Scheme != "postgresql" {
		// url.Parse errors quote the whole URL, password included.
		return "", errors.New("[placement_database] connection: invalid database URL")
	}
	return dsn, nil
}

// hostList checks the host part of a URL: one host, or libpq's
// comma-separated list of hosts for failover ("a:5432,b:5433", used with
// target_session_attrs), each with an optional numeric port. In a list
// where some hosts have a port, the others get 5432 written out, because
// net/url (and so golang-migrate) reads "a:5432,b" as host "a:5432" and
// port "5432,b".
func hostList(netloc string) (string, error) {
	entries := strings.Split(netloc, ",")
	anyPort := false
	missing := make([]bool, len(entries))
	for i, entry := range entries {
		_, port, hasPort := strings.Cut(entry, ":")
		if strings.HasPrefix(entry, "[") {
			_, rest, _ := strings.Cut(entry, "]")
			port, hasPort = strings.CutPrefix(rest, ":")
		}
		if hasPort && port != "" {
			if _, err := strconv.ParseUint(port, 10, 16); err != nil {
				return "", errors.New("[placement_database] connection: invalid port in database URL")
			}
			anyPort = true
		}
		missing[i] = !hasPort || port == ""
	}
	if len(entries) > 1 && anyPort {
		for i, entry := range entries {
			if missing[i] {
				entries[i] = strings.TrimSuffix(entry, ":") + ":5432"
			}
		}
	}
	return strings.Join(entries, ","), nil
}

// joinHostParams turns SQLAlchemy's multi-host form, one host= parameter
// per server ("?host=a:5432&host=b:5433", SQLAlchemy 2.0 with psycopg),
// into one host= and one port= list, which pgx reads as libpq does; pgx
// would otherwise use only the first.
func joinHostParams(query string) (string, error) {
	var hosts, ports, rest []string
	hasPort := false
	for _, part := range strings.Split(query, "&") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "host":
			hosts = append(hosts, v)
		case "port":
			hasPort = true
			rest = append(rest, part)
		default:
			rest = append(rest, part)
		}
	}
	if len(hosts) < 2 {
		return query, nil
	}
	anyPort := false
	for i, h := range hosts {
		port := ""
		if !strings.HasPrefix(h, "/") && !strings.HasPrefix(h, "%2F") && !strings.HasPrefix(h, "%2f") {
			if name, p, ok := strings.Cut(h, ":"); ok {
				if _, err := strconv.ParseUint(p, 10, 16); err != nil {
					return "", errors.New("[placement_database] connection: invalid port in database URL")
				}
				hosts[i], port, anyPort = name, p, true
			}
		}
		ports = append(ports, port)
	}
	joined := "host=" + strings.Join(hosts, ",")
	if anyPort && !hasPort {
		for i, p := range ports {
			if p == "" {
				ports[i] = "5432"
			}
		}
		joined += "&port=" + strings.Join(ports, ",")
	}
	return strings.Join(append([]string{joined}, rest...), "&"), nil
}

// unsupportedScheme refuses a URL that is not PostgreSQL's; one of MySQL
// or MariaDB, the Python service's usual database, is told how to move.
func unsupportedScheme(scheme string) error {
	err := fmt.Errorf("[placement_database] connection: unsupported database URL scheme %q; only PostgreSQL is supported", scheme)
	if base, _, _ := strings.Cut(scheme, "+"); base == "mysql" || base == "mariadb" {
		err = fmt.Errorf("%w (placement-manage db import --from <this URL> copies a MySQL or MariaDB Placement database into the PostgreSQL one this connection should name: docs/migrate-from-mysql.md)", err)
	}
	return err
}

var schemePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.\-]*$`)

func isScheme(s string) bool { return schemePattern.MatchString(s) }

// escapeKeep percent-encodes the bytes of s that may not appear raw in a URL
// component, leaving valid %XX escapes exactly as written.
func escapeKeep(s string, allowed func(byte) bool) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b.WriteString(s[i : i+3])
			i += 2
		case c != '%' && allowed(c):
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// unreservedOrSubDelim is RFC 3986's unreserved and sub-delims sets.
func unreservedOrSubDelim(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~!$&'()*+,;=", c) >= 0
}

// userinfoByte leaves ':' escaped so that a user name cannot end early; a
// raw ':' in the password is escaped too, which pgx decodes the same.
func userinfoByte(c byte) bool { return unreservedOrSubDelim(c) }

func pathByte(c byte) bool { return unreservedOrSubDelim(c) || c == ':' || c == '@' || c == '/' }

// queryByte keeps '#' escaped so that no parameter turns into a fragment.
func queryByte(c byte) bool { return pathByte(c) || c == '?' }
