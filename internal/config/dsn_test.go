package config

import (
	"strings"
	"testing"
)

func TestDSN(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		connection string
		params     string
		want       string
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
			name:       "surrounding whitespace is ignored",
			connection: "  postgresql://h/d\n",
			want:       "postgresql://h/d",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := Defaults()
			c.Database.Connection = tc.connection
			c.Database.ConnectionParameters = tc.params
			got, err := c.DSN()
			if err != nil {
				t.Fatalf("DSN: %v", err)
			}
			if got != tc.want {
				t.Errorf("DSN = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDSN_Errors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		connection string
		params     string
		want       string
	}{
		{
			name: "an empty connection is refused",
			want: "[placement_database] connection is not set",
		},
		{
			name:       "a blank connection is refused",
			connection: "  ",
			want:       "[placement_database] connection is not set",
		},
		{
			name:       "MySQL is refused by scheme",
			connection: "mysql+pymysql://placement:s3cret@db/placement?charset=utf8",
			want:       `[placement_database] connection: unsupported database URL scheme "mysql+pymysql"; only PostgreSQL is supported`,
		},
		{
			name:       "SQLite is refused",
			connection: "sqlite:////var/lib/placement/placement.sqlite",
			want:       `[placement_database] connection: unsupported database URL scheme "sqlite"; only PostgreSQL is supported`,
		},
		{
			name:       "a driver on postgres:// is not SQLAlchemy's form",
			connection: "postgres+psycopg2://u:s3cret@h/d",
			want:       `[placement_database] connection: unsupported database URL scheme "postgres+psycopg2"; only PostgreSQL is supported`,
		},
		{
			name:       "a scheme with odd characters is still named",
			connection: "my-sql://u:s3cret@h/d",
			want:       `[placement_database] connection: unsupported database URL scheme "my-sql"; only PostgreSQL is supported`,
		},
		{
			name:       "text that is not a URL is refused without echoing it",
			connection: "placement:s3cret@db/placement",
			want:       "[placement_database] connection: not a database URL; only PostgreSQL is supported",
		},
		{
			name:       "a bad port is refused without the password",
			connection: "postgresql://u:s3cret@h:54x/d",
			want:       "[placement_database] connection: invalid port in database URL",
		},
		{
			name:       "a control character is refused without the password",
			connection: "postgresql://u:s3cret@h\x7f/d",
			want:       "[placement_database] connection: invalid database URL",
		},
		{
			name:       "bad connection_parameters are refused",
			connection: "postgresql://u:s3cret@h/d",
			params:     "sslmode=%zz",
			want:       "[placement_database] connection_parameters: invalid query string",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := Defaults()
			c.Database.Connection = tc.connection
			c.Database.ConnectionParameters = tc.params
			got, err := c.DSN()
			if err == nil {
				t.Fatalf("DSN = %q, want error %q", got, tc.want)
			}
			if err.Error() != tc.want {
				t.Errorf("error = %q, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q leaks the password or spans lines", err)
			}
		})
	}
}
