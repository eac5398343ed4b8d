package store

import (
	"context"
	"time"

	"github.com/lib/pq"
)

// EventRecord is one event to store: what happened, to which listing or
// seller, and the rollup dimensions of the listing (its category and region)
// when the event was accepted.
type EventRecord struct {
	Type       EventType
	ListingID  *string
	SellerID   string
	Category   *string
	Region     *string
	SessionID  *string
	SourcePage *string
	UserAgent  *string
	IPHash     *string
	At         time.Time
}

// ListingKeys are the rollup dimensions of a listing.
type ListingKeys struct {
	ListingID string  `db:"listing_id"`
	SellerID  string  `db:"seller_id"`
	Category  *string `db:"category"`
	Region    *string `db:"region"`
}

// PublicListingKeys returns the rollup dimensions of the listings among ids
// that the public sees (ACTIVE listings of ACTIVE sellers); other ids are
// left out.
func (s *Store) PublicListingKeys(ctx context.Context, ids []string) ([]*ListingKeys, error) {
	ids = validIDs(ids)
	if len(ids) == 0 {
		return nil, nil
	}
	var out []*ListingKeys
	err := s.db.SelectContext(ctx, &out, `SELECT k.listing_id, k.seller_id, k.category, k.region
		FROM listing_rollup_keys k
		JOIN listings l ON l.id = k.listing_id
		JOIN sellers s ON s.id = l.seller_id
		WHERE k.listing_id = ANY($1::uuid[]) AND l.status = 'ACTIVE' AND s.status = 'ACTIVE'`, pq.Array(ids))
	return out, err
}

// PublicSellerIDs returns the ids among ids of sellers the public sees
// (ACTIVE sellers).
func (s *Store) PublicSellerIDs(ctx context.Context, ids []string) ([]string, error) {
	ids = validIDs(ids)
	if len(ids) == 0 {
		return nil, nil
	}
	var out []string
	err := s.db.SelectContext(ctx, &out, `SELECT id FROM sellers WHERE id = ANY($1::uuid[]) AND status = 'ACTIVE'`, pq.Array(ids))
	return out, err
}

// rollupCounts are the event counts of one rollup row.
type rollupCounts struct {
	views, calls, texts, emails int64
}

// add counts one event of type t.
func (c *rollupCounts) add(t EventType) {
	switch t {
	case EventListingView:
		c.views++
	case EventCallClick:
		c.calls++
	case EventTextClick:
		c.texts++
	case EventEmailClick:
		c.emails++
	}
}

// listingDay and sellerDay key the rollup rows of a batch.
type (
	listingDay struct {
		day     string
		listing string
	}
	sellerDay struct {
		day    string
		seller string
	}
)

// RecordEvents stores a batch of events and adds them to the daily rollups,
// in one transaction of two statements: a COPY of the raw events and one
// call of add_rollups with the batch's counts per listing (or seller) and
// day. Either all of the batch is stored and counted or none of it.
func (s *Store) RecordEvents(ctx context.Context, recs []EventRecord) error {
	if len(recs) == 0 {
		return nil
	}
	listingRows := map[listingDay]*rollupCounts{}
	listingKeys := map[listingDay]EventRecord{}
	sellerRows := map[sellerDay]*rollupCounts{}
	for _, r := range recs {
		day := r.At.UTC().Format(time.DateOnly)
		if r.ListingID != nil {
			k := listingDay{day, *r.ListingID}
			c := listingRows[k]
			if c == nil {
				c = &rollupCounts{}
				listingRows[k] = c
			}
			c.add(r.Type)
			listingKeys[k] = r // the latest category and region of the batch win
			continue
		}
		k := sellerDay{day, r.SellerID}
		c := sellerRows[k]
		if c == nil {
			c = &rollupCounts{}
			sellerRows[k] = c
		}
		c.add(r.Type)
	}

	tx, err := s.db.primary.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, pq.CopyIn("events", "type", "listing_id", "seller_id", "session_id",
		"source_page", "user_agent", "ip_hash", "created_at"))
	if err != nil {
		return err
	}
	for _, r := range recs {
		if _, err := stmt.ExecContext(ctx, string(r.Type), r.ListingID, r.SellerID, r.SessionID, r.SourcePage,
			r.UserAgent, r.IPHash, r.At); err != nil {
			stmt.Close()
			return err
		}
	}
	if _, err := stmt.ExecContext(ctx); err != nil {
		stmt.Close()
		return err
	}
	if err := stmt.Close(); err != nil {
		return err
	}

	n := len(listingRows) + len(sellerRows)
	days, listings, sellers := make([]string, 0, n), make([]*string, 0, n), make([]string, 0, n)
	cats, regions := make([]*string, 0, n), make([]*string, 0, n)
	views, calls, texts, emails := make([]int64, 0, n), make([]int64, 0, n), make([]int64, 0, n), make([]int64, 0, n)
	zeros := make([]int64, n)
	add := func(day string, listing *string, seller string, cat, region *string, c *rollupCounts) {
		days, listings, sellers = append(days, day), append(listings, listing), append(sellers, seller)
		cats, regions = append(cats, cat), append(regions, region)
		views, calls, texts, emails = append(views, c.views), append(calls, c.calls), append(texts, c.texts), append(emails, c.emails)
	}
	for k, c := range listingRows {
		r := listingKeys[k]
		add(k.day, r.ListingID, r.SellerID, r.Category, r.Region, c)
	}
	for k, c := range sellerRows {
		add(k.day, nil, k.seller, nil, nil, c)
	}
	if _, err := tx.ExecContext(ctx, `SELECT add_rollups($1::date[], $2::uuid[], $3::uuid[], $4::text[], $5::text[],
			$6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $10::bigint[])`,
		pq.Array(days), pq.Array(listings), pq.Array(sellers), pq.Array(cats), pq.Array(regions),
		pq.Array(views), pq.Array(calls), pq.Array(texts), pq.Array(emails), pq.Array(zeros)); err != nil {
		return err
	}
	return tx.Commit()
}

