package config

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestDSN(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		connection string
		params     string
		want       string
		err        string // the whole error, when DSN must fail
	}{
		{
			name:       "the psycopg2 form drops the driver",
			connection: "postgresql+psycopg2://placement:secret@db.example:5432/placement",
			want:       "postgresql://placement:secret@db.example:5432/placement",
		},
		{
			name:       "psycopg, pg8000 and asyncpg drivers are PostgreSQL too",
			connection: "postgresql+psycopg://u:p@h/d",
			want:       "postgresql://u:p@h/d",
		},
		{
			name:       "pg8000",
			connection: "postgresql+pg8000://u@h/d",
			want:       "postgresql://u@h/d",
		},
		{
			name:       "asyncpg",
			connection: "PostgreSQL+AsyncPG://h/d",
			want:       "postgresql://h/d",
		},
		{
			name:       "postgres:// is accepted",
			connection: "postgres://u:p@h:6432/d?sslmode=disable",
			want:       "postgresql://u:p@h:6432/d?sslmode=disable",
		},
		{
			name:       "SQLAlchemy's unix-socket form keeps host=",
			connection: "postgresql+psycopg2://placement:pw@/placement?host=/var/run/postgresql",
			want:       "postgresql://placement:pw@/placement?host=/var/run/postgresql",
		},
		{
			name:       "a socket URL without user works",
			connection: "postgresql:///placement?host=/var/run/postgresql&port=5433",
			want:       "postgresql:///placement?host=/var/run/postgresql&port=5433",
		},
		{
			name:       "connection_parameters is appended to an existing query",
			connection: "postgresql+psycopg2://u:p@h/d?connect_timeout=5",
			params:     "sslmode=require&application_name=placement",
			want:       "postgresql://u:p@h/d?connect_timeout=5&sslmode=require&application_name=placement",
		},
		{
			name:       "connection_parameters starts the query when there is none",
			connection: "postgresql://u:p@h/d",
			params:     "?sslmode=verify-full",
			want:       "postgresql://u:p@h/d?sslmode=verify-full",
		},
		{
			name:       "percent-encoding in the password is kept as written",
			connection: "postgresql+psycopg2://u%2Bx:p%40ss%2fw%25rd@h/d",
			want:       "postgresql://u%2Bx:p%40ss%2fw%25rd@h/d",
		},
		{
			name:       "characters SQLAlchemy takes raw in a password are escaped",
			connection: "postgresql://u:p/ss?w#rd:x@h/d",
			want:       "postgresql://u:p%2Fss%3Fw%23rd%3Ax@h/d",
		},
		{
			name:       "a lone percent sign is escaped",
			connection: "postgresql://u:100%@h/d",
			want:       "postgresql://u:100%25@h/d",
		},
		{
			name:       "an empty password is kept",
			connection: "postgresql://u:@h/d",
			want:       "postgresql://u:@h/d",
		},
		{
			name:       "IPv6 hosts keep their brackets",
			connection: "postgresql://u:p@[::1]:5433/d",
			want:       "postgresql://u:p@[::1]:5433/d",
		},
		{
			name:       "a libpq host list for failover passes through",
			connection: "postgresql+psycopg2://u:p@db1:5432,db2:5433,db3/d?target_session_attrs=read-write",
			want:       "postgresql://u:p@db1:5432,db2:5433,db3:5432/d?target_session_attrs=read-write",
		},
		{
			name:       "SQLAlchemy's one host= per server becomes one host and one port list",
			connection: "postgresql+psycopg://u:p@/d?host=db1:5432&host=db2:5433&target_session_attrs=read-write",
			want:       "postgresql://u:p@/d?host=db1,db2&port=5432,5433&target_session_attrs=read-write",
		},
		{
			name:       "SQLAlchemy host= entries without a port take the default",
			connection: "postgresql+psycopg://u@/d?host=db1&host=db2:5433",
			want:       "postgresql://u@/d?host=db1,db2&port=5432,5433",
		},
		{
			name:       "surrounding whitespace is ignored",
			connection: "  postgresql://h/d\n",
			want:       "postgresql://h/d",
		},
		{
			name: "an empty connection is refused",
			err:  "[placement_database] connection is not set",
		},
		{
			name:       "a blank connection is refused",
			connection: "  ",
			err:        "[placement_database] connection is not set",
		},
		{
			name:       "MySQL is refused by scheme",
			connection: "mysql+pymysql://placement:s3cret@db/placement?charset=utf8",
			err:        schemeRefusal("mysql+pymysql"),
		},
		{
			name:       "SQLite is refused",
			connection: "sqlite:////var/lib/placement/placement.sqlite",
			err:        schemeRefusal("sqlite"),
		},
		{
			name:       "a driver on postgres:// is not SQLAlchemy's form",
			connection: "postgres+psycopg2://u:s3cret@h/d",
			err:        schemeRefusal("postgres+psycopg2"),
		},
		{
			name:       "a scheme with odd characters is still named",
			connection: "my-sql://u:s3cret@h/d",
			err:        schemeRefusal("my-sql"),
		},
		{
			name:       "text that is not a URL is refused without echoing it",
			connection: "placement:s3cret@db/placement",
			err:        "[placement_database] connection: not a database URL; only PostgreSQL is supported",
		},
		{
			name:       "a bad port is refused without the password",
			connection: "postgresql://u:s3cret@h:54x/d",
			err:        "[placement_database] connection: invalid port in database URL",
		},
		{
			name:       "a control character is refused without the password",
			connection: "postgresql://u:s3cret@h\x7f/d",
			err:        "[placement_database] connection: invalid database URL",
		},
		{
			name:       "bad connection_parameters are refused",
			connection: "postgresql://u:s3cret@h/d",
			params:     "sslmode=%zz",
			err:        "[placement_database] connection_parameters: invalid query string",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := Defaults()
			c.Database.Connection = tc.connection
			c.Database.ConnectionParameters = tc.params
			got, err := c.DSN()
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("DSN = %q, %v; want error %q", got, err, tc.err)
				}
				if strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "\n") {
					t.Errorf("error %q leaks the password or spans lines", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("DSN: %v", err)
			}
			if got != tc.want {
				t.Errorf("DSN = %q, want %q", got, tc.want)
			}
		})
	}
}

