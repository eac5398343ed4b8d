package resolvers

import (
	"context"

	"github.com/partsmarket/gateway/graph/model"
	"github.com/partsmarket/gateway/internal/access"
	"github.com/partsmarket/gateway/store"
)

func (r *mutationResolver) CreateListing(ctx context.Context, input model.CreateListingInput) (*model.CreateListingPayload, error) {
	if !access.FromContext(ctx).Manages(input.SellerID) {
		return nil, store.NotFound("seller")
	}
	if _, err := load(ctx, sellerLoader, input.SellerID); err != nil {
		return nil, err
	}
	var c check
	n := store.NewListing{
		SellerID:   input.SellerID,
		Title:      c.required("input.title", input.Title, 200),
		Condition:  input.Condition,
		Quantity:   input.Quantity,
		PriceCents: input.PriceCents,
		Status:     store.ListingDraft,
	}
	n.ListingText = listingText(&c, store.ListingText{
		Description: input.Description, PartNumber: input.PartNumber, SKU: input.Sku, Brand: input.Brand,
		Category: input.Category, PriceLabel: input.PriceLabel, Currency: input.Currency, LocationID: input.LocationID,
	}, (*check).optional)
	c.atLeast("input.quantity", n.Quantity, 0)
	c.atLeast("input.priceCents", n.PriceCents, 0)
	if input.Status != nil {
		if *input.Status == store.ListingRemoved {
			c.errs.Add("input.status", "only an admin removes listings")
		}
		n.Status = *input.Status
	}
	if err := c.errs.Err(); err != nil {
		return nil, fail(ctx, err)
	}
	l, err := r.Store.CreateListing(ctx, n)
	if err != nil {
		return nil, inInput(err)
	}
	return &model.CreateListingPayload{Listing: l}, nil
}

func (r *mutationResolver) UpdateListing(ctx context.Context, id string, input model.UpdateListingInput) (*model.UpdateListingPayload, error) {
	if _, err := r.managedListing(ctx, id); err != nil {
		return nil, err
	}
	var c check
	ch := store.ListingChanges{Condition: input.Condition, Quantity: input.Quantity, PriceCents: input.PriceCents}
	if input.Title != nil {
		title := c.required("input.title", *input.Title, 200)
		ch.Title = &title
	}
	ch.ListingText = listingText(&c, store.ListingText{
		Description: input.Description, PartNumber: input.PartNumber, SKU: input.Sku, Brand: input.Brand,
		Category: input.Category, PriceLabel: input.PriceLabel, Currency: input.Currency, LocationID: input.LocationID,
	}, (*check).patch)
	c.atLeast("input.quantity", ch.Quantity, 0)
	c.atLeast("input.priceCents", ch.PriceCents, 0)
	if ch.LocationID != nil && *ch.LocationID == "" {
		ch.LocationID = nil
	}
	if err := c.errs.Err(); err != nil {
		return nil, fail(ctx, err)
	}
	l, err := r.Store.UpdateListing(ctx, id, ch)
	if err != nil {
		return nil, inInput(err)
	}
	return &model.UpdateListingPayload{Listing: l}, nil
}

// listingText checks the optional text fields of a listing input with text
// (optional for a new listing, patch for a change).
func listingText(c *check, in store.ListingText, text func(*check, string, *string, int) *string) store.ListingText {
	out := store.ListingText{
		Description: text(c, "input.description", in.Description, 10000),
		PartNumber:  text(c, "input.partNumber", in.PartNumber, 100),
		SKU:         text(c, "input.sku", in.SKU, 100),
		Brand:       text(c, "input.brand", in.Brand, 100),
		Category:    text(c, "input.category", in.Category, 100),
		PriceLabel:  text(c, "input.priceLabel", in.PriceLabel, 100),
		Currency:    text(c, "input.currency", in.Currency, 3),
		LocationID:  text(c, "input.locationId", in.LocationID, 36),
	}
	if out.Currency != nil && *out.Currency != "" {
		out.Currency = c.code("input.currency", out.Currency, currencyCode, "an ISO 4217 currency code")
	}
	c.wellFormedID("input.locationId", out.LocationID, "not a location of this seller")
	return out
}

func (r *mutationResolver) SetListingStatus(ctx context.Context, id string, status store.ListingStatus) (*model.SetListingStatusPayload, error) {
	if _, err := r.managedListing(ctx, id); err != nil {
		return nil, err
	}
	l, err := r.Store.SetListingStatus(ctx, id, status, listingMove(access.FromContext(ctx)))
	if err != nil {
		return nil, err
	}
	return &model.SetListingStatusPayload{Listing: l}, nil
}

// listingMove is the rule of a listing's status for p: only an admin sets or
// lifts REMOVED. The store applies it to the locked listing, so an admin's
// removal cannot be undone by a seller's change racing it.
func listingMove(p access.Principal) store.StatusRule[store.ListingStatus] {
	return func(from, to store.ListingStatus) error {
		if (to == store.ListingRemoved || from == store.ListingRemoved) && p.Role != access.RoleAdmin {
			return store.Errorf(store.EFORBIDDEN, "only an admin sets or lifts REMOVED")
		}
		return nil
	}
}

func (r *mutationResolver) RemoveListing(ctx context.Context, id string, reason string) (*model.RemoveListingPayload, error) {
	var c check
	why := c.required("reason", reason, 2000)
	if err := c.errs.Err(); err != nil {
		return nil, fail(ctx, err)
	}
	l, err := r.Store.RemoveListing(ctx, id, why)
	if err != nil {
		return nil, err
	}
	return &model.RemoveListingPayload{Listing: l}, nil
}

// managedListing returns listing id when the caller manages its seller, and
// NOT_FOUND otherwise, whether or not it exists.
func (r *Resolver) managedListing(ctx context.Context, id string) (*store.Listing, error) {
	l, err := r.Store.Listing(ctx, store.Scope{All: true}, id)
	if err != nil {
		return nil, err
	}
	if !access.FromContext(ctx).Manages(l.SellerID) {
		return nil, store.NotFound("listing")
	}
	return l, nil
}
