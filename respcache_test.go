package main

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

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
// on store.PublicChangedChannel carries the listing's tag, and this
// instance purges the responses showing it.
func TestResponseCacheAcrossInstances(t *testing.T) {
	first := newTestAPI(t, nil)
	f := first.newFixture()
	vars := map[string]any{"id": f.ListingB.ID}
	const url = "https://img.example.com/injector.jpg"
	if r := first.mustPost("", listingPage, vars); strings.Contains(r.Raw, url) {
		t.Fatalf("the fixture's listing has the new image already: %s", r.Raw)
	}
	second := newTestAPIOn(t, first)
	through := store.New(first.DB, store.WithInvalidator(second.app.invalidator))
	if _, err := through.AddMedia(context.Background(), store.NewMedia{ListingID: f.ListingB.ID, URL: url}); err != nil {
		t.Fatal(err)
	}
	mutEventually(t, "the other instance's media write shows here", func() bool {
		return strings.Contains(first.mustPost("", listingPage, vars).Raw, url)
	})
}

// listingAndSearch are a listing's page and a search that finds
// ListingA ("Hydraulic pump 1R-0750") of the fixture.
const (
	listingDetail = `query Detail($id: ID!) { listing(id: $id) { id title priceCents } }`
	pumpSearch    = `{ listings(search: "pump") { totalCount nodes { id title } } }`
)

// TestResponseCacheTagInvalidation: a write to listing A purges A's page
// and the cached search that shows A, and leaves listing B's page cached
// (statement counts tell a hit from a miss).
func TestResponseCacheTagInvalidation(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	pageA, pageB := map[string]any{"id": f.ListingA.ID}, map[string]any{"id": f.ListingB.ID}
	api.postWithID("tag-a-1", "", listingDetail, pageA)
	api.postWithID("tag-b-1", "", listingDetail, pageB)
	if r := api.postWithID("tag-s-1", "", pumpSearch, nil); !strings.Contains(r.Raw, f.ListingA.ID) {
		t.Fatalf("the search does not find listing A: %s", r.Raw)
	}
	for _, id := range []string{"tag-a-1", "tag-b-1", "tag-s-1"} {
		if api.statementsOf(id) == 0 {
			t.Fatalf("%s ran no SQL: the probe cannot tell a hit", id)
		}
	}
	api.postWithID("tag-a-2", "", listingDetail, pageA)
	api.postWithID("tag-s-2", "", pumpSearch, nil)
	if n := api.statementsOf("tag-a-2") + api.statementsOf("tag-s-2"); n != 0 {
		t.Fatalf("the repeated page and search ran %d statements, want cache hits", n)
	}

	r := api.mustPost(f.TokenA, `mutation($id: ID!) { updateListing(id: $id, input: {priceCents: 4242}) { listing { id } } }`, pageA)
	if len(r.Errors) > 0 {
		t.Fatalf("updateListing: %s", r.Raw)
	}
	if got := api.postWithID("tag-a-3", "", listingDetail, pageA).Get("listing.priceCents"); got != 4242.0 {
		t.Errorf("listing A's page shows price %v after the write, want 4242", got)
	}
	if api.statementsOf("tag-a-3") == 0 {
		t.Error("listing A's page was answered from the cache after a write to A")
	}
	api.postWithID("tag-s-3", "", pumpSearch, nil)
	if api.statementsOf("tag-s-3") == 0 {
		t.Error("the search showing A was answered from the cache after a write to A")
	}
	api.postWithID("tag-b-2", "", listingDetail, pageB)
	if n := api.statementsOf("tag-b-2"); n != 0 {
		t.Errorf("listing B's page ran %d statements after a write to A, want a cache hit", n)
	}
}

