// Package loaders batches the reads of one request with dataloader v7: the
// sellers, listings, contacts, locations and media that a page of results
// points at are read with one statement per kind, whatever the page size.
// Loaders are made per request, because what they return depends on who asks.
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
	// NotificationSettings loads a seller's lead-mail settings by seller id.
	// Access is the caller's check (@owner, @pii).
	NotificationSettings *Loader[*store.NotificationSettings]
	// Node loads any row by id alone (Relay's node field), under the same
	// access rules as the typed reads; NOT_FOUND for an id that does not
	// exist or that the caller may not see.
	Node *Loader[store.Node]
}

// Loader is a dataloader that can also be filled ahead of time.
type Loader[V any] struct {
	*dataloader.Loader[string, V]
	batch dataloader.BatchFunc[string, V]
}

// Prefetch reads keys now, in one batch, and primes the loader with what it
// finds, so that later Loads of those keys wait for nothing and send no
// statement. A page's resolver calls it with every key the page will need:
// unlike the timer-driven batch, the result does not depend on how the
// resolver goroutines happen to be scheduled. Keys that fail are left to
// Load, which reports their error.
func (l *Loader[V]) Prefetch(ctx context.Context, keys []string) {
	if len(keys) == 0 {
		return
	}
	for i, r := range l.batch(ctx, keys) {
		if r.Error == nil {
			l.Prime(ctx, keys[i], r.Data)
		}
	}
}

// New returns the loaders of one request whose caller sees scope; auditLog
// is set for a caller who may read the audit log (an admin).
func New(st *store.Store, scope store.Scope, auditLog bool, wait time.Duration) *Loaders {
	return &Loaders{
		Node: newLoader(wait, nodeBatch(st, scope, nodeReaders(st, scope, auditLog))),
		Seller: newLoader(wait, byID("seller", func(ctx context.Context, ids []string) ([]*store.Seller, error) {
			return st.SellersByID(ctx, scope, ids)
		}, func(s *store.Seller) string { return s.ID })),
		Listing: newLoader(wait, byID("listing", func(ctx context.Context, ids []string) ([]*store.Listing, error) {
			return st.ListingsByID(ctx, scope, ids)
		}, func(l *store.Listing) string { return l.ID })),
		Lead: newLoader(wait, byID("lead", func(ctx context.Context, ids []string) ([]*store.Lead, error) {
			return st.LeadsByID(ctx, scope, ids)
		}, func(l *store.Lead) string { return l.ID })),
		Contacts:  newLoader(wait, grouped(st.ContactsBySellerID, func(c *store.SellerContact) string { return c.SellerID })),
		Locations: newLoader(wait, grouped(st.LocationsBySellerID, func(l *store.SellerLocation) string { return l.SellerID })),
		Media:     newLoader(wait, grouped(st.MediaByListingID, func(m *store.Media) string { return m.ListingID })),
		StatusChanges: newLoader(wait, grouped(st.StatusChangesByLeadID,
			func(c *store.LeadStatusChange) string { return c.LeadID })),
		Notification: newLoader(wait, optional(st.NotificationsByLeadID,
			func(n *store.LeadNotification) string { return n.LeadID })),
		ListingStats: newLoader(wait, byPeriod(st.ListingStatsByID, func() *store.ListingStats { return &store.ListingStats{} })),
		SellerPerformance: newLoader(wait, byPeriod(st.SellerPerformanceByID,
			func() *store.SellerPerformance { return &store.SellerPerformance{} })),
		NotificationSettings: newLoader(wait, byID("seller", st.NotificationSettingsBySellerID,
			func(n *store.NotificationSettings) string { return n.SellerID })),
	}
}

func newLoader[V any](wait time.Duration, batch dataloader.BatchFunc[string, V]) *Loader[V] {
	return &Loader[V]{Loader: dataloader.NewBatchedLoader(batch, dataloader.WithWait[string, V](wait)), batch: batch}
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
