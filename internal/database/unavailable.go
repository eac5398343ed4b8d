package database

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/lib/pq"
)

// Unavailable reports whether err means the database could not be reached
// or went away, rather than that the statement was wrong: the connection
// was refused or reset, the server is shutting down or starting up, it has
// no connection slot left, or it cancelled the statement (a statement
// timeout, or the request's deadline). Such a request may succeed when
// retried a little later, so the API answers it with SERVICE_UNAVAILABLE
// and Retry-After instead of an internal error. database/sql reconnects by
// itself once the server is back: nothing has to be restarted. A network
// failure reaching another service (media storage) reads the same way, and
// may pass as well.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	var pe *pq.Error
	if errors.As(err, &pe) {
		return unavailableCode(pe.Code)
	}
	var oe *net.OpError
	return errors.Is(err, driver.ErrBadConn) || // lib/pq's answer to a FATAL error or a broken connection
		errors.Is(err, sql.ErrConnDone) || // a transaction whose connection broke
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed) ||
		errors.As(err, &oe) // dial, read and write failures, timeouts included
}

// unavailableCode reports whether a PostgreSQL error code (SQLSTATE) says
// the server is unreachable or unable to work for now.
func unavailableCode(code pq.ErrorCode) bool {
	if code.Class() == "08" { // connection_exception and its kinds
		return true
	}
	switch code {
	case "57P01", // admin_shutdown: the server is stopping
		"57P02", // crash_shutdown: another backend crashed
		"57P03", // cannot_connect_now: starting up or shutting down
		"57P05", // idle_session_timeout
		"57014", // query_canceled: statement timeout or the request's deadline
		"53300", // too_many_connections
		"53400": // configuration_limit_exceeded
		return true
	}
	return false
}
