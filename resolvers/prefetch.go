package resolvers

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/partsmarket/gateway/internal/loaders"
	"github.com/partsmarket/gateway/store"
)

// Prefetching: when a connection resolves, it already knows every row of the
// page, so it reads, in parallel and in one statement each, the related rows
// that the query selects below it, and primes the request's loaders with
// them. The rows' own field resolvers then find their values in the loaders'
// caches. A page thus costs one statement per related kind whatever its size
// and however the resolver goroutines are scheduled.

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
	op := graphql.GetOperationContext(ctx)
	top := selection{op: op, fields: graphql.CollectFields(op, fc.Field.Selections, nil)}
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

// periods returns the distinct periods that the occurrences of field name
// (stats, performance: arguments from and to) ask for; arguments that are
// not a valid period are left to the field's resolver to report.
func (s selection) periods(name string) []store.Period {
	var out []store.Period
	for _, f := range s.fields {
		if f.Name != name {
			continue
		}
		args := f.ArgumentMap(s.op.Variables)
		var bounds [2]*time.Time
		for i, arg := range []string{"from", "to"} {
			if v, ok := args[arg]; ok && v != nil {
				t, err := graphql.UnmarshalTime(v)
				if err != nil {
					continue
				}
				bounds[i] = &t
			}
		}
		if p, err := period(bounds[0], bounds[1], maxStatsDays); err == nil && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// statsKeys returns the stats loader keys of ids over p.
func statsKeys(ids []string, p store.Period) []string {
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = loaders.StatsKey(id, p)
	}
	return keys
}

// prefetches runs reads in parallel and waits for them all.
type prefetches struct{ wg sync.WaitGroup }

func (p *prefetches) run(read func()) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		read()
	}()
}

// prefetchListings primes what a page of listings will need.
func prefetchListings(ctx context.Context, sel selection, items []*store.Listing) {
	ld, err := loaders.For(ctx)
	if err != nil || len(items) == 0 {
		return
	}
	var p prefetches
	sellerIDs := distinct(items, func(l *store.Listing) string { return l.SellerID })
	if sel.has("seller") {
		prefetchSellers(ctx, &p, ld, sel.child("seller", "Seller"), sellerIDs)
	}
	if sel.has("location") && !sel.child("seller", "Seller").has("locations") {
		p.run(func() { ld.Locations.Prefetch(ctx, sellerIDs) })
	}
	if sel.has("media") {
		p.run(func() { ld.Media.Prefetch(ctx, distinct(items, func(l *store.Listing) string { return l.ID })) })
	}
	for _, period := range sel.periods("stats") {
		keys := statsKeys(distinct(items, func(l *store.Listing) string { return l.ID }), period)
		p.run(func() { ld.ListingStats.Prefetch(ctx, keys) })
	}
	p.wg.Wait()
}

// prefetchSellers primes sellers ids and what sel selects on them.
func prefetchSellers(ctx context.Context, p *prefetches, ld *loaders.Loaders, sel selection, ids []string) {
	p.run(func() { ld.Seller.Prefetch(ctx, ids) })
	if sel.has("contacts") {
		p.run(func() { ld.Contacts.Prefetch(ctx, ids) })
	}
	if sel.has("locations") {
		p.run(func() { ld.Locations.Prefetch(ctx, ids) })
	}
	for _, period := range sel.periods("performance") {
		keys := statsKeys(ids, period)
		p.run(func() { ld.SellerPerformance.Prefetch(ctx, keys) })
	}
}

// prefetchSellerPage primes what a page of sellers will need.
func prefetchSellerPage(ctx context.Context, sel selection, items []*store.Seller) {
	ld, err := loaders.For(ctx)
	if err != nil || len(items) == 0 {
		return
	}
	var p prefetches
	ids := distinct(items, func(s *store.Seller) string { return s.ID })
	if sel.has("contacts") {
		p.run(func() { ld.Contacts.Prefetch(ctx, ids) })
	}
	if sel.has("locations") {
		p.run(func() { ld.Locations.Prefetch(ctx, ids) })
	}
	p.wg.Wait()
}

// prefetchLeads primes what a page of leads will need.
func prefetchLeads(ctx context.Context, sel selection, items []*store.Lead) {
	ld, err := loaders.For(ctx)
	if err != nil || len(items) == 0 {
		return
	}
	var p prefetches
	if sel.has("seller") {
		prefetchSellers(ctx, &p, ld, sel.child("seller", "Seller"), distinct(items, func(l *store.Lead) string { return l.SellerID }))
	}
	if sel.has("listing") {
		var ids []string
		for _, l := range items {
			if l.ListingID != nil {
				ids = append(ids, *l.ListingID)
			}
		}
		p.run(func() { ld.Listing.Prefetch(ctx, distinct(ids, func(s string) string { return s })) })
	}
	if sel.has("notification") {
		p.run(func() { ld.Notification.Prefetch(ctx, distinct(items, func(l *store.Lead) string { return l.ID })) })
	}
	p.wg.Wait()
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
