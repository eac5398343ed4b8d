package seed

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/partsmarket/gateway/internal/pii"
	"github.com/partsmarket/gateway/store"
)

// table is a batch of rows for one COPY.
type table struct {
	name    string
	columns []string
	rows    [][]any
}

// insert copies every table of d into the database in foreign-key order,
// buyers' and reporters' personal data sealed with keys.
func (d *dataset) insert(ctx context.Context, tx *sqlx.Tx, keys *pii.Keyring) (Stats, error) {
	leads, err := d.leadTable(keys)
	if err != nil {
		return Stats{}, err
	}
	reports, err := d.reportTable(keys)
	if err != nil {
		return Stats{}, err
	}
	tables := []table{
		d.sellerTable(),
		d.contactTable(),
		d.locationTable(),
		d.listingTable(),
		d.mediaTable(),
		leads,
		reports,
		d.eventTable(),
		d.searchTable(),
	}
	for _, t := range tables {
		if err := copyIn(ctx, tx, t); err != nil {
			return Stats{}, err
		}
	}
	// The events' counts, then the leads' and reports' that their triggers
	// queued: the metrics show all of them at once.
	for _, q := range []string{addEventRollups, `SELECT fold_pending_rollups()`} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return Stats{}, fmt.Errorf("seed: rollups: %w", err)
		}
	}
	return Stats{
		Sellers:         len(tables[0].rows),
		SellerContacts:  len(tables[1].rows),
		SellerLocations: len(tables[2].rows),
		Listings:        len(tables[3].rows),
		Media:           len(tables[4].rows),
		Leads:           len(tables[5].rows),
		ListingReports:  len(tables[6].rows),
		Events:          len(tables[7].rows),
		Searches:        len(tables[8].rows),
	}, nil
}

// addEventRollups adds the seeded events' counts to the rollups, through
// add_rollups as the gateway's event flush does, with each listing's
// dimensions (listing_rollup_keys). The seeded leads and reports reach the
// rollups through their tables' triggers and fold_pending_rollups.
const addEventRollups = `SELECT add_rollups(array_agg(day), array_agg(listing_id), array_agg(seller_id),
	array_agg(category), array_agg(region), array_agg(views), array_agg(calls), array_agg(texts), array_agg(emails),
	array_agg(0::bigint), array_agg(0::bigint))
FROM (
	SELECT (e.created_at AT TIME ZONE 'UTC')::date AS day, e.listing_id, e.seller_id, k.category, k.region,
		count(*) FILTER (WHERE e.type = 'LISTING_VIEW') AS views, count(*) FILTER (WHERE e.type = 'CALL_CLICK') AS calls,
		count(*) FILTER (WHERE e.type = 'TEXT_CLICK') AS texts, count(*) FILTER (WHERE e.type = 'EMAIL_CLICK') AS emails
	FROM events e LEFT JOIN listing_rollup_keys k ON k.listing_id = e.listing_id
	GROUP BY 1, 2, 3, 4, 5
) AS x`

func (d *dataset) eventTable() table {
	t := table{name: "events", columns: []string{"type", "listing_id", "seller_id", "session_id", "source_page", "created_at"}}
	for _, e := range d.events {
		var listingID *string
		if e.listing != nil {
			listingID = &e.listing.id
		}
		t.rows = append(t.rows, []any{e.typ, listingID, e.seller.id, e.session, e.page, e.at})
	}
	return t
}

func (d *dataset) searchTable() table {
	t := table{name: "search_queries", columns: []string{"term", "result_count", "session_id", "created_at"}}
	for _, s := range d.searches {
		t.rows = append(t.rows, []any{s.term, s.results, s.session, s.at})
	}
	return t
}

// copyIn bulk-loads t with COPY FROM STDIN inside tx.
func copyIn(ctx context.Context, tx *sqlx.Tx, t table) error {
	stmt, err := tx.PrepareContext(ctx, pq.CopyIn(t.name, t.columns...))
	if err != nil {
		return fmt.Errorf("seed: copy %s: %w", t.name, err)
	}
	defer stmt.Close()
	for _, row := range t.rows {
		if _, err := stmt.ExecContext(ctx, row...); err != nil {
			return fmt.Errorf("seed: copy %s: %w", t.name, err)
		}
	}
	if _, err := stmt.ExecContext(ctx); err != nil { // flushes the COPY
		return fmt.Errorf("seed: copy %s: %w", t.name, err)
	}
	if err := stmt.Close(); err != nil {
		return fmt.Errorf("seed: copy %s: %w", t.name, err)
	}
	return nil
}

