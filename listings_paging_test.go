package main

import (
	"testing"
)

// TestListingsPageBackwards: listings page backwards with last and before,
// pageInfo says so, and a search refuses last without before, naming the
// argument; totalCountIsExact is true for counts the store made exactly.
func TestListingsPageBackwards(t *testing.T) {
	api := newTestAPI(t, nil)
	api.DB.MustExec(`
		INSERT INTO sellers (slug, company_name, status) VALUES ('pumps', 'Pumps', 'ACTIVE');
		INSERT INTO listings (seller_id, title, condition, status, created_at)
			SELECT id, 'Hydraulic pump ' || i, 'USED', 'ACTIVE', now() - i * interval '1 minute'
			FROM sellers, generate_series(1, 5) i;`)
	const query = `query($search: String, $first: Int, $last: Int, $before: String) {
		listings(search: $search, first: $first, last: $last, before: $before) {
			totalCount totalCountIsExact
			nodes { title }
			pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
		}
	}`
	titles := func(r gqlResponse) []string {
		var out []string
		for _, n := range r.Get("listings.nodes").([]any) {
			out = append(out, n.(map[string]any)["title"].(string))
		}
		return out
	}
	// The last two of the newest-first list: the two oldest, in order.
	last := api.post("", query, map[string]any{"last": 2})
	if len(last.Errors) > 0 {
		t.Fatalf("errors: %s", last.Raw)
	}
	if got := titles(last); len(got) != 2 || got[0] != "Hydraulic pump 4" || got[1] != "Hydraulic pump 5" {
		t.Errorf("last 2: got %v, want [Hydraulic pump 4, Hydraulic pump 5]", got)
	}
	if last.Get("listings.pageInfo.hasPreviousPage") != true || last.Get("listings.pageInfo.hasNextPage") != false {
		t.Errorf("last 2: pageInfo %v, want a previous page and no next one", last.Get("listings.pageInfo"))
	}
	if last.Get("listings.totalCount") != float64(5) || last.Get("listings.totalCountIsExact") != true {
		t.Errorf("last 2: totalCount %v exact %v, want 5 exact", last.Get("listings.totalCount"), last.Get("listings.totalCountIsExact"))
	}
	// The two before those.
	before := api.post("", query, map[string]any{"last": 2, "before": last.Get("listings.pageInfo.startCursor")})
	if got := titles(before); len(got) != 2 || got[0] != "Hydraulic pump 2" || got[1] != "Hydraulic pump 3" {
		t.Errorf("last 2 before: got %v, want [Hydraulic pump 2, Hydraulic pump 3]", got)
	}
	if before.Get("listings.pageInfo.hasNextPage") != true {
		t.Errorf("last 2 before a cursor: hasNextPage %v, want true", before.Get("listings.pageInfo.hasNextPage"))
	}
	// A search needs before to page backwards, and counts exactly.
	refused := api.post("", query, map[string]any{"search": "pump", "last": 2})
	if len(refused.Errors) != 1 || refused.Errors[0].Code() != "BAD_USER_INPUT" || refused.Errors[0].Field() != "last" {
		t.Errorf("search with last alone: got %s, want BAD_USER_INPUT on last", refused.Raw)
	}
	search := api.post("", query, map[string]any{"search": "pump", "first": 2})
	if search.Get("listings.totalCount") != float64(5) || search.Get("listings.totalCountIsExact") != true {
		t.Errorf("search: totalCount %v exact %v, want 5 exact", search.Get("listings.totalCount"), search.Get("listings.totalCountIsExact"))
	}
	// first and last together are refused, naming last.
	both := api.post("", query, map[string]any{"first": 2, "last": 2})
	if len(both.Errors) != 1 || both.Errors[0].Code() != "BAD_USER_INPUT" || both.Errors[0].Field() != "last" {
		t.Errorf("first and last: got %s, want BAD_USER_INPUT on last", both.Raw)
	}
}