// eventsNewest orders raw events newest first.
var eventsNewest = keyset{name: "newest", key: "e.created_at", cast: "timestamptz", id: "e.id", desc: true}

// eventRow is an event with its cursor key.
type eventRow struct {
	Event
	SortKey string `db:"sort_key"`
}

// where adds the filter's conditions to q.
func (f EventFilter) where(q *query) {
	if f.Type != nil {
		q.and("e.type = " + q.arg(string(*f.Type)))
	}
	if f.ListingID != nil {
		q.and("e.listing_id = " + q.arg(idOrNil(*f.ListingID)) + "::uuid")
	}
	if f.SellerID != nil {
		q.and("e.seller_id = " + q.arg(idOrNil(*f.SellerID)) + "::uuid")
	}
	if f.SessionID != nil {
		q.and("e.session_id = " + q.arg(*f.SessionID))
	}
	if f.From != nil {
		q.and("e.created_at >= " + q.arg(*f.From))
	}
	if f.To != nil {
		q.and("e.created_at < " + q.arg(*f.To))
	}
}

// Events returns one page of the raw events that match eq, newest first.
// EINVALID for a cursor of another list.
func (s *Store) Events(ctx context.Context, eq EventQuery, p PageArgs) (Page[*Event], error) {
	var q query
	eq.Filter.where(&q)
	order, err := eventsNewest.window(&q, p)
	if err != nil {
		return Page[*Event]{}, err
	}
	var rows []*eventRow
	err = s.db.SelectContext(ctx, &rows, `SELECT e.id, e.type, e.listing_id, e.seller_id, e.session_id, e.source_page,
		e.user_agent, e.ip_hash, e.created_at, `+eventsNewest.keyText()+` AS sort_key FROM events e`+q.sql()+
		order+` LIMIT `+q.arg(p.Limit+1), q.args...)
	if err != nil {
		return Page[*Event]{}, err
	}
	pg := pageOf(eventsNewest, rows, p, func(r *eventRow) (string, string) { return r.SortKey, r.ID })
	return unwrap(pg, func(r *eventRow) *Event { return &r.Event }), nil
}

// CountEvents returns how many raw events match eq.
func (s *Store) CountEvents(ctx context.Context, eq EventQuery) (int, error) {
	var q query
	eq.Filter.where(&q)
	var n int
	err := s.db.GetContext(ctx, &n, `SELECT count(*) FROM events e`+q.sql(), q.args...)
	return n, err
}

// FoldPendingRollups moves the lead and report counts that their triggers
// queued in pending_rollups into the daily rollups (one statement). The
// event buffer runs it after every flush, so stats count a lead within
// EVENT_FLUSH_INTERVAL.
func (s *Store) FoldPendingRollups(ctx context.Context) error {
	_, err := s.db.primary.ExecContext(ctx, `SELECT fold_pending_rollups()`)
	return err
}