func (d *dataset) sellerTable() table {
	t := table{name: "sellers", columns: []string{
		"id", "slug", "company_name", "description", "website", "status", "verified",
		"verification_notes", "internal_notes", "created_at", "updated_at",
	}}
	for _, s := range d.sellers {
		t.rows = append(t.rows, []any{
			s.id, s.slug, s.name, s.description, s.website, s.status, s.verified,
			s.verificationNotes, s.internalNotes, s.createdAt, s.updatedAt,
		})
	}
	return t
}

func (d *dataset) contactTable() table {
	t := table{name: "seller_contacts", columns: []string{
		"id", "seller_id", "kind", "value", "label", "position", "created_at",
	}}
	for _, s := range d.sellers {
		for _, c := range s.contacts {
			t.rows = append(t.rows, []any{c.id, s.id, c.kind, c.value, c.label, c.position, s.createdAt})
		}
	}
	return t
}

func (d *dataset) locationTable() table {
	t := table{name: "seller_locations", columns: []string{
		"id", "seller_id", "city", "region", "country", "postal_code", "position", "created_at",
	}}
	for _, s := range d.sellers {
		for _, l := range s.locations {
			t.rows = append(t.rows, []any{
				l.id, s.id, l.city.name, l.city.region, l.city.country, l.city.postal, l.position, s.createdAt,
			})
		}
	}
	return t
}

func (d *dataset) listingTable() table {
	t := table{name: "listings", columns: []string{
		"id", "seller_id", "location_id", "title", "description", "part_number", "sku", "brand",
		"category", "condition", "quantity", "price_label", "price_cents", "currency", "status",
		"removal_reason", "moderation_note", "created_at", "updated_at",
	}}
	for _, l := range d.listings {
		var removalReason *string
		if l.removal != nil {
			removalReason = &l.removal.reason
		}
		t.rows = append(t.rows, []any{
			l.id, l.seller.id, l.location.id, l.title, l.description, l.part.number, l.sku, l.part.brand.name,
			l.part.kind.category, l.condition, l.quantity, l.priceLabel, l.priceCents, l.currency, l.status,
			removalReason, l.moderationNote, l.createdAt, l.updatedAt,
		})
	}
	return t
}

func (d *dataset) mediaTable() table {
	t := table{name: "media", columns: []string{
		"id", "listing_id", "url", "alt_text", "position", "content_type", "created_at",
	}}
	for _, m := range d.media {
		t.rows = append(t.rows, []any{m.id, m.listing.id, m.url, m.altText, m.position, "image/jpeg", m.listing.createdAt})
	}
	return t
}

func (d *dataset) leadTable(keys *pii.Keyring) (table, error) {
	t := table{name: "leads", columns: []string{
		"id", "seller_id", "listing_id", "pii", "pii_key_id", "email_bidx",
		"buyer_location", "timeline", "source_page", "status", "created_at", "updated_at",
	}}
	for _, l := range d.leads {
		var listingID *string
		if l.listing != nil {
			listingID = &l.listing.id
		}
		blob, keyID, bidx, err := store.SealLeadPII(keys, store.LeadPII{BuyerName: l.buyer.name, Email: l.buyer.email,
			Phone: l.buyer.phone, Company: l.buyer.company, Message: l.message})
		if err != nil {
			return table{}, fmt.Errorf("seed: seal lead: %w", err)
		}
		t.rows = append(t.rows, []any{
			l.id, l.seller.id, listingID, blob, keyID, bidx,
			l.buyer.location, l.timeline, l.sourcePage, l.status, l.createdAt, l.updatedAt,
		})
	}
	return t, nil
}

func (d *dataset) reportTable(keys *pii.Keyring) (table, error) {
	t := table{name: "listing_reports", columns: []string{
		"id", "listing_id", "reason", "details", "reporter_pii", "reporter_key_id", "reporter_email_bidx",
		"status", "resolution_note", "resolved_by", "created_at", "resolved_at",
	}}
	for _, r := range d.reports {
		var blob, keyID, bidx any // NULL without a reporter email
		if r.reporterEmail != nil {
			b, id, x, err := store.SealReporterEmail(keys, *r.reporterEmail)
			if err != nil {
				return table{}, fmt.Errorf("seed: seal report: %w", err)
			}
			blob, keyID, bidx = b, id, x
		}
		t.rows = append(t.rows, []any{
			r.id, r.listing.id, r.reason, r.details, blob, keyID, bidx,
			r.status, r.resolutionNote, r.resolvedBy, r.createdAt, r.resolvedAt,
		})
	}
	return t, nil
}
