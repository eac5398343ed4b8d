// Package store holds every SQL statement of the gateway: domain types with
// db tags, one file per entity, and the Error type whose codes the API shows.
// Nothing here knows about GraphQL or HTTP.
package store

import (
	"github.com/jmoiron/sqlx"

	"github.com/partsmarket/gateway/internal/batch"
	"github.com/partsmarket/gateway/internal/pii"
	"github.com/partsmarket/gateway/internal/tagcache"
)

// Store reads and writes the marketplace's rows on one connection pool.
type Store struct {
	db routedDB
	// keys seal and open buyers' and reporters' personal data and compute
	// the email blind index.
	keys *pii.Keyring
	// searches caches the public's listing pages; nil without
	// WithSearchCache.
	searches *SearchCache
	// invalidator purges the cached answers a write changes
	// (WithInvalidator); nil: none.
	invalidator *tagcache.Invalidator
	// leadBatches stores CreateLead's concurrent calls together.
	leadBatches *batch.Batcher[sealedNewLead, string]
	// searchIndex knows whether searches may use the ordered index.
	searchIndex *searchIndex
}

// Option configures a Store made by New.
type Option func(*Store)

// WithKeyring makes the store seal and open personal data with k (the
// keyring of ENCRYPTION_KEYS and BLIND_INDEX_KEY). Without it the store
// uses the development keyring, pii.Dev(): fine for tests and development,
// never for production, so the binary always passes its configured one.
func WithKeyring(k *pii.Keyring) Option {
	return func(s *Store) { s.keys = k }
}

// New returns a Store on db, configured by opts.
func New(db *sqlx.DB, opts ...Option) *Store {
	s := &Store{db: routedDB{primary: db, prepared: &preparedStatements{}}, keys: pii.Dev(),
		searchIndex: &searchIndex{}}
	for _, o := range opts {
		o(s)
	}
	s.leadBatches = newLeadBatcher(s)
	return s
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
