// Package loaders batches the reads of one request: the sellers, listings,
// contacts, locations, media and stats that a page of results points at are
// read with one statement per kind, whatever the page size. A page announces
// its rows (ListingsRead, SellersRead, LeadsRead), each loader announces
// what the rows it reads point at, and an announced kind is read for all
// its announced keys at its first load; what no page announced goes
// through dataloader v7. Loaders are made per request, because what they
// return depends on who asks.
package loaders

import (
	"context"
	"errors"
	"time"

	"github.com/graph-gophers/dataloader/v7"

	"github.com/partsmarket/gateway/store"
)

// Loaders are one request's batching readers.
type Loaders struct {
	// Seller loads sellers the caller may see by id; NOT_FOUND for others.
	Seller *Loader[*store.Seller]
	// Listing loads listings the caller may see by id; NOT_FOUND for others.
	Listing *Loader[*store.Listing]
	// Lead loads leads the caller may see by id; NOT_FOUND for others.
	Lead *Loader[*store.Lead]
	// Contacts loads a seller's contacts by seller id.
	Contacts *Loader[[]*store.SellerContact]
	// Locations loads a seller's locations by seller id.
	Locations *Loader[[]*store.SellerLocation]
	// Media loads a listing's media by listing id.
	Media *Loader[[]*store.Media]
	// StatusChanges loads a lead's status history by lead id.
	StatusChanges *Loader[[]*store.LeadStatusChange]
	// Notification loads a lead's notification by lead id; nil for a lead
	// without one (a SPAM lead). Only for leads the caller may see.
	Notification *Loader[*store.LeadNotification]
	// ListingStats loads a listing's rolled-up counts by StatsKey; zero
	// counts without rows. Access is the caller's check (@owner).
	ListingStats *Loader[*store.ListingStats]
	// SellerPerformance loads a seller's rolled-up counts by StatsKey; zero
	// counts without rows. Access is the caller's check (@owner).
	SellerPerformance *Loader[*store.SellerPerformance]
	// Members loads a seller's members by seller id. Access is the
	// caller's check (@owner).
	Members *Loader[[]*store.SellerMember]
	// NotificationSettings loads a seller's lead-mail settings by seller id.
	// Access is the caller's check (@owner, @pii).
	NotificationSettings *Loader[*store.NotificationSettings]
	// Node loads any row by id alone (Relay's node field), under the same
	// access rules as the typed reads; NOT_FOUND for an id that does not
	// exist or that the caller may not see.
	Node *Loader[store.Node]
}

// New returns the loaders of one request whose caller sees scope; auditLog
// is set for a caller who may read the audit log (an admin). The loaders
// announce to each other what the rows they read point at: the sellers,
// media, locations and stats of listings read, the contacts, locations and
// performance of sellers read (see Expect).
func New(st *store.Store, scope store.Scope, auditLog bool, wait time.Duration) *Loaders {
	l := &Loaders{}
	l.Node = newLoader(wait, nodeBatch(st, scope, nodeReaders(st, scope, auditLog)), nil)
	l.Lead = newLoader(wait, byID("lead", func(ctx context.Context, ids []string) ([]*store.Lead, error) {
		return st.LeadsByID(ctx, scope, ids)
	}, func(l *store.Lead) string { return l.ID }), nil)
	l.Members = newLoader(wait, grouped(st.MembersBySellerID, func(m *store.SellerMember) string { return m.SellerID }), nil)
	l.NotificationSettings = newLoader(wait, byID("seller", st.NotificationSettingsBySellerID,
		func(n *store.NotificationSettings) string { return n.SellerID }), nil)
	l.Seller = newLoader(wait, byID("seller", func(ctx context.Context, ids []string) ([]*store.Seller, error) {
		return st.SellersByID(ctx, scope, ids)
	}, func(s *store.Seller) string { return s.ID }), l.SellersRead)
	l.Listing = newLoader(wait, byID("listing", func(ctx context.Context, ids []string) ([]*store.Listing, error) {
		return st.ListingsByID(ctx, scope, ids)
	}, func(l *store.Listing) string { return l.ID }), func(found []*store.Listing) { l.ListingsRead(context.Background(), found, nil) })
	l.Contacts = newLoader(wait, grouped(st.ContactsBySellerID, func(c *store.SellerContact) string { return c.SellerID }), nil)
	l.Locations = newLoader(wait, grouped(st.LocationsBySellerID, func(l *store.SellerLocation) string { return l.SellerID }), nil)
	l.Media = newLoader(wait, grouped(st.MediaByListingID, func(m *store.Media) string { return m.ListingID }), nil)
	l.StatusChanges = newLoader(wait, grouped(st.StatusChangesByLeadID,
		func(c *store.LeadStatusChange) string { return c.LeadID }), nil)
	l.Notification = newLoader(wait, optional(st.NotificationsByLeadID,
		func(n *store.LeadNotification) string { return n.LeadID }), nil)
	l.ListingStats = newLoader(wait, byPeriod(st.ListingStatsByID, func() *store.ListingStats { return &store.ListingStats{} }),
		nil).withVariants()
	l.SellerPerformance = newLoader(wait, byPeriod(st.SellerPerformanceByID,
		func() *store.SellerPerformance { return &store.SellerPerformance{} }), nil).withVariants()
	return l
}