// schemeRefusal is the whole error DSN gives for a URL whose scheme is
// not PostgreSQL's.
func schemeRefusal(scheme string) string {
	msg := `[placement_database] connection: unsupported database URL scheme "` + scheme + `"; only PostgreSQL is supported`
	if strings.HasPrefix(scheme, "mysql+") || scheme == "mysql" {
		msg += " (placement-manage db import --from <this URL> copies a MySQL or MariaDB Placement database into the PostgreSQL one this connection should name: docs/migrate-from-mysql.md)"
	}
	return msg
}

// TestDSN_MultiHost checks that pgx reads a converted host list as
// libpq does: the first host, then the others as fallbacks.
func TestDSN_MultiHost(t *testing.T) {
	t.Parallel()
	for _, conn := range []string{
		"postgresql://u@db1:5432,db2:5433/d?target_session_attrs=read-write",
		"postgresql+psycopg://u@/d?host=db1:5432&host=db2:5433&target_session_attrs=read-write",
	} {
		c := Defaults()
		c.Database.Connection = conn
		dsn, err := c.DSN()
		if err != nil {
			t.Fatalf("DSN(%q): %v", conn, err)
		}
		pc, err := pgconn.ParseConfig(dsn)
		if err != nil {
			t.Fatalf("pgconn.ParseConfig(%q): %v", dsn, err)
		}
		// Each host appears twice with sslmode=prefer (TLS, then plain).
		got := []string{fmt.Sprintf("%s:%d", pc.Host, pc.Port)}
		for _, fb := range pc.Fallbacks {
			if h := fmt.Sprintf("%s:%d", fb.Host, fb.Port); !slices.Contains(got, h) {
				got = append(got, h)
			}
		}
		if want := []string{"db1:5432", "db2:5433"}; !slices.Equal(got, want) {
			t.Errorf("%q: pgx hosts %v, want %v", conn, got, want)
		}
		if pc.ValidateConnect == nil {
			t.Errorf("%q: target_session_attrs=read-write was not applied", conn)
		}
	}
}
