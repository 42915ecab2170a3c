package transfer

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"time"
)

// kind is how a column's values are normalised.
type kind int

const (
	kInt kind = iota
	kText
	kTime
	kFloat
)

type column struct {
	name string
	kind kind
}

// table is one upstream table: its columns in copy order and its primary
// key (integers on both sides, so ORDER BY agrees across engines).
type table struct {
	name   string
	cols   []column
	pk     []string
	serial bool // has an id column backed by a sequence in PostgreSQL
}

func (t table) names() []string {
	out := make([]string, len(t.cols))
	for i, c := range t.cols {
		out[i] = c.name
	}
	return out
}

// selectSQL reads the whole table in primary-key order; the same text runs
// on both engines.
func (t table) selectSQL() string {
	return "SELECT " + strings.Join(t.names(), ", ") + " FROM " + t.name + " ORDER BY " + strings.Join(t.pk, ", ")
}

var stamps = []column{{"created_at", kTime}, {"updated_at", kTime}}

func cols(c ...column) []column { return append(c, stamps...) }

// tables lists upstream's tables (spec 09) in an order that satisfies
// every foreign key. resource_providers references itself (root, parent);
// PostgreSQL checks those at the end of the COPY statement that loads the
// whole table, and the MySQL export turns foreign_key_checks off.
var tables = []table{
	{name: "resource_classes", cols: cols(column{"id", kInt}, column{"name", kText}), pk: []string{"id"}, serial: true},
	{name: "resource_providers", cols: cols(column{"id", kInt}, column{"uuid", kText}, column{"name", kText},
		column{"generation", kInt}, column{"root_provider_id", kInt}, column{"parent_provider_id", kInt}), pk: []string{"id"}, serial: true},
	{name: "inventories", cols: cols(column{"id", kInt}, column{"resource_provider_id", kInt}, column{"resource_class_id", kInt},
		column{"total", kInt}, column{"reserved", kInt}, column{"min_unit", kInt}, column{"max_unit", kInt},
		column{"step_size", kInt}, column{"allocation_ratio", kFloat}), pk: []string{"id"}, serial: true},
	{name: "allocations", cols: cols(column{"id", kInt}, column{"resource_provider_id", kInt}, column{"consumer_id", kText},
		column{"resource_class_id", kInt}, column{"used", kInt}), pk: []string{"id"}, serial: true},
	{name: "placement_aggregates", cols: cols(column{"id", kInt}, column{"uuid", kText}), pk: []string{"id"}, serial: true},
	{name: "resource_provider_aggregates", cols: cols(column{"resource_provider_id", kInt}, column{"aggregate_id", kInt}),
		pk: []string{"resource_provider_id", "aggregate_id"}},
	{name: "traits", cols: cols(column{"id", kInt}, column{"name", kText}), pk: []string{"id"}, serial: true},
	{name: "resource_provider_traits", cols: cols(column{"trait_id", kInt}, column{"resource_provider_id", kInt}),
		pk: []string{"trait_id", "resource_provider_id"}},
	{name: "projects", cols: cols(column{"id", kInt}, column{"external_id", kText}), pk: []string{"id"}, serial: true},
	{name: "users", cols: cols(column{"id", kInt}, column{"external_id", kText}), pk: []string{"id"}, serial: true},
	{name: "consumer_types", cols: cols(column{"id", kInt}, column{"name", kText}), pk: []string{"id"}, serial: true},
	{name: "consumers", cols: cols(column{"id", kInt}, column{"uuid", kText}, column{"project_id", kInt},
		column{"user_id", kInt}, column{"generation", kInt}, column{"consumer_type_id", kInt}), pk: []string{"id"}, serial: true},
}

// mysqlTimeLayout is how MySQL prints a DATETIME in the text protocol (and
// how we send one).
const mysqlTimeLayout = "2006-01-02 15:04:05"

// fromMySQL turns a value read through MySQL's text protocol into the Go
// value the PostgreSQL side uses: int64, string, time.Time (UTC), float64
// or nil. A zero date (zeroDate), which PostgreSQL has no value for,
// becomes nil.
func fromMySQL(k kind, v *string) (any, error) {
	if v == nil {
		return nil, nil
	}
	s := *v
	switch k {
	case kInt:
		return strconv.ParseInt(s, 10, 64)
	case kFloat:
		return strconv.ParseFloat(s, 64)
	case kTime:
		if zeroDate(s) {
			return nil, nil
		}
		// "2026-12-02 06:05:44" or, for DATETIME(n), with a fraction.
		return time.ParseInLocation("2006-01-02 15:04:05.999999", s, time.UTC)
	}
	return s, nil
}

// zeroDate reports whether s is a DATETIME with a zero year, month or day:
// "0000-00-00 00:00:00", which MySQL and MariaDB store unless sql_mode has
// NO_ZERO_DATE, or "2026-00-12 …" (NO_ZERO_IN_DATE). Upstream never writes
// one; a row edited by hand under a lenient sql_mode can hold it.
func zeroDate(s string) bool {
	if len(s) < len("2006-01-02") || s[4] != '-' || s[7] != '-' {
		return false
	}
	return s[:4] == "0000" || s[5:7] == "00" || s[8:10] == "00"
}

// fromPG normalises a value pgx decoded (int32, int64, string, time.Time,
// float64 or nil) to the same Go types as fromMySQL.
func fromPG(k kind, v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case int32:
		return int64(x), nil
	case int64, string, float64:
		return x, nil
	case time.Time:
		return x.UTC(), nil
	}
	return nil, fmt.Errorf("unexpected %T for a %s column", v, [...]string{"integer", "text", "timestamp", "float"}[k])
}

// canonical is the text a value is checksummed as. Timestamps keep whole
// seconds in UTC: upstream's MySQL columns are DATETIME without fractions,
// so a copy to MySQL keeps only the seconds. Floats print in the shortest
// form that reads back as the same float64 (16.0 → "16", 1.5 → "1.5").
func canonical(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case time.Time:
		return x.UTC().Truncate(time.Second).Format(mysqlTimeLayout)
	case string:
		return x
	}
	return fmt.Sprintf("%T:%v", v, v)
}

// digest accumulates a table's checksum: sha256 over every row in
// primary-key order, each value length-prefixed (NULL distinct from "").
type digest struct {
	h    hash.Hash
	rows int64
}

func newDigest() *digest { return &digest{h: sha256.New()} }

func (d *digest) add(row []any) {
	var b strings.Builder
	for _, v := range row {
		if v == nil {
			b.WriteString("N;")
			continue
		}
		s := canonical(v)
		b.WriteString(strconv.Itoa(len(s)))
		b.WriteByte(':')
		b.WriteString(s)
		b.WriteByte(';')
	}
	b.WriteByte('\n')
	d.h.Write([]byte(b.String()))
	d.rows++
}

func (d *digest) sum() string { return hex.EncodeToString(d.h.Sum(nil)) }