// ListingsRead announces what listings read (a page, or a batch of the
// Listing loader) point at: their media and stats, their sellers and the
// sellers' locations (a listing's location is one of them). The sellers
// the page's statement read already (store.Page.Sellers) go into the
// Seller loader as they are.
func (l *Loaders) ListingsRead(ctx context.Context, items []*store.Listing, sellers []*store.Seller) {
	if len(items) == 0 {
		return
	}
	for _, s := range sellers {
		l.Seller.Prime(ctx, s.ID, s)
	}
	l.SellersRead(sellers)
	expect(distinct(items, func(x *store.Listing) string { return x.ID }), l.Media, l.ListingStats)
	expect(distinct(items, func(x *store.Listing) string { return x.SellerID }), l.Seller, l.Locations)
}

// expecter is a Loader of any kind, to announce ids to.
type expecter interface{ Expect(ids []string) }

// expect announces ids to each of loaders.
func expect(ids []string, loaders ...expecter) {
	for _, l := range loaders {
		l.Expect(ids)
	}
}

// SellersRead announces what sellers read point at: their contacts,
// locations and performance.
func (l *Loaders) SellersRead(items []*store.Seller) {
	if len(items) == 0 {
		return
	}
	expect(distinct(items, func(x *store.Seller) string { return x.ID }), l.Contacts, l.Locations, l.SellerPerformance)
}

// LeadsRead announces what a page of leads points at: their sellers and
// listings, notifications and status histories.
func (l *Loaders) LeadsRead(items []*store.Lead) {
	if len(items) == 0 {
		return
	}
	l.Seller.Expect(distinct(items, func(x *store.Lead) string { return x.SellerID }))
	var listings []*string
	for _, x := range items {
		if x.ListingID != nil {
			listings = append(listings, x.ListingID)
		}
	}
	l.Listing.Expect(distinct(listings, func(id *string) string { return *id }))
	expect(distinct(items, func(x *store.Lead) string { return x.ID }), l.Notification, l.StatusChanges)
}

// distinct returns the distinct keys of items, in first-seen order.
func distinct[T any](items []T, key func(T) string) []string {
	seen := make(map[string]struct{}, len(items))
	out := make([]string, 0, len(items))
	for _, it := range items {
		k := key(it)
		if _, ok := seen[k]; !ok {
			seen[k] = struct{}{}
			out = append(out, k)
		}
	}
	return out
}

// byID makes a batch function that returns one row per key, in key order,
// and NOT_FOUND for keys without a row.
func byID[V any](kind string, fetch func(context.Context, []string) ([]V, error), id func(V) string) dataloader.BatchFunc[string, V] {
	return keyed(fetch, id, store.NotFound(kind))
}

// optional makes a batch function that returns one row per key, in key
// order, and nil for keys without a row.
func optional[V any](fetch func(context.Context, []string) ([]V, error), id func(V) string) dataloader.BatchFunc[string, V] {
	return keyed(fetch, id, nil)
}

// keyed makes a batch function that returns one row per key, in key order,
// and missing (an error, or nil for a nil row) for keys without a row.
func keyed[V any](fetch func(context.Context, []string) ([]V, error), id func(V) string, missing error) dataloader.BatchFunc[string, V] {
	return func(ctx context.Context, keys []string) []*dataloader.Result[V] {
		rows, err := fetch(ctx, keys)
		found := make(map[string]V, len(rows))
		for _, r := range rows {
			found[id(r)] = r
		}
		out := make([]*dataloader.Result[V], len(keys))
		for i, k := range keys {
			v, ok := found[k]
			switch {
			case err != nil:
				out[i] = &dataloader.Result[V]{Error: err}
			case !ok:
				out[i] = &dataloader.Result[V]{Error: missing}
			default:
				out[i] = &dataloader.Result[V]{Data: v}
			}
		}
		return out
	}
}

// grouped makes a batch function that returns, per key, the rows whose
// group is that key (an empty list when there are none), in key order.
func grouped[V any](fetch func(context.Context, []string) ([]V, error), group func(V) string) dataloader.BatchFunc[string, []V] {
	return func(ctx context.Context, keys []string) []*dataloader.Result[[]V] {
		rows, err := fetch(ctx, keys)
		byKey := make(map[string][]V, len(keys))
		for _, r := range rows {
			byKey[group(r)] = append(byKey[group(r)], r)
		}
		out := make([]*dataloader.Result[[]V], len(keys))
		for i, k := range keys {
			out[i] = &dataloader.Result[[]V]{Data: byKey[k], Error: err}
		}
		return out
	}
}

type contextKey struct{}

// With returns ctx carrying l.
func With(ctx context.Context, l *Loaders) context.Context {
	return context.WithValue(ctx, contextKey{}, l)
}

// ErrMissing is returned by For when no loaders were put in the context: a
// wiring mistake, shown to callers as an internal error.
var ErrMissing = errors.New("loaders: none in context")

// For returns the request's loaders, or ErrMissing.
func For(ctx context.Context) (*Loaders, error) {
	l, ok := ctx.Value(contextKey{}).(*Loaders)
	if !ok {
		return nil, ErrMissing
	}
	return l, nil
}
