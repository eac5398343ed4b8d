package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/partsmarket/gateway/internal/config"
	"github.com/partsmarket/gateway/internal/database"
	"github.com/partsmarket/gateway/internal/testdb"
	"github.com/partsmarket/gateway/store"
)

const recordEventMutation = `mutation($input: RecordEventInput!) { recordEvent(input: $input) { accepted } }`

// postEvents sends a body to POST /events and returns the status and body.
func (a *testAPI) postEvents(contentType, body string) (int, string) {
	a.t.Helper()
	return postEventsTo(a.t, a.URL, contentType, body)
}

func postEventsTo(t *testing.T, url, contentType, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+"/events", strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("User-Agent", "events-test/1.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST /events: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

// flushEvents writes the gateway's buffered events now.
func (a *testAPI) flushEvents() {
	a.t.Helper()
	if err := a.app.events.Flush(context.Background()); err != nil {
		a.t.Fatalf("flush: %v", err)
	}
}

// countEvents counts the stored raw events.
func countEvents(t *testing.T, db *sqlx.DB) int {
	t.Helper()
	var n int
	if err := db.Get(&n, `SELECT count(*) FROM events`); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestRecordEvent records events through both doors and checks what is
// stored: the request's context, a keyed hash instead of the IP, and the
// listing's seller.
func TestRecordEvent(t *testing.T) {
	api := newTestAPI(t, map[string]string{"EVENT_FLUSH_INTERVAL": "1h"})
	f := api.newFixture()

	resp := api.mustPost("", recordEventMutation, map[string]any{"input": map[string]any{
		"type": "LISTING_VIEW", "listingId": f.ListingA.ID, "sessionId": "s-1", "sourcePage": "/listings/pump"}})
	if resp.Get("recordEvent.accepted") != true {
		t.Fatalf("got %s, want accepted", resp.Raw)
	}
	api.mustPost(f.TokenB, recordEventMutation, map[string]any{"input": map[string]any{
		"type": "CALL_CLICK", "sellerId": f.SellerB.ID, "sourcePage": ""}})
	if status, body := api.postEvents("application/json",
		`{"type":"EMAIL_CLICK","listingId":"`+f.ListingB.ID+`","sellerId":"`+f.SellerB.ID+`"}`); status != http.StatusNoContent {
		t.Fatalf("POST /events: %d %s, want 204", status, body)
	}
	if status, body := api.postEvents("text/plain;charset=UTF-8", `[{"type":"TEXT_CLICK","listingId":"`+f.ListingA.ID+
		`"},{"type":"LISTING_VIEW","sellerId":"`+f.SellerA.ID+`"}]`); status != http.StatusNoContent {
		t.Fatalf("POST /events as sendBeacon text/plain array: %d %s, want 204", status, body)
	}
	if n := countEvents(t, api.DB); n != 0 {
		t.Fatalf("%d events stored before the flush interval; the buffer is not buffering", n)
	}
	api.flushEvents()

	var rows []struct {
		store.Event
		Raw string `db:"raw"`
	}
	if err := api.DB.Select(&rows, `SELECT id, type, listing_id, seller_id, session_id, source_page, user_agent, ip_hash,
		created_at, e::text AS raw FROM events e ORDER BY created_at, type`); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 5 {
		t.Fatalf("stored %d events, want 5", len(rows))
	}
	want := []struct {
		typ     store.EventType
		listing *string
		seller  string
	}{
		{store.EventListingView, &f.ListingA.ID, f.SellerA.ID},
		{store.EventCallClick, nil, f.SellerB.ID},
		{store.EventEmailClick, &f.ListingB.ID, f.SellerB.ID},
		{store.EventListingView, nil, f.SellerA.ID},
		{store.EventTextClick, &f.ListingA.ID, f.SellerA.ID},
	}
	for i, r := range rows {
		w := want[i]
		if r.Type != w.typ || fmt.Sprint(deref(r.ListingID)) != fmt.Sprint(deref(w.listing)) || r.SellerID != w.seller {
			t.Errorf("event %d: got %s %v %s, want %s %v %s", i, r.Type, deref(r.ListingID), r.SellerID, w.typ, deref(w.listing), w.seller)
		}
		if r.IPHash == nil || len(*r.IPHash) != 32 {
			t.Errorf("event %d: ip_hash %v, want a 32-digit keyed hash", i, r.IPHash)
		}
		if strings.Contains(r.Raw, "127.0.0.1") || strings.Contains(r.Raw, "::1") {
			t.Errorf("event %d stores the client IP: %s", i, r.Raw)
		}
		if r.UserAgent == nil {
			t.Errorf("event %d: no user agent", i)
		}
		if time.Since(r.CreatedAt) > time.Minute {
			t.Errorf("event %d: created_at %v, want the request's time", i, r.CreatedAt)
		}
	}
	if deref(rows[0].SessionID) != "s-1" || deref(rows[0].SourcePage) != "/listings/pump" || rows[1].SourcePage != nil {
		t.Errorf("session and source page: got %v %v / %v, want s-1, /listings/pump / null", rows[0].SessionID, rows[0].SourcePage, rows[1].SourcePage)
	}
	if deref(rows[2].UserAgent) != "events-test/1.0" {
		t.Errorf("user agent of POST /events: got %v", rows[2].UserAgent)
	}
}

// TestRecordEventRefusesUnknownTargets: an id that does not exist and one
// the public may not see get the same BAD_USER_INPUT on the same field, and
// no event is stored, through recordEvent and POST /events alike.
func TestRecordEventRefusesUnknownTargets(t *testing.T) {
	api := newTestAPI(t, map[string]string{"EVENT_FLUSH_INTERVAL": "1h"})
	f := api.newFixture()
	hidden := api.mustListing(f.Suspended.ID, "Listing of a suspended seller", store.ListingActive)
	for _, c := range []struct {
		name, field string
		input       map[string]any
	}{
		{"unknown listing", "input.listingId", map[string]any{"listingId": uuid.NewString()}},
		{"malformed listing id", "input.listingId", map[string]any{"listingId": "not-an-id"}},
		{"draft listing", "input.listingId", map[string]any{"listingId": f.DraftA.ID}},
		{"listing of a suspended seller", "input.listingId", map[string]any{"listingId": hidden.ID}},
		{"unknown seller", "input.sellerId", map[string]any{"sellerId": uuid.NewString()}},
		{"suspended seller", "input.sellerId", map[string]any{"sellerId": f.Suspended.ID}},
		{"no listing nor seller", "input.listingId", map[string]any{"sessionId": "s"}},
		{"listing of another seller", "input.sellerId", map[string]any{"listingId": f.ListingA.ID, "sellerId": f.SellerB.ID}},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.input["type"] = "LISTING_VIEW"
			for _, token := range []string{"", f.Admin} {
				resp := api.post(token, recordEventMutation, map[string]any{"input": c.input})
				if len(resp.Errors) != 1 || resp.Errors[0].Code() != "BAD_USER_INPUT" || resp.Errors[0].Field() != c.field {
					t.Fatalf("got %s, want one BAD_USER_INPUT on %s", resp.Raw, c.field)
				}
			}
			body, _ := json.Marshal(c.input)
			status, raw := api.postEvents("application/json", string(body))
			if status != http.StatusBadRequest || !strings.Contains(raw, `"code":"BAD_USER_INPUT"`) ||
				!strings.Contains(raw, `"field":"`+strings.TrimPrefix(c.field, "input.")+`"`) {
				t.Fatalf("POST /events: %d %s, want 400 naming %s", status, raw, c.field)
			}
		})
	}
	t.Run("same message for unknown and invisible", func(t *testing.T) {
		msg := func(id string) string {
			r := api.post("", recordEventMutation, map[string]any{"input": map[string]any{"type": "CALL_CLICK", "listingId": id}})
			return r.Errors[0].Message
		}
		if a, b := msg(uuid.NewString()), msg(f.DraftB.ID); a != b {
			t.Errorf("unknown: %q, draft: %q; ids must reveal nothing", a, b)
		}
	})
	t.Run("a bad event in an array stores none of it", func(t *testing.T) {
		status, raw := api.postEvents("text/plain", `[{"type":"LISTING_VIEW","listingId":"`+f.ListingA.ID+
			`"},{"type":"LISTING_VIEW","listingId":"`+f.DraftB.ID+`"}]`)
		if status != http.StatusBadRequest || !strings.Contains(raw, `"field":"[1].listingId"`) {
			t.Fatalf("got %d %s, want 400 naming [1].listingId", status, raw)
		}
	})
	t.Run("malformed requests", func(t *testing.T) {
		for _, c := range []struct {
			contentType, body string
			status            int
		}{
			{"application/json", `{"type":`, http.StatusBadRequest},
			{"application/json", `[]`, http.StatusBadRequest},
			{"application/json", `{"type":"PURCHASE","listingId":"` + f.ListingA.ID + `"}`, http.StatusBadRequest},
			{"application/xml", `<event/>`, http.StatusUnsupportedMediaType},
			{"text/plain", `{"type":"LISTING_VIEW","sessionId":"` + strings.Repeat("x", 70_000) + `"}`, http.StatusRequestEntityTooLarge},
		} {
			status, raw := api.postEvents(c.contentType, c.body)
			if status != c.status || !strings.HasPrefix(raw, `{"error":`) || strings.Contains(raw, "PURCHASE") {
				t.Errorf("%s %.40s: got %d %s, want %d with a JSON error that does not echo the body", c.contentType, c.body, status, raw, c.status)
			}
		}
	})
	api.flushEvents()
	if n := countEvents(t, api.DB); n != 0 {
		t.Errorf("%d events stored from refused requests, want 0", n)
	}
}

// TestEventsAreWrittenInFewStatements: a flush writes any number of events
// with one COPY and one call that upserts every rollup table, then folds the
// leads' and reports' pending counts with one more.
func TestEventsAreWrittenInFewStatements(t *testing.T) {
	// One client sends all 1,000 events: raise its event budget.
	api := newTestAPI(t, map[string]string{"EVENT_FLUSH_INTERVAL": "1h", "RATE_LIMIT_EVENTS_PER_IP_PER_MINUTE": "1000"})
	f := api.newFixture()
	var body strings.Builder
	for round := range 10 {
		body.Reset()
		body.WriteString("[")
		for i := range 100 {
			if i > 0 {
				body.WriteString(",")
			}
			types := []string{"LISTING_VIEW", "CALL_CLICK", "TEXT_CLICK", "EMAIL_CLICK"}
			target := `"listingId":"` + f.ListingA.ID + `"`
			switch i % 3 {
			case 1:
				target = `"listingId":"` + f.ListingB.ID + `"`
			case 2:
				target = `"sellerId":"` + f.SellerA.ID + `"`
			}
			fmt.Fprintf(&body, `{"type":%q,%s,"sessionId":"r%d"}`, types[i%4], target, round)
		}
		body.WriteString("]")
		if status, raw := api.postEvents("application/json", body.String()); status != http.StatusNoContent {
			t.Fatalf("POST /events: %d %s", status, raw)
		}
	}
	ctx := database.WithStatementCounter(context.Background())
	if err := api.app.events.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := database.StatementCount(ctx); got > 3 {
		t.Errorf("flushing 1000 events took %d statements, want at most 3 (COPY, add_rollups, fold_pending_rollups)", got)
	}
	if n := countEvents(t, api.DB); n != 1000 {
		t.Fatalf("stored %d events, want 1000", n)
	}
	var views int
	if err := api.DB.Get(&views, `SELECT coalesce(sum(views + call_clicks + text_clicks + email_clicks), 0)
		FROM (SELECT views, call_clicks, text_clicks, email_clicks FROM daily_listing_stats
			UNION ALL SELECT views, call_clicks, text_clicks, email_clicks FROM daily_seller_stats) t`); err != nil {
		t.Fatal(err)
	}
	if views != 1000 {
		t.Errorf("rollups count %d events, want 1000", views)
	}
}

// TestShutdownFlushesEvents: every event accepted before the gateway shuts
// down is stored, though the flush interval never came.
func TestShutdownFlushesEvents(t *testing.T) {
	dbURL := testdb.New(t)
	cfg, err := config.Load(func(k string) string {
		switch k {
		case "DATABASE_URL":
			return dbURL
		case "EVENT_FLUSH_INTERVAL":
			return "1h"
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	a, err := newApp(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.handler)
	db := sqlx.MustConnect("postgres", dbURL)
	defer db.Close()
	st := store.New(db)
	region := "TX"
	seller, err := st.CreateSeller(context.Background(), store.NewSeller{Slug: "shutdown-parts", CompanyName: "Shutdown Parts",
		Locations: []store.NewLocation{{City: "Austin", Region: &region, Country: "US"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.SetSellerStatus(context.Background(), seller.ID, store.SellerActive); err != nil {
		t.Fatal(err)
	}
	listing, err := st.CreateListing(context.Background(), store.NewListing{SellerID: seller.ID, Title: "Pump",
		Condition: store.ConditionNew, Status: store.ListingActive})
	if err != nil {
		t.Fatal(err)
	}

	const clients, perClient = 8, 40
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for i := range perClient {
				ev := fmt.Sprintf(`{"type":"LISTING_VIEW","listingId":%q,"sessionId":"c%d-%d"}`, listing.ID, c, i)
				if i%2 == 0 {
					body, _ := json.Marshal(map[string]any{"query": recordEventMutation,
						"variables": map[string]any{"input": json.RawMessage(ev)}})
					resp, err := http.Post(srv.URL+"/graphql", "application/json", bytes.NewReader(body))
					if err != nil {
						t.Error(err)
						return
					}
					raw, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if !strings.Contains(string(raw), `"accepted":true`) {
						t.Errorf("recordEvent: %s", raw)
					}
					continue
				}
				if status, raw := postEventsTo(t, srv.URL, "text/plain", ev); status != http.StatusNoContent {
					t.Errorf("POST /events: %d %s", status, raw)
				}
			}
		})
	}
	wg.Wait()
	if n := countEvents(t, db); n != 0 {
		t.Fatalf("%d events stored before shutdown with an hour-long interval; the test proves nothing", n)
	}
	srv.Close()
	a.close(context.Background())
	if n := countEvents(t, db); n != clients*perClient {
		t.Errorf("stored %d events after shutdown, want all %d accepted", n, clients*perClient)
	}
	var views int
	if err := db.Get(&views, `SELECT coalesce(sum(views), 0) FROM daily_listing_stats WHERE listing_id = $1`, listing.ID); err != nil {
		t.Fatal(err)
	}
	if views != clients*perClient {
		t.Errorf("rollup counts %d views, want %d", views, clients*perClient)
	}
}