// TestRemovalNeverShows: once removeListing returns, the removed listing
// shows neither on its page nor in a cached search of the instance that
// served it, and disappears from those of a second instance on the same
// database (polled with a bound); so does a suspended seller's listing.
func TestRemovalNeverShows(t *testing.T) {
	first := newTestAPI(t, nil)
	f := first.newFixture()
	second := newTestAPIOn(t, first)
	const sellerPage = `query($id: ID!) { listing(id: $id) { id title seller { companyName } } }`
	warm := func(api *testAPI) {
		t.Helper()
		for range 2 {
			if r := api.mustPost("", listingDetail, map[string]any{"id": f.ListingA.ID}); r.Get("listing.id") != f.ListingA.ID {
				t.Fatalf("listing A's page before the removal: %s", r.Raw)
			}
			if r := api.mustPost("", pumpSearch, nil); !strings.Contains(r.Raw, f.ListingA.ID) {
				t.Fatalf("the search before the removal: %s", r.Raw)
			}
			if r := api.mustPost("", sellerPage, map[string]any{"id": f.ListingB.ID}); r.Get("listing.id") != f.ListingB.ID {
				t.Fatalf("listing B's page before the suspension: %s", r.Raw)
			}
		}
	}
	warm(first)
	warm(second)
	shows := func(api *testAPI) (removed, suspended bool) {
		page := api.post("", listingDetail, map[string]any{"id": f.ListingA.ID})
		search := api.post("", pumpSearch, nil)
		removed = page.Get("listing.id") != nil || strings.Contains(search.Raw, f.ListingA.ID)
		suspended = api.post("", sellerPage, map[string]any{"id": f.ListingB.ID}).Get("listing.id") != nil
		return removed, suspended
	}

	if r := first.mustPost(f.Admin, `mutation($id: ID!) { removeListing(id: $id, reason: "Counterfeit") { listing { id } } }`,
		map[string]any{"id": f.ListingA.ID}); len(r.Errors) > 0 {
		t.Fatalf("removeListing: %s", r.Raw)
	}
	if r := first.mustPost(f.Admin, `mutation($id: ID!) { setSellerStatus(id: $id, status: SUSPENDED) { seller { id } } }`,
		map[string]any{"id": f.SellerB.ID}); len(r.Errors) > 0 {
		t.Fatalf("setSellerStatus: %s", r.Raw)
	}
	if removed, suspended := shows(first); removed || suspended {
		t.Errorf("after the mutations returned, this instance shows the removed listing %v, the suspended seller's %v", removed, suspended)
	}
	deadline := time.Now().Add(liveWait)
	for {
		removed, suspended := shows(second)
		if !removed && !suspended {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the second instance still shows the removed listing %v, the suspended seller's %v", removed, suspended)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestHostileQueryStreamStaysBounded: a stream of thousands of distinct
// large anonymous queries (a new brand each time, with a 100-item status
// list) keeps both caches within their byte bounds (keys and tags
// counted), and once the gateway's bounded parse cache is full the live
// heap grows by no more than what the caches count: no key keeps its
// whole query.
func TestHostileQueryStreamStaysBounded(t *testing.T) {
	api := newTestAPI(t, map[string]string{"RATE_LIMIT_POINTS_PER_MINUTE": "100000000"})
	api.newFixture()
	statuses := strings.TrimSuffix(strings.Repeat("ACTIVE, ", 100), ", ")
	cached := func() int64 { return api.app.responses.Bytes() + api.app.searchCache.Bytes() }
	live := func() int64 {
		var m runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m)
		return int64(m.HeapAlloc)
	}
	var mid, midCached int64
	const n = 3000
	for i := range n {
		q := fmt.Sprintf(`{ listings(filter: {brand: "br%d", status: [%s]}) { totalCount nodes { id title } } }`, i, statuses)
		if r := api.post("", q, nil); len(r.Errors) > 0 {
			t.Fatalf("query %d: %s", i, r.Raw)
		}
		if got := api.app.responses.Bytes(); got > responseCacheBytes {
			t.Fatalf("after %d queries the response cache counts %d bytes, over its %d", i+1, got, responseCacheBytes)
		}
		if got := api.app.searchCache.Bytes(); got > searchCacheBytes {
			t.Fatalf("after %d queries the search cache counts %d bytes, over its %d", i+1, got, searchCacheBytes)
		}
		if i == n/3 {
			mid, midCached = live(), cached()
		}
	}
	end, endCached := live(), cached()
	const slack = 8 << 20
	if grown := end - mid; grown > endCached-midCached+slack {
		t.Errorf("the live heap grew by %d bytes over the last %d queries; the caches count %d more", grown, n-n/3, endCached-midCached)
	}
	t.Logf("live heap %d → %d bytes; the caches count %d → %d", mid, end, midCached, endCached)
}
