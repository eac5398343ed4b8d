package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/partsmarket/gateway/internal/searchlog"
	"github.com/partsmarket/gateway/store"
)

// fact is one raw row the rollups count: an event, a lead or a report, with
// the dimensions of its listing as they are now.
type fact struct {
	Day      time.Time `db:"day"`
	Listing  *string   `db:"listing_id"`
	Seller   string    `db:"seller_id"`
	Category *string   `db:"category"`
	Region   *string   `db:"region"`
	Kind     string    `db:"kind"` // an event type, LEAD or REPORT
}

// factsSQL reads every raw row the rollups count, straight from the raw
// tables.
const factsSQL = `
	SELECT (e.created_at AT TIME ZONE 'UTC')::date::timestamp AS day, e.listing_id::text, e.seller_id::text,
		k.category, k.region, e.type AS kind
	FROM events e LEFT JOIN listing_rollup_keys k ON k.listing_id = e.listing_id
	UNION ALL
	SELECT (l.created_at AT TIME ZONE 'UTC')::date::timestamp, l.listing_id::text, l.seller_id::text, k.category, k.region, 'LEAD'
	FROM leads l LEFT JOIN listing_rollup_keys k ON k.listing_id = l.listing_id
	WHERE l.status <> 'SPAM'
	UNION ALL
	SELECT (r.created_at AT TIME ZONE 'UTC')::date::timestamp, r.listing_id::text, k.seller_id::text, k.category, k.region, 'REPORT'
	FROM listing_reports r JOIN listing_rollup_keys k ON k.listing_id = r.listing_id`

// counts are views, call, text and email clicks, leads and reports.
type counts [6]int

// add counts one fact.
func (c *counts) add(kind string) {
	i := slices.Index([]string{"LISTING_VIEW", "CALL_CLICK", "TEXT_CLICK", "EMAIL_CLICK", "LEAD", "REPORT"}, kind)
	c[i]++
}

func str(p *string) string {
	if p == nil {
		return "∅"
	}
	return *p
}

