// Package version names the build: the release tag the binaries were built
// from, or the commit, read from the build information the Go toolchain
// records (no link-time flags needed, so any build of a commit carries the
// same version).
package version

import (
	"runtime/debug"
	"strings"
)

// Release is set at link time for release builds (make build RELEASE=x.y.z:
// -X github.com/openstack-placement-go/placement/internal/version.Release=x.y.z);
// empty otherwise.
var Release string

// String returns Release, else "0.0.0+<commit>[.dirty]" from the VCS
// stamp, else "0.0.0+unknown".
func String() string {
	if Release != "" {
		return Release
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "0.0.0+unknown"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return strings.TrimPrefix(v, "v")
	}
	var rev string
	var dirty bool
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "0.0.0+unknown"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += ".dirty"
	}
	return "0.0.0+" + rev
}
