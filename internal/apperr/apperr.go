// Package apperr is edge's one error type for failures a person reads: a
// message written for them and a kind that the web layer maps to an HTTP
// status. Anything that is not an *Error is internal: its text stays in
// the log, and the person reads an id that the log line carries too.
package apperr

import (
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
)

// Kind says what went wrong from the reader's side.
type Kind string

const (
	BadRequest     Kind = "bad_request"
	Unauthorized   Kind = "unauthorized"
	Forbidden      Kind = "forbidden"
	NotFound       Kind = "not_found"
	Conflict       Kind = "conflict"
	Invalid        Kind = "invalid"
	Unsupported    Kind = "unsupported_media_type"
	Unavailable    Kind = "unavailable"
	NotImplemented Kind = "not_implemented"
)

// Error is a failure whose Message is safe and useful to show as is.
type Error struct {
	Kind    Kind
	Message string
}

func (e *Error) Error() string { return e.Message }

// New makes an Error of kind with a message for the reader.
func New(kind Kind, msg string) error { return &Error{kind, msg} }

// Errorf makes an Error whose message is formatted; %w is not allowed,
// since whatever it wrapped would be shown.
func Errorf(kind Kind, format string, args ...any) error {
	return &Error{kind, fmt.Sprintf(format, args...)}
}

// As finds the Error in err's chain.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// ID names one failure in the log and in what its reader sees, so a report
// can be matched to its cause without showing the cause.
func ID() string { return strings.ToLower(rand.Text()[:10]) }

// WithID is the text a reader sees for an internal failure logged under id.
func WithID(msg, id string) string { return msg + " (error id " + id + ")" }
