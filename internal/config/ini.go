package config

import (
	"fmt"
	"strings"
	"unicode"
)

// entry is one assignment read from a file or the environment.
type entry struct {
	group string // normalised group name
	key   string // option name as written
	value string
	where string // file name, or "environment variable NAME"
	line  int    // 0 for the environment
}

// parseINI reads a file the way oslo.config's iniparser does: "[group]"
// headers; "key = value" or "key: value", split at whichever of "=" and ":"
// comes first; "#" and ";" comments only at the start of a line; lines
// that start with a space or tab continue the previous value (joined with
// "\n"); a blank line ends a value; one pair of matching surrounding quotes
// is removed from the first line of a value. Inline comments are part of
// the value.
func parseINI(name string, data []byte) ([]entry, error) {
	text := strings.TrimPrefix(string(data), "\ufeff")
	// Python reads text files with universal newlines.
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")

	var (
		out     []entry
		section string
		haveSec bool
		cur     *entry
		parts   []string
	)
	fail := func(lineno int, msg string) error {
		return fmt.Errorf("%s line %d: %s", name, lineno, msg)
	}
	flush := func() error {
		if cur == nil {
			return nil
		}
		if !haveSec {
			return fail(cur.line, "section must be started before assignment")
		}
		cur.value = strings.Join(parts, "\n")
		out = append(out, *cur)
		cur, parts = nil, nil
		return nil
	}

	for i, line := range strings.Split(text, "\n") {
		lineno := i + 1
		line = strings.TrimRightFunc(line, unicode.IsSpace)
		switch {
		case line == "":
			if err := flush(); err != nil {
				return nil, err
			}
			continue
		case line[0] == ' ' || line[0] == '\t':
			if cur == nil {
				return nil, fail(lineno, "unexpected continuation line")
			}
			parts = append(parts, strings.TrimLeftFunc(line, unicode.IsSpace))
			continue
		}
		if err := flush(); err != nil {
			return nil, err
		}
		switch line[0] {
		case '[':
			if !strings.HasSuffix(line, "]") {
				return nil, fail(lineno, "invalid section (must end with ])")
			}
			s := strings.TrimSpace(line[1 : len(line)-1])
			if s == "" {
				return nil, fail(lineno, "empty section name")
			}
			section, haveSec = normalizeSectionName(s), true
		case '#', ';':
		default:
			key, value, err := splitKeyValue(line)
			if err != "" {
				return nil, fail(lineno, err)
			}
			cur = &entry{group: section, key: key, where: name, line: lineno}
			parts = []string{value}
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

// normalizeSectionName follows oslo.config: "DEFAULT" exactly is the
// default group, every other name is case-insensitive.
func normalizeSectionName(s string) string {
	if s == "DEFAULT" {
		return s
	}
	return strings.ToLower(s)
}

func splitKeyValue(line string) (key, value, errMsg string) {
	colon := strings.IndexByte(line, ':')
	equal := strings.IndexByte(line, '=')
	if colon < 0 && equal < 0 {
		return "", "", `no "=" or ":" found in assignment`
	}
	sep := colon
	if colon < 0 || (equal >= 0 && equal < colon) {
		sep = equal
	}
	key = strings.TrimSpace(line[:sep])
	if key == "" {
		return "", "", "key cannot be empty"
	}
	value = strings.TrimSpace(line[sep+1:])
	if len(value) > 0 && (value[0] == '"' || value[0] == '\'') && value[len(value)-1] == value[0] {
		value = value[1 : len(value)-1]
	}
	return key, value, ""
}
