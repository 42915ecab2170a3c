package libpq_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/openstack-placement-go/placement/internal/libpq"
	"github.com/openstack-placement-go/placement/internal/testdb"
)

// parse is pgconn.ParseConfig of base+"?"+query, then Apply.
func parse(t *testing.T, base, query string) (*pgconn.Config, func(*pgconn.Config), error) {
	t.Helper()
	cfg, err := pgconn.ParseConfig(base + "?" + query)
	if err != nil {
		t.Fatalf("pgconn.ParseConfig(%q): %v", query, err)
	}
	shuffle, err := libpq.Apply(cfg)
	return cfg, shuffle, err
}

func TestApply_TakesLibpqParameters(t *testing.T) {
	for _, q := range []string{
		"keepalives=1&keepalives_idle=30&keepalives_interval=5&keepalives_count=3",
		"keepalives=0",
		"keepalives_idle=0",
		"tcp_user_timeout=10000",
		"tcp_user_timeout=0",
		"hostaddr=127.0.0.1",
		"fallback_application_name=nova",
		"ssl_min_protocol_version=TLSv1.2&ssl_max_protocol_version=tlsv1.3",
		"load_balance_hosts=disable",
		"load_balance_hosts=random",
		"gssencmode=prefer&gsslib=gssapi&gssdelegation=0&sslcompression=0",
		"sslcrl=&requirepeer=",
	} {
		cfg, _, err := parse(t, "postgres://u@db.example:5432/placement", q+"&search_path=public")
		if err != nil {
			t.Errorf("%s: %v", q, err)
			continue
		}
		// Without a name, the program's (this test binary's).
		want := map[string]string{"search_path": "public", "application_name": "libpq.test"}
		if strings.Contains(q, "fallback_application_name") {
			want["application_name"] = "nova"
		}
		if !equalMaps(cfg.RuntimeParams, want) {
			t.Errorf("%s: run-time parameters left for the server: %v, want %v", q, cfg.RuntimeParams, want)
		}
	}
}

