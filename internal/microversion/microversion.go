// Package microversion parses and compares Placement API microversions and
// carries the negotiated version through a request context.
package microversion

import (
	"context"
	"fmt"
	"math/big"
	"strings"

	"github.com/openstack-placement-go/placement/internal/pycompat"
)

// Version is a negotiated microversion, compared numerically.
type Version struct{ Major, Minor int }

// Min and Max bound the versions this service speaks. The history of each
// version is in table.go.
var (
	Min = Version{1, 0}
	Max = Version{1, len(history) - 1}
)

// String renders "major.minor".
func (v Version) String() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// AtLeast reports whether v >= major.minor.
func (v Version) AtLeast(major, minor int) bool {
	return v.Major > major || (v.Major == major && v.Minor >= minor)
}

// Less reports whether v < o.
func (v Version) Less(o Version) bool { return !v.AtLeast(o.Major, o.Minor) }

// Supported reports whether v lies within [Min, Max].
func (v Version) Supported() bool { return v.AtLeast(Min.Major, Min.Minor) && !Max.Less(v) }

// ParseError is returned for a header value that is not a version at all (400).
type ParseError struct{ Value, Detail string }

func (e *ParseError) Error() string {
	return fmt.Sprintf("invalid version string: %s; %s", e.Value, e.Detail)
}

// UnsupportedError is returned for a well-formed version outside [Min, Max] (406).
type UnsupportedError struct{ Value string }

func (e *UnsupportedError) Error() string {
	return "Unacceptable version header: " + e.Value
}

// Header is the request and response header that carries the microversion.
const Header = "OpenStack-API-Version"

// ServiceType is the service name used in the header.
const ServiceType = "placement"

// FromHeader negotiates the version from the values of the
// OpenStack-API-Version header (all instances). No placement entry means Min.
// The right-most placement entry wins, as upstream's microversion_parse does.
func FromHeader(values []string) (Version, error) {
	// Python's WSGI servers hand upstream the header as Latin-1 text.
	raw, ok := placementEntry(pycompat.Latin1(strings.Join(values, ",")))
	if !ok {
		return Min, nil
	}
	if raw == "latest" {
		return Max, nil
	}
	return parse(raw)
}

func placementEntry(header string) (string, bool) {
	entries := strings.Split(header, ",")
	for i := len(entries) - 1; i >= 0; i-- {
		fields := strings.Fields(entries[i])
		if len(fields) < 2 {
			continue
		}
		if strings.EqualFold(fields[0], ServiceType) {
			e := strings.TrimSpace(entries[i])
			return strings.TrimSpace(e[len(fields[0]):]), true
		}
	}
	return "", false
}

// parse reads raw as upstream's microversion_parse does: int() of the
// text before the first dot, then of the rest (any size, underscores
// between digits), and the version must then be one of the supported
// ones, compared as "major.minor" text.
func parse(raw string) (Version, error) {
	parts := strings.SplitN(raw, ".", 2)
	var nums []*big.Int
	for _, part := range parts {
		n, err := pycompat.ParseInt(part, 10)
		if err != nil {
			return Version{}, &ParseError{Value: raw, Detail: err.Error()}
		}
		nums = append(nums, n)
	}
	if len(nums) < 2 {
		return Version{}, &ParseError{Value: raw, Detail: "Version.__new__() missing 1 required positional argument: 'minor'"}
	}
	if !nums[0].IsInt64() || !nums[1].IsInt64() {
		return Version{}, &UnsupportedError{Value: raw}
	}
	v := Version{int(nums[0].Int64()), int(nums[1].Int64())}
	if !v.Supported() {
		return Version{}, &UnsupportedError{Value: raw}
	}
	return v, nil
}

type ctxKey struct{}

// NewContext returns ctx carrying v.
func NewContext(ctx context.Context, v Version) context.Context {
	return context.WithValue(ctx, ctxKey{}, v)
}

// From returns the version negotiated for the request behind ctx, and Min if
// there is none.
func From(ctx context.Context) Version {
	if v, ok := ctx.Value(ctxKey{}).(Version); ok {
		return v
	}
	return Min
}

// Negotiated reports whether ctx carries a negotiated version.
func Negotiated(ctx context.Context) bool {
	_, ok := ctx.Value(ctxKey{}).(Version)
	return ok
}

// Step is a value that applies from microversion Since on.
type Step[T any] struct {
	Since Version
	Value T
}

// Pick returns the value of the newest step whose Since is at or below v;
// steps are in ascending order and the first one applies to anything older.
// Handlers use it for per-version schemas instead of a switch each.
func Pick[T any](v Version, steps ...Step[T]) T {
	picked := steps[0].Value
	for _, s := range steps[1:] {
		if v.Less(s.Since) {
			break
		}
		picked = s.Value
	}
	return picked
}

// V1 returns version 1.minor, for step tables.
func V1(minor int) Version { return Version{1, minor} }

// At returns the step for value from version 1.minor on.
func At[T any](minor int, value T) Step[T] { return Step[T]{Since: V1(minor), Value: value} }
