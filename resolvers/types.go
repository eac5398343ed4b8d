package resolvers

import (
	"context"

	"github.com/partsmarket/gateway/graph/model"
	"github.com/partsmarket/gateway/store"
)

func (r *sellerResolver) Contacts(ctx context.Context, obj *store.Seller) ([]*store.SellerContact, error) {
	return load(ctx, contactsLoader, obj.ID)
}

func (r *sellerResolver) Locations(ctx context.Context, obj *store.Seller) ([]*store.SellerLocation, error) {
	return load(ctx, locationsLoader, obj.ID)
}

func (r *sellerResolver) Listings(ctx context.Context, obj *store.Seller, filter *store.ListingFilter, sort *store.ListingSort, first *int, after *string, last *int, before *string) (*model.ListingConnection, error) {
	args, err := pageArgs(first, after, last, before)
	if err != nil {
		return nil, err
	}
	f := deref(filter)
	f.SellerID = &obj.ID
	return r.listings(ctx, store.ListingQuery{Scope: scope(ctx), Filter: f, Sort: deref(sort)}, args)
}

func (r *sellerResolver) Leads(ctx context.Context, obj *store.Seller, filter *store.LeadFilter, first *int, after *string, last *int, before *string) (*model.LeadConnection, error) {
	f := deref(filter)
	f.SellerID = &obj.ID
	return r.leads(ctx, store.LeadQuery{Scope: scope(ctx), Filter: f}, first, after, last, before)
}

func (r *listingResolver) Seller(ctx context.Context, obj *store.Listing) (*store.Seller, error) {
	return load(ctx, sellerLoader, obj.SellerID)
}

// Location is the listing's own location, or its seller's first.
func (r *listingResolver) Location(ctx context.Context, obj *store.Listing) (*store.SellerLocation, error) {
	locs, err := load(ctx, locationsLoader, obj.SellerID)
	if err != nil || len(locs) == 0 {
		return nil, err
	}
	for _, l := range locs {
		if obj.LocationID != nil && l.ID == *obj.LocationID {
			return l, nil
		}
	}
	return locs[0], nil
}

func (r *listingResolver) Media(ctx context.Context, obj *store.Listing) ([]*store.Media, error) {
	return load(ctx, mediaLoader, obj.ID)
}

func (r *listingResolver) Leads(ctx context.Context, obj *store.Listing, filter *store.LeadFilter, first *int, after *string, last *int, before *string) (*model.LeadConnection, error) {
	f := deref(filter)
	f.ListingID = &obj.ID
	return r.leads(ctx, store.LeadQuery{Scope: scope(ctx), Filter: f}, first, after, last, before)
}

func (r *leadResolver) Listing(ctx context.Context, obj *store.Lead) (*store.Listing, error) {
	if obj.ListingID == nil {
		return nil, nil
	}
	return load(ctx, listingLoader, *obj.ListingID)
}

func (r *leadResolver) Seller(ctx context.Context, obj *store.Lead) (*store.Seller, error) {
	return load(ctx, sellerLoader, obj.SellerID)
}

func (r *listingReportResolver) Listing(ctx context.Context, obj *store.ListingReport) (*store.Listing, error) {
	return load(ctx, listingLoader, obj.ListingID)
}

func (r *sellerResolver) NotificationEmail(ctx context.Context, obj *store.Seller) (*string, error) {
	n, err := load(ctx, notificationSettingsLoader, obj.ID)
	if err != nil {
		return nil, err
	}
	return n.Email, nil
}

func (r *sellerResolver) NotificationsMuted(ctx context.Context, obj *store.Seller) (*bool, error) {
	n, err := load(ctx, notificationSettingsLoader, obj.ID)
	if err != nil {
		return nil, err
	}
	return &n.Muted, nil
}
