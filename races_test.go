package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/partsmarket/gateway/store"
)

// call is one request of a race: who sends what.
type call struct {
	token string
	query string
	vars  map[string]any
}

// race sends every call at once, through the gateway's HTTP handler, and
// returns the responses in the calls' order. Each goroutine waits for a
// common start, so the requests overlap as much as they can.
func (a *testAPI) race(calls []call) []gqlResponse {
	a.t.Helper()
	out := make([]gqlResponse, len(calls))
	errs := make([]error, len(calls))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, c := range calls {
		req := a.request(c.token, c.query, c.vars)
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i], errs[i] = roundTrip(req)
		}()
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			a.t.Fatal(err)
		}
	}
	return out
}

// auditChanges returns the status changes of the audit events of action on
// a target, as "FROM>TO" strings ("" for an event that changed no status).
func (a *testAPI) auditChanges(action, targetID string) []string {
	a.t.Helper()
	var raw []string
	err := a.DB.SelectContext(context.Background(), &raw, `SELECT coalesce(changes::text, '{}') FROM audit_events
		WHERE action = $1 AND target_id = $2`, action, targetID)
	if err != nil {
		a.t.Fatal(err)
	}
	out := make([]string, len(raw))
	for i, r := range raw {
		var c map[string]store.FieldChange
		if err := json.Unmarshal([]byte(r), &c); err != nil {
			a.t.Fatal(err)
		}
		if s, ok := c["status"]; ok {
			out[i] = fmt.Sprint(s.From) + ">" + fmt.Sprint(s.To)
		}
	}
	return out
}

// TestRaceSellerCannotUndoRemoval: 50 setListingStatus of the owning seller
// race one removeListing of an admin. Afterwards the listing is REMOVED, and
// every seller call either failed with FORBIDDEN or happened before the
// removal: no recorded change starts from REMOVED.
func TestRaceSellerCannotUndoRemoval(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	const sellers = 50
	setStatus := `mutation($id: ID!, $s: ListingStatus!) { setListingStatus(id: $id, status: $s) { listing { status } } }`
	var calls []call
	for i := range sellers {
		s := "ACTIVE"
		if i%2 == 1 {
			s = "PAUSED"
		}
		calls = append(calls, call{f.TokenA, setStatus, map[string]any{"id": f.ListingA.ID, "s": s}})
		if i == sellers/4 {
			calls = append(calls, call{f.Admin, `mutation($id: ID!) { removeListing(id: $id, reason: "Counterfeit") { listing { status } } }`,
				map[string]any{"id": f.ListingA.ID}})
		}
	}
	resps := api.race(calls)
	ok := 0
	for i, r := range resps {
		switch {
		case calls[i].token == f.Admin:
			if len(r.Errors) > 0 || r.Get("removeListing.listing.status") != "REMOVED" {
				t.Fatalf("removeListing: %s", r.Raw)
			}
		case len(r.Errors) == 0:
			ok++
		case len(r.Errors) != 1 || r.Errors[0].Code() != "FORBIDDEN":
			t.Errorf("a seller call failed otherwise than FORBIDDEN: %s", r.Raw)
		}
	}
	l, err := api.Store.Listing(context.Background(), store.Scope{All: true}, f.ListingA.ID)
	if err != nil {
		t.Fatal(err)
	}
	if l.Status != store.ListingRemoved || deref(l.RemovalReason) != "Counterfeit" {
		t.Errorf("afterwards the listing is %s (%q), want REMOVED (Counterfeit)", l.Status, deref(l.RemovalReason))
	}
	changes := api.auditChanges("listing.status", f.ListingA.ID)
	if len(changes) != ok {
		t.Errorf("%d listing.status audit events for %d successful seller calls", len(changes), ok)
	}
	for _, c := range changes {
		if strings.HasPrefix(c, "REMOVED>") {
			t.Errorf("a seller's change %s happened after the removal", c)
		}
	}
	if rm := api.auditChanges("listing.remove", f.ListingA.ID); len(rm) != 1 || !strings.HasSuffix(rm[0], ">REMOVED") {
		t.Errorf("listing.remove audit events: %v, want one change to REMOVED", rm)
	}
	t.Logf("%d of %d seller calls came before the removal", ok, sellers)
}

