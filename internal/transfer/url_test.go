package transfer

import (
	"slices"
	"strings"
	"testing"

	"github.com/openstack-placement-go/placement/internal/testutil"
)

func TestMySQLDSN(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		url      string
		dsn      string
		warnings []string
	}{
		{"a pymysql URL becomes a tcp DSN", "mysql+pymysql://placement:secret@db.example:3307/placement",
			"placement:secret@tcp(db.example:3307)/placement?charset=utf8mb4&interpolateParams=true&timeout=30s", nil},
		{"a plain mysql URL without port gets 3306", "mysql://placement:pw@db.example/placement",
			"placement:pw@tcp(db.example:3306)/placement?charset=utf8mb4&interpolateParams=true&timeout=30s", nil},
		{"mysqldb is accepted", "mysql+mysqldb://u:p@10.0.0.5:3306/placement?charset=utf8",
			"u:p@tcp(10.0.0.5:3306)/placement?charset=utf8mb4&interpolateParams=true&timeout=30s", nil},
		{"another charset is replaced by utf8mb4 with a warning", "mysql+pymysql://u:p@h:1/placement?charset=latin1",
			"u:p@tcp(h:1)/placement?charset=utf8mb4&interpolateParams=true&timeout=30s",
			[]string{"MySQL URL: charset=latin1 ignored; values are read and written as utf8mb4"}},
		{"a unix socket replaces the host", "mysql+pymysql://u:p@/placement?unix_socket=/run/mysqld/mysqld.sock",
			"u:p@unix(/run/mysqld/mysqld.sock)/placement?charset=utf8mb4&interpolateParams=true&timeout=30s", nil},
		{"unknown options are ignored with a warning", "mysql+pymysql://u:p@h:1/placement?read_default_file=/etc/my.cnf",
			"u:p@tcp(h:1)/placement?charset=utf8mb4&interpolateParams=true&timeout=30s",
			[]string{"MySQL URL: option read_default_file ignored"}},
		{"a password with reserved characters is decoded", "mysql+pymysql://u:p%40ss%2Fw@h:1/placement",
			"u:p@ss/w@tcp(h:1)/placement?charset=utf8mb4&interpolateParams=true&timeout=30s", nil},
		{"connect_timeout sets the dial timeout", "mysql://u@h:1/placement?connect_timeout=5",
			"u@tcp(h:1)/placement?charset=utf8mb4&interpolateParams=true&timeout=5s", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dsn, warnings, err := MySQLDSN(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			if dsn != tt.dsn {
				t.Errorf("dsn = %q, want %q", dsn, tt.dsn)
			}
			if !slices.Equal(warnings, tt.warnings) {
				t.Errorf("warnings = %q, want %q", warnings, tt.warnings)
			}
		})
	}
}

func TestMySQLDSN_Errors(t *testing.T) {
	t.Parallel()
	testutil.WantErrors(t, func(t *testing.T, url string) error {
		_, _, err := MySQLDSN(url)
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("MySQLDSN(%q) error %q shows the password", url, err)
		}
		return err
	}, []testutil.ErrorCase{
		{"a PostgreSQL URL is refused", "postgresql://u@h/placement", "is not mysql://"},
		{"a URL without database is refused", "mysql+pymysql://u:p@h:1/", "no database name"},
		{"a malformed URL does not echo the password", "mysql+pymysql://u:s3cret@h:bad port/placement", "malformed URL"},
		{"a missing CA file", "mysql+pymysql://u@h/placement?ssl_ca=/nonexistent/ca.pem", "ssl CA"},
		{"a CA file without a certificate", "mysql+pymysql://u@h/placement?ssl_ca=/dev/null", "holds no PEM certificate"},
		{"a missing client certificate", "mysql+pymysql://u@h/placement?ssl_cert=/nonexistent/c.pem", "ssl_cert/ssl_key"},
		{"ssl_check_hostname not a boolean", "mysql+pymysql://u@h/placement?ssl_check_hostname=maybe", "not a boolean"},
	})
}

// TestMySQLDSN_TLS: any ssl_* option turns TLS on (a registered
// configuration), ssl_cipher with a warning; without them there is none.
func TestMySQLDSN_TLS(t *testing.T) {
	t.Parallel()
	dsn, warnings, err := MySQLDSN("mysql+pymysql://u@h/placement?ssl_check_hostname=false&ssl_cipher=AES256-SHA")
	if err != nil || !strings.Contains(dsn, "tls=placement-") || len(warnings) != 1 || !strings.Contains(warnings[0], "ssl_cipher") {
		t.Errorf("DSN %q, warnings %q, %v: want a registered TLS configuration and the ssl_cipher warning", dsn, warnings, err)
	}
	if dsn, _, err := MySQLDSN("mysql+pymysql://u@h/placement?charset=utf8"); err != nil || strings.Contains(dsn, "tls=") {
		t.Errorf("without ssl_* options: %q, %v", dsn, err)
	}
}
