package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/partsmarket/gateway/internal/tagcache"
	"github.com/partsmarket/gateway/internal/testdb"
	"github.com/partsmarket/gateway/store"
)

// cachedStores returns two stores on one fresh database that share a search
// cache of ttl and its invalidator, which purges a list tag at most every
// listEvery (as the gateway's HTTP and worker stores do), and the database
// for writes that bypass them (another instance's, say).
func cachedStores(t *testing.T, ttl, listEvery time.Duration) (*store.Store, *store.Store, *sqlx.DB) {
	t.Helper()
	db := sqlx.MustConnect("postgres", testdb.New(t))
	t.Cleanup(func() { _ = db.Close() })
	cache := store.WithSearchCache(store.NewSearchCache(tagcache.NewInvalidator(listEvery), ttl, 1<<20, 2))
	return store.New(db, cache), store.New(db, cache), db
}

// search runs a first page of a search for term in scope.
func search(t *testing.T, st *store.Store, scope store.Scope, term string) store.Page[*store.Listing] {
	t.Helper()
	p, err := st.Listings(t.Context(), store.ListingQuery{Scope: scope, Search: term}, store.PageArgs{Limit: 20})
	mustOK(t, err, "Listings")
	return p
}

// titles returns the titles of a page's listings, in order.
func titles(p store.Page[*store.Listing]) []string {
	var out []string
	for _, l := range p.Items {
		out = append(out, l.Title)
	}
	return out
}

// TestSearchCacheAnswersAgainWithCurrentRows: a public search asked again,
// in any case and spacing, is answered from the cache (a listing that
// stopped matching behind the store's back is still found) with the
// listings as they are now (its new title), and a listing that is no longer
// public is left out at once.
func TestSearchCacheAnswersAgainWithCurrentRows(t *testing.T) {
	t.Parallel()
	st, _, db := cachedStores(t, time.Hour, time.Hour)
	seller := MustCreateActiveSeller(t, st, "Cache Yard")
	pump := MustCreateListing(t, st, store.NewListing{SellerID: seller.ID, Title: "Hydraulic pump", Condition: store.ConditionUsed})
	valve := MustCreateListing(t, st, store.NewListing{SellerID: seller.ID, Title: "Hydraulic valve", Condition: store.ConditionUsed})

	first := search(t, st, store.Scope{}, "hydraulic")
	if len(first.Items) != 2 || first.Total == nil || *first.Total != 2 {
		t.Fatalf("first search: %v total %v, want 2 listings", titles(first), first.Total)
	}
	db.MustExec(`UPDATE listings SET title = 'Gear pump' WHERE id = $1`, pump.ID)
	again := search(t, st, store.Scope{}, "hydraulic")
	if got := titles(again); len(got) != 2 || !slices.Contains(got, "Gear pump") {
		t.Errorf("cached search: got %v, want the cached matches with the current title \"Gear pump\"", got)
	}
	if again.Total == nil || *again.Total != 2 || len(again.Cursors) != len(again.Items) {
		t.Errorf("cached search: total %v, %d cursors for %d items", again.Total, len(again.Cursors), len(again.Items))
	}
	// The same search in other case and spacing shares the answer.
	if got := titles(search(t, st, store.Scope{}, "  HYDRAULIC\t")); len(got) != 2 || !slices.Contains(got, "Gear pump") {
		t.Errorf("the search in capitals: got %v, want the cached answer", got)
	}

	db.MustExec(`UPDATE listings SET status = 'PAUSED' WHERE id = $1`, valve.ID)
	if got := titles(search(t, st, store.Scope{}, "hydraulic")); len(got) != 1 || got[0] != "Gear pump" {
		t.Errorf("after pausing the valve: got %v, want only the pump", got)
	}
	// Signed-in scopes are never cached: the seller sees the truth.
	if got := titles(search(t, st, store.Scope{SellerID: seller.ID}, "hydraulic")); len(got) != 1 || got[0] != "Hydraulic valve" {
		t.Errorf("seller's search: got %v, want only its paused valve", got)
	}
}

// TestSearchCacheWritesShow: a write through any store that shares the
// cache shows in the cached search: a removal at once (the listings are
// read again), a new or changed listing within the invalidator's
// ListEvery and the refresh of the stale answer; an answer that does not
// hold a listing purged by tag stays fresh.
func TestSearchCacheWritesShow(t *testing.T) {
	t.Parallel()
	const every = 50 * time.Millisecond
	st, worker, _ := cachedStores(t, time.Hour, every)
	seller := MustCreateActiveSeller(t, st, "Generation Yard")
	first := MustCreateListing(t, st, store.NewListing{SellerID: seller.ID, Title: "Alternator 24V", Condition: store.ConditionNew})
	if got := search(t, st, store.Scope{}, "alternator"); len(got.Items) != 1 {
		t.Fatalf("first search: %v, want 1 listing", titles(got))
	}
	eventually := func(what string, ok func(store.Page[*store.Listing]) bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for p := search(t, st, store.Scope{}, "alternator"); !ok(p); p = search(t, st, store.Scope{}, "alternator") {
			if time.Now().After(deadline) {
				t.Fatalf("%s: still %v", what, titles(p))
			}
			time.Sleep(every / 5)
		}
	}
	MustCreateListing(t, worker, store.NewListing{SellerID: seller.ID, Title: "Alternator 12V", Condition: store.ConditionNew})
	eventually("another store's new listing", func(p store.Page[*store.Listing]) bool { return len(p.Items) == 2 && *p.Total == 2 })
	l := MustCreateListing(t, st, store.NewListing{SellerID: seller.ID, Title: "Starter", Condition: store.ConditionNew})
	if _, err := st.UpdateListing(t.Context(), l.ID, store.ListingChanges{Title: ptr("Alternator bracket")}); err != nil {
		t.Fatal(err)
	}
	eventually("an update", func(p store.Page[*store.Listing]) bool { return len(p.Items) == 3 })
	if _, err := worker.RemoveListing(t.Context(), first.ID, "test"); err != nil {
		t.Fatal(err)
	}
	if got := titles(search(t, st, store.Scope{}, "alternator")); slices.Contains(got, "Alternator 24V") {
		t.Errorf("the removed listing still shows: %v", got)
	}
}

