// Package database opens the gateway's PostgreSQL connection pools, counts the
// SQL statements they send (per request and per process), and runs the
// embedded goose migrations.
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

// Open opens a pool of at most maxConns connections to databaseURL, which may
// be in URL form (postgres://…) or key=value form, and pings it. Every
// connection carries application_name=app (replacing one in databaseURL), so
// operators can tell pools apart in pg_stat_activity. Statements sent through
// the pool are counted; see WithStatementCounter. Errors never include
// databaseURL, which may hold a password.
func Open(ctx context.Context, databaseURL, app string, maxConns int) (*sqlx.DB, error) {
	if maxConns < 1 {
		return nil, fmt.Errorf("database: maxConns is %d, want at least 1", maxConns)
	}
	dsn, err := withApplicationName(databaseURL, app)
	if err != nil {
		return nil, err
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
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("database: connect (%s): %w", app, err)
	}
	return sqlx.NewDb(db, "postgres"), nil
}

// withApplicationName turns databaseURL into lib/pq's key=value form and sets
// application_name to app; a later key wins in that form, so an
// application_name already present is replaced.
func withApplicationName(databaseURL, app string) (string, error) {
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
