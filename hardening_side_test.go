package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// postEventsFrom sends a body to POST /events with an X-Forwarded-For
// header and returns the status and the Retry-After header.
func postEventsFrom(t *testing.T, url, xff, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+"/events", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", xff)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("POST /events: %v", err)
		return 0, ""
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Retry-After")
}

// eventBatch is a JSON array of n listing views of listingID in session.
func eventBatch(listingID, session string, n int) string {
	evs := make([]string, n)
	for i := range evs {
		evs[i] = fmt.Sprintf(`{"type":"LISTING_VIEW","listingId":%q,"sessionId":%q}`, listingID, session)
	}
	return "[" + strings.Join(evs, ",") + "]"
}

// TestEventBudgetPerIP: one client IP flooding POST /events and recordEvent
// is refused (429, RATE_LIMITED, Retry-After) through both past its budget:
// they share it. Another IP, sending its events while the flood goes on,
// has every one of them accepted and stored; the flood's stored events are
// exactly those it was told were accepted.
func TestEventBudgetPerIP(t *testing.T) {
	api := newTestAPI(t, map[string]string{"EVENT_FLUSH_INTERVAL": "1h", "RATE_LIMIT_EVENTS_PER_IP_PER_MINUTE": "50",
		"TRUSTED_PROXIES": "127.0.0.1/32, ::1/128"})
	f := api.newFixture()
	const flooder, other = "203.0.113.7", "198.51.100.9"
	record := func(ip, session string) gqlResponse {
		return api.postFrom(ip, recordEventMutation, map[string]any{"input": map[string]any{
			"type": "CALL_CLICK", "listingId": f.ListingA.ID, "sessionId": session}})
	}

	var wg sync.WaitGroup
	var floodAccepted, postsRefused, recordsRefused int
	wg.Go(func() {
		for range 40 {
			switch status, retry := postEventsFrom(t, api.URL, flooder, eventBatch(f.ListingA.ID, "flood", 10)); {
			case status == http.StatusNoContent:
				floodAccepted += 10
			case status == http.StatusTooManyRequests && retry != "":
				postsRefused++
			default:
				t.Errorf("flood: status %d, Retry-After %q", status, retry)
			}
			switch r := record(flooder, "flood"); {
			case r.Get("recordEvent.accepted") == true:
				floodAccepted++
			case r.Status == http.StatusTooManyRequests && len(r.Errors) == 1 && r.Errors[0].Code() == "RATE_LIMITED" &&
				r.Header.Get("Retry-After") != "":
				recordsRefused++
			default:
				t.Errorf("recordEvent in the flood: %d %s", r.Status, r.Raw)
			}
		}
	})
	otherAccepted := 0
	wg.Go(func() {
		for range 4 {
			if status, _ := postEventsFrom(t, api.URL, other, eventBatch(f.ListingB.ID, "other", 10)); status != http.StatusNoContent {
				t.Errorf("the other IP's events: status %d, want 204", status)
				continue
			}
			otherAccepted += 10
		}
		if r := record(other, "other"); r.Get("recordEvent.accepted") != true {
			t.Errorf("recordEvent from the other IP: %s", r.Raw)
			return
		}
		otherAccepted++
	})
	wg.Wait()
	if postsRefused == 0 || recordsRefused == 0 || floodAccepted > 100 {
		t.Fatalf("the flood had %d events accepted, %d posts and %d recordEvents refused; want refusals through both past its budget of 50",
			floodAccepted, postsRefused, recordsRefused)
	}

	api.flushEvents()
	stored := map[string]int{}
	rows, err := api.DB.Query(`SELECT session_id, count(*) FROM events GROUP BY session_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			t.Fatal(err)
		}
		stored[s] = n
	}
	if stored["other"] != otherAccepted || otherAccepted != 41 {
		t.Errorf("stored %d of the other IP's events, %d accepted, want all 41", stored["other"], otherAccepted)
	}
	if stored["flood"] != floodAccepted {
		t.Errorf("stored %d of the flood's events, want the %d accepted", stored["flood"], floodAccepted)
	}
}

// TestSubscriptionsPerConnectionCap: one connection holds at most 10 live
// subscriptions; the 11th is answered with RATE_LIMITED and completed, the
// connection stays open and its 10 subscriptions all get the next lead.
func TestSubscriptionsPerConnectionCap(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	before := api.app.live.Subscribers()
	c := api.subscriber(f.TokenA, f.SellerA.ID, f.LeadA)
	for i := 2; i <= 10; i++ {
		c.subscribe(fmt.Sprint(i), f.SellerA.ID)
	}
	deadline := time.Now().Add(liveWait)
	for api.app.live.Subscribers() < before+10 {
		if time.Now().After(deadline) {
			t.Fatalf("%d subscriptions registered, want 10", api.app.live.Subscribers()-before)
		}
		time.Sleep(2 * time.Millisecond)
	}
	c.subscribe("11", f.SellerA.ID)
	m := c.read()
	var p struct{ Errors []gqlError }
	_ = json.Unmarshal(m.Payload, &p)
	if m.ID != "11" || m.Type != "next" || len(p.Errors) != 1 || p.Errors[0].Code() != "RATE_LIMITED" {
		t.Fatalf("the 11th subscription got %s %s %s, want a RATE_LIMITED error", m.ID, m.Type, m.Payload)
	}
	if m := c.read(); m.ID != "11" || m.Type != "complete" {
		t.Fatalf("the 11th subscription got %s %s after its error, want complete", m.ID, m.Type)
	}
	if n := api.app.live.Subscribers() - before; n != 10 {
		t.Fatalf("%d subscriptions registered after the refusal, want 10", n)
	}

	lead := api.submitLiveLead(f.ListingA.ID)
	got := map[string]bool{}
	for len(got) < 10 {
		m, err := c.readWithin(liveWait)
		if err != nil {
			t.Fatalf("after %d of the 10 subscriptions got the lead: %v", len(got), err)
		}
		if m.Type == "next" && strings.Contains(string(m.Payload), lead) {
			got[m.ID] = true
		}
	}
}

// TestSuspendedSellerSocketsClose: when an admin suspends a seller, the
// seller's open websockets close with 4403 in every gateway instance,
// whether a subscription runs on them or not; other sellers' stay open.
func TestSuspendedSellerSocketsClose(t *testing.T) {
	api := newTestAPI(t, nil)
	other := newTestAPIOn(t, api)
	f := api.newFixture()
	here := api.subscriber(f.TokenA, f.SellerA.ID, f.LeadA)
	there := other.subscriber(f.TokenA, f.SellerA.ID, f.LeadA)
	idle := other.connect(t, map[string]any{"Authorization": "Bearer " + f.TokenA})
	if m := idle.read(); m.Type != "connection_ack" {
		t.Fatalf("got %+v, want connection_ack", m)
	}
	bystander := other.subscriber(f.TokenB, f.SellerB.ID, f.LeadB)
	deadline := time.Now().Add(liveWait)
	for api.app.live.Watched() < 1 || other.app.live.Watched() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("watched sellers: %d here, %d there; want 1 and 3", api.app.live.Watched(), other.app.live.Watched())
		}
		time.Sleep(2 * time.Millisecond)
	}

	api.mustPost(f.Admin, `mutation($id: ID!) { setSellerStatus(id: $id, status: SUSPENDED) { seller { id } } }`,
		map[string]any{"id": f.SellerA.ID})
	for name, c := range map[string]*wsClient{"same instance": here, "other instance": there, "no subscription": idle} {
		t.Run(name, func(t *testing.T) {
			c.t = t
			c.closedWith(websocket.StatusCode(4403))
		})
	}
	lead := other.submitLiveLead(f.ListingB.ID)
	if got := bystander.nextLead(liveWait); got["id"] != lead {
		t.Errorf("another seller's subscription got %v, want its new lead %s", got["id"], lead)
	}
}

// TestLeadBatchOutlivesItsFirstCaller: the buyer whose lead starts a batch
// disconnects while the batch waits on the database; the batch still
// commits that lead, and the buyers who came after get their lead ids.
func TestLeadBatchOutlivesItsFirstCaller(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	var before int
	if err := api.DB.Get(&before, `SELECT count(*) FROM leads`); err != nil {
		t.Fatal(err)
	}
	lock, err := api.DB.Beginx()
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback()
	if _, err := lock.Exec(`LOCK TABLE leads IN EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}

	submit := func(ctx context.Context) (gqlResponse, error) {
		body, _ := json.Marshal(map[string]any{"query": mutSubmitLead, "variables": map[string]any{"input": mutLead(f.ListingA.ID, nil)}})
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, api.URL+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return gqlResponse{}, err
		}
		defer resp.Body.Close()
		var r gqlResponse
		err = json.NewDecoder(resp.Body).Decode(&r)
		return r, err
	}
	first, leave := context.WithCancel(context.Background())
	firstErr := make(chan error, 1)
	go func() { _, err := submit(first); firstErr <- err }()
	waitLockedInserts(t, api, 1) // the first lead's batch waits on the lock

	const others = 4
	var wg sync.WaitGroup
	results := make([]gqlResponse, others)
	for i := range others {
		wg.Go(func() {
			r, err := submit(context.Background())
			if err != nil {
				t.Errorf("buyer %d: %v", i, err)
			}
			results[i] = r
		})
	}
	leave()
	if err := <-firstErr; err == nil {
		t.Fatal("the first buyer's request succeeded though it left")
	}
	if err := lock.Rollback(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for i, r := range results {
		if id, _ := r.Get("submitLead.leadId").(string); id == "" {
			t.Errorf("buyer %d behind the one who left: %s", i, r.Raw)
		}
	}
	var after int
	if err := api.DB.Get(&after, `SELECT count(*) FROM leads`); err != nil {
		t.Fatal(err)
	}
	if after-before != others+1 {
		t.Errorf("%d leads stored, want %d: the first buyer's too", after-before, others+1)
	}
}

// waitLockedInserts waits until n statements of the gateway wait on a lock.
func waitLockedInserts(t *testing.T, api *testAPI, n int) {
	t.Helper()
	deadline := time.Now().Add(liveWait)
	for {
		var waiting int
		if err := api.DB.Get(&waiting, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%submit_leads%'`); err != nil {
			t.Fatal(err)
		}
		if waiting >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d statements wait on the lock, want %d", waiting, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
