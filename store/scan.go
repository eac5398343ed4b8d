package store

import (
	"context"
	"database/sql"
)

// Hot reads scan their rows by hand: each type lists the destinations of its
// columns in the order of its column list, so a row is read without sqlx's
// reflection. Cooler reads keep sqlx's struct scanning.

// fields returns the destinations of listingColumns.
func (l *Listing) fields() []any {
	return []any{&l.ID, &l.SellerID, &l.LocationID, &l.Title, &l.Description, &l.PartNumber,
		&l.SKU, &l.Brand, &l.Category, (*string)(&l.Condition), &l.Quantity, &l.PriceLabel, &l.PriceCents, &l.Currency,
		(*string)(&l.Status), &l.RemovalReason, &l.ModerationNote, &l.CreatedAt, &l.UpdatedAt}
}

// fields returns the destinations of sellerColumns.
func (s *Seller) fields() []any {
	return []any{&s.ID, &s.Slug, &s.CompanyName, &s.Description, &s.Website, (*string)(&s.Status), &s.Verified,
		&s.VerificationNotes, &s.InternalNotes, &s.CreatedAt, &s.UpdatedAt}
}

// fields returns the destinations of mediaColumns.
func (m *Media) fields() []any {
	return []any{&m.ID, &m.ListingID, &m.URL, &m.AltText, &m.Position, &m.ContentType, &m.CreatedAt}
}

// fields returns the destinations of contactColumns.
func (c *SellerContact) fields() []any {
	return []any{&c.ID, &c.SellerID, (*string)(&c.Kind), &c.Value, &c.Label}
}

// fields returns the destinations of locationColumns.
func (l *SellerLocation) fields() []any {
	return []any{&l.ID, &l.SellerID, &l.City, &l.Region, &l.Country, &l.PostalCode}
}

// selectRows runs query with args on ctx's pool, through a prepared statement
// when the query text may be prepared (see preparedStatements), and scans
// each row into a new T through the destinations fields returns.
func selectRows[T any](ctx context.Context, db routedDB, fields func(*T) []any, query string, args ...any) ([]*T, error) {
	rows, err := db.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*T
	for rows.Next() {
		v := new(T)
		if err := rows.Scan(fields(v)...); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// unprepared returns r without its statement cache: its queries are parsed
// and planned at every call, for the ones whose best plan depends on their
// arguments.
func (r routedDB) unprepared() routedDB {
	r.prepared = nil
	return r
}

// query runs query on ctx's pool, prepared when the statement cache takes it.
func (r routedDB) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	db := r.pick(ctx)
	if r.prepared == nil {
		return db.QueryContext(ctx, query, args...)
	}
	st, err := r.prepared.get(ctx, db, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return db.QueryContext(ctx, query, args...)
	}
	return st.QueryContext(ctx, args...)
}
