package main

import (
	"net/http"
	"strings"
	"testing"
)

// TestEventsWithoutConsent: recordEvent with consent false, and events sent
// with Sec-GPC: 1 or DNT: 1 (through recordEvent and POST /events), are
// stored without session id, user agent or IP hash, and still count in the
// listing's rolled-up views; an event with consent keeps them.
func TestEventsWithoutConsent(t *testing.T) {
	api := newTestAPI(t, map[string]string{"EVENT_FLUSH_INTERVAL": "1h"})
	f := api.newFixture()
	view := func(source string, consent any) map[string]any {
		in := map[string]any{"type": "LISTING_VIEW", "listingId": f.ListingA.ID, "sessionId": "s-1", "sourcePage": source}
		if consent != nil {
			in["consent"] = consent
		}
		return map[string]any{"input": in}
	}
	api.mustPost("", recordEventMutation, view("/consented", true))
	api.mustPost("", recordEventMutation, view("/refused", false))
	for _, h := range []string{"Sec-GPC", "DNT"} {
		req := api.request("", recordEventMutation, view("/header-"+h, nil))
		req.Header.Set(h, "1")
		req.Header.Set("User-Agent", "consent-test/1.0")
		if r := api.send(req); len(r.Errors) > 0 {
			t.Fatalf("recordEvent with %s: %s", h, r.Raw)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, api.URL+"/events", strings.NewReader(
		`{"type":"LISTING_VIEW","listingId":"`+f.ListingA.ID+`","sessionId":"s-1","sourcePage":"/beacon-gpc"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "consent-test/1.0")
	req.Header.Set("Sec-GPC", "1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("POST /events with Sec-GPC: %v %v", resp, err)
	}
	resp.Body.Close()
	api.flushEvents()

	var rows []struct {
		Source  string  `db:"source_page"`
		Session *string `db:"session_id"`
		Agent   *string `db:"user_agent"`
		IPHash  *string `db:"ip_hash"`
	}
	if err := api.DB.Select(&rows, `SELECT source_page, session_id, user_agent, ip_hash FROM events ORDER BY source_page`); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 5 {
		t.Fatalf("stored %d events, want 5 (every one counts)", len(rows))
	}
	for _, r := range rows {
		private := r.Source != "/consented"
		stripped := r.Session == nil && r.Agent == nil && r.IPHash == nil
		if private != stripped {
			t.Errorf("%s: session %v, user agent %v, ip hash %v; want them %s", r.Source, r.Session, r.Agent, r.IPHash,
				map[bool]string{true: "absent", false: "kept"}[private])
		}
	}
	stats := api.mustPost(f.TokenA, `query($id: ID!) { listing(id: $id) { stats { views } } }`, map[string]any{"id": f.ListingA.ID})
	if got := stats.Get("listing.stats.views"); got != 5.0 {
		t.Errorf("rolled-up views %v, want 5", got)
	}
}
