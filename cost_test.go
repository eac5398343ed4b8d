package main

import (
	"testing"

	"github.com/google/uuid"
)

// TestCostActualAndRateLimit: extensions.cost gives the requested cost, the
// actual cost (connections by the rows they returned, a null object without
// its children), the caller's cost limit and its budget; rateLimit returns
// the same budget figures; each role has its own budget, never below its
// cost limit.
func TestCostActualAndRateLimit(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	const q = `{ listings(first: 50) { nodes { id } }
		rateLimit { maxQueryCost maximumAvailable currentlyAvailable restoreRate } }`
	for _, c := range []struct {
		who, token string
		rows       int
		max        int
		budget     float64
	}{
		{"anonymous", "", 2, 10000, 20000},
		{"seller", f.TokenA, 3, 10000, 20000}, // its draft too
		{"analyst", f.Analyst, 4, 50000, 100000},
	} {
		r := api.post(c.token, q, nil)
		if len(r.Errors) > 0 {
			t.Fatalf("%s: %s", c.who, r.Raw)
		}
		cost := costOf(t, r)
		// listings 1 + 50·(nodes 1 + id 1) + rateLimit 1 + 4
		if cost.RequestedQueryCost != 106 {
			t.Errorf("%s: requestedQueryCost %d, want 106", c.who, cost.RequestedQueryCost)
		}
		if want := 1 + 2*c.rows + 5; cost.ActualQueryCost == nil || *cost.ActualQueryCost != want {
			t.Errorf("%s: actualQueryCost %v, want %d (%d rows)", c.who, deref(cost.ActualQueryCost), want, c.rows)
		}
		if cost.MaxQueryCost != c.max || cost.ThrottleStatus.MaximumAvailable != c.budget || cost.ThrottleStatus.RestoreRate != c.budget/60 {
			t.Errorf("%s: cost %+v, want maxQueryCost %d and a budget of %v restored at %v/s", c.who, cost, c.max, c.budget, c.budget/60)
		}
		rl := r.Get("rateLimit").(map[string]any)
		if rl["maxQueryCost"] != float64(c.max) || rl["maximumAvailable"] != c.budget || rl["restoreRate"] != c.budget/60 {
			t.Errorf("%s: rateLimit %v, want the figures of extensions.cost", c.who, rl)
		}
		// rateLimit sees the budget with the requested cost taken; the
		// response, after the unused points came back.
		avail := rl["currentlyAvailable"].(float64)
		if avail >= c.budget || avail < c.budget-106-1 || float64(cost.ThrottleStatus.CurrentlyAvailable) < avail {
			t.Errorf("%s: rateLimit.currentlyAvailable %v, extensions %d; want under %v by the requested cost, then refunded",
				c.who, avail, cost.ThrottleStatus.CurrentlyAvailable, c.budget)
		}
	}

	// A null object costs none of its children.
	r := api.post("", `query($id: ID!) { listing(id: $id) { id title seller { id } } }`, map[string]any{"id": uuid.NewString()})
	// listing 1 + id 1 + title 1 + seller 1 + id 1
	if cost := costOf(t, r); cost.RequestedQueryCost != 5 || deref(cost.ActualQueryCost) != 1 {
		t.Errorf("a missing listing: requested %d, actual %d, want 5 and 1", cost.RequestedQueryCost, deref(cost.ActualQueryCost))
	}
	// Refused before running: no actual cost.
	r = api.post("", `{ a: listings(first: 100) { nodes { id title seller { listings(first: 100) { nodes { id } } } } } }`, nil)
	if cost := costOf(t, r); len(r.Errors) != 1 || r.Errors[0].Code() != "QUERY_TOO_COMPLEX" || cost.ActualQueryCost != nil {
		t.Errorf("a query over the limit: %s, want QUERY_TOO_COMPLEX and actualQueryCost null", r.Raw)
	}
}
