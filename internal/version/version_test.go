package version

import (
	"regexp"
	"testing"
)

func TestString(t *testing.T) {
	if got := String(); !regexp.MustCompile(`^0\.0\.0\+([0-9a-f]{12}(\.dirty)?|unknown)$`).MatchString(got) {
		t.Errorf("String() = %q", got)
	}
	Release = "1.2.3"
	defer func() { Release = "" }()
	if got := String(); got != "1.2.3" {
		t.Errorf("with Release set: %q", got)
	}
}
