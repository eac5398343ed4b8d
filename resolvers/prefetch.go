package resolvers

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/graph-gophers/dataloader/v7"

	"github.com/partsmarket/gateway/internal/loaders"
	"github.com/partsmarket/gateway/store"
)

// Prefetching: when a connection resolves, it already knows every row of the
// page, so it starts one loader batch per related kind that the query
// selects below it. The rows' own field resolvers then find their values in
// the loaders' caches. Batches thus hold the whole page whatever the
// scheduling of resolver goroutines, and a page costs one statement per
// related kind.

// selection is the set of fields a query selects at one place.
type selection struct {
	op     *graphql.OperationContext
	fields []graphql.CollectedField
}

// nodeSelection returns what the current connection field selects on its
// nodes, through `edges { node }` and `nodes` alike.
func nodeSelection(ctx context.Context, typeName string) selection {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || !graphql.HasOperationContext(ctx) {
		return selection{}
	}
	top := selection{op: graphql.GetOperationContext(ctx), fields: graphql.CollectFields(graphql.GetOperationContext(ctx), fc.Field.Selections, nil)}
	nodes := top.child("nodes", typeName)
	nodes.fields = append(nodes.fields, top.child("edges", "").child("node", typeName).fields...)
	return nodes
}

// child returns what is selected below every occurrence of field name.
func (s selection) child(name, typeName string) selection {
	out := selection{op: s.op}
	var satisfies []string
	if typeName != "" {
		satisfies = []string{typeName}
	}
	for _, f := range s.fields {
		if f.Name == name {
			out.fields = append(out.fields, graphql.CollectFields(s.op, f.Selections, satisfies)...)
		}
	}
	return out
}

// has reports whether field name is selected.
func (s selection) has(name string) bool {
	for _, f := range s.fields {
		if f.Name == name {
			return true
		}
	}
	return false
}

// prefetchListings starts the batches a page of listings will need.
func prefetchListings(ctx context.Context, sel selection, items []*store.Listing) {
	ld, err := loaders.For(ctx)
	if err != nil || len(items) == 0 {
		return
	}
	sellerIDs := distinct(items, func(l *store.Listing) string { return l.SellerID })
	if sel.has("seller") {
		prefetchSellers(ctx, ld, sel.child("seller", "Seller"), sellerIDs)
	}
	if sel.has("location") {
		enqueue(ctx, ld.Locations, sellerIDs)
	}
	if sel.has("media") {
		enqueue(ctx, ld.Media, distinct(items, func(l *store.Listing) string { return l.ID }))
	}
}

// prefetchSellers starts the batches that sellers ids will need, the
// sellers themselves included.
func prefetchSellers(ctx context.Context, ld *loaders.Loaders, sel selection, ids []string) {
	enqueue(ctx, ld.Seller, ids)
	if sel.has("contacts") {
		enqueue(ctx, ld.Contacts, ids)
	}
	if sel.has("locations") {
		enqueue(ctx, ld.Locations, ids)
	}
}

// prefetchSellerPage starts the batches a page of sellers will need.
func prefetchSellerPage(ctx context.Context, sel selection, items []*store.Seller) {
	ld, err := loaders.For(ctx)
	if err != nil || len(items) == 0 {
		return
	}
	ids := distinct(items, func(s *store.Seller) string { return s.ID })
	if sel.has("contacts") {
		enqueue(ctx, ld.Contacts, ids)
	}
	if sel.has("locations") {
		enqueue(ctx, ld.Locations, ids)
	}
}

// prefetchLeads starts the batches a page of leads will need.
func prefetchLeads(ctx context.Context, sel selection, items []*store.Lead) {
	ld, err := loaders.For(ctx)
	if err != nil || len(items) == 0 {
		return
	}
	if sel.has("seller") {
		prefetchSellers(ctx, ld, sel.child("seller", "Seller"), distinct(items, func(l *store.Lead) string { return l.SellerID }))
	}
	if sel.has("listing") {
		var ids []string
		for _, l := range items {
			if l.ListingID != nil {
				ids = append(ids, *l.ListingID)
			}
		}
		enqueue(ctx, ld.Listing, distinct(ids, func(s string) string { return s }))
	}
}

// enqueue adds keys to a loader's pending batch without waiting for it.
// (dataloader's LoadMany enqueues from goroutines, which races with the
// batch timer; Load enqueues before it returns.)
func enqueue[V any](ctx context.Context, l *dataloader.Loader[string, V], keys []string) {
	for _, k := range keys {
		l.Load(ctx, k)
	}
}

// distinct returns the distinct keys of items, in first-seen order.
func distinct[T any](items []T, key func(T) string) []string {
	seen := make(map[string]bool, len(items))
	var out []string
	for _, it := range items {
		if k := key(it); !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}
