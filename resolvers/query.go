package resolvers

import (
	"context"
	"unicode/utf8"

	"github.com/partsmarket/gateway/graph/model"
	"github.com/partsmarket/gateway/internal/access"
	"github.com/partsmarket/gateway/internal/loaders"
	"github.com/partsmarket/gateway/internal/searchlog"
	"github.com/partsmarket/gateway/store"
)

// maxSearchLength bounds a search term, in characters.
const maxSearchLength = 200

func (r *queryResolver) Viewer(ctx context.Context) (*model.Viewer, error) {
	p := access.FromContext(ctx)
	v := &model.Viewer{}
	if !p.Anonymous() {
		v.Role = &p.Role
		if p.Subject != "" {
			v.Subject = &p.Subject
		}
		if p.Email != "" {
			v.Email = &p.Email
		}
	}
	return v, nil
}

func (r *viewerResolver) Seller(ctx context.Context, _ *model.Viewer) (*store.Seller, error) {
	p := access.FromContext(ctx)
	if p.SellerID == "" {
		return nil, nil
	}
	return load(ctx, sellerLoader, p.SellerID)
}

func (r *queryResolver) Listing(ctx context.Context, id string) (*store.Listing, error) {
	return load(ctx, listingLoader, id)
}

func (r *queryResolver) Listings(ctx context.Context, search *string, filter *store.ListingFilter, sort *store.ListingSort, first *int, after *string, last *int, before *string) (*model.ListingConnection, error) {
	term := deref(search)
	if utf8.RuneCountInString(term) > maxSearchLength {
		return nil, store.Invalid("search", "must be at most 200 characters")
	}
	q := store.ListingQuery{Scope: scope(ctx), Search: term, Filter: deref(filter), Sort: deref(sort)}
	args, err := pageArgs(first, after, last, before)
	if err != nil {
		return nil, err
	}
	conn, err := r.listings(ctx, q, args)
	if err != nil {
		return nil, err
	}
	// The search log records public searches from the operation
	// (searchlog.Recorder.Operations), cached or not; here it learns the
	// count of all matches.
	searchlog.Found(ctx, conn.Total)
	return conn, nil
}

// listings answers a listing query with a connection.
func (r *Resolver) listings(ctx context.Context, q store.ListingQuery, args store.PageArgs) (*model.ListingConnection, error) {
	p, err := r.Store.Listings(ctx, q, args)
	if err != nil {
		return nil, err
	}
	announce(ctx, func(l *loaders.Loaders) { l.ListingsRead(ctx, p.Items, p.Sellers) })
	return &model.ListingConnection{
		Edges:    edges(p, func(c string, n *store.Listing) *model.ListingEdge { return &model.ListingEdge{Cursor: c, Node: n} }),
		Nodes:    p.Items,
		PageInfo: pageInfo(p),
		Query:    q,
		Total:    p.Total,
		// Only a search estimates its count; CountListings is exact.
		TotalCountIsExact: p.Total == nil || p.TotalExact,
	}, nil
}

func (r *listingConnectionResolver) TotalCount(ctx context.Context, obj *model.ListingConnection) (int, error) {
	if obj.Total != nil {
		return *obj.Total, nil
	}
	return r.Store.CountListings(ctx, obj.Query)
}

func (r *queryResolver) Seller(ctx context.Context, id string) (*store.Seller, error) {
	return load(ctx, sellerLoader, id)
}

func (r *queryResolver) SellerBySlug(ctx context.Context, slug string) (*store.Seller, error) {
	return r.Store.SellerBySlug(ctx, scope(ctx), slug)
}

