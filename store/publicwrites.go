package store

import (
	"context"

	"github.com/jmoiron/sqlx"
)

// PublicChangedChannel is the PostgreSQL NOTIFY channel on which a gateway
// announces, after the commit, a write that may change what the public sees
// (listings, sellers, their contacts, yards and media); every instance's hub
// (internal/pubsub) then starts new generations of its caches.
const PublicChangedChannel = "public_changed"

// OnPublicWrite makes the store call f after every write through it that
// may change what the public sees, whether or not its commit succeeded (a
// commit that failed on the way back may have committed). The process's
// caches of public answers start a new generation with it.
func OnPublicWrite(f func()) Option {
	return func(s *Store) { s.onPublicWrite = f }
}

// commitPublic commits tx, a write that may change what the public sees,
// then starts a new generation of the search cache, calls the OnPublicWrite
// function and announces the write to the other instances on
// PublicChangedChannel. A lost announcement leaves their cached answers at
// most their caches' TTL old.
func (s *Store) commitPublic(ctx context.Context, tx *sqlx.Tx) error {
	err := tx.Commit()
	if s.searches == nil && s.onPublicWrite == nil {
		return err
	}
	s.searches.Invalidate()
	if s.onPublicWrite != nil {
		s.onPublicWrite()
	}
	if err == nil {
		_, _ = s.db.ExecContext(ctx, `SELECT pg_notify($1, '')`, PublicChangedChannel)
	}
	return err
}
