package e2e

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openstack-placement-go/placement/internal/testdb"
	"github.com/openstack-placement-go/placement/internal/testutil"
	"github.com/openstack-placement-go/placement/internal/transfer"
)

// writeCA writes a CA, and a server certificate it signs for 127.0.0.1, as
// PEM files in dir: NAME.pem, NAME-server.pem, NAME-server-key.pem.
func writeCA(t *testing.T, dir, name string) {
	t.Helper()
	ca := testutil.NewCA(t, name)
	ca.WriteCert(t, filepath.Join(dir, name+".pem"))
	ca.Issue(t, 2, filepath.Join(dir, name+"-server.pem"), filepath.Join(dir, name+"-server-key.pem"))
}

// TestMySQLTLS imports from a MariaDB that only takes TLS connections for
// the user of the URL, through SQLAlchemy's ssl_* options: with the right
// CA it verifies and copies; without TLS, or with another CA, it fails.
func TestMySQLTLS(t *testing.T) {
	if os.Getenv("PLACEMENT_MYSQL") != "1" {
		t.Skip("PLACEMENT_MYSQL=1 runs the MySQL/MariaDB tests (make mysql-e2e)")
	}
	dir := t.TempDir()
	writeCA(t, dir, "ca")
	writeCA(t, dir, "other")
	my := startMariaDB(t, "--ssl-ca="+filepath.Join(dir, "ca.pem"), "--ssl-cert="+filepath.Join(dir, "ca-server.pem"),
		"--ssl-key="+filepath.Join(dir, "ca-server-key.pem"))
	source := my.database(t, "placement")
	mysqlExec(t, my, "CREATE USER 'secure'@'%' IDENTIFIED BY 'secret' REQUIRE SSL")
	mysqlExec(t, my, "GRANT ALL ON *.* TO 'secure'@'%'")
	u, err := url.Parse(source)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword("secure", "secret")
	secure := func(query string) string {
		v := *u
		v.RawQuery = query
		return v.String()
	}
	ctx := context.Background()
	for _, tc := range []struct {
		query, wantErr string
	}{
		{"charset=utf8", "Access denied"},
		{"ssl_ca=" + filepath.Join(dir, "other.pem"), "certificate signed by unknown authority"},
		{"ssl_ca=" + filepath.Join(dir, "ca.pem"), ""},
		{"ssl_capath=" + dir + "&ssl_check_hostname=false", ""},
	} {
		var out bytes.Buffer
		err := transfer.Import(ctx, secure(tc.query), testdb.Empty(t), transfer.Options{Out: &out, DryRun: true})
		if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%s: %v, want %q", tc.query, err, tc.wantErr)
		}
	}
}