// TestApply_ApplicationName: a name in the URL wins over the fallback,
// which wins over the program's name.
func TestApply_ApplicationName(t *testing.T) {
	for q, want := range map[string]string{
		"application_name=mine&fallback_application_name=nova": "mine",
		"fallback_application_name=nova":                       "nova",
		"fallback_application_name=":                           "libpq.test",
		"":                                                     "libpq.test",
	} {
		cfg, _, err := parse(t, "postgres://u@db.example:5432/placement", q)
		if err != nil || cfg.RuntimeParams["application_name"] != want {
			t.Errorf("%q: application_name %q (%v), want %q", q, cfg.RuntimeParams["application_name"], err, want)
		}
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestApply_Refuses(t *testing.T) {
	for q, want := range map[string]string{
		"keepalives_idle=abc":                              `invalid integer value "abc" for connection parameter keepalives_idle`,
		"keepalives=yes":                                   `connection parameter keepalives`,
		"tcp_user_timeout=1.5":                             `connection parameter tcp_user_timeout`,
		"hostaddr=db.example":                              `not an IP address`,
		"hostaddr=10.0.0.1,10.0.0.2":                       `2 addresses for 1 hosts`,
		"ssl_min_protocol_version=TLSv1.4":                 `invalid ssl_min_protocol_version`,
		"load_balance_hosts=roundrobin":                    `invalid load_balance_hosts`,
		"gssencmode=require":                               `gssencmode=require is not supported`,
		"sslcrl=/etc/ssl/crl.pem":                          `sslcrl is not supported`,
		"sslcrldir=/etc/ssl/crl":                           `sslcrldir is not supported`,
		"requirepeer=postgres":                             `requirepeer is not supported`,
		"fallback_application_name=x&gssencmode=sometimes": `invalid gssencmode`,
	} {
		if _, _, err := parse(t, "postgres://u@db.example/placement", q); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error with %q", q, err, want)
		}
	}
}

func TestApply_FallbackApplicationNameDefersToApplicationName(t *testing.T) {
	cfg, _, err := parse(t, "postgres://u@db.example/placement", "application_name=placement&fallback_application_name=nova")
	if err != nil || cfg.RuntimeParams["application_name"] != "placement" {
		t.Errorf("application_name = %q (%v), want the one given", cfg.RuntimeParams["application_name"], err)
	}
}

// hosts lists the host:port and TLS-or-not of each connection attempt.
func hosts(cfg *pgconn.Config) []string {
	out := []string{attempt(cfg.Host, cfg.Port, cfg.TLSConfig)}
	for _, f := range cfg.Fallbacks {
		out = append(out, attempt(f.Host, f.Port, f.TLSConfig))
	}
	return out
}

func attempt(host string, port uint16, tc *tls.Config) string {
	s := fmt.Sprintf("%s:%d", host, port)
	if tc != nil {
		s += "+tls"
	}
	return s
}

func TestApply_HostaddrPerHost(t *testing.T) {
	cfg, _, err := parse(t, "postgres://u@db1.example:5431,db2.example:5432/placement", "sslmode=prefer&hostaddr=10.0.0.1,")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.1:5431+tls", "10.0.0.1:5431", "db2.example:5432+tls", "db2.example:5432"}
	if got := hosts(cfg); !slices.Equal(got, want) {
		t.Errorf("attempts = %v, want %v", got, want)
	}
	// TLS still verifies the name given as host.
	if cfg.TLSConfig.ServerName != "db1.example" {
		t.Errorf("TLS server name = %q, want db1.example", cfg.TLSConfig.ServerName)
	}
	if _, _, err := parse(t, "postgres://u@/placement", "host=/var/run/postgresql&hostaddr=10.0.0.1"); err == nil {
		t.Error("hostaddr beside a socket directory: no error")
	}
}

func TestApply_TLSBounds(t *testing.T) {
	cfg, _, err := parse(t, "postgres://u@db.example/placement", "sslmode=require&ssl_min_protocol_version=TLSv1.3")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.TLSConfig == nil || cfg.TLSConfig.MinVersion != tls.VersionTLS13 {
		t.Errorf("TLS config %+v, want MinVersion TLS 1.3", cfg.TLSConfig)
	}
}

func TestApply_LoadBalanceHostsShufflesWholeHosts(t *testing.T) {
	base := "postgres://u@a.example:5431,b.example:5432,c.example:5433/placement"
	cfg, shuffle, err := parse(t, base, "sslmode=prefer&load_balance_hosts=random")
	if err != nil || shuffle == nil {
		t.Fatalf("shuffle %v, %v", shuffle != nil, err)
	}
	orders := map[string]bool{}
	for range 200 {
		c := cfg.Copy()
		shuffle(c)
		got := hosts(c)
		if len(got) != 6 {
			t.Fatalf("attempts = %v, want 6", got)
		}
		for i := 0; i < 6; i += 2 {
			// Each host keeps its TLS attempt first, then the plain one.
			if got[i+1]+"+tls" != got[i] {
				t.Fatalf("attempts = %v: a host's two attempts split or swapped", got)
			}
		}
		orders[got[0]+got[2]+got[4]] = true
	}
	if len(orders) != 6 {
		t.Errorf("%d of the 6 host orders in 200 shuffles", len(orders))
	}
	if _, shuffle, _ := parse(t, base, "load_balance_hosts=disable"); shuffle != nil {
		t.Error("load_balance_hosts=disable shuffles")
	}
}

// libpqOnly is a query with every parameter that only libpq knows and
// this service honours.
const libpqOnly = "keepalives=1&keepalives_idle=7&keepalives_interval=3&keepalives_count=4" +
	"&tcp_user_timeout=9000&fallback_application_name=nova&gssencmode=prefer&load_balance_hosts=random"

// TestConnect_WithLibpqParameters connects to the test server with every
// parameter that only libpq knows: pgx alone sent them to the server, which
// refused the connection.
func TestConnect_WithLibpqParameters(t *testing.T) {
	dsn := testdb.WithQuery(testdb.ServerURL(t), libpqOnly)
	ctx := context.Background()
	conn, err := libpq.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	var name string
	if err := conn.QueryRow(ctx, "SHOW application_name").Scan(&name); err != nil || name != "nova" {
		t.Errorf("application_name = %q (%v), want nova", name, err)
	}
	checkSocket(t, conn.PgConn().Conn(), map[string]int{"TCP_KEEPIDLE": 7, "TCP_KEEPINTVL": 3, "TCP_KEEPCNT": 4, "TCP_USER_TIMEOUT": 9000})
}

// TestConnect_KeepaliveDefaults: without keepalive parameters a connection
// is probed after 15 s of silence, three times 5 s apart.
func TestConnect_KeepaliveDefaults(t *testing.T) {
	ctx := context.Background()
	conn, err := libpq.Connect(ctx, testdb.ServerURL(t))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	checkSocket(t, conn.PgConn().Conn(), map[string]int{"TCP_KEEPIDLE": 15, "TCP_KEEPINTVL": 5, "TCP_KEEPCNT": 3, "TCP_USER_TIMEOUT": 0})
}
