package upgradecheck

import (
	"strings"
	"unicode"
)

// wrap splits text into lines of at most width runes as Python's
// textwrap.wrap(text, width, subsequent_indent=indent) does with its other
// options at their defaults, which is how oslo.upgradecheck lays out the
// details of a check: words break after hyphens inside words
// (break_on_hyphens), and a word longer than a line is cut
// (break_long_words), at its last fitting hyphen if it has one.
func wrap(text string, width int, indent string) []string {
	chunks := wordChunks(text)
	var lines []string
	for len(chunks) > 0 {
		var line []string
		lineWidth := width
		if len(lines) > 0 {
			lineWidth -= runeLen(indent)
			if strings.TrimSpace(chunks[0]) == "" {
				chunks = chunks[1:]
				continue
			}
		}
		n := 0
		for len(chunks) > 0 && n+runeLen(chunks[0]) <= lineWidth {
			n += runeLen(chunks[0])
			line = append(line, chunks[0])
			chunks = chunks[1:]
		}
		if len(chunks) > 0 && runeLen(chunks[0]) > lineWidth {
			// textwrap's _handle_long_word.
			left := max(lineWidth-n, 1)
			c := []rune(chunks[0])
			end := left
			if len(c) > left {
				if h := lastIndex(c[:left], '-'); h > 0 && strings.Trim(string(c[:h]), "-") != "" {
					end = h + 1
				}
			}
			line = append(line, string(c[:end]))
			n += end
			chunks[0] = string(c[end:])
		}
		if len(line) > 0 && strings.TrimSpace(line[len(line)-1]) == "" {
			line = line[:len(line)-1]
		}
		if len(line) > 0 {
			prefix := ""
			if len(lines) > 0 {
				prefix = indent
			}
			lines = append(lines, prefix+strings.Join(line, ""))
		}
	}
	return lines
}

// wordChunks splits text into textwrap's chunks: runs of whitespace (each
// whitespace character becoming a space), and words, which end after a
// hyphen that follows two letters (or a letter-hyphen-letter) and precedes
// a letter, as textwrap's wordsep_re has it. Em-dashes ("--") between words
// are not treated specially.
func wordChunks(text string) []string {
	rs := []rune(expandTabs(text))
	for i, r := range rs {
		if unicode.IsSpace(r) {
			rs[i] = ' '
		}
	}
	var chunks []string
	for i := 0; i < len(rs); {
		j := i + 1
		if rs[i] == ' ' {
			for j < len(rs) && rs[j] == ' ' {
				j++
			}
			chunks = append(chunks, string(rs[i:j]))
			i = j
			continue
		}
		for j = i; j < len(rs) && rs[j] != ' '; j++ {
			if rs[j] == '-' && j > i && hyphenBreak(rs, j) {
				j++
				break
			}
		}
		chunks = append(chunks, string(rs[i:j]))
		i = j
	}
	return chunks
}

// hyphenBreak reports whether a word may break after the hyphen at rs[h]:
// (?<=lt{2}-)|(?<=lt-lt-) before it, (?=lt-?lt) after. Like the regex's
// lookbehind, it looks across the start of the current chunk.
func hyphenBreak(rs []rune, h int) bool {
	at := func(k int) rune {
		if k < 0 || k >= len(rs) {
			return 0
		}
		return rs[k]
	}
	before := (isLetter(at(h-1)) && isLetter(at(h-2))) ||
		(isLetter(at(h-1)) && at(h-2) == '-' && isLetter(at(h-3)))
	after := isLetter(at(h+1)) && (isLetter(at(h+2)) || (at(h+2) == '-' && isLetter(at(h+3))))
	return before && after
}

// isLetter matches Python's [^\d\W]: word characters that are not digits.
func isLetter(r rune) bool {
	return r == '_' || unicode.IsLetter(r)
}

func runeLen(s string) int { return len([]rune(s)) }

func lastIndex(rs []rune, r rune) int {
	for i := len(rs) - 1; i >= 0; i-- {
		if rs[i] == r {
			return i
		}
	}
	return -1
}

// expandTabs is Python's str.expandtabs(8).
func expandTabs(s string) string {
	var b strings.Builder
	col := 0
	for _, r := range s {
		switch r {
		case '\t':
			n := 8 - col%8
			b.WriteString(strings.Repeat(" ", n))
			col += n
		case '\n', '\r':
			b.WriteRune(r)
			col = 0
		default:
			b.WriteRune(r)
			col++
		}
	}
	return b.String()
}
