package store

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Error codes. They are the gateway's whole error vocabulary; one presenter
// turns them into `extensions.code`, so internal text never reaches a caller.
const (
	ENOTFOUND        = "NOT_FOUND"
	EINVALID         = "BAD_USER_INPUT"
	EFORBIDDEN       = "FORBIDDEN"
	EUNAUTHENTICATED = "UNAUTHENTICATED"
	ECAPTCHA         = "CAPTCHA_FAILED"
	ERATELIMITED     = "RATE_LIMITED"
	EINTERNAL        = "INTERNAL_SERVER_ERROR"
)

// Error is an error a caller may see: a code, a message safe to show, and for
// invalid input the input path of the offending field (e.g. "input.email").
type Error struct {
	Code    string
	Field   string
	Message string
}

// Error returns the message, prefixed by the field when there is one.
func (e *Error) Error() string {
	if e.Field != "" {
		return e.Field + ": " + e.Message
	}
	return e.Message
}

// Errorf returns an *Error with code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns a BAD_USER_INPUT error about one input field.
func Invalid(field, message string) *Error {
	return &Error{Code: EINVALID, Field: field, Message: message}
}

// NotFound returns the NOT_FOUND error for a kind of row ("listing", "lead").
// It reads the same whether the row is missing or hidden from the caller.
func NotFound(kind string) *Error {
	return &Error{Code: ENOTFOUND, Message: kind + " not found"}
}

// ErrorCode returns the code of err: its *Error code, or EINTERNAL for
// anything else (nil has no code and returns "").
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// FieldErrors is a list of invalid input fields, reported one error each.
type FieldErrors []*Error

// Error joins the field messages.
func (fe FieldErrors) Error() string {
	msg := ""
	for i, e := range fe {
		if i > 0 {
			msg += "; "
		}
		msg += e.Error()
	}
	return msg
}

// Add records an invalid field; a field keeps only its first error.
func (fe *FieldErrors) Add(field, message string) {
	for _, e := range *fe {
		if e.Field == field {
			return
		}
	}
	*fe = append(*fe, Invalid(field, message))
}

// Optional trims an optional text input v and returns it, nil for nil or
// "", recording field as invalid when it is longer than max characters.
func (fe *FieldErrors) Optional(field string, v *string, max int) *string {
	if v == nil {
		return nil
	}
	t := strings.TrimSpace(*v)
	if t == "" {
		return nil
	}
	if utf8.RuneCountInString(t) > max {
		fe.Add(field, "must be at most "+strconv.Itoa(max)+" characters")
	}
	return &t
}

// Err returns nil when no field is invalid, else the list itself.
func (fe FieldErrors) Err() error {
	if len(fe) == 0 {
		return nil
	}
	return fe
}
