package store

import (
	"context"
	"database/sql"

	"github.com/jmoiron/sqlx"
)

// analystKey marks a context whose statements go to the analyst pool.
type analystKey struct{}

// ForAnalyst returns ctx marked as an ANALYST's: a store with an analyst
// pool (WithAnalystPool) sends its statements there.
func ForAnalyst(ctx context.Context) context.Context {
	return context.WithValue(ctx, analystKey{}, true)
}

// WithAnalystPool returns a copy of s that sends the statements of contexts
// marked by ForAnalyst to db: a read replica (DATABASE_READ_URL) or the
// primary through read-only connections with the analyst's statement
// timeout. Analysts' ad-hoc queries then neither write nor hold the
// request pool.
func (s *Store) WithAnalystPool(db *sqlx.DB) *Store {
	c := *s
	c.db.analyst = db
	return &c
}

// routedDB is the store's connection pool: the primary, or the analyst pool
// for contexts marked by ForAnalyst. It has the methods of sqlx.DB the store
// uses.
type routedDB struct {
	primary, analyst *sqlx.DB
}

// pick returns the pool for ctx.
func (r routedDB) pick(ctx context.Context) *sqlx.DB {
	if r.analyst != nil {
		if a, _ := ctx.Value(analystKey{}).(bool); a {
			return r.analyst
		}
	}
	return r.primary
}

// GetContext is sqlx.DB's GetContext on ctx's pool.
func (r routedDB) GetContext(ctx context.Context, dest any, query string, args ...any) error {
	return r.pick(ctx).GetContext(ctx, dest, query, args...)
}

// SelectContext is sqlx.DB's SelectContext on ctx's pool.
func (r routedDB) SelectContext(ctx context.Context, dest any, query string, args ...any) error {
	return r.pick(ctx).SelectContext(ctx, dest, query, args...)
}

// ExecContext is sqlx.DB's ExecContext on ctx's pool.
func (r routedDB) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return r.pick(ctx).ExecContext(ctx, query, args...)
}

// BeginTxx is sqlx.DB's BeginTxx on ctx's pool.
func (r routedDB) BeginTxx(ctx context.Context, opts *sql.TxOptions) (*sqlx.Tx, error) {
	return r.pick(ctx).BeginTxx(ctx, opts)
}
