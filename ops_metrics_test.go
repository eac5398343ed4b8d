package main

import (
	"testing"
	"time"

	"github.com/partsmarket/gateway/store"
)

// wantSample fails the test unless the scrape has name with labels and a
// value that passes ok, and returns the value.
func wantSample(t *testing.T, samples []metricSample, name string, labels map[string]string, what string, ok func(float64) bool) float64 {
	t.Helper()
	v, found := metricValue(samples, name, labels)
	if !found {
		t.Fatalf("%s%v is not scraped", name, labels)
	}
	if !ok(v) {
		t.Errorf("%s%v = %v, want %s", name, labels, v, what)
	}
	return v
}

// TestPoolMetrics: each pool's statistics are scraped under its name, with
// its configured maximum and consistent counts.
func TestPoolMetrics(t *testing.T) {
	api := newTestAPI(t, map[string]string{"DATABASE_MAX_CONNS": "12"})
	api.mustPost("", `{ listings(first: 1) { totalCount } }`, nil)
	m := api.scrapeMetrics()
	for pool, maxConns := range map[string]float64{"http": 12, "worker": 4, "analyst": 3} {
		labels := map[string]string{"db_name": pool}
		wantSample(t, m, "go_sql_max_open_connections", labels, "the pool's maximum", func(v float64) bool { return v == maxConns })
		open := wantSample(t, m, "go_sql_open_connections", labels, "within the maximum", func(v float64) bool { return v >= 0 && v <= maxConns })
		inUse := wantSample(t, m, "go_sql_in_use_connections", labels, "at most the open ones", func(v float64) bool { return v >= 0 && v <= open })
		wantSample(t, m, "go_sql_idle_connections", labels, "the open ones not in use", func(v float64) bool { return v == open-inUse })
		wantSample(t, m, "go_sql_wait_count_total", labels, "a count", func(v float64) bool { return v >= 0 })
	}
	wantSample(t, m, "go_sql_open_connections", map[string]string{"db_name": "http"}, "at least the one the request used",
		func(v float64) bool { return v >= 1 })
}

// TestCacheHitRatioMetrics: the response cache and the search cache count
// their lookups, and their hit ratios follow from them. Two documents that
// ask for the same page of a search are two responses but one search.
func TestCacheHitRatioMetrics(t *testing.T) {
	api := newTestAPI(t, nil)
	seller := api.mustSeller("Ratio Yard", store.SellerActive)
	api.mustListing(seller.ID, "Ratio gearbox", store.ListingActive)
	time.Sleep(50 * time.Millisecond) // let the fixture's purges settle before the first cached answer
	m := api.scrapeMetrics()
	if _, found := metricValue(m, "gateway_cache_hit_ratio", map[string]string{"cache": "search"}); found {
		t.Error("a hit ratio before any lookup")
	}
	const count, titles = `{ listings(search: "ratio") { totalCount } }`, `{ listings(search: "ratio") { nodes { title } } }`
	api.mustPost("", count, nil)  // response miss, search miss
	api.mustPost("", titles, nil) // response miss, search hit
	api.mustPost("", count, nil)  // response hit
	m = api.scrapeMetrics()
	wantSample(t, m, "gateway_search_cache_lookups_total", map[string]string{"result": "miss"}, "1", func(v float64) bool { return v == 1 })
	wantSample(t, m, "gateway_search_cache_lookups_total", map[string]string{"result": "hit"}, "1", func(v float64) bool { return v == 1 })
	wantSample(t, m, "gateway_cache_hit_ratio", map[string]string{"cache": "search"}, "1 of 2", func(v float64) bool { return v == 0.5 })
	wantSample(t, m, "gateway_cache_hit_ratio", map[string]string{"cache": "response"}, "1 of 3", func(v float64) bool { return v > 0.33 && v < 0.34 })
}

// TestOutboxMetrics: a lead whose mail the server refuses shows in the
// backlog, its failed attempts are counted (a retry, then the last one),
// and once it is FAILED the backlog is empty again.
func TestOutboxMetrics(t *testing.T) {
	sink := startSMTPSink(t)
	sink.Refuse(451)
	env := notifyEnv(sink)
	env["NOTIFY_MAX_ATTEMPTS"] = "2"
	env["NOTIFY_RETRY_BASE"] = "1s" // time to see the lead in the backlog
	env["NOTIFY_RETRY_MAX"] = "1s"
	api := newTestAPI(t, env)
	m := api.scrapeMetrics()
	wantSample(t, m, "gateway_outbox_pending", nil, "0 before any lead", func(v float64) bool { return v == 0 })
	wantSample(t, m, "go_sql_max_open_connections", map[string]string{"db_name": "notify"}, "the worker's pool", func(v float64) bool { return v >= 1 })
	_, listing := api.emailSeller()
	api.submitNotifyLead(listing.ID, 1, nil)

	attempts := func(outcome string) float64 {
		v, _ := metricValue(api.scrapeMetrics(), "gateway_outbox_attempts_total", map[string]string{"outcome": outcome})
		return v
	}
	notifyWaitFor(t, 10*time.Second, "a refused attempt counted as a retry", func() bool { return attempts("retry") == 1 })
	m = api.scrapeMetrics()
	wantSample(t, m, "gateway_outbox_pending", nil, "the lead waiting for its retry", func(v float64) bool { return v == 1 })
	wantSample(t, m, "gateway_outbox_oldest_pending_seconds", nil, "its wait", func(v float64) bool { return v >= 0 && v < 60 })

	notifyWaitFor(t, 10*time.Second, "the last attempt counted as failed", func() bool { return attempts("failed") == 1 })
	m = api.scrapeMetrics()
	wantSample(t, m, "gateway_outbox_pending", nil, "0 once the notification is FAILED", func(v float64) bool { return v == 0 })
	wantSample(t, m, "gateway_outbox_due", nil, "0", func(v float64) bool { return v == 0 })
	wantSample(t, m, "gateway_outbox_attempts_total", map[string]string{"outcome": "sent"}, "0", func(v float64) bool { return v == 0 })
	wantSample(t, m, "gateway_outbox_backlog_errors_total", nil, "0", func(v float64) bool { return v == 0 })
}
