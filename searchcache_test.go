package main

import (
	"context"
	"testing"
	"time"

	"github.com/partsmarket/gateway/store"
)

// TestSearchCacheAcrossInstances: the public search is cached (a listing
// written behind the gateways' back does not show), and a listing written
// through another gateway instance shows within the lists' staleness
// (CACHE_LIST_STALENESS, short here), because its announcement on
// store.PublicChangedChannel carries the lists' tag, which this instance
// purges.
func TestSearchCacheAcrossInstances(t *testing.T) {
	first := newTestAPI(t, map[string]string{"CACHE_LIST_STALENESS": "100ms"})
	seller := first.mustSeller("Swing Yard", store.SellerActive)
	first.mustListing(seller.ID, "Swing motor", store.ListingActive)
	const q = `{ listings(search: "swing") { totalCount nodes { title } } }`
	total := func() float64 {
		t.Helper()
		r := first.mustPost("", q, nil)
		return r.Data["listings"].(map[string]any)["totalCount"].(float64)
	}
	time.Sleep(200 * time.Millisecond) // past the staleness, so the fixture's list purge is not pending
	if got := total(); got != 1 {
		t.Fatalf("first search: totalCount %v, want 1", got)
	}
	first.DB.MustExec(`INSERT INTO listings (seller_id, title, condition, status) VALUES ($1, 'Swing gear', 'USED', 'ACTIVE')`, seller.ID)
	if got := total(); got != 1 {
		t.Fatalf("after a write outside the gateway: totalCount %v, want the cached 1", got)
	}

	second := newTestAPIOn(t, first)
	through := store.New(first.DB, store.WithInvalidator(second.app.invalidator))
	if _, err := through.CreateListing(context.Background(), store.NewListing{SellerID: seller.ID, Title: "Swing bearing",
		Condition: store.ConditionNew, Status: store.ListingActive}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(liveWait)
	for total() != 3 {
		if time.Now().After(deadline) {
			t.Fatalf("the first instance still answers %v listings %v after the second's write, want 3", total(), liveWait)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
