// Package database opens the gateway's PostgreSQL connection pools, counts the
// SQL statements they send (per request and per process), runs the
// embedded goose migrations, and keeps the serving role to least privilege
// (roles.go: what it is granted, and what it must not be).
//
// # What is counted
//
// One statement is one SQL command the application hands to lib/pq on a pool
// opened by Open:
//
//   - each QueryContext or ExecContext on the pool, a *sql.Conn or a *sql.Tx
//     (so sqlx's Get, Select, NamedExec … too), once per call, whether or not
//     the server then reports an error;
//   - each execution of a prepared statement (Stmt.Exec, Stmt.Query …); the
//     preparation itself is not counted;
//   - a COPY … FROM STDIN (pq.CopyIn) once, when it is prepared: the rows
//     sent through it and the final flushing Exec are data, not statements.
//
// Not counted: BEGIN, COMMIT and ROLLBACK sent by BeginTx, Commit and
// Rollback; pings; session resets; preparing a statement other than COPY.
//
// Each statement is added to the process-wide total (TotalStatements) and,
// when the context it was sent with carries a counter (WithStatementCounter),
// to that counter (StatementCount).
package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// connMaxIdleTime closes connections idle for longer, so a quiet gateway
// gives its connections back to the server.
const connMaxIdleTime = 5 * time.Minute

// connMaxLifetime recycles connections now and then, so settings changed on
// the server and a failed-over primary are picked up.
const connMaxLifetime = time.Hour

// Setting is a session setting every connection of a pool starts with
// (sent in the startup message, so it holds for the connection's life).
type Setting struct{ name, value string }

// StatementTimeout bounds every statement of the pool's connections: the
// server cancels one that runs longer.
func StatementTimeout(d time.Duration) Setting {
	return Setting{"statement_timeout", fmt.Sprint(d.Milliseconds())}
}

// ReadOnly makes every transaction of the pool's connections read-only, so
// the server refuses any write sent through it.
func ReadOnly() Setting { return Setting{"default_transaction_read_only", "on"} }

// Open opens a pool of at most maxConns connections to databaseURL, which may
// be in URL form (postgres://…) or key=value form, and pings it. Every
// connection carries application_name=app (replacing one in databaseURL), so
// operators can tell pools apart in pg_stat_activity, and the settings given.
// Statements sent through the pool are counted; see WithStatementCounter.
// Errors never include databaseURL, which may hold a password.
func Open(ctx context.Context, databaseURL, app string, maxConns int, settings ...Setting) (*sqlx.DB, error) {
	db, err := Connect(databaseURL, app, maxConns, settings...)
	if err != nil {
		return nil, err
	}
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("database: connect (%s): %w", app, err)
	}
	return db, nil
}

// Connect is Open without the first connection: the pool connects when a
// statement needs it. It is for a database the gateway must start without,
// such as the analysts' read replica; a bad URL is still an error.
func Connect(databaseURL, app string, maxConns int, settings ...Setting) (*sqlx.DB, error) {
	if maxConns < 1 {
		return nil, fmt.Errorf("database: maxConns is %d, want at least 1", maxConns)
	}
	dsn, err := WithApplicationName(databaseURL, app)
	if err != nil {
		return nil, err
	}
	// binary_parameters makes lib/pq send a statement with its arguments
	// in one round trip (parse, bind and execute together) instead of two
	// (parse and describe, then bind and execute); []byte arguments then
	// travel as binary, which bytea columns take as they are.
	dsn += " binary_parameters=yes"
	// JIT compilation pays only for long analytical queries; for the
	// gateway's short statements it costs far more than it saves (it
	// added 100 ms to a search over a million listings).
	dsn += " jit=off"
	for _, s := range settings {
		// lib/pq sends parameters it does not know to the server as
		// run-time parameters of the session.
		dsn += " " + s.name + "=" + quoteValue(s.value)
	}
	connector, err := pq.NewConnector(dsn)
	if err != nil {
		return nil, fmt.Errorf("database: bad connection settings: %w", err)
	}
	db := sql.OpenDB(countingConnector{connector})
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	db.SetConnMaxIdleTime(connMaxIdleTime)
	db.SetConnMaxLifetime(connMaxLifetime)
	return sqlx.NewDb(db, "postgres"), nil
}

// WithApplicationName returns databaseURL (URL or key=value form) as a
// lib/pq key=value connection string tagged with application_name=app,
// replacing any it had; lib/pq's Listener takes it as well as Open does.
// Its error never quotes the URL, which may hold a password.
func WithApplicationName(databaseURL, app string) (string, error) {
	dsn := strings.TrimSpace(databaseURL)
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		var err error
		if dsn, err = pq.ParseURL(dsn); err != nil {
			// The parse error quotes the URL, password included: leave it out.
			return "", errors.New("database: the database URL is not a valid postgres:// URL")
		}
	}
	return strings.TrimSpace(dsn + " application_name=" + quoteValue(app)), nil
}

// quoteValue quotes v for a key=value connection string.
func quoteValue(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}
