package store

import (
	"context"

	"github.com/jmoiron/sqlx"

	"github.com/partsmarket/gateway/internal/tagcache"
)

// PublicChangedChannel is the PostgreSQL NOTIFY channel on which a gateway
// announces, after the commit, a write that may change what the public sees
// (listings, sellers, their contacts, yards and media), with the cache tags
// it changes (tagcache.Invalidator.Message); every instance's hub
// (internal/pubsub) passes the announcement to its Invalidator, which
// purges the cached answers carrying those tags.
const PublicChangedChannel = "public_changed"

// WithInvalidator makes the store purge the cached answers its writes
// change through inv (nil: none), which every cache of the process shares.
func WithInvalidator(inv *tagcache.Invalidator) Option {
	return func(s *Store) { s.invalidator = inv }
}

// commitPublic commits tx, a write that may change what the public sees,
// then purges the cached answers tagged with tags in this process (before
// the write returns to its caller) and announces them to the other
// instances on PublicChangedChannel. It purges whether or not the commit
// succeeded (a commit that failed on the way back may have committed). A
// lost announcement leaves the other instances' answers at most their
// caches' TTL old.
func (s *Store) commitPublic(ctx context.Context, tx *sqlx.Tx, tags ...tagcache.Tag) error {
	err := tx.Commit()
	if s.invalidator == nil || len(tags) == 0 {
		return err
	}
	s.invalidator.Invalidate(tags)
	if err == nil {
		_, _ = s.db.ExecContext(context.WithoutCancel(ctx), `SELECT pg_notify($1, $2)`, PublicChangedChannel, s.invalidator.Message(tags))
	}
	return err
}
