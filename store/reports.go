package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/partsmarket/gateway/internal/tagcache"
)

// reportColumns are read into a sealedReport, whose open decrypts the
// reporter's email.
const reportColumns = `r.id, r.listing_id, l.seller_id, r.reason, r.details, r.reporter_pii, r.reporter_key_id, r.status,
	r.resolution_note, r.created_at, r.resolved_at, r.anonymized_at`

const reportFrom = ` FROM listing_reports r JOIN listings l ON l.id = r.listing_id`

// ReportFilter narrows a list of reports. Empty strings count as unset.
type ReportFilter struct {
	Status    *ReportStatus
	Reason    *ReportReason
	SellerID  *string
	ListingID *string
}

// ReportQuery is a whole question about reports, without its page.
type ReportQuery struct {
	Scope  Scope
	Filter ReportFilter
}

var reportsNewest = keyset{name: "newest", key: "r.created_at", cast: "timestamptz", id: "r.id", desc: true}

// Report returns report id if scope may see it (a seller sees the reports
// about its own listings); ENOTFOUND otherwise.
func (s *Store) Report(ctx context.Context, scope Scope, id string) (*ListingReport, error) {
	rows, err := s.ReportsByID(ctx, scope, []string{id})
	return one(rows, err, "report")
}

// Reports returns one page of the reports that match rq, newest first.
func (s *Store) Reports(ctx context.Context, rq ReportQuery, p PageArgs) (Page[*ListingReport], error) {
	var q query
	rq.where(&q)
	order, err := reportsNewest.window(&q, p)
	if err != nil {
		return Page[*ListingReport]{}, err
	}
	var rows []*reportRow
	err = s.db.selectScoped(ctx, rq.Scope, &rows, `SELECT `+reportColumns+`, `+reportsNewest.keyText()+` AS sort_key`+reportFrom+
		q.sql()+order+` LIMIT `+q.arg(p.Limit+1), q.args...)
	if err != nil {
		return Page[*ListingReport]{}, err
	}
	for _, r := range rows {
		if _, err := r.open(s.keys); err != nil {
			return Page[*ListingReport]{}, err
		}
	}
	return unwrap(pageOf(reportsNewest, rows, p, (*reportRow).cursorKey),
		func(r *reportRow) *ListingReport { return &r.ListingReport }), nil
}

type reportRow struct {
	sealedReport
	SortKey string `db:"sort_key"`
}

func (r *reportRow) cursorKey() (string, string) { return r.SortKey, r.ID }

// CountReports returns how many reports match rq.
func (s *Store) CountReports(ctx context.Context, rq ReportQuery) (int, error) {
	var q query
	rq.where(&q)
	var n int
	err := s.db.getScoped(ctx, rq.Scope, &n, `SELECT count(*)`+reportFrom+q.sql(), q.args...)
	return n, err
}

func (rq ReportQuery) where(q *query) {
	ownedBy(q, "l.seller_id", rq.Scope)
	f := rq.Filter
	if f.Status != nil {
		q.and("r.status = " + q.arg(string(*f.Status)))
	}
	if f.Reason != nil {
		q.and("r.reason = " + q.arg(string(*f.Reason)))
	}
	if v, ok := text(f.SellerID); ok {
		q.and("l.seller_id = " + q.arg(idOrNil(v)) + "::uuid")
	}
	if v, ok := text(f.ListingID); ok {
		q.and("r.listing_id = " + q.arg(idOrNil(v)) + "::uuid")
	}
}

// NewReport is someone's report about a listing.
type NewReport struct {
	ListingID     string
	Reason        ReportReason
	Details       *string
	ReporterEmail *string
}

// CreateReport stores a report and returns its id once it is committed.
func (s *Store) CreateReport(ctx context.Context, n NewReport) (string, error) {
	if !ValidID(n.ListingID) {
		return "", Invalid("listingId", "no such listing")
	}
	blob, keyID, bidx, err := sealReporter(s.keys, n.ReporterEmail)
	if err != nil {
		return "", err
	}
	// The public writes a report of any seller's listing and reads back
	// its id: a submission states every scope for its own transaction, as
	// submit_lead() does for leads.
	var id string
	err = s.db.inScope(ctx, everything, nil, func(tx *sqlx.Tx) error {
		return tx.GetContext(ctx, &id, `INSERT INTO listing_reports (listing_id, reason, details, reporter_pii, reporter_key_id, reporter_email_bidx)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, n.ListingID, n.Reason, n.Details, blob, keyID, bidx)
	})
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Constraint == "listing_reports_listing_id_fkey" {
		return "", Invalid("listingId", "no such listing")
	}
	return id, err
}

// ResolveReport closes report id as DISMISSED or ACTIONED with a note, by
// an admin (resolvedBy). With removeListing, the listing is set REMOVED with
// the note as its removal reason (without a note, one naming the report's
// reason, so that its seller always learns why), in the same transaction,
// which also audits the whole resolution ("report.resolve", on the report).
// ENOTFOUND when there is no such report; EINVALID when it is already
// resolved.
func (s *Store) ResolveReport(ctx context.Context, id string, removeListing bool, note *string, resolvedBy string) (*ListingReport, error) {
	if !ValidID(id) {
		return nil, NotFound("report")
	}
	// Only admins resolve reports: the transaction sees every row.
	tx, err := s.db.beginScoped(ctx, everything, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	status := ReportDismissed
	if removeListing {
		status = ReportActioned
	}
	var sr sealedReport
	err = tx.GetContext(ctx, &sr, `UPDATE listing_reports r SET status = $2, resolution_note = $3, resolved_by = $4, resolved_at = now()
		FROM listings l WHERE r.id = $1 AND l.id = r.listing_id AND r.status = 'OPEN' RETURNING `+reportColumns,
		id, status, note, resolvedBy)
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := s.Report(ctx, Scope{All: true}, id); err != nil {
			return nil, err
		}
		return nil, Invalid("id", "report is already resolved")
	}
	if err != nil {
		return nil, err
	}
	r, err := sr.open(s.keys)
	if err != nil {
		return nil, err
	}
	changes := map[string]any{"status": Change(ReportOpen, r.Status)}
	var tags []tagcache.Tag
	if removeListing {
		why := "Removed after a report (" + string(r.Reason) + ")"
		if note != nil && *note != "" {
			why = *note
		}
		var was struct {
			Status   ListingStatus `db:"status"`
			SellerID string        `db:"seller_id"`
		}
		err = tx.GetContext(ctx, &was, `UPDATE listings l SET status = 'REMOVED', removal_reason = $2,
			moderation_note = coalesce(l.moderation_note || E'\n', '') || 'Report ' || $3 || ' actioned', updated_at = now()
			FROM (SELECT id, status FROM listings WHERE id = $1 FOR UPDATE) old WHERE l.id = old.id
			RETURNING old.status, l.seller_id`, r.ListingID, why, r.ID)
		if err != nil {
			return nil, err
		}
		changes["listingStatus"] = Change(was.Status, ListingRemoved)
		tags = listingWrite(r.ListingID, was.SellerID, ListingRemoved)
	}
	e := AuditEntry{Action: "report.resolve", TargetType: "report", TargetID: r.ID, Changes: changes}
	if err := s.Audit(ctx, tx, e); err != nil {
		return nil, err
	}
	return r, s.commitPublic(ctx, tx, tags...)
}
