package store

import "github.com/openstack-placement-go/placement/internal/placement"

// SQLSTATE codes of text PostgreSQL cannot store: a NUL byte
// (character_not_in_repertoire) or a character the server encoding lacks
// (untranslatable_character).
const (
	characterNotInRepertoire = "22021"
	untranslatableCharacter  = "22P05"
)

// MsgUnstorableText is the 400 message of text the database refuses. The
// API rejects NUL bytes before they get here; this is the safety net.
const MsgUnstorableText = "The request contains a NUL (0x00) character or another character that cannot be stored."

// Classify returns err with the database errors the client caused turned
// into *placement.Error (text the database cannot store is Invalid); any
// other error is returned unchanged. The API's renderer calls it on every
// error it has not already classified.
func Classify(err error) error {
	switch pgCode(err) {
	case characterNotInRepertoire, untranslatableCharacter:
		return &placement.Error{Kind: placement.Invalid, Message: MsgUnstorableText, Err: err}
	}
	return err
}