func (r *queryResolver) Sellers(ctx context.Context, filter *store.SellerFilter, sort *store.SellerSort, first *int, after *string, last *int, before *string) (*model.SellerConnection, error) {
	args, err := pageArgs(first, after, last, before)
	if err != nil {
		return nil, err
	}
	q := store.SellerQuery{Scope: scope(ctx), Filter: deref(filter), Sort: deref(sort),
		AllListings: access.FromContext(ctx).Role == access.RoleAdmin}
	var c check
	c.optional("filter.query", q.Filter.Query, 200)
	if err := c.errs.Err(); err != nil {
		return nil, fail(ctx, err)
	}
	p, err := r.Store.Sellers(ctx, q, args)
	if err != nil {
		return nil, err
	}
	announce(ctx, func(l *loaders.Loaders) { l.SellersRead(p.Items) })
	return &model.SellerConnection{
		Edges:    edges(p, func(c string, n *store.Seller) *model.SellerEdge { return &model.SellerEdge{Cursor: c, Node: n} }),
		Nodes:    p.Items,
		PageInfo: pageInfo(p),
		Query:    q,
	}, nil
}

func (r *sellerConnectionResolver) TotalCount(ctx context.Context, obj *model.SellerConnection) (int, error) {
	return r.Store.CountSellers(ctx, obj.Query)
}

func (r *queryResolver) Lead(ctx context.Context, id string) (*store.Lead, error) {
	p, err := signedIn(ctx)
	if err != nil {
		return nil, err
	}
	return r.Store.Lead(ctx, p.Scope(), id)
}

func (r *queryResolver) Leads(ctx context.Context, filter *store.LeadFilter, sort *store.LeadSort, first *int, after *string, last *int, before *string) (*model.LeadConnection, error) {
	p, err := signedIn(ctx)
	if err != nil {
		return nil, err
	}
	return r.leads(ctx, store.LeadQuery{Scope: p.Scope(), Filter: deref(filter), Sort: deref(sort)}, first, after, last, before)
}

// leads answers a lead query with a connection.
func (r *Resolver) leads(ctx context.Context, q store.LeadQuery, first *int, after *string, last *int, before *string) (*model.LeadConnection, error) {
	args, err := pageArgs(first, after, last, before)
	if err != nil {
		return nil, err
	}
	p, err := r.Store.Leads(ctx, q, args)
	if err != nil {
		return nil, err
	}
	announce(ctx, func(l *loaders.Loaders) { l.LeadsRead(p.Items) })
	return &model.LeadConnection{
		Edges:    edges(p, func(c string, n *store.Lead) *model.LeadEdge { return &model.LeadEdge{Cursor: c, Node: n} }),
		Nodes:    p.Items,
		PageInfo: pageInfo(p),
		Query:    q,
	}, nil
}

func (r *leadConnectionResolver) TotalCount(ctx context.Context, obj *model.LeadConnection) (int, error) {
	return r.Store.CountLeads(ctx, obj.Query)
}

// Report is one report the caller may see: about its own listing (a
// SELLER), or any (ADMIN, ANALYST); NOT_FOUND otherwise, UNAUTHENTICATED
// when anonymous.
func (r *queryResolver) Report(ctx context.Context, id string) (*store.ListingReport, error) {
	p, err := signedIn(ctx)
	if err != nil {
		return nil, err
	}
	return r.Store.Report(ctx, p.Scope(), id)
}

func (r *queryResolver) Reports(ctx context.Context, filter *store.ReportFilter, first *int, after *string, last *int, before *string) (*model.ListingReportConnection, error) {
	p, err := signedIn(ctx)
	if err != nil {
		return nil, err
	}
	args, err := pageArgs(first, after, last, before)
	if err != nil {
		return nil, err
	}
	q := store.ReportQuery{Scope: p.Scope(), Filter: deref(filter)}
	page, err := r.Store.Reports(ctx, q, args)
	if err != nil {
		return nil, err
	}
	return &model.ListingReportConnection{
		Edges: edges(page, func(c string, n *store.ListingReport) *model.ListingReportEdge {
			return &model.ListingReportEdge{Cursor: c, Node: n}
		}),
		Nodes:    page.Items,
		PageInfo: pageInfo(page),
		Query:    q,
	}, nil
}

func (r *listingReportConnectionResolver) TotalCount(ctx context.Context, obj *model.ListingReportConnection) (int, error) {
	return r.Store.CountReports(ctx, obj.Query)
}
