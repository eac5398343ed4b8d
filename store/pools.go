package store

import (
	"context"
	"database/sql"
	"sync"

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
	prepared         *preparedStatements
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

// preparedStatements holds the prepared statements of the store's hot reads
// (pages of listings and the by-id reads of their related rows), by pool and
// query text. PostgreSQL then parses and plans each of them once per
// connection instead of once per request (database/sql prepares a statement
// on each connection it runs on). Query texts are built from constant SQL
// only, one per combination of filters and order, and at most
// maxPreparedStatements of them are kept per pool; past that, statements
// run unprepared.
type preparedStatements struct {
	mu    sync.RWMutex
	stmts map[*sqlx.DB]map[string]*sqlx.Stmt
}

// maxPreparedStatements bounds the query texts prepared per pool.
const maxPreparedStatements = 256

// get returns the statement of query prepared on db, preparing it first, or
// nil when the pool already holds maxPreparedStatements others. Every read
// of a page passes here, so the usual case, a statement already prepared,
// takes only the read lock.
func (p *preparedStatements) get(ctx context.Context, db *sqlx.DB, query string) (*sqlx.Stmt, error) {
	p.mu.RLock()
	st, ok := p.stmts[db][query]
	full := len(p.stmts[db]) >= maxPreparedStatements
	p.mu.RUnlock()
	if ok || full {
		return st, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if st, ok := p.stmts[db][query]; ok || len(p.stmts[db]) >= maxPreparedStatements {
		return st, nil
	}
	st, err := db.PreparexContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if p.stmts == nil {
		p.stmts = map[*sqlx.DB]map[string]*sqlx.Stmt{}
	}
	if p.stmts[db] == nil {
		p.stmts[db] = map[string]*sqlx.Stmt{}
	}
	p.stmts[db][query] = st
	return st, nil
}

// SelectPrepared is SelectContext through a statement prepared on ctx's
// pool: for the hot reads whose query text is fixed.
func (r routedDB) SelectPrepared(ctx context.Context, dest any, query string, args ...any) error {
	db := r.pick(ctx)
	st, err := r.prepared.get(ctx, db, query)
	if err != nil {
		return err
	}
	if st == nil {
		return db.SelectContext(ctx, dest, query, args...)
	}
	return st.SelectContext(ctx, dest, args...)
}