// TestRaceSellerCannotTakeLeadOutOfSpam: 50 updateLeadStatus of the owning
// seller race an admin marking the lead SPAM. Afterwards the lead is SPAM and
// no seller change starts from SPAM.
func TestRaceSellerCannotTakeLeadOutOfSpam(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	const sellers = 50
	move := `mutation($id: ID!, $s: LeadStatus!) { updateLeadStatus(id: $id, status: $s) { lead { status } } }`
	var calls []call
	for i := range sellers {
		s := "CONTACTED"
		if i%2 == 1 {
			s = "QUALIFIED"
		}
		calls = append(calls, call{f.TokenA, move, map[string]any{"id": f.LeadA, "s": s}})
		if i == sellers/4 {
			calls = append(calls, call{f.Admin, move, map[string]any{"id": f.LeadA, "s": "SPAM"}})
		}
	}
	resps := api.race(calls)
	for i, r := range resps {
		switch {
		case calls[i].token == f.Admin:
			if len(r.Errors) > 0 || r.Get("updateLeadStatus.lead.status") != "SPAM" {
				t.Fatalf("admin's SPAM: %s", r.Raw)
			}
		case len(r.Errors) > 0 && (len(r.Errors) != 1 || r.Errors[0].Code() != "FORBIDDEN"):
			t.Errorf("a seller call failed otherwise than FORBIDDEN: %s", r.Raw)
		}
	}
	l, err := api.Store.Lead(context.Background(), store.Scope{All: true}, f.LeadA)
	if err != nil {
		t.Fatal(err)
	}
	if l.Status != store.LeadSpam {
		t.Errorf("afterwards the lead is %s, want SPAM", l.Status)
	}
	var fromSpam int
	if err := api.DB.Get(&fromSpam, `SELECT count(*) FROM lead_status_changes WHERE lead_id = $1 AND from_status = 'SPAM'`, f.LeadA); err != nil {
		t.Fatal(err)
	}
	if fromSpam != 0 {
		t.Errorf("%d changes out of SPAM, want none", fromSpam)
	}
}

// TestRaceMediaNeverExceedsTwenty: 30 addListingMedia at once on a listing
// that has one image leave it with exactly 20; the calls over the limit are
// BAD_USER_INPUT on input.listingId.
func TestRaceMediaNeverExceedsTwenty(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	const adds = 30
	calls := make([]call, adds)
	for i := range calls {
		calls[i] = call{f.TokenA, `mutation($in: AddListingMediaInput!) { addListingMedia(input: $in) { media { id } } }`,
			map[string]any{"in": map[string]any{"listingId": f.ListingA.ID, "url": fmt.Sprintf("https://images.example.com/race-%d.jpg", i)}}}
	}
	ok := 0
	for _, r := range api.race(calls) {
		switch {
		case len(r.Errors) == 0:
			ok++
		case len(r.Errors) != 1 || r.Errors[0].Code() != "BAD_USER_INPUT" || r.Errors[0].Field() != "input.listingId":
			t.Errorf("an addition failed otherwise than BAD_USER_INPUT on input.listingId: %s", r.Raw)
		}
	}
	n, err := api.Store.MediaCount(context.Background(), f.ListingA.ID)
	if err != nil {
		t.Fatal(err)
	}
	if n != store.MaxMediaPerListing || ok != store.MaxMediaPerListing-1 {
		t.Errorf("%d additions succeeded and the listing has %d images, want 19 and 20", ok, n)
	}
}

// TestRaceReportResolvedOnce: 20 resolveReport at once, half of them
// removing the listing, resolve the report once, with one audit event; the
// others are BAD_USER_INPUT.
func TestRaceReportResolvedOnce(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	calls := make([]call, 20)
	for i := range calls {
		action := "DISMISS"
		if i%2 == 1 {
			action = "REMOVE_LISTING"
		}
		calls[i] = call{f.Admin, `mutation($id: ID!, $a: ReportAction!) { resolveReport(id: $id, action: $a) { report { status } } }`,
			map[string]any{"id": f.ReportA, "a": action}}
	}
	var winner string
	for i, r := range api.race(calls) {
		switch {
		case len(r.Errors) == 0:
			if winner != "" {
				t.Errorf("resolved twice: by %s and by %s", winner, calls[i].vars["a"])
			}
			winner = calls[i].vars["a"].(string)
		case len(r.Errors) != 1 || r.Errors[0].Code() != "BAD_USER_INPUT":
			t.Errorf("a resolution failed otherwise than BAD_USER_INPUT: %s", r.Raw)
		}
	}
	if winner == "" {
		t.Fatal("no resolution succeeded")
	}
	if got := api.auditChanges("report.resolve", f.ReportA); len(got) != 1 {
		t.Errorf("report.resolve audit events: %v, want one", got)
	}
	l, err := api.Store.Listing(context.Background(), store.Scope{All: true}, f.ListingA.ID)
	if err != nil {
		t.Fatal(err)
	}
	if removed := l.Status == store.ListingRemoved; removed != (winner == "REMOVE_LISTING") {
		t.Errorf("the %s resolution left the listing %s", winner, l.Status)
	}
}

