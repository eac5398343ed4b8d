package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

const leadColumns = `d.id, d.seller_id, d.listing_id, d.buyer_name, d.email, d.phone, d.company, d.message,
	d.buyer_location, d.timeline, d.source_page, d.status, d.created_at, d.updated_at`

// LeadFilter narrows a list of leads. Empty strings count as unset.
type LeadFilter struct {
	Status    *LeadStatus
	ListingID *string
	SellerID  *string
	From      *time.Time
	To        *time.Time
}

// LeadQuery is a whole question about leads, without its page.
type LeadQuery struct {
	Scope  Scope
	Filter LeadFilter
}

var leadsNewest = keyset{name: "newest", key: "d.created_at", cast: "timestamptz", id: "d.id", desc: true}

// Lead returns lead id if scope may see it; ENOTFOUND otherwise.
func (s *Store) Lead(ctx context.Context, scope Scope, id string) (*Lead, error) {
	if !ValidID(id) {
		return nil, NotFound("lead")
	}
	var q query
	q.and("d.id = " + q.arg(id))
	ownedBy(&q, "d.seller_id", scope)
	var l Lead
	err := s.db.GetContext(ctx, &l, `SELECT `+leadColumns+` FROM leads d`+q.sql(), q.args...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, NotFound("lead")
	}
	return &l, err
}

// Leads returns one page of the leads that match lq, newest first.
func (s *Store) Leads(ctx context.Context, lq LeadQuery, p PageArgs) (Page[*Lead], error) {
	var q query
	lq.where(&q)
	if err := leadsNewest.after(&q, p.After); err != nil {
		return Page[*Lead]{}, err
	}
	var rows []*leadRow
	err := s.db.SelectContext(ctx, &rows, `SELECT `+leadColumns+`, `+leadsNewest.keyText()+` AS sort_key FROM leads d`+
		q.sql()+leadsNewest.orderBy()+` LIMIT `+q.arg(p.Limit+1), q.args...)
	if err != nil {
		return Page[*Lead]{}, err
	}
	return unwrap(page(leadsNewest, rows, p.Limit, (*leadRow).cursorKey),
		func(r *leadRow) *Lead { return &r.Lead }), nil
}

type leadRow struct {
	Lead
	SortKey string `db:"sort_key"`
}

func (r *leadRow) cursorKey() (string, string) { return r.SortKey, r.ID }

// CountLeads returns how many leads match lq.
func (s *Store) CountLeads(ctx context.Context, lq LeadQuery) (int, error) {
	var q query
	lq.where(&q)
	var n int
	err := s.db.GetContext(ctx, &n, `SELECT count(*) FROM leads d`+q.sql(), q.args...)
	return n, err
}

func (lq LeadQuery) where(q *query) {
	ownedBy(q, "d.seller_id", lq.Scope)
	f := lq.Filter
	if f.Status != nil {
		q.and("d.status = " + q.arg(string(*f.Status)))
	}
	if v, ok := text(f.ListingID); ok {
		q.and("d.listing_id = " + q.arg(idOrNil(v)) + "::uuid")
	}
	if v, ok := text(f.SellerID); ok {
		q.and("d.seller_id = " + q.arg(idOrNil(v)) + "::uuid")
	}
	if f.From != nil {
		q.and("d.created_at >= " + q.arg(*f.From))
	}
	if f.To != nil {
		q.and("d.created_at < " + q.arg(*f.To))
	}
}

// ownedBy keeps the rows of column's seller that scope may see: all for
// admins and analysts, a seller's own, none for the public.
func ownedBy(q *query, column string, scope Scope) {
	switch {
	case scope.All:
	case scope.SellerID != "":
		q.and(column + " = " + q.arg(idOrNil(scope.SellerID)) + "::uuid")
	default:
		q.and("false")
	}
}

// NewLead is a buyer's inquiry to store.
type NewLead struct {
	SellerID      string
	ListingID     *string
	BuyerName     string
	Email         string
	Phone         *string
	Company       *string
	Message       string
	BuyerLocation *string
	Timeline      *string
	SourcePage    *string
	Status        LeadStatus
}

// CreateLead stores a lead and returns its id once it is committed. The same
// lead sent again (same email, ignoring case, same listing or seller, same
// message) within 24 hours is not stored twice: the first one's id is
// returned. Concurrent repeats are serialised by a transaction lock.
func (s *Store) CreateLead(ctx context.Context, n NewLead) (string, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	var id string
	err = tx.GetContext(ctx, &id, `
		WITH lock AS (SELECT pg_advisory_xact_lock(hashtextextended(lower($1) || '|' || $2::text || '|' || coalesce($3::text, '') || '|' || $4, 0)))
		SELECT coalesce((SELECT id::text FROM leads, lock
			WHERE lower(email) = lower($1) AND seller_id = $2::uuid AND listing_id IS NOT DISTINCT FROM $3::uuid
				AND message = $4 AND created_at > now() - interval '24 hours'
			ORDER BY created_at LIMIT 1), '')`, n.Email, n.SellerID, n.ListingID, n.Message)
	if err != nil || id != "" {
		return id, err
	}
	err = tx.GetContext(ctx, &id, `INSERT INTO leads (seller_id, listing_id, buyer_name, email, phone, company,
			message, buyer_location, timeline, source_page, status)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
		n.SellerID, n.ListingID, n.BuyerName, n.Email, n.Phone, n.Company, n.Message,
		n.BuyerLocation, n.Timeline, n.SourcePage, n.Status)
	if err != nil {
		return "", err
	}
	return id, tx.Commit()
}

// SetLeadStatus sets lead id's status; ENOTFOUND when there is none.
func (s *Store) SetLeadStatus(ctx context.Context, id string, status LeadStatus) (*Lead, error) {
	if !ValidID(id) {
		return nil, NotFound("lead")
	}
	var l Lead
	err := s.db.GetContext(ctx, &l, `UPDATE leads d SET status = $2, updated_at = now()
		WHERE d.id = $1 RETURNING `+leadColumns, id, status)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, NotFound("lead")
	}
	return &l, err
}
