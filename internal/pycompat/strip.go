package pycompat

import (
	"strings"
	"unicode"
)

// IsSpace is str.isspace() for one character: Go's unicode.IsSpace and the
// four ASCII separators U+001C to U+001F, which Python counts as
// whitespace and Go does not.
func IsSpace(r rune) bool {
	return unicode.IsSpace(r) || '\x1c' <= r && r <= '\x1f'
}

// Strip is str.strip() with no argument.
func Strip(s string) string { return strings.TrimFunc(s, IsSpace) }
