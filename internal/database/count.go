package database

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
)

// totalStatements counts every statement sent by any pool of this process.
var totalStatements atomic.Int64

// statementCounter is the per-request count carried in a context.
type statementCounter struct{ n atomic.Int64 }

// counterKey is the context key of a *statementCounter.
type counterKey struct{}

// WithStatementCounter returns a copy of ctx carrying a fresh statement
// counter, starting at zero. Statements sent with ctx or any context derived
// from it are added to it; it is safe to use from many goroutines.
func WithStatementCounter(ctx context.Context) context.Context {
	return context.WithValue(ctx, counterKey{}, new(statementCounter))
}

// StatementCount returns how many statements were sent with ctx's counter so
// far, or 0 when ctx carries none.
func StatementCount(ctx context.Context) int64 {
	if c, ok := ctx.Value(counterKey{}).(*statementCounter); ok {
		return c.n.Load()
	}
	return 0
}

// TotalStatements returns how many statements this process has sent through
// pools opened by Open since it started.
func TotalStatements() int64 {
	return totalStatements.Load()
}

// countStatement records one statement sent with ctx.
func countStatement(ctx context.Context) {
	totalStatements.Add(1)
	if c, ok := ctx.Value(counterKey{}).(*statementCounter); ok {
		c.n.Add(1)
	}
}

// pqConn is what lib/pq's connection implements (v1.10.9) and the wrapper
// forwards. pq does not implement driver.NamedValueChecker, so neither does
// the wrapper: database/sql converts arguments exactly as it does for pq.
type pqConn interface {
	driver.Conn
	driver.QueryerContext
	driver.ExecerContext
	driver.ConnPrepareContext
	driver.ConnBeginTx
	driver.Pinger
	driver.Validator
	driver.SessionResetter
}

// countingConnector opens lib/pq connections wrapped in countingConn.
type countingConnector struct{ inner driver.Connector }

// Connect opens a lib/pq connection and wraps it.
func (c countingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	cn, err := c.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	pc, ok := cn.(pqConn)
	if !ok {
		_ = cn.Close()
		return nil, fmt.Errorf("database: driver connection %T lacks an interface lib/pq provides", cn)
	}
	return &countingConn{pqConn: pc}, nil
}

// Driver returns lib/pq's driver.
func (c countingConnector) Driver() driver.Driver { return c.inner.Driver() }

// countingConn forwards everything to lib/pq and counts statements.
type countingConn struct{ pqConn }

var (
	_ pqConn                  = (*countingConn)(nil)
	_ driver.StmtExecContext  = (*countingStmt)(nil)
	_ driver.StmtQueryContext = (*countingStmt)(nil)
)

// QueryContext counts, traces and forwards a query.
func (c *countingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	ctx, end := traceStatement(ctx, query)
	rows, err := c.pqConn.QueryContext(ctx, query, args)
	if !errors.Is(err, driver.ErrSkip) { // ErrSkip: database/sql prepares instead
		countStatement(ctx)
	}
	if end != nil {
		end(err)
	}
	return rows, err
}

// ExecContext counts, traces and forwards a command.
func (c *countingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	ctx, end := traceStatement(ctx, query)
	res, err := c.pqConn.ExecContext(ctx, query, args)
	if !errors.Is(err, driver.ErrSkip) {
		countStatement(ctx)
	}
	if end != nil {
		end(err)
	}
	return res, err
}

// PrepareContext prepares with lib/pq and wraps the statement so that its
// executions are counted; a COPY is counted here, once.
func (c *countingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	st, err := c.pqConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	copyIn := isCopy(query)
	if copyIn {
		countStatement(ctx)
		if _, end := traceStatement(ctx, query); end != nil {
			end(nil) // the rows are data sent later: the span marks the COPY's start
		}
	}
	return &countingStmt{Stmt: st, copyIn: copyIn, query: query}, nil
}

// Prepare is PrepareContext without a context (database/sql does not call it).
func (c *countingConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

// isCopy reports whether lib/pq treats query as COPY (the same test pq uses).
func isCopy(query string) bool {
	return len(query) >= 4 && strings.EqualFold(query[:4], "COPY")
}

// countingStmt counts the executions of a lib/pq prepared statement and
// traces them (query is its text). lib/pq's COPY statement implements only
// the context-free Exec and Query; for it the calls fall back the way
// database/sql itself would.
type countingStmt struct {
	driver.Stmt
	copyIn bool
	query  string
}

// ExecContext counts (unless COPY), traces and executes the statement.
func (s *countingStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	if !s.copyIn {
		countStatement(ctx)
	}
	if e, ok := s.Stmt.(driver.StmtExecContext); ok {
		ctx, end := traceStatement(ctx, s.query) // never COPY: pq's implements no context method
		res, err := e.ExecContext(ctx, args)
		if end != nil {
			end(err)
		}
		return res, err
	}
	values, err := plainValues(ctx, args)
	if err != nil {
		return nil, err
	}
	return s.Stmt.Exec(values) //nolint:staticcheck // the only method pq's COPY statement has
}

// QueryContext counts (unless COPY), traces and runs the statement as a
// query.
func (s *countingStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	if !s.copyIn {
		countStatement(ctx)
	}
	if q, ok := s.Stmt.(driver.StmtQueryContext); ok {
		ctx, end := traceStatement(ctx, s.query) // never COPY: pq's implements no context method
		rows, err := q.QueryContext(ctx, args)
		if end != nil {
			end(err)
		}
		return rows, err
	}
	values, err := plainValues(ctx, args)
	if err != nil {
		return nil, err
	}
	return s.Stmt.Query(values) //nolint:staticcheck // the only method pq's COPY statement has
}

// plainValues converts named arguments for the context-free Stmt methods, as
// database/sql does: names are not supported, and a done ctx stops the call.
func plainValues(ctx context.Context, args []driver.NamedValue) ([]driver.Value, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	values := make([]driver.Value, len(args))
	for i, a := range args {
		if a.Name != "" {
			return nil, errors.New("database: the driver does not support named arguments")
		}
		values[i] = a.Value
	}
	return values, nil
}
