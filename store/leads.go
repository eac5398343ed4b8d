package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/partsmarket/gateway/internal/pii"
)

// leadColumns are read into a sealedLead, whose open decrypts the buyer's
// personal data.
const leadColumns = `d.id, d.seller_id, d.listing_id, d.pii, d.pii_key_id,
	d.buyer_location, d.timeline, d.source_page, d.status, d.created_at, d.updated_at, d.anonymized_at`

// LeadFilter narrows a list of leads. Empty strings count as unset.
type LeadFilter struct {
	// Email matches the buyer's email exactly, ignoring case and
	// surrounding space (through its blind index; anonymised leads have none).
	Email *string
	// Status keeps the leads in that status; without it every lead but the
	// SPAM ones (the default inbox).
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
	// Sort is the order of the list; empty: newest first.
	Sort LeadSort
}

var leadsNewest = keyset{name: "newest", key: "d.created_at", cast: "timestamptz", id: "d.id", desc: true}

// LeadSort orders a list of leads; the GraphQL enum LeadSort is bound to it.
type LeadSort string

// The orders of leads.
const (
	// LeadSortNewest is the newest first (the default).
	LeadSortNewest LeadSort = "NEWEST"
	// LeadSortOldest is the oldest first.
	LeadSortOldest LeadSort = "OLDEST"
)

// keyset returns the ordering of o: newest first unless OLDEST.
func (o LeadSort) keyset() keyset {
	if o == LeadSortOldest {
		k := leadsNewest.reversed()
		k.name = "oldest"
		return k
	}
	return leadsNewest
}

// Lead returns lead id if scope may see it; ENOTFOUND otherwise.
func (s *Store) Lead(ctx context.Context, scope Scope, id string) (*Lead, error) {
	rows, err := s.LeadsByID(ctx, scope, []string{id})
	return one(rows, err, "lead")
}

// Leads returns one page of the leads that match lq, in lq.Sort's order
// (newest first by default).
func (s *Store) Leads(ctx context.Context, lq LeadQuery, p PageArgs) (Page[*Lead], error) {
	var q query
	lq.where(&q, s.keys)
	k := lq.Sort.keyset()
	order, err := k.window(&q, p)
	if err != nil {
		return Page[*Lead]{}, err
	}
	var rows []*leadRow
	err = s.db.selectScoped(ctx, lq.Scope, &rows, `SELECT `+leadColumns+`, `+k.keyText()+` AS sort_key FROM leads d`+
		q.sql()+order+` LIMIT `+q.arg(p.Limit+1), q.args...)
	if err != nil {
		return Page[*Lead]{}, err
	}
	for _, r := range rows {
		if _, err := r.open(s.keys); err != nil {
			return Page[*Lead]{}, err
		}
	}
	return unwrap(pageOf(k, rows, p, (*leadRow).cursorKey),
		func(r *leadRow) *Lead { return &r.Lead }), nil
}

type leadRow struct {
	sealedLead
	SortKey string `db:"sort_key"`
}

func (r *leadRow) cursorKey() (string, string) { return r.SortKey, r.ID }

// CountLeads returns how many leads match lq.
func (s *Store) CountLeads(ctx context.Context, lq LeadQuery) (int, error) {
	var q query
	lq.where(&q, s.keys)
	var n int
	err := s.db.getScoped(ctx, lq.Scope, &n, `SELECT count(*) FROM leads d`+q.sql(), q.args...)
	return n, err
}

