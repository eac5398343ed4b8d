// Package seed loads a small, realistic demo marketplace (sellers, their
// contacts and locations, listings with photos, leads, listing reports, and
// a month of buyers' events and searches with their rollups) so that a
// development database has something worth querying, analysts' metrics
// included.
//
// The data is deterministic: ids are name-based UUIDs and every random choice
// comes from a fixed seed, so two runs produce the same rows. Timestamps are
// spread over the days before the run, counted from the start of the current
// UTC day, so the data always looks recent.
package seed

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/partsmarket/gateway/internal/pii"
)

// Stats counts the rows Run inserted, per table. All counts are zero when the
// demo data was already there.
type Stats struct {
	// Sellers is the number of rows inserted into sellers.
	Sellers int
	// SellerContacts is the number of rows inserted into seller_contacts.
	SellerContacts int
	// SellerLocations is the number of rows inserted into seller_locations.
	SellerLocations int
	// Listings is the number of rows inserted into listings.
	Listings int
	// Media is the number of rows inserted into media.
	Media int
	// Leads is the number of rows inserted into leads.
	Leads int
	// ListingReports is the number of rows inserted into listing_reports.
	ListingReports int
	// Events is the number of rows inserted into events (their counts are
	// added to the daily rollups too).
	Events int
	// Searches is the number of rows inserted into search_queries.
	Searches int
}

// Total returns the number of rows inserted into all tables together.
func (s Stats) Total() int {
	return s.Sellers + s.SellerContacts + s.SellerLocations + s.Listings +
		s.Media + s.Leads + s.ListingReports + s.Events + s.Searches
}

// String describes the counts on one line, e.g. for the `gateway seed` command.
func (s Stats) String() string {
	return fmt.Sprintf("sellers=%d seller_contacts=%d seller_locations=%d listings=%d media=%d leads=%d listing_reports=%d events=%d search_queries=%d",
		s.Sellers, s.SellerContacts, s.SellerLocations, s.Listings, s.Media, s.Leads, s.ListingReports, s.Events, s.Searches)
}

// DemoOwnerSubject is the token subject of the demo seller's OWNER member
// (`gateway token --demo` signs a user token for it).
const DemoOwnerSubject = "demo-seller-owner"

// advisoryLockKey serialises concurrent seed runs (pg_advisory_xact_lock).
const advisoryLockKey int64 = 0x7061727473656564 // "partseed"

// Run loads the demo marketplace into db in one transaction and reports what
// it inserted; buyers' and reporters' personal data are sealed with keys
// (the gateway's keyring, so that it can read them). If the demo data is already there (its first seller exists),
// Run changes nothing and returns zero Stats. Concurrent runs are serialised
// by a transaction-level advisory lock, so exactly one of them loads the data.
func Run(ctx context.Context, db *sqlx.DB, keys *pii.Keyring) (Stats, error) {
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return Stats{}, fmt.Errorf("seed: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit

	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, advisoryLockKey); err != nil {
		return Stats{}, fmt.Errorf("seed: lock: %w", err)
	}
	var seeded bool
	err = tx.GetContext(ctx, &seeded, `SELECT EXISTS (SELECT 1 FROM sellers WHERE id = $1)`, sellerID(0))
	if err != nil {
		return Stats{}, fmt.Errorf("seed: check: %w", err)
	}
	if seeded {
		return Stats{}, nil
	}

	d := generate(time.Now().UTC().Truncate(24 * time.Hour))
	stats, err := d.insert(ctx, tx, keys)
	if err != nil {
		return Stats{}, err
	}
	// The demo seller's OWNER, for the development tokens (signed without
	// an issuer, as JWT_ISSUER is unset in development).
	_, err = tx.ExecContext(ctx, `INSERT INTO seller_members (issuer, subject, seller_id, role) VALUES ('', $1, $2, 'OWNER')`,
		DemoOwnerSubject, DemoSellerID())
	if err != nil {
		return Stats{}, fmt.Errorf("seed: demo owner: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return Stats{}, fmt.Errorf("seed: commit: %w", err)
	}
	return stats, nil
}
