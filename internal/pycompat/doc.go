// Package pycompat reproduces the behaviours of CPython that upstream
// Placement shows through its API and that Go does not share: repr() of
// floats and strings, int() of a str (ParseInt) and the Latin-1 text
// WSGI makes of header bytes, the UnicodeDecodeError text of bad UTF-8, the
// insertion order of dicts (Object), numbers as json.loads reads them
// (Number) and how JSON values compare (Equal), and the iteration order of
// a set of ints.
//
// Each lives here once; the request decoder, the schema validator, the
// write path and the gabbi runner all import them. The tests hold CPython 3
// outputs.
package pycompat
