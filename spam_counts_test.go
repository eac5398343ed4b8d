package main

import (
	"testing"
	"time"
)

// TestSpamLeadsAreNotCounted: a honeypot lead and a lead marked SPAM are
// left out of the listing's stats, the seller's performance, the
// marketplace metrics and the default inbox, and taking a lead out of SPAM
// counts it again; every figure is compared with the raw rows.
func TestSpamLeadsAreNotCounted(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	from := time.Now().AddDate(0, 0, -2).UTC().Format(time.RFC3339)
	to := time.Now().AddDate(0, 0, 2).UTC().Format(time.RFC3339)
	const figures = `query($l: ID!, $s: ID!, $from: Time!, $to: Time!) {
		listing(id: $l) { stats(from: $from, to: $to) { leads } }
		seller(id: $s) { performance(from: $from, to: $to) { leads } }
		inbox: leads { totalCount nodes { id } }
		spam: leads(filter: {status: SPAM}) { totalCount } }`
	const metrics = `query($from: Time!, $to: Time!, $s: ID!) {
		marketplaceMetrics(from: $from, to: $to, groupBy: [SELLER], filter: {sellerId: $s}) { leads } }`
	vars := map[string]any{"l": f.ListingA.ID, "s": f.SellerA.ID, "from": from, "to": to}

	// check reads every figure as seller A (and the metrics as an analyst)
	// and wants them all equal to the raw count of A's leads but SPAM.
	check := func(step string, wantLeads, wantSpam int) {
		t.Helper()
		api.flushEvents()
		var raw int
		if err := api.DB.Get(&raw, `SELECT count(*) FROM leads WHERE seller_id = $1 AND status <> 'SPAM'`, f.SellerA.ID); err != nil {
			t.Fatal(err)
		}
		if raw != wantLeads {
			t.Fatalf("%s: %d leads but SPAM in the table, the test expects %d", step, raw, wantLeads)
		}
		r := api.mustPost(f.TokenA, figures, vars)
		m := api.mustPost(f.Analyst, metrics, map[string]any{"from": from, "to": to, "s": f.SellerA.ID})
		got := map[string]any{
			"listing.stats.leads":        r.Get("listing.stats.leads"),
			"seller.performance.leads":   r.Get("seller.performance.leads"),
			"inbox.totalCount":           r.Get("inbox.totalCount"),
			"marketplaceMetrics[].leads": m.Get("marketplaceMetrics.0.leads"),
		}
		for name, v := range got {
			if v != float64(wantLeads) {
				t.Errorf("%s: %s = %v, want %d", step, name, v, wantLeads)
			}
		}
		if n := len(r.Get("inbox.nodes").([]any)); n != wantLeads {
			t.Errorf("%s: the default inbox lists %d leads, want %d", step, n, wantLeads)
		}
		if v := r.Get("spam.totalCount"); v != float64(wantSpam) {
			t.Errorf("%s: leads(filter: {status: SPAM}) counts %v, want %d", step, v, wantSpam)
		}
	}

	check("one real lead", 1, 0)
	api.mustPost("", mutSubmitLead, map[string]any{"input": mutLead(f.ListingA.ID, map[string]any{"website": "http://spam"})})
	check("a honeypot lead besides it", 1, 1)
	api.mustPost("", mutSubmitLead, map[string]any{"input": mutLead(f.ListingA.ID, nil)})
	check("a second real lead", 2, 1)

	const move = `mutation($id: ID!, $s: LeadStatus!) { updateLeadStatus(id: $id, status: $s) { lead { status } } }`
	api.mustPost(f.Admin, move, map[string]any{"id": f.LeadA, "s": "SPAM"})
	check("the first lead marked SPAM", 1, 2)
	api.mustPost(f.Admin, move, map[string]any{"id": f.LeadA, "s": "CONTACTED"})
	check("the first lead out of SPAM", 2, 1)
	api.mustPost(f.TokenA, move, map[string]any{"id": f.LeadA, "s": "QUALIFIED"})
	check("a move outside SPAM", 2, 1)
}
