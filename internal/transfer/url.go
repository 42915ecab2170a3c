package transfer

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// MySQLDSN converts a MySQL URL in the forms oslo.db configurations use
// (mysql+pymysql://, mysql+mysqldb://, mysql://, with query options such as
// charset=utf8 or unix_socket=/path) into a go-sql-driver DSN. Options the
// driver has no use for are dropped, each with a warning; the connection
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
	for _, key := range slices.Sorted(maps.Keys(q)) {
		v := q.Get(key)
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
