// Package placement holds the domain vocabulary of the Placement service:
// error kinds and codes, standard resource classes and traits, and the
// value types shared by the API and the store. It imports nothing of ours.
package placement

import (
	"errors"
	"fmt"
)

// Kind classifies an error; the API maps each kind to one HTTP status.
type Kind int

// The error kinds.
const (
	Internal Kind = iota
	Invalid
	NotFound
	Conflict
	Forbidden
	NotAcceptable
	UnsupportedMedia
	MethodNotAllowed
	TooLarge    // 413: the request body exceeds the server's limit
	Unavailable // 503: a dependency (the database, Keystone) cannot be reached
)

// Placement error codes, sent in error bodies from microversion 1.23 on.
// The values are API: never change them.
const (
	CodeUndefined          = "placement.undefined_code"
	CodeInventoryInUse     = "placement.inventory.inuse"
	CodeConcurrentUpdate   = "placement.concurrent_update"
	CodeDuplicateName      = "placement.duplicate_name"
	CodeProviderInUse      = "placement.resource_provider.inuse"
	CodeCannotDeleteParent = "placement.resource_provider.cannot_delete_parent"
	CodeProviderNotFound   = "placement.resource_provider.not_found"
	CodeQueryDuplicateKey  = "placement.query.duplicate_key"
	CodeQueryBadValue      = "placement.query.bad_value"
	CodeQueryMissingValue  = "placement.query.missing_value"
	// CodeCandidatesMemoryLimit (ours): GET /allocation_candidates would
	// need more memory than [placement]
	// allocation_candidates_memory_limit_mb allows one request.
	CodeCandidatesMemoryLimit = "placement.allocation_candidates.memory_limit"
	// CodeCandidatesTimeout (ours): GET /allocation_candidates did not
	// finish within [placement] allocation_candidates_timeout.
	CodeCandidatesTimeout   = "placement.allocation_candidates.timeout"
	codeEmptyMeansUndefined = ""
)

// Error is the error type every handler and store function returns for
// conditions the client should see. Message is the handler-specific text
// that ends up on the last line of the error body's detail.
type Error struct {
	Kind    Kind
	Code    string // empty means CodeUndefined
	Message string
	Err     error // optional cause, never shown to clients
}

// Error returns the message.
func (e *Error) Error() string {
	if e.Err != nil && e.Message == "" {
		return e.Err.Error()
	}
	return e.Message
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// E builds an *Error of the given kind with a printf-style message.
func E(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// WithCode returns a copy of e carrying the given Placement error code.
func (e *Error) WithCode(code string) *Error {
	c := *e
	c.Code = code
	return &c
}

// KindOf returns the kind of err, or Internal if err is not an *Error.
func KindOf(err error) Kind {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Kind
	}
	return Internal
}

// CodeOf returns the Placement error code of err (CodeUndefined by default).
func CodeOf(err error) string {
	var pe *Error
	if errors.As(err, &pe) && pe.Code != codeEmptyMeansUndefined {
		return pe.Code
	}
	return CodeUndefined
}
