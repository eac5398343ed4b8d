package store

import (
	"context"

	"github.com/partsmarket/gateway/internal/tagcache"
)

// The tags of cached answers (internal/tagcache). Every public read adds
// the listings and sellers it returns to the entry being made (a cached
// response; there is none for callers with a token), and the lists whose
// membership it shows; every write through the store names the tags it
// changes in commitPublic.

// tagListings tags the entry ctx makes with the listings asked for (one
// that is not public now may become so) and the sellers of those found.
func tagListings(ctx context.Context, ids []string, found []*Listing) {
	col := tagcache.From(ctx)
	if col == nil {
		return
	}
	tagListingIDs(ctx, ids)
	for _, l := range found {
		col.Add(tagcache.Seller(l.SellerID))
	}
}

// tagListingList tags the entry ctx makes with a list of listings: the
// lists whose membership it shows and the listings it holds.
func tagListingList(ctx context.Context, lq ListingQuery, rows []*listingRow) {
	col := tagcache.From(ctx)
	if col == nil {
		return
	}
	col.Add(listMembership(lq))
	for _, r := range rows {
		col.Add(tagcache.Listing(r.ID), tagcache.Seller(r.SellerID))
	}
}

// listMembership is the tag of the lists lq answers: one seller's listings,
// or any other list.
func listMembership(lq ListingQuery) tagcache.Tag {
	if id, ok := text(lq.Filter.SellerID); ok {
		return tagcache.SellerLists(id)
	}
	return tagcache.AllLists
}

// tagSellers tags the entry ctx makes with sellers ids.
func tagSellers(ctx context.Context, ids ...string) {
	col := tagcache.From(ctx)
	if col == nil {
		return
	}
	for _, id := range ids {
		col.Add(tagcache.Seller(id))
	}
}

// tagAllLists tags the entry ctx makes as showing a list's membership (a
// count, a page of sellers).
func tagAllLists(ctx context.Context) {
	tagcache.From(ctx).Add(tagcache.AllLists)
}

// listingWrite returns the tags a write that left listing id of seller
// sellerID with status changes: the listing and the lists it may enter,
// leave or move in; a Removal unless it is public.
func listingWrite(id, sellerID string, status ListingStatus) []tagcache.Tag {
	tags := []tagcache.Tag{tagcache.Listing(id), tagcache.SellerLists(sellerID), tagcache.AllLists}
	if status != ListingActive {
		tags = append(tags, tagcache.Removal)
	}
	return tags
}

// sellerWrite returns the tags a write that left seller id with status
// changes: the seller, every listing of it, and the lists it or its
// listings may enter, leave or move in; a Removal unless it is public.
func sellerWrite(id string, status SellerStatus) []tagcache.Tag {
	tags := []tagcache.Tag{tagcache.Seller(id), tagcache.SellerLists(id), tagcache.AllLists}
	if status != SellerActive {
		tags = append(tags, tagcache.Removal)
	}
	return tags
}

// importWrite returns the tags an import chunk of seller id changes: every
// listing of it, as a Removal (it may pause or hide some).
func importWrite(id string) []tagcache.Tag {
	return []tagcache.Tag{tagcache.Seller(id), tagcache.SellerLists(id), tagcache.AllLists, tagcache.Removal}
}

// mediaWrite returns the tags a write to a media item of listing
// listingID changes: the listing only (media decide no list's membership).
func mediaWrite(listingID string) []tagcache.Tag {
	return []tagcache.Tag{tagcache.Listing(listingID)}
}

// tagListingIDs tags the entry ctx makes with listings ids (their media,
// say).
func tagListingIDs(ctx context.Context, listingIDs []string) {
	col := tagcache.From(ctx)
	if col == nil {
		return
	}
	for _, id := range listingIDs {
		col.Add(tagcache.Listing(id))
	}
}
