package main

import (
	"context"
	"strings"
	"testing"

	"github.com/partsmarket/gateway/store"
)

// listingPage is the public listing page the response cache tests ask for.
const listingPage = `query Page($id: ID!) { listing(id: $id) { title media { url } seller { contacts { value } } } }`

// TestResponseCache: an anonymous query asked again is answered from memory
// (no SQL, the same data, its cost still charged), a write behind the
// gateway's back does not show, a token's caller always sees fresh data,
// and a write through the gateway (a listing's media, a seller's contacts)
// shows at once.
func TestResponseCache(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	ctx := context.Background()
	vars := map[string]any{"id": f.ListingA.ID}

	first := api.postWithID("rc-first", "", listingPage, vars)
	again := api.postWithID("rc-again", "", listingPage, vars)
	if len(first.Errors) > 0 || len(again.Errors) > 0 {
		t.Fatalf("errors: %s / %s", first.Raw, again.Raw)
	}
	if n := api.statementsOf("rc-first"); n == 0 {
		t.Fatal("the first request ran no SQL; the probe cannot show a cache hit")
	}
	if n := api.statementsOf("rc-again"); n != 0 {
		t.Errorf("the repeated query ran %d SQL statements, want 0 (a cache hit)", n)
	}
	if first.Get("listing.title") != again.Get("listing.title") || !strings.Contains(again.Raw, `"cost":{"requestedQueryCost"`) {
		t.Errorf("a hit differs from the first answer or lacks extensions.cost:\n%s\n%s", first.Raw, again.Raw)
	}
	m := api.scrapeMetrics()
	wantMetric(t, m, "gateway_response_cache_lookups_total", map[string]string{"result": "miss"}, 1)
	wantMetric(t, m, "gateway_response_cache_lookups_total", map[string]string{"result": "hit"}, 1)

	api.DB.MustExec(`UPDATE listings SET title = 'Changed behind the gateway' WHERE id = $1`, f.ListingA.ID)
	if got := api.mustPost("", listingPage, vars).Get("listing.title"); got != "Hydraulic pump 1R-0750" {
		t.Errorf("after a write outside the gateway the public sees %v, want the cached title", got)
	}
	if got := api.mustPost(f.TokenA, listingPage, vars).Get("listing.title"); got != "Changed behind the gateway" {
		t.Errorf("the seller sees %v, want its fresh title: a token's queries are never cached", got)
	}
	if got := api.mustPost("", listingPage, map[string]any{"id": f.ListingB.ID}).Get("listing.title"); got != "Injector RE504836" {
		t.Errorf("another listing's page shows %v: variables are part of the key", got)
	}

	if _, err := api.Store.AddMedia(ctx, store.NewMedia{ListingID: f.ListingA.ID, URL: "https://img.example.com/pump.jpg"}); err != nil {
		t.Fatal(err)
	}
	r := api.mustPost("", listingPage, vars)
	if r.Get("listing.title") != "Changed behind the gateway" || !strings.Contains(r.Raw, "https://img.example.com/pump.jpg") {
		t.Errorf("after a media write through the gateway: %s", r.Raw)
	}
	contacts := []store.NewContact{{Kind: store.ContactPhone, Value: "+1 555 010 9999"}}
	if _, err := api.Store.UpdateSellerProfile(ctx, f.SellerA.ID, store.SellerProfile{Contacts: &contacts}); err != nil {
		t.Fatal(err)
	}
	if got := api.mustPost("", listingPage, vars).Get("listing.seller.contacts.0.value"); got != "+1 555 010 9999" {
		t.Errorf("after a contact write through the gateway the page shows %v", got)
	}
}

// TestResponseCacheSkipsErrors: a response with errors is never kept.
func TestResponseCacheSkipsErrors(t *testing.T) {
	api := newTestAPI(t, nil)
	vars := map[string]any{"id": "00000000-0000-4000-8000-000000000000"}
	for _, id := range []string{"rc-missing-1", "rc-missing-2"} {
		if r := api.postWithID(id, "", listingPage, vars); len(r.Errors) == 0 {
			t.Fatalf("a missing listing answered without an error: %s", r.Raw)
		}
	}
	if n := api.statementsOf("rc-missing-2"); n == 0 {
		t.Error("the repeated failing query ran no SQL: its error response was cached")
	}
}

// TestResponseCacheRecordsEverySearch: a public search answered from the
// cache is still recorded in the search log, once per request.
func TestResponseCacheRecordsEverySearch(t *testing.T) {
	api := newTestAPI(t, map[string]string{"EVENT_FLUSH_INTERVAL": "50ms"})
	api.newFixture()
	const q = `{ listings(search: "injector") { totalCount } }`
	api.postWithID("rc-search-1", "", q, nil)
	api.postWithID("rc-search-2", "", q, nil)
	if n := api.statementsOf("rc-search-2"); n != 0 {
		t.Fatalf("the repeated search ran %d SQL statements, want a cache hit", n)
	}
	mutEventually(t, "two searches recorded (one of them a cache hit)", func() bool {
		var n int
		api.DB.Get(&n, `SELECT count(*) FROM search_queries WHERE term = 'injector' AND result_count = 1`)
		return n == 2
	})
}

// TestResponseCacheAcrossInstances: a write through another gateway
// instance (here a media item) shows at once here, because its announcement
// on store.PublicChangedChannel starts a new generation of this instance's
// response cache.
func TestResponseCacheAcrossInstances(t *testing.T) {
	first := newTestAPI(t, nil)
	f := first.newFixture()
	vars := map[string]any{"id": f.ListingB.ID}
	const url = "https://img.example.com/injector.jpg"
	if r := first.mustPost("", listingPage, vars); strings.Contains(r.Raw, url) {
		t.Fatalf("the fixture's listing has the new image already: %s", r.Raw)
	}
	second := newTestAPIOn(t, first)
	through := store.New(first.DB, store.OnPublicWrite(second.app.responses.Invalidate))
	if _, err := through.AddMedia(context.Background(), store.NewMedia{ListingID: f.ListingB.ID, URL: url}); err != nil {
		t.Fatal(err)
	}
	mutEventually(t, "the other instance's media write shows here", func() bool {
		return strings.Contains(first.mustPost("", listingPage, vars).Raw, url)
	})
}
