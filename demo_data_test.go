package main

import (
	"context"
	"testing"
	"time"

	"github.com/partsmarket/gateway/internal/access"
	"github.com/partsmarket/gateway/internal/seed"
)

// TestDemoDataAnswersAnalysts: after `gateway seed`, an analyst's first
// queries show numbers: the month's views, clicks and leads, and the
// searched terms, some of which found nothing.
func TestDemoDataAnswersAnalysts(t *testing.T) {
	api := newTestAPI(t, nil)
	if _, err := seed.Run(context.Background(), api.DB, api.Config.Keyring); err != nil {
		t.Fatalf("seed: %v", err)
	}
	now := time.Now().UTC()
	r := api.mustPost(api.token(access.RoleAnalyst, ""), `query($from: Time!, $to: Time!) {
		marketplaceMetrics(from: $from, to: $to, groupBy: []) { views callClicks textClicks emailClicks leads }
		byCategory: marketplaceMetrics(from: $from, to: $to, groupBy: [CATEGORY]) { category views }
		searchTerms(first: 5) { term count zeroResultCount }
		zero: searchTerms(zeroResultsOnly: true, first: 5) { term zeroResultCount }
	}`, map[string]any{"from": now.AddDate(0, 0, -30).Format(time.RFC3339), "to": now.AddDate(0, 0, 1).Format(time.RFC3339)})
	for _, f := range []string{"views", "callClicks", "textClicks", "emailClicks", "leads"} {
		if n, _ := r.Get("marketplaceMetrics.0." + f).(float64); n <= 0 {
			t.Errorf("marketplaceMetrics %s: got %v, want a positive count (%s)", f, r.Get("marketplaceMetrics.0."+f), r.Raw)
		}
	}
	if rows, _ := r.Get("byCategory").([]any); len(rows) < 3 {
		t.Errorf("marketplaceMetrics by category: got %d rows, want several", len(rows))
	}
	if n, _ := r.Get("searchTerms.0.count").(float64); n <= 0 {
		t.Errorf("searchTerms: got %v, want a searched term", r.Get("searchTerms"))
	}
	if n, _ := r.Get("zero.0.zeroResultCount").(float64); n <= 0 {
		t.Errorf("searchTerms zeroResultsOnly: got %v, want a term that found nothing", r.Get("zero"))
	}
}
