package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// statementsOf returns the SQL statement count the request log recorded for
// the request with id.
func (a *testAPI) statementsOf(requestID string) int {
	a.t.Helper()
	sc := bufio.NewScanner(strings.NewReader(a.logs.String()))
	for sc.Scan() {
		var line struct {
			Msg        string `json:"msg"`
			RequestID  string `json:"request_id"`
			Statements int    `json:"sql_statements"`
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "request" && line.RequestID == requestID {
			return line.Statements
		}
	}
	a.t.Fatalf("no request log line for %s", requestID)
	return 0
}

// postWithID posts a query with a chosen request id.
func (a *testAPI) postWithID(requestID, token, query string, vars map[string]any) gqlResponse {
	a.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, a.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Request-Id", requestID)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return a.send(req)
}

// TestListingsPageStatementsAreConstant proves the dataloaders: a page of
// listings with their sellers, the sellers' locations and contacts, and the
// listings' media costs the same statements for 5 rows as for 100.
func TestListingsPageStatementsAreConstant(t *testing.T) {
	api := newTestAPI(t, nil)
	// 12 active sellers with two contacts and a location each, 150 public
	// listings with two images each.
	api.DB.MustExec(`
		INSERT INTO sellers (slug, company_name, status)
			SELECT 'seller-' || i, 'Seller ' || i, 'ACTIVE' FROM generate_series(1, 12) i;
		INSERT INTO seller_contacts (seller_id, kind, value) SELECT id, k, '+1 555 010 0000' FROM sellers, unnest(ARRAY['PHONE', 'TEXT']) k;
		INSERT INTO seller_locations (seller_id, city, region, country) SELECT id, 'Dallas', 'TX', 'US' FROM sellers;
		INSERT INTO listings (seller_id, title, condition, status, part_number)
			SELECT s.id, 'Hydraulic pump ' || i, 'USED', 'ACTIVE', 'HP-' || i
			FROM generate_series(1, 150) i JOIN LATERAL (SELECT id FROM sellers ORDER BY id OFFSET i % 12 LIMIT 1) s ON true;
		INSERT INTO media (listing_id, url, position) SELECT id, 'https://images.example.com/' || id || '/' || p || '.jpg', p
			FROM listings, generate_series(0, 1) p;`)
	const query = `query($first: Int!, $search: String) {
		listings(first: $first, search: $search) {
			totalCount
			edges { cursor node { id title media { url } location { city }
				seller { companyName verified locations { city region } contacts { kind value } } } }
			pageInfo { hasNextPage endCursor }
		}
	}`
	for _, search := range []any{nil, "hydraulic pump"} {
		counts := map[int]int{}
		for _, first := range []int{5, 100} {
			id := fmt.Sprintf("statements-%d-%t", first, search != nil)
			resp := api.postWithID(id, "", query, map[string]any{"first": first, "search": search})
			if len(resp.Errors) > 0 {
				t.Fatalf("errors: %s", resp.Raw)
			}
			if got := len(resp.Get("listings.edges").([]any)); got != first {
				t.Fatalf("got %d edges, want %d", got, first)
			}
			counts[first] = api.statementsOf(id)
		}
		if counts[5] != counts[100] {
			t.Errorf("search %v: %d statements for first: 5, %d for first: 100; want equal", search, counts[5], counts[100])
		}
		// Without a search: page with its sellers + count + locations +
		// contacts + media; with one: page (with its count) + sellers +
		// locations + contacts + media.
		want := 5
		if counts[100] != want {
			t.Errorf("search %v: %d statements, want %d", search, counts[100], want)
		}
		t.Logf("search %v: %d statements for 5 and for 100 listings", search, counts[100])
	}
}

// TestSubmitLeadStatements: a new lead costs four statements: the public
// listing, the rate limits, submit_lead (lock, repeat check, lead and outbox
// in one call and one commit) and the live-inbox pg_notify after the commit;
// a repeat of it three (no notify).
func TestSubmitLeadStatements(t *testing.T) {
	api := newTestAPI(t, mutGenerousLimits)
	f := api.newFixture()
	input := map[string]any{"listingId": f.ListingA.ID, "buyerName": "Jane Buyer", "email": "statements@example.com",
		"message": "Is it in stock?", "captchaToken": "ok"}
	for _, tt := range []struct {
		id   string
		want int
	}{{"lead-new", 4}, {"lead-repeat", 3}} {
		resp := api.postWithID(tt.id, "", mutSubmitLead, map[string]any{"input": input})
		if len(resp.Errors) > 0 {
			t.Fatalf("errors: %s", resp.Raw)
		}
		if got := api.statementsOf(tt.id); got != tt.want {
			t.Errorf("%s: %d statements, want %d", tt.id, got, tt.want)
		}
	}
}