// TestRaceProfileListsStayBounded: 20 updateSellerProfile at once, each
// replacing the contacts and locations with 20, leave 20 of each. They queue
// on the seller's row lock, and a wait for a lock counts towards the
// statement timeout: on a busy machine the last of them waits longer than
// the default 5 s, so the test allows a minute.
func TestRaceProfileListsStayBounded(t *testing.T) {
	api := newTestAPI(t, map[string]string{"STATEMENT_TIMEOUT": "60s"})
	f := api.newFixture()
	calls := make([]call, 20)
	for i := range calls {
		var contacts, locations []any
		for j := range 20 {
			contacts = append(contacts, map[string]any{"kind": "PHONE", "value": fmt.Sprintf("+1 555 01%02d %03d", i, j)})
			locations = append(locations, map[string]any{"city": fmt.Sprintf("City %d-%d", i, j), "country": "US"})
		}
		calls[i] = call{f.TokenA, `mutation($id: ID!, $in: UpdateSellerProfileInput!) { updateSellerProfile(id: $id, input: $in) { seller { id } } }`,
			map[string]any{"id": f.SellerA.ID, "in": map[string]any{"contacts": contacts, "locations": locations}}}
	}
	for _, r := range api.race(calls) {
		if len(r.Errors) > 0 {
			t.Errorf("updateSellerProfile: %s", r.Raw)
		}
	}
	for _, table := range []string{"seller_contacts", "seller_locations"} {
		var n int
		if err := api.DB.Get(&n, `SELECT count(*) FROM `+table+` WHERE seller_id = $1`, f.SellerA.ID); err != nil {
			t.Fatal(err)
		}
		if n != 20 {
			t.Errorf("%s: %d rows, want 20", table, n)
		}
	}
}

// TestRaceSuspensionStopsSellerWrites: a seller's writes already past the
// token check when an admin suspends the seller do not go through. The
// suspension is held uncommitted while every kind of seller write starts
// (their tokens still pass: the seller is ACTIVE for them) and reaches the
// seller's row; once it commits, each is refused with UNAUTHENTICATED and
// nothing has changed.
func TestRaceSuspensionStopsSellerWrites(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	ctx := context.Background()
	media, err := api.Store.MediaByListingID(ctx, []string{f.ListingA.ID})
	if err != nil || len(media) == 0 {
		t.Fatalf("the fixture's image: %v", err)
	}
	calls := []call{
		{f.TokenA, `mutation($id: ID!) { setListingStatus(id: $id, status: PAUSED) { listing { id } } }`, map[string]any{"id": f.ListingA.ID}},
		{f.TokenA, `mutation($id: ID!) { updateListing(id: $id, input: {title: "Renamed"}) { listing { id } } }`, map[string]any{"id": f.ListingA.ID}},
		{f.TokenA, `mutation($id: ID!) { createListing(input: {sellerId: $id, title: "New", condition: NEW}) { listing { id } } }`, map[string]any{"id": f.SellerA.ID}},
		{f.TokenA, `mutation($id: ID!) { addListingMedia(input: {listingId: $id, url: "https://images.example.com/x.jpg"}) { media { id } } }`, map[string]any{"id": f.ListingA.ID}},
		{f.TokenA, `mutation($id: ID!) { removeListingMedia(id: $id) { listing { id } } }`, map[string]any{"id": media[0].ID}},
		{f.TokenA, `mutation($id: ID!) { updateLeadStatus(id: $id, status: CONTACTED) { lead { id } } }`, map[string]any{"id": f.LeadA}},
		{f.TokenA, `mutation($id: ID!) { updateSellerProfile(id: $id, input: {companyName: "Renamed"}) { seller { id } } }`, map[string]any{"id": f.SellerA.ID}},
	}
	tables := []string{"listings", "media", "leads", "seller_contacts", "seller_locations"}
	snapshot := func() map[string]string {
		out := map[string]string{}
		for _, table := range tables {
			var rows string
			if err := api.DB.Get(&rows, `SELECT coalesce(json_agg(to_jsonb(t) - 'search' ORDER BY t.id)::text, '[]') FROM `+table+` t`); err != nil {
				t.Fatal(err)
			}
			out[table] = rows
		}
		return out
	}
	before := snapshot()

	suspension, err := api.DB.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer suspension.Rollback()
	suspension.MustExec(`UPDATE sellers SET status = 'SUSPENDED' WHERE id = $1`, f.SellerA.ID)
	done := make(chan []gqlResponse)
	go func() { done <- api.race(calls) }()
	// Every write waits for the suspension's lock on the seller's row. (The
	// deadline only keeps a broken gateway from hanging the suite.)
	deadline := time.Now().Add(time.Minute)
	for waiting := 0; waiting < len(calls); time.Sleep(10 * time.Millisecond) {
		if err := api.DB.Get(&waiting, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`); err != nil {
			t.Fatal(err)
		}
		select {
		case resps := <-done:
			t.Fatalf("the writes finished while the suspension was pending: %v", codesOf(resps))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d writes wait for the suspension", waiting, len(calls))
		}
	}
	if err := suspension.Commit(); err != nil {
		t.Fatal(err)
	}
	for i, r := range <-done {
		if len(r.Errors) != 1 || r.Errors[0].Code() != "UNAUTHENTICATED" {
			t.Errorf("%s: got %s, want UNAUTHENTICATED", strings.Fields(calls[i].query)[3], r.Raw)
		}
	}
	after := snapshot()
	for _, table := range tables {
		if before[table] != after[table] {
			t.Errorf("a suspended seller's write changed %s:\nbefore %s\nafter  %s", table, before[table], after[table])
		}
	}
}

// codesOf lists the error codes of responses.
func codesOf(resps []gqlResponse) [][]string {
	out := make([][]string, len(resps))
	for i, r := range resps {
		out[i] = r.Codes()
	}
	return out
}
