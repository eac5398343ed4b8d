package store

import (
	"context"
	"database/sql"
	"strings"

	"github.com/jmoiron/sqlx"
)

// Row-level security: leads, their notifications and status history,
// listing reports, import batches and their row errors are private, and
// PostgreSQL shows a transaction only the rows of the scope it states
// (migration 00016). Every statement on them runs in a transaction that
// states a scope first (beginScoped); one that states none sees no row.

// everything is the scope of background work (the outbox, imports,
// retention, key rotation, privacy requests): every row.
var everything = Scope{All: true}

// scopeKey is the context key of a request's Scope.
type scopeKey struct{}

// WithScope returns ctx carrying scope, the rows of the private tables that
// the store's transactions for ctx state they may see, where a method has
// no Scope argument of its own (the loaders of a lead's notification and
// history, the mutations). The HTTP layer sets the caller's scope on every
// request; a context without one sees no private row.
func WithScope(ctx context.Context, scope Scope) context.Context {
	return context.WithValue(ctx, scopeKey{}, scope)
}

// scopeOf returns the scope ctx carries; the zero, public Scope when none.
func scopeOf(ctx context.Context) Scope {
	sc, _ := ctx.Value(scopeKey{}).(Scope)
	return sc
}

// settings returns the values of gateway.scope and gateway.seller_id that
// state sc: "all", "seller" with the seller's id, or "none".
func (sc Scope) settings() (scope, sellerID string) {
	switch {
	case sc.All:
		return "all", ""
	case ValidID(sc.SellerID):
		return "seller", strings.ToLower(sc.SellerID)
	}
	return "none", ""
}

// stateScope sets the transaction's scope; the settings end with it.
const stateScope = `SELECT set_config('gateway.scope', $1, true), set_config('gateway.seller_id', $2, true)`

// beginScoped begins a transaction on ctx's pool that states scope, with
// opts (nil: the pool's defaults).
func (r routedDB) beginScoped(ctx context.Context, scope Scope, opts *sql.TxOptions) (*sqlx.Tx, error) {
	tx, err := r.BeginTxx(ctx, opts)
	if err != nil {
		return nil, err
	}
	name, seller := scope.settings()
	if _, err := tx.ExecContext(ctx, stateScope, name, seller); err != nil {
		_ = tx.Rollback()
		return nil, err
	}
	return tx, nil
}

// onPrimary returns r without its analyst pool: the statements of every
// context go to the primary (writes, and reads that must see the latest).
func (r routedDB) onPrimary() routedDB { return routedDB{primary: r.primary, prepared: r.prepared} }

// readOnly is the options of a scoped read's transaction.
var readOnly = &sql.TxOptions{ReadOnly: true}

// inScope runs fn in a short transaction with opts that states scope, and
// commits it when fn succeeds.
func (r routedDB) inScope(ctx context.Context, scope Scope, opts *sql.TxOptions, fn func(*sqlx.Tx) error) error {
	tx, err := r.beginScoped(ctx, scope, opts)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// getScoped is GetContext in a transaction that states scope.
func (r routedDB) getScoped(ctx context.Context, scope Scope, dest any, query string, args ...any) error {
	return r.inScope(ctx, scope, readOnly, func(tx *sqlx.Tx) error { return tx.GetContext(ctx, dest, query, args...) })
}

// selectScoped is SelectContext in a transaction that states scope.
func (r routedDB) selectScoped(ctx context.Context, scope Scope, dest any, query string, args ...any) error {
	return r.inScope(ctx, scope, readOnly, func(tx *sqlx.Tx) error { return tx.SelectContext(ctx, dest, query, args...) })
}

// selectPreparedScoped is SelectPrepared in a transaction that states
// scope: the statement prepared on the pool runs on the transaction's
// connection (prepared there once, like any pool statement).
func (r routedDB) selectPreparedScoped(ctx context.Context, scope Scope, dest any, query string, args ...any) error {
	st, err := r.prepared.get(ctx, r.pick(ctx), query)
	if err != nil {
		return err
	}
	return r.inScope(ctx, scope, readOnly, func(tx *sqlx.Tx) error {
		return tx.StmtxContext(ctx, st).SelectContext(ctx, dest, args...)
	})
}