// TestSearchCacheSharedSearchOutlivesItsFirstCaller: when the caller whose
// miss started a shared search leaves, the search goes on: the callers
// waiting on it get their answers, and the one that left stops waiting at
// once.
func TestSearchCacheSharedSearchOutlivesItsFirstCaller(t *testing.T) {
	t.Parallel()
	st, _, db := cachedStores(t, time.Hour, time.Hour)
	seller := MustCreateActiveSeller(t, st, "Shared Yard")
	for i := range 3 {
		MustCreateListing(t, st, store.NewListing{SellerID: seller.ID, Title: fmt.Sprintf("Idler wheel %d", i)})
	}
	// Hold the search: it waits for the table lock until the test lets go.
	lock := db.MustBegin()
	defer func() { _ = lock.Rollback() }()
	lock.MustExec(`LOCK TABLE listings IN ACCESS EXCLUSIVE MODE`)

	firstCtx, leave := context.WithCancel(t.Context())
	firstErr := make(chan error, 1)
	go func() {
		_, err := st.Listings(firstCtx, store.ListingQuery{Search: "idler"}, store.PageArgs{Limit: 20})
		firstErr <- err
	}()
	deadline := time.Now().Add(10 * time.Second)
	for waiting := 0; waiting == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the first search never reached the database")
		}
		time.Sleep(10 * time.Millisecond)
		db.Get(&waiting, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)
	}
	pages := make([]store.Page[*store.Listing], 4)
	errs := make([]error, len(pages))
	var wg sync.WaitGroup
	for i := range pages {
		wg.Go(func() {
			pages[i], errs[i] = st.Listings(t.Context(), store.ListingQuery{Search: "idler"}, store.PageArgs{Limit: 20})
		})
	}
	time.Sleep(100 * time.Millisecond) // lets the others join the search waiting for the lock
	leave()
	select {
	case err := <-firstErr:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("the caller that left got %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the caller that left is still waiting on the shared search")
	}
	var running int
	db.Get(&running, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)
	if running != 1 {
		t.Errorf("%d searches wait for the lock after the first caller left, want the one shared search", running)
	}
	mustOK(t, lock.Rollback(), "release the lock")
	wg.Wait()
	for i := range pages {
		if errs[i] != nil || len(pages[i].Items) != 3 {
			t.Errorf("caller %d: %v, %d listings; want the 3 listings of the shared search", i, errs[i], len(pages[i].Items))
		}
	}
}

// TestSearchCacheExpires: a write the stores did not make (another
// instance's) shows once the TTL has passed: the first search after it
// still gets the stale answer while the query runs again in the
// background, and the searches after the refresh get the new one.
func TestSearchCacheExpires(t *testing.T) {
	t.Parallel()
	const ttl = 50 * time.Millisecond
	st, _, db := cachedStores(t, ttl, time.Hour)
	seller := MustCreateActiveSeller(t, st, "Expiry Yard")
	l := MustCreateListing(t, st, store.NewListing{SellerID: seller.ID, Title: "Radiator", Condition: store.ConditionNew})
	if got := search(t, st, store.Scope{}, "radiator"); len(got.Items) != 1 {
		t.Fatalf("first search: %v", titles(got))
	}
	db.MustExec(`INSERT INTO listings (seller_id, title, condition, status) VALUES ($1, 'Radiator cap', 'NEW', 'ACTIVE')`, l.SellerID)
	time.Sleep(2 * ttl)
	if got := search(t, st, store.Scope{}, "radiator"); len(got.Items) != 1 {
		t.Errorf("the first search after the TTL: %v, want the stale answer while it is refreshed", titles(got))
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(search(t, st, store.Scope{}, "radiator").Items) != 2 {
		if time.Now().After(deadline) {
			t.Fatal("the stale answer was not refreshed")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSearchCacheConcurrentMisses: clients asking the same searches at once
// all get the whole page, whether they ran the query, waited for another
// client's or waited for a slot (the cache runs two at a time).
func TestSearchCacheConcurrentMisses(t *testing.T) {
	t.Parallel()
	st, _, _ := cachedStores(t, time.Hour, time.Hour)
	seller := MustCreateActiveSeller(t, st, "Herd Yard")
	for i := range 5 {
		MustCreateListing(t, st, store.NewListing{SellerID: seller.ID, Title: fmt.Sprintf("Track roller %d", i)})
	}
	pages := make([]store.Page[*store.Listing], 8)
	var wg sync.WaitGroup
	for i := range pages {
		term := []string{"roller", "track", "track roller", "rollers"}[i%4]
		wg.Go(func() { pages[i] = search(t, st, store.Scope{}, term) })
	}
	wg.Wait()
	for i, p := range pages {
		if len(p.Items) != 5 || p.Total == nil || *p.Total != 5 || !slices.Equal(titles(p), titles(pages[0])) {
			t.Errorf("client %d: %v total %v, want the 5 listings client 0 got (%v)", i, titles(p), p.Total, titles(pages[0]))
		}
	}
}