// dimensionOf returns a fact's value of a dimension, as text.
func dimensionOf(f fact, d store.MetricDimension) string {
	switch d {
	case store.DimensionDay:
		return f.Day.Format(time.DateOnly)
	case store.DimensionWeek:
		return f.Day.AddDate(0, 0, -((int(f.Day.Weekday()) + 6) % 7)).Format(time.DateOnly)
	case store.DimensionMonth:
		return time.Date(f.Day.Year(), f.Day.Month(), 1, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
	case store.DimensionSeller:
		return f.Seller
	case store.DimensionCategory:
		return str(f.Category)
	case store.DimensionRegion:
		return str(f.Region)
	case store.DimensionEventType:
		return f.Kind
	}
	panic(d)
}

// rowDimension returns a metric row's value of a dimension, as text.
func rowDimension(r *store.MetricRow, d store.MetricDimension) string {
	switch d {
	case store.DimensionDay, store.DimensionWeek, store.DimensionMonth:
		return r.Day.UTC().Format(time.DateOnly)
	case store.DimensionSeller:
		return str(r.SellerID)
	case store.DimensionCategory:
		return str(r.Category)
	case store.DimensionRegion:
		return str(r.Region)
	case store.DimensionEventType:
		return string(*r.EventType)
	}
	panic(d)
}

// expectedMetrics computes marketplaceMetrics from raw facts: the
// reference the rollups must agree with.
func expectedMetrics(facts []fact, mq store.MetricsQuery) map[string][5]int {
	out := map[string][5]int{}
	if len(mq.GroupBy) == 0 {
		out[""] = [5]int{}
	}
	byType := mq.Filter.EventType != nil || slices.Contains(mq.GroupBy, store.DimensionEventType)
	for _, f := range facts {
		f := f
		switch {
		case f.Day.Before(mq.Period.From) || !f.Day.Before(mq.Period.To),
			f.Kind == "REPORT",
			byType && f.Kind == "LEAD",
			mq.Filter.SellerID != nil && f.Seller != *mq.Filter.SellerID,
			mq.Filter.Category != nil && (f.Category == nil || *f.Category != *mq.Filter.Category),
			mq.Filter.Region != nil && (f.Region == nil || !strings.EqualFold(*f.Region, *mq.Filter.Region)),
			mq.Filter.EventType != nil && f.Kind != string(*mq.Filter.EventType):
			continue
		}
		var key []string
		for _, d := range mq.GroupBy {
			key = append(key, dimensionOf(f, d))
		}
		var c counts
		c.add(f.Kind)
		k := strings.Join(key, "|")
		v := out[k]
		for i := range v {
			v[i] += c[i]
		}
		out[k] = v
	}
	return out
}

// TestRollupsAgreeWithRawEvents is a property test: random streams of
// events (in random batches, over random days), leads and reports (with and
// without a listing, inserted many per statement), then every rollup
// question — marketplaceMetrics for many groupings and filters over
// periods with and without whole weeks and edge days, Listing.stats,
// Seller.performance — must equal a GROUP BY over the raw rows; and
// rebuild_metric_rollups() must leave the coarser rollups as the
// incremental path did.
func TestRollupsAgreeWithRawEvents(t *testing.T) {
	api := newTestAPI(t, nil)
	ctx := context.Background()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed>>7))

	var sellers []*store.Seller
	var listings []*store.Listing
	categories := []*string{ptr("Hydraulics"), ptr("Engines"), nil}
	for i, region := range []*string{ptr("TX"), ptr("ca"), nil} {
		s := api.mustSeller(fmt.Sprintf("Rollup Seller %d", i), store.SellerActive)
		api.DB.MustExec(`UPDATE seller_locations SET region = $1 WHERE seller_id = $2`, region, s.ID)
		sellers = append(sellers, s)
		for j := range 2 {
			l := api.mustListing(s.ID, fmt.Sprintf("Rollup listing %d-%d", i, j), store.ListingActive)
			api.DB.MustExec(`UPDATE listings SET category = $1 WHERE id = $2`, categories[(i+j)%3], l.ID)
			listings = append(listings, l)
		}
	}
	// Templates the random leads and reports are copied from, whatever
	// columns those tables have.
	leadID, err := api.Store.CreateLead(ctx, store.NewLead{SellerID: sellers[0].ID, ListingID: &listings[0].ID,
		BuyerName: "Template Buyer", Email: "template@example.com", Message: "template", Status: store.LeadNew})
	if err != nil {
		t.Fatal(err)
	}
	reportID, err := api.Store.CreateReport(ctx, store.NewReport{ListingID: listings[1].ID, Reason: store.ReasonOther})
	if err != nil {
		t.Fatal(err)
	}

	today := utcDay(time.Now())
	randomTime := func() time.Time {
		return today.AddDate(0, 0, -rng.IntN(40)).Add(time.Duration(rng.Int64N(int64(24 * time.Hour))))
	}
	types := []store.EventType{store.EventListingView, store.EventCallClick, store.EventTextClick, store.EventEmailClick}
	for range 8 {
		batch := make([]store.EventRecord, 1+rng.IntN(300))
		for i := range batch {
			r := store.EventRecord{Type: types[rng.IntN(4)], At: randomTime()}
			if rng.IntN(4) == 0 {
				r.SellerID = sellers[rng.IntN(len(sellers))].ID
			} else {
				l := listings[rng.IntN(len(listings))]
				var keys struct {
					Category *string `db:"category"`
					Region   *string `db:"region"`
				}
				if err := api.DB.Get(&keys, `SELECT category, region FROM listing_rollup_keys WHERE listing_id = $1`, l.ID); err != nil {
					t.Fatal(err)
				}
				r.ListingID, r.SellerID, r.Category, r.Region = &l.ID, l.SellerID, keys.Category, keys.Region
			}
			batch[i] = r
		}
		if err := api.Store.RecordEvents(ctx, batch); err != nil {
			t.Fatal(err)
		}

		n := rng.IntN(12)
		leadListings, leadSellers, leadTimes := make([]*string, n), make([]string, n), make([]time.Time, n)
		leadStatuses := make([]string, n)
		for i := range n {
			if rng.IntN(3) == 0 {
				leadSellers[i] = sellers[rng.IntN(len(sellers))].ID
			} else {
				l := listings[rng.IntN(len(listings))]
				leadListings[i], leadSellers[i] = &l.ID, l.SellerID
			}
			leadTimes[i] = randomTime()
			leadStatuses[i] = []string{"NEW", "CONTACTED", "SPAM"}[rng.IntN(3)]
		}
		api.DB.MustExec(`INSERT INTO leads SELECT (jsonb_populate_record(NULL::leads, to_jsonb(l) || jsonb_build_object(
				'id', gen_random_uuid(), 'listing_id', x.listing_id, 'seller_id', x.seller_id, 'created_at', x.at,
				'status', x.status))).*
			FROM leads l, unnest($2::uuid[], $3::uuid[], $4::timestamptz[], $5::text[]) AS x (listing_id, seller_id, at, status)
			WHERE l.id = $1`, leadID, pq.Array(leadListings), pq.Array(leadSellers), pq.Array(leadTimes), pq.Array(leadStatuses))

		// Leads move into and out of SPAM (and between other statuses, which
		// moves no count), several in one statement.
		var leadIDs []string
		if err := api.DB.Select(&leadIDs, `SELECT id FROM leads ORDER BY id`); err != nil {
			t.Fatal(err)
		}
		moved, to := make([]string, 0, 4), make([]string, 0, 4)
		for range rng.IntN(5) {
			moved = append(moved, leadIDs[rng.IntN(len(leadIDs))])
			to = append(to, []string{"SPAM", "NEW", "WON"}[rng.IntN(3)])
		}
		api.DB.MustExec(`UPDATE leads d SET status = x.status
			FROM (SELECT DISTINCT ON (id) id, status FROM unnest($1::uuid[], $2::text[]) AS u (id, status)) x
			WHERE d.id = x.id`, pq.Array(moved), pq.Array(to))

		n = rng.IntN(6)
		reportListings, reportTimes := make([]string, n), make([]time.Time, n)
		for i := range n {
			reportListings[i], reportTimes[i] = listings[rng.IntN(len(listings))].ID, randomTime()
		}
		api.DB.MustExec(`INSERT INTO listing_reports SELECT (jsonb_populate_record(NULL::listing_reports, to_jsonb(r) ||
				jsonb_build_object('id', gen_random_uuid(), 'listing_id', x.listing_id, 'created_at', x.at))).*
			FROM listing_reports r, unnest($2::uuid[], $3::timestamptz[]) AS x (listing_id, at)
			WHERE r.id = $1`, reportID, pq.Array(reportListings), pq.Array(reportTimes))
		if rng.IntN(2) == 0 { // the event flush folds the leads' and reports' counts now and then
			if err := api.Store.FoldPendingRollups(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := api.Store.FoldPendingRollups(ctx); err != nil {
		t.Fatal(err)
	}

	var facts []fact
	if err := api.DB.Select(&facts, factsSQL); err != nil {
		t.Fatal(err)
	}
	for i := range facts {
		facts[i].Day = facts[i].Day.UTC()
	}
	t.Logf("%d raw rows", len(facts))

	// Questions by seller read whole weeks from the weekly rollups and the
	// days at the edges from the daily ones: periods with edge days on both
	// sides, on one side, on none, without a whole week, and one at random.
	monday := today.AddDate(0, 0, -(int(today.Weekday())+6)%7)
	randomFrom := today.AddDate(0, 0, -rng.IntN(42))
	periods := []store.Period{
		{From: today.AddDate(0, 0, -45), To: today.AddDate(0, 0, 1)},
		{From: today.AddDate(0, 0, -17), To: today.AddDate(0, 0, -3)},
		{From: monday.AddDate(0, 0, -26), To: monday.AddDate(0, 0, -5)},
		{From: monday.AddDate(0, 0, -28), To: monday.AddDate(0, 0, -2)},
		{From: monday.AddDate(0, 0, -28), To: monday.AddDate(0, 0, -7)},
		{From: monday.AddDate(0, 0, -13), To: monday.AddDate(0, 0, -8)},
		{From: randomFrom, To: randomFrom.AddDate(0, 0, 1+rng.IntN(30))},
	}
	groupings := [][]store.MetricDimension{
		{}, {store.DimensionDay}, {store.DimensionWeek}, {store.DimensionMonth}, {store.DimensionSeller},
		{store.DimensionCategory}, {store.DimensionRegion}, {store.DimensionEventType},
		{store.DimensionDay, store.DimensionSeller}, {store.DimensionWeek, store.DimensionSeller},
		{store.DimensionSeller, store.DimensionCategory}, {store.DimensionWeek, store.DimensionSeller, store.DimensionRegion},
		{store.DimensionWeek, store.DimensionCategory, store.DimensionRegion},
		{store.DimensionEventType, store.DimensionMonth, store.DimensionSeller},
		{store.DimensionSeller, store.DimensionCategory, store.DimensionRegion, store.DimensionEventType},
	}
	view := store.EventCallClick
	filters := []store.MetricFilter{{}, {SellerID: &sellers[1].ID}, {Category: ptr("Hydraulics")}, {Region: ptr("CA")},
		{EventType: &view}, {SellerID: &sellers[0].ID, Region: ptr("tx"), EventType: &view}}
	for _, p := range periods {
		for _, g := range groupings {
			for _, f := range filters {
				mq := store.MetricsQuery{Period: p, GroupBy: g, Filter: f, Limit: 10_000}
				name := fmt.Sprintf("%s..%s by %v filter %s/%s/%s/%s", p.From.Format(time.DateOnly), p.To.Format(time.DateOnly), g,
					str(f.SellerID), str(f.Category), str(f.Region), str((*string)(f.EventType)))
				rows, err := api.Store.MarketplaceMetrics(ctx, mq)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				got := map[string][5]int{}
				for _, r := range rows {
					var key []string
					for _, d := range g {
						key = append(key, rowDimension(r, d))
					}
					k := strings.Join(key, "|")
					if _, dup := got[k]; dup {
						t.Errorf("%s: two rows for %s", name, k)
					}
					got[k] = [5]int{r.Views, r.CallClicks, r.TextClicks, r.EmailClicks, r.Leads}
				}
				if want := expectedMetrics(facts, mq); fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("%s:\n got %v\nwant %v", name, got, want)
				}
			}
		}

		ids := make([]string, len(listings))
		for i, l := range listings {
			ids[i] = l.ID
		}
		stats, err := api.Store.ListingStatsByID(ctx, ids, p)
		if err != nil {
			t.Fatal(err)
		}
		sellerIDs := make([]string, len(sellers))
		for i, s := range sellers {
			sellerIDs[i] = s.ID
		}
		perf, err := api.Store.SellerPerformanceByID(ctx, sellerIDs, p)
		if err != nil {
			t.Fatal(err)
		}
		wantListing, wantSeller := map[string]counts{}, map[string]counts{}
		for _, f := range facts {
			if f.Day.Before(p.From) || !f.Day.Before(p.To) {
				continue
			}
			if f.Listing != nil {
				c := wantListing[*f.Listing]
				c.add(f.Kind)
				wantListing[*f.Listing] = c
			}
			c := wantSeller[f.Seller]
			c.add(f.Kind)
			wantSeller[f.Seller] = c
		}
		for _, id := range ids {
			w, g := wantListing[id], stats[id]
			if g == nil {
				g = &store.ListingStats{}
			}
			if got := [5]int{g.Views, g.CallClicks, g.TextClicks, g.EmailClicks, g.Leads}; got != [5]int(w[:5]) {
				t.Errorf("stats of listing %s over %v: got %v, want %v", id, p, got, w[:5])
			}
		}
		for _, id := range sellerIDs {
			w, g := wantSeller[id], perf[id]
			if g == nil {
				g = &store.SellerPerformance{}
			}
			if got := (counts{g.Views, g.CallClicks, g.TextClicks, g.EmailClicks, g.Leads, g.Reports}); got != w {
				t.Errorf("performance of seller %s over %v: got %v, want %v", id, p, got, w)
			}
			rate := 0.0
			if w[0] > 0 {
				rate = float64(w[4]) / float64(w[0])
			}
			if g.ConversionRate != rate {
				t.Errorf("conversion rate of seller %s: got %v, want %v", id, g.ConversionRate, rate)
			}
		}
	}

	// coarser reads the rollups rebuild_metric_rollups() recomputes, per table.
	coarser := func() map[string]string {
		out := map[string]string{}
		for _, table := range []string{"daily_seller_totals", "daily_segment_stats", "weekly_seller_totals", "weekly_seller_segment_stats"} {
			var rows string
			if err := api.DB.Get(&rows, `SELECT string_agg(r::text, ';' ORDER BY r::text) FROM `+table+` r`); err != nil {
				t.Fatal(err)
			}
			out[table] = rows
		}
		return out
	}
	incremental := coarser()
	api.DB.MustExec(`SELECT rebuild_metric_rollups()`)
	for table, rows := range coarser() {
		if rows != incremental[table] {
			t.Errorf("%s after rebuild_metric_rollups():\n got %s\nwant %s", table, rows, incremental[table])
		}
	}
}

func ptr[T any](v T) *T { return &v }

// utcDay returns the start of t's UTC day.
func utcDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// TestSearchTerms: most searched first, zero-result filter, period, and
// redacted terms stay redacted.
func TestSearchTerms(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	now := time.Now()
	var recs []store.SearchRecord
	add := func(term string, results, n int, at time.Time) {
		for range n {
			recs = append(recs, store.SearchRecord{Term: searchlog.Redact(term), ResultCount: results, At: at})
		}
	}
	add("hydraulic pump", 4, 3, now.Add(-time.Hour))
	add("Hydraulic  Pump", 0, 1, now.Add(-2*time.Hour))
	add("re504836", 0, 2, now.Add(-3*time.Hour))
	add("mail me at jane.doe@example.com", 0, 1, now.Add(-4*time.Hour))
	add("alternator", 2, 1, now.Add(-5*time.Hour))
	add("injector", 1, 9, now.AddDate(0, 0, -40)) // outside the default 30 days
	if err := api.Store.RecordSearches(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	const query = `query($zero: Boolean, $first: Int, $from: Time) {
		searchTerms(zeroResultsOnly: $zero, first: $first, from: $from) { term count zeroResultCount lastSeenAt } }`
	terms := func(resp gqlResponse) []string {
		var out []string
		for _, r := range resp.Get("searchTerms").([]any) {
			m := r.(map[string]any)
			out = append(out, fmt.Sprintf("%s:%v:%v", m["term"], m["count"], m["zeroResultCount"]))
		}
		return out
	}
	for _, c := range []struct {
		name string
		vars map[string]any
		want []string
	}{
		{"all, most searched first", nil,
			[]string{"hydraulic pump:4:1", "re504836:2:2", "alternator:1:0", "mail me at [email]:1:1"}},
		{"zero results only", map[string]any{"zero": true},
			[]string{"hydraulic pump:4:1", "re504836:2:2", "mail me at [email]:1:1"}},
		{"first", map[string]any{"first": 2}, []string{"hydraulic pump:4:1", "re504836:2:2"}},
		{"from", map[string]any{"from": now.AddDate(0, 0, -60).Format(time.RFC3339)},
			[]string{"injector:9:0", "hydraulic pump:4:1", "re504836:2:2", "alternator:1:0", "mail me at [email]:1:1"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp := api.mustPost(f.Analyst, query, c.vars)
			if got := terms(resp); fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
			if strings.Contains(resp.Raw, "jane.doe") {
				t.Errorf("a redacted term came back in clear: %s", resp.Raw)
			}
		})
	}
	for _, first := range []int{0, 10_001} {
		resp := api.post(f.Analyst, query, map[string]any{"first": first})
		if len(resp.Errors) != 1 || resp.Errors[0].Code() != "BAD_USER_INPUT" || resp.Errors[0].Field() != "first" {
			t.Errorf("first %d: got %s, want BAD_USER_INPUT on first", first, resp.Raw)
		}
	}
}

// TestAnalyticsAccess: the operational queries are for analysts and admins;
// a seller reads its own stats and performance, not another seller's.
func TestAnalyticsAccess(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	from, to := time.Now().AddDate(0, 0, -7).Format(time.RFC3339), time.Now().Format(time.RFC3339)
	roots := map[string]string{
		"searchTerms":        `{ searchTerms { term } }`,
		"marketplaceMetrics": `{ marketplaceMetrics(from: "` + from + `", to: "` + to + `", groupBy: [DAY]) { day views } }`,
		"events":             `{ events(first: 5) { nodes { id type } totalCount } }`,
	}
	for name, query := range roots {
		for who, token := range map[string]string{"anonymous": "", "seller": f.TokenA, "analyst": f.Analyst, "admin": f.Admin} {
			t.Run(name+"/"+who, func(t *testing.T) {
				resp := api.post(token, query, nil)
				if who == "analyst" || who == "admin" {
					if len(resp.Errors) > 0 || resp.Get(name) == nil {
						t.Fatalf("got %s, want data", resp.Raw)
					}
					return
				}
				if len(resp.Errors) != 1 || resp.Errors[0].Code() != refusalFor(token) || resp.Get(name) != nil {
					t.Fatalf("got %s, want %s", resp.Raw, refusalFor(token))
				}
			})
		}
	}

	api.mustPost("", recordEventMutation, map[string]any{"input": map[string]any{"type": "LISTING_VIEW", "listingId": f.ListingA.ID}})
	api.flushEvents()
	const stats = `query($l: ID!, $s: ID!) { listing(id: $l) { id stats { views leads } }
		seller(id: $s) { id performance { views leads reports conversionRate } } }`
	own := api.mustPost(f.TokenA, stats, map[string]any{"l": f.ListingA.ID, "s": f.SellerA.ID})
	if own.Get("listing.stats.views") != 1.0 || own.Get("listing.stats.leads") != 1.0 ||
		own.Get("seller.performance.reports") != 1.0 || own.Get("seller.performance.conversionRate") != 1.0 {
		t.Errorf("own stats: got %s, want 1 view, 1 lead, 1 report, conversion 1", own.Raw)
	}
	other := api.post(f.TokenA, stats, map[string]any{"l": f.ListingB.ID, "s": f.SellerB.ID})
	if len(other.Errors) != 2 || other.Get("listing.stats") != nil || other.Get("seller.performance") != nil ||
		other.Get("listing.id") == nil || other.Errors[0].Code() != "FORBIDDEN" || other.Errors[1].Code() != "FORBIDDEN" {
		t.Errorf("another seller's stats: got %s, want both FORBIDDEN and the rest of the response", other.Raw)
	}
}

// TestListingStatsAreBatched: stats and performance on a page of listings
// cost the same statements for 2 rows as for 20.
func TestListingStatsAreBatched(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	for i := range 20 {
		api.mustListing(f.SellerA.ID, fmt.Sprintf("Batched listing %d", i), store.ListingActive)
	}
	const query = `query($first: Int!, $s: ID!) { listings(first: $first, filter: {sellerId: $s}) {
		nodes { id stats { views leads } weekly: stats(from: "2026-01-05T00:00:00Z", to: "2026-01-12T00:00:00Z") { views }
			seller { performance { views conversionRate } } } } }`
	counts := map[int]int{}
	for _, first := range []int{2, 20} {
		id := fmt.Sprintf("stats-batched-%d", first)
		resp := api.postWithID(id, f.TokenA, query, map[string]any{"first": first, "s": f.SellerA.ID})
		if len(resp.Errors) > 0 || len(resp.Get("listings.nodes").([]any)) != first {
			t.Fatalf("got %s", resp.Raw)
		}
		counts[first] = api.statementsOf(id)
	}
	if counts[2] != counts[20] {
		t.Errorf("statements: %d for 2 listings, %d for 20; stats are read per listing", counts[2], counts[20])
	}
}

// TestMarketplaceMetricsArguments: BAD_USER_INPUT naming the argument.
func TestMarketplaceMetricsArguments(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	const query = `query($from: Time!, $to: Time!, $g: [MetricDimension!]!, $first: Int) {
		marketplaceMetrics(from: $from, to: $to, groupBy: $g, first: $first) { day views } }`
	for _, c := range []struct {
		name, from, to string
		groupBy        []string
		first          any
		field          string
	}{
		{"to before from", "2026-02-01T00:00:00Z", "2026-01-01T00:00:00Z", []string{"DAY"}, nil, "to"},
		{"same day", "2026-02-01T00:00:00Z", "2026-02-01T20:00:00Z", []string{"DAY"}, nil, "to"},
		{"over a year", "2024-01-01T00:00:00Z", "2026-01-01T00:00:00Z", []string{"DAY"}, nil, "from"},
		{"two time dimensions", "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z", []string{"DAY", "WEEK"}, nil, "groupBy"},
		{"first 0", "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z", []string{"DAY"}, 0, "first"},
		{"first over 10000", "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z", []string{"DAY"}, 10_001, "first"},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp := api.post(f.Analyst, query, map[string]any{"from": c.from, "to": c.to, "g": c.groupBy, "first": c.first})
			if len(resp.Errors) != 1 || resp.Errors[0].Code() != "BAD_USER_INPUT" || resp.Errors[0].Field() != c.field {
				t.Errorf("got %s, want BAD_USER_INPUT on %s", resp.Raw, c.field)
			}
		})
	}
}
