package transfer

import (
	"testing"
	"time"
)

func ptr(s string) *string { return &s }

// TestNormalise checks that a value read from MySQL's text protocol and the
// same value decoded by pgx from PostgreSQL checksum alike.
func TestNormalise(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		kind  kind
		mysql *string
		pg    any
		want  string
	}{
		{"an integer", kInt, ptr("42"), int32(42), "42"},
		{"a bigint", kInt, ptr("10001"), int64(10001), "10001"},
		{"a NULL integer", kInt, nil, nil, ""},
		{"a datetime is UTC text", kTime, ptr("2026-12-02 06:05:44"), time.Date(2026, 12, 2, 6, 5, 44, 0, time.UTC), "2026-12-02 06:05:44"},
		{"microseconds beyond MySQL's DATETIME are dropped", kTime, ptr("2026-12-02 06:05:44"), time.Date(2026, 12, 2, 6, 5, 44, 999999000, time.UTC), "2026-12-02 06:05:44"},
		{"a DATETIME(6) fraction parses", kTime, ptr("2026-12-02 06:05:44.123456"), time.Date(2026, 12, 2, 6, 5, 44, 123456000, time.UTC), "2026-12-02 06:05:44"},
		{"a NULL datetime", kTime, nil, nil, ""},
		{"MySQL's zero date is NULL", kTime, ptr("0000-00-00 00:00:00"), nil, ""},
		{"a zero month is NULL", kTime, ptr("2026-00-12 06:05:44"), nil, ""},
		{"a zero day is NULL", kTime, ptr("2026-12-00 06:05:44"), nil, ""},
		{"allocation_ratio 16.0", kFloat, ptr("16"), 16.0, "16"},
		{"allocation_ratio 1.5", kFloat, ptr("1.5"), 1.5, "1.5"},
		{"allocation_ratio 1.1 as MySQL's FLOAT prints it", kFloat, ptr("1.1"), 1.1, "1.1"},
		{"a string", kText, ptr("cn-é"), "cn-é", "cn-é"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := fromMySQL(tt.kind, tt.mysql)
			if err != nil {
				t.Fatal(err)
			}
			p, err := fromPG(tt.kind, tt.pg)
			if err != nil {
				t.Fatal(err)
			}
			if got := canonical(m); got != tt.want {
				t.Errorf("MySQL side = %q, want %q", got, tt.want)
			}
			if got := canonical(p); got != tt.want {
				t.Errorf("PostgreSQL side = %q, want %q", got, tt.want)
			}
			dm, dp := newDigest(), newDigest()
			dm.add([]any{m})
			dp.add([]any{p})
			if dm.sum() != dp.sum() {
				t.Error("checksums differ")
			}
		})
	}
}

func TestDigest_DistinguishesNullFromEmpty(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		a, b []any
	}{
		{"NULL and the empty string", []any{nil}, []any{""}},
		{"values that concatenate alike", []any{"ab", "c"}, []any{"a", "bc"}},
		{"1.5 and 1.25", []any{1.5}, []any{1.25}},
		{"seconds apart", []any{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}, []any{time.Date(2026, 1, 1, 0, 0, 1, 0, time.UTC)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			da, db := newDigest(), newDigest()
			da.add(tt.a)
			db.add(tt.b)
			if da.sum() == db.sum() {
				t.Errorf("%v and %v checksum alike", tt.a, tt.b)
			}
		})
	}
}

func TestFromMySQL_RejectsGarbage(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		kind kind
		in   string
	}{{kInt, "x"}, {kFloat, "one"}, {kTime, "yesterday"}} {
		if _, err := fromMySQL(tt.kind, ptr(tt.in)); err == nil {
			t.Errorf("fromMySQL(%v, %q) = nil error", tt.kind, tt.in)
		}
	}
}
