package store

import (
	"context"

	"github.com/lib/pq"
)

// NodeKind names the type of the row an id belongs to: the GraphQL type
// that node(id) answers with.
type NodeKind string

// The kinds of row node(id) can return.
const (
	KindSeller        NodeKind = "Seller"
	KindListing       NodeKind = "Listing"
	KindLead          NodeKind = "Lead"
	KindListingReport NodeKind = "ListingReport"
	KindImportBatch   NodeKind = "ImportBatch"
	KindMedia         NodeKind = "Media"
	KindAuditEvent    NodeKind = "AuditEvent"
)

// nodeKindsSQL finds which table holds each id, in one statement. The
// private tables answer under row-level security, so an id of a lead,
// report or import batch outside the transaction's scope is not found at
// all; the others are checked by the read of their kind.
const nodeKindsSQL = `
SELECT id::text, 'Seller' FROM sellers WHERE id = ANY($1::uuid[])
UNION ALL SELECT id::text, 'Listing' FROM listings WHERE id = ANY($1::uuid[])
UNION ALL SELECT id::text, 'Lead' FROM leads WHERE id = ANY($1::uuid[])
UNION ALL SELECT id::text, 'ListingReport' FROM listing_reports WHERE id = ANY($1::uuid[])
UNION ALL SELECT id::text, 'ImportBatch' FROM import_batches WHERE id = ANY($1::uuid[])
UNION ALL SELECT id::text, 'Media' FROM media WHERE id = ANY($1::uuid[])
UNION ALL SELECT id::text, 'AuditEvent' FROM audit_events WHERE id = ANY($1::uuid[])`

// NodeKinds returns the kind of row of each of ids that exists (malformed
// ids are left out), in one statement that states scope. It says nothing
// about whether scope may read the row: the read of each kind decides.
func (s *Store) NodeKinds(ctx context.Context, scope Scope, ids []string) (map[string]NodeKind, error) {
	ids = validIDs(ids)
	if len(ids) == 0 {
		return map[string]NodeKind{}, nil
	}
	var rows []struct {
		ID   string   `db:"id"`
		Kind NodeKind `db:"kind"`
	}
	err := s.db.selectScoped(ctx, scope, &rows, `SELECT t.id, t.kind FROM (`+nodeKindsSQL+`) AS t(id, kind)`, pq.Array(ids))
	if err != nil {
		return nil, err
	}
	out := make(map[string]NodeKind, len(rows))
	for _, r := range rows {
		out[r.ID] = r.Kind
	}
	return out, nil
}

// LeadsByID returns the leads of ids that scope may see, in no order.
func (s *Store) LeadsByID(ctx context.Context, scope Scope, ids []string) ([]*Lead, error) {
	rows, err := scopedByID[*sealedLead](ctx, s, scope, ids, "d.id", "d.seller_id", `SELECT `+leadColumns+` FROM leads d`)
	if err != nil {
		return nil, err
	}
	return openAll(rows, func(r *sealedLead) (*Lead, error) { return r.open(s.keys) })
}

// ReportsByID returns the reports of ids that scope may see (a seller
// those about its own listings), in no order.
func (s *Store) ReportsByID(ctx context.Context, scope Scope, ids []string) ([]*ListingReport, error) {
	rows, err := scopedByID[*sealedReport](ctx, s, scope, ids, "r.id", "l.seller_id", `SELECT `+reportColumns+reportFrom)
	if err != nil {
		return nil, err
	}
	return openAll(rows, func(r *sealedReport) (*ListingReport, error) { return r.open(s.keys) })
}

// ImportBatchesByID returns the import batches of ids that scope may see
// (a seller its own, admins and analysts all), in no order.
func (s *Store) ImportBatchesByID(ctx context.Context, scope Scope, ids []string) ([]*ImportBatch, error) {
	return scopedByID[*ImportBatch](ctx, s, scope, ids, "b.id", "b.seller_id", `SELECT `+importBatchColumns+` FROM import_batches b`)
}

// scopedByID reads the rows of a private table whose idColumn is one of ids
// and whose seller (sellerColumn) scope may see, with selectFrom (a SELECT
// and its FROM clause), in a transaction that states scope.
func scopedByID[R any](ctx context.Context, s *Store, scope Scope, ids []string, idColumn, sellerColumn, selectFrom string) ([]R, error) {
	var q query
	q.and(idColumn + " = ANY(" + q.arg(pq.Array(validIDs(ids))) + "::uuid[])")
	ownedBy(&q, sellerColumn, scope)
	var rows []R
	err := s.db.selectScoped(ctx, scope, &rows, selectFrom+q.sql(), q.args...)
	return rows, err
}

// MediaByID returns the media of ids whose listing scope may see, in no
// order.
func (s *Store) MediaByID(ctx context.Context, scope Scope, ids []string) ([]*Media, error) {
	var q query
	q.and("m.id = ANY(" + q.arg(pq.Array(validIDs(ids))) + "::uuid[])")
	listingVisible(&q, scope)
	return selectRows(ctx, s.db, (*Media).fields, `SELECT m.id, m.listing_id, m.url, m.alt_text, m.position,
		m.content_type, m.created_at FROM media m JOIN listings l ON l.id = m.listing_id`+q.sql(), q.args...)
}

// AuditEventsByID returns the audit events of ids, in no order. The caller
// has checked that its principal may read the audit log (ADMIN).
func (s *Store) AuditEventsByID(ctx context.Context, ids []string) ([]*AuditEvent, error) {
	var out []*AuditEvent
	err := s.db.SelectContext(ctx, &out, `SELECT `+auditColumns+` FROM audit_events e WHERE e.id = ANY($1::uuid[])`,
		pq.Array(validIDs(ids)))
	return out, err
}

// openAll opens each sealed row, or returns the first error.
func openAll[R, T any](rows []R, open func(R) (T, error)) ([]T, error) {
	out := make([]T, len(rows))
	for i, r := range rows {
		v, err := open(r)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// one returns the only row of rows (read with err), or ENOTFOUND naming
// kind when there is none.
func one[T any](rows []T, err error, kind string) (T, error) {
	if err == nil && len(rows) == 0 {
		err = NotFound(kind)
	}
	if err != nil {
		var zero T
		return zero, err
	}
	return rows[0], nil
}
