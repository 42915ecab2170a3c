package transfer

import (
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"
)

// MySQLDSN converts a MySQL URL in the forms oslo.db configurations use
// (mysql+pymysql://, mysql+mysqldb://, mysql://, with query options such as
// charset=utf8, unix_socket=/path or ssl_ca=/path) into a go-sql-driver
// DSN. Options the driver has no use for are dropped, each with a warning;
// the connection
// always uses utf8mb4. The DSN always
// reads timestamps as text (no parseTime) and interpolates parameters on
// the client, so that every read uses MySQL's text protocol: a FLOAT then
// arrives as MySQL prints it ("1.1"), as the Python service reads it.
func MySQLDSN(raw string) (dsn string, warnings []string, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", nil, fmt.Errorf("MySQL URL: %w", redact(err, raw))
	}
	scheme, driver, _ := strings.Cut(u.Scheme, "+")
	if scheme != "mysql" {
		return "", nil, fmt.Errorf("MySQL URL: scheme %q is not mysql:// (or mysql+pymysql://, mysql+mysqldb://)", u.Scheme)
	}
	switch driver {
	case "", "pymysql", "mysqldb", "mysqlconnector":
	default:
		warnings = append(warnings, fmt.Sprintf("MySQL URL: driver %q ignored; go-sql-driver/mysql is used", driver))
	}
	cfg := mysql.NewConfig()
	cfg.ParseTime = false
	cfg.InterpolateParams = true
	cfg.Timeout = 30 * time.Second
	cfg.Loc = time.UTC
	if u.User != nil {
		cfg.User = u.User.Username()
		cfg.Passwd, _ = u.User.Password()
	}
	cfg.DBName = strings.TrimPrefix(u.Path, "/")
	if cfg.DBName == "" {
		return "", nil, fmt.Errorf("MySQL URL: no database name (…/placement)")
	}
	cfg.Net, cfg.Addr = "tcp", u.Host
	if u.Port() == "" && u.Host != "" {
		cfg.Addr = u.Host + ":3306"
	}
	q := u.Query()
	tc, tlsWarnings, err := mysqlTLS(q, u.Hostname())
	if err != nil {
		return "", nil, err
	}
	warnings = append(warnings, tlsWarnings...)
	if tc != nil {
		name := fmt.Sprintf("placement-%d", tlsConfigs.Add(1))
		if err := mysql.RegisterTLSConfig(name, tc); err != nil {
			return "", nil, fmt.Errorf("MySQL URL: %w", err)
		}
		cfg.TLSConfig = name
	}
	for _, key := range slices.Sorted(maps.Keys(q)) {
		v := q.Get(key)
		if strings.HasPrefix(key, "ssl_") {
			continue // mysqlTLS
		}
		switch key {
		case "charset":
			// The server converts every column to the connection's
			// character set, so utf8mb4 reads any schema faithfully;
			// another one would only lose characters.
			if v != "utf8" && v != "utf8mb4" && v != "utf8mb3" {
				warnings = append(warnings, fmt.Sprintf("MySQL URL: charset=%s ignored; values are read and written as utf8mb4", v))
			}
		case "unix_socket":
			cfg.Net, cfg.Addr = "unix", v
		case "connect_timeout":
			var secs int
			if _, err := fmt.Sscanf(v, "%d", &secs); err == nil && secs > 0 {
				cfg.Timeout = time.Duration(secs) * time.Second
			}
		default:
			warnings = append(warnings, fmt.Sprintf("MySQL URL: option %s ignored", key))
		}
	}
	if err := cfg.Apply(mysql.Charset("utf8mb4", "")); err != nil {
		return "", nil, fmt.Errorf("MySQL URL: %w", err)
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:3306"
	}
	return cfg.FormatDSN(), warnings, nil
}

// tlsConfigs numbers the TLS configurations registered with the driver.
var tlsConfigs atomic.Int64

// mysqlTLS builds the TLS configuration of the ssl_* options SQLAlchemy's
// MySQL dialects pass to their driver, with PyMySQL's meaning, or nil
// without them: any of them turns TLS on; with ssl_ca or ssl_capath the
// server's certificate must chain to those, and name host unless
// ssl_check_hostname=false; without either, the connection is encrypted
// but the certificate not checked. ssl_cert and ssl_key give a client
// certificate. ssl_cipher is left to Go, with a warning.
func mysqlTLS(q url.Values, host string) (*tls.Config, []string, error) {
	var warnings []string
	var given bool
	for key := range q {
		if strings.HasPrefix(key, "ssl_") {
			given = true
		}
	}
	if !given {
		return nil, nil, nil
	}
	tc := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	var roots *x509.CertPool
	addPEM := func(path string) error {
		data, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("MySQL URL: ssl CA: %w", err)
		}
		if roots == nil {
			roots = x509.NewCertPool()
		}
		if !roots.AppendCertsFromPEM(data) {
			return fmt.Errorf("MySQL URL: ssl CA %s holds no PEM certificate", path)
		}
		return nil
	}
	if ca := q.Get("ssl_ca"); ca != "" {
		if err := addPEM(ca); err != nil {
			return nil, nil, err
		}
	}
	if dir := q.Get("ssl_capath"); dir != "" {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, nil, fmt.Errorf("MySQL URL: ssl_capath: %w", err)
		}
		for _, e := range entries {
			if !e.IsDir() {
				_ = addPEM(filepath.Join(dir, e.Name())) // a directory may hold other files
			}
		}
		if roots == nil {
			return nil, nil, fmt.Errorf("MySQL URL: ssl_capath %s holds no PEM certificate", dir)
		}
	}
	if cert := q.Get("ssl_cert"); cert != "" {
		key := cmp.Or(q.Get("ssl_key"), cert)
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return nil, nil, fmt.Errorf("MySQL URL: ssl_cert/ssl_key: %w", err)
		}
		tc.Certificates = []tls.Certificate{pair}
	}
	if q.Get("ssl_cipher") != "" {
		warnings = append(warnings, "MySQL URL: option ssl_cipher ignored; Go chooses among its TLS 1.2+ cipher suites")
	}
	checkHost := true
	if v := q.Get("ssl_check_hostname"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, nil, fmt.Errorf("MySQL URL: ssl_check_hostname=%s is not a boolean", v)
		}
		checkHost = b
	}
	switch {
	case roots == nil:
		// PyMySQL without a CA: encrypted, unverified.
		tc.InsecureSkipVerify = true
	case checkHost:
		tc.RootCAs = roots
	default:
		// The chain is checked, the name is not.
		tc.InsecureSkipVerify = true
		tc.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
			certs := make([]*x509.Certificate, len(raw))
			for i, der := range raw {
				c, err := x509.ParseCertificate(der)
				if err != nil {
					return err
				}
				certs[i] = c
			}
			if len(certs) == 0 {
				return fmt.Errorf("MySQL server sent no certificate")
			}
			inter := x509.NewCertPool()
			for _, c := range certs[1:] {
				inter.AddCert(c)
			}
			_, err := certs[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter})
			return err
		}
	}
	return tc, warnings, nil
}

// redact removes the password of raw from err's text.
func redact(err error, raw string) error {
	u, perr := url.Parse(raw)
	if perr != nil || u.User == nil {
		return fmt.Errorf("malformed URL")
	}
	if pw, ok := u.User.Password(); ok && pw != "" {
		return fmt.Errorf("%s", strings.ReplaceAll(err.Error(), pw, "***"))
	}
	return err
}