// where adds lq's conditions to q; keys give the email's blind index.
func (lq LeadQuery) where(q *query, keys *pii.Keyring) {
	ownedBy(q, "d.seller_id", lq.Scope)
	f := lq.Filter
	if v, ok := text(f.Email); ok {
		q.and("d.email_bidx = " + q.arg(keys.BlindIndex(v)))
	}
	if f.Status != nil {
		q.and("d.status = " + q.arg(string(*f.Status)))
	} else {
		q.and("d.status <> 'SPAM'")
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

// LeadReceivedChannel is the PostgreSQL NOTIFY channel on which every new
// lead's id is announced once it is committed.
const LeadReceivedChannel = "lead_received"

// CreateLead stores a lead and returns its id once it is committed. In the
// same transaction it queues the seller's notification (the outbox; not for
// SPAM); after the commit it announces the lead id on LeadReceivedChannel
// (not for SPAM). The same lead sent again (same email, ignoring case, same
// listing or seller, same message) within 24 hours is not stored twice: the
// first one's id is returned and nothing is queued or announced. Concurrent
// repeats are serialised by a transaction lock on the lead's dedupe key.
// Concurrent calls share a statement and a commit (see submitLeads).
func (s *Store) CreateLead(ctx context.Context, n NewLead) (string, error) {
	if !ValidID(n.SellerID) {
		return "", Invalid("sellerId", "no such seller")
	}
	if n.ListingID != nil && !ValidID(*n.ListingID) {
		return "", Invalid("listingId", "no such listing")
	}
	blob, keyID, bidx, err := SealLeadPII(s.keys, LeadPII{BuyerName: n.BuyerName, Email: n.Email, Phone: n.Phone,
		Company: n.Company, Message: n.Message})
	if err != nil {
		return "", err
	}
	return s.leadBatches.Do(ctx, sealedNewLead{NewLead: n, pii: blob, keyID: keyID, emailBidx: bidx,
		dedupeKey: leadDedupeKey(s.keys, n.Email, n.SellerID, n.ListingID, n.Message)})
}

// leadTargetError maps the failure of a lead's insert on an unknown seller
// or listing to EINVALID; other errors pass as they are.
func leadTargetError(err error) error {
	var pqErr *pq.Error
	switch {
	case errors.As(err, &pqErr) && pqErr.Constraint == "leads_seller_id_fkey":
		return Invalid("sellerId", "no such seller")
	case errors.As(err, &pqErr) && pqErr.Constraint == "leads_listing_id_fkey":
		return Invalid("listingId", "no such listing")
	}
	return err
}

// leadDedupeKey returns the dedupe key of a lead (see
// pii.Keyring.LeadDedupeKey), its ids in canonical lower case.
func leadDedupeKey(k *pii.Keyring, email, sellerID string, listingID *string, message string) []byte {
	listing := ""
	if listingID != nil {
		listing = strings.ToLower(*listingID)
	}
	return k.LeadDedupeKey(email, strings.ToLower(sellerID), listing, message)
}

// SetLeadStatus sets lead id's status, once rule (unless nil) allows the
// move from the status of the lead locked for it, and records the change and
// its actor when the status changes, and audits it ("lead.status");
// ENOTFOUND when there is no such lead.
func (s *Store) SetLeadStatus(ctx context.Context, id string, status LeadStatus, by Actor, rule StatusRule[LeadStatus]) (*Lead, error) {
	if !ValidID(id) {
		return nil, NotFound("lead")
	}
	tx, err := s.db.beginScoped(ctx, scopeOf(ctx), nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if err := lockActingSeller(ctx, tx, sellerOfLead, id); err != nil {
		return nil, err
	}
	var from LeadStatus
	err = tx.GetContext(ctx, &from, `SELECT status FROM leads WHERE id = $1 FOR UPDATE`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, NotFound("lead")
	}
	if err != nil {
		return nil, err
	}
	if rule != nil {
		if err := rule(from, status); err != nil {
			return nil, err
		}
	}
	var l sealedLead
	err = tx.GetContext(ctx, &l, `WITH changed AS (
			INSERT INTO lead_status_changes (lead_id, from_status, to_status, actor_id, actor_role)
			SELECT $1, $5, $2, nullif($3, ''), nullif($4, '') WHERE $5::text <> $2::text)
		UPDATE leads d SET status = $2, updated_at = CASE WHEN d.status = $2 THEN d.updated_at ELSE now() END
		WHERE d.id = $1 RETURNING `+leadColumns, id, status, by.ID, by.Role, from)
	if err != nil {
		return nil, err
	}
	e := AuditEntry{Action: "lead.status", TargetType: "lead", TargetID: id,
		Changes: diff(map[string]any{"status": from}, map[string]any{"status": l.Status})}
	if err := s.Audit(ctx, tx, e); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return l.open(s.keys)
}

// StatusChangesByLeadID returns the status changes of the given leads,
// oldest first.
func (s *Store) StatusChangesByLeadID(ctx context.Context, leadIDs []string) ([]*LeadStatusChange, error) {
	var out []*LeadStatusChange
	err := s.db.selectScoped(ctx, scopeOf(ctx), &out, `SELECT id, lead_id, from_status, to_status, actor_id, actor_role, created_at
		FROM lead_status_changes WHERE lead_id = ANY($1::uuid[]) ORDER BY lead_id, created_at, id`, pq.Array(validIDs(leadIDs)))
	return out, err
}
