// Package store holds every SQL statement of the gateway: domain types with
// db tags, one file per entity, and the Error type whose codes the API shows.
// Nothing here knows about GraphQL or HTTP.
package store

import (
	"github.com/jmoiron/sqlx"
)

// Store reads and writes the marketplace's rows on one connection pool.
type Store struct {
	db routedDB
}

// New returns a Store on db.
func New(db *sqlx.DB) *Store {
	return &Store{db: routedDB{primary: db}}
}

// DB returns the primary pool the store uses.
func (s *Store) DB() *sqlx.DB { return s.db.primary }

// Scope says which non-public rows a caller may see. The zero Scope is the
// public's: ACTIVE listings of ACTIVE sellers, ACTIVE sellers, no leads and
// no reports.
type Scope struct {
	// All is set for admins and analysts, who see every row.
	All bool
	// SellerID is set for a seller, who also sees every row of its own.
	SellerID string
}
