package seed

import (
	"context"
	"reflect"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"

	"github.com/partsmarket/gateway/internal/pii"
	"github.com/partsmarket/gateway/internal/testdb"
	"github.com/partsmarket/gateway/store"
)

// counts returns the number of rows of each seeded table.
func counts(t *testing.T, db *sqlx.DB) Stats {
	t.Helper()
	var s Stats
	for _, c := range []struct {
		table string
		n     *int
	}{
		{"sellers", &s.Sellers},
		{"seller_contacts", &s.SellerContacts},
		{"seller_locations", &s.SellerLocations},
		{"listings", &s.Listings},
		{"media", &s.Media},
		{"leads", &s.Leads},
		{"listing_reports", &s.ListingReports},
		{"events", &s.Events},
		{"search_queries", &s.Searches},
	} {
		if err := db.Get(c.n, "SELECT count(*) FROM "+c.table); err != nil {
			t.Fatalf("count %s: %v", c.table, err)
		}
	}
	return s
}

// count runs a count(*) query.
func count(t *testing.T, db *sqlx.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.Get(&n, query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestRun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := sqlx.MustConnect("postgres", testdb.New(t))
	defer db.Close()

	start := time.Now()
	stats, err := Run(ctx, db, pii.Dev())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	t.Logf("first Run took %v: %v", time.Since(start), stats)

	if got := counts(t, db); got != stats {
		t.Errorf("table counts %v, Stats %v", got, stats)
	}
	ranges := []struct {
		name   string
		n      int
		lo, hi int
	}{
		{"sellers", stats.Sellers, 35, 45},
		{"seller_contacts", stats.SellerContacts, 2 * stats.Sellers, 5 * stats.Sellers},
		{"seller_locations", stats.SellerLocations, stats.Sellers, 3 * stats.Sellers},
		{"listings", stats.Listings, 2500, 3500},
		{"media", stats.Media, stats.Listings, 3 * stats.Listings},
		{"leads", stats.Leads, 250, 350},
		{"listing_reports", stats.ListingReports, 30, 50},
		{"events", stats.Events, 10000, 30000},
		{"search_queries", stats.Searches, searchCount, searchCount},
	}
	for _, r := range ranges {
		if r.n < r.lo || r.n > r.hi {
			t.Errorf("%s: %d rows, want %d..%d", r.name, r.n, r.lo, r.hi)
		}
	}

	start = time.Now()
	again, err := Run(ctx, db, pii.Dev())
	if err != nil {
		t.Fatalf("second Run: %v", err)
	}
	t.Logf("second Run took %v", time.Since(start))
	if again != (Stats{}) {
		t.Errorf("second Run inserted %v, want nothing", again)
	}
	if got := counts(t, db); got != stats {
		t.Errorf("after second Run: counts %v, want %v", got, stats)
	}

	t.Run("integrity", func(t *testing.T) { checkIntegrity(t, db) })
	t.Run("statuses", func(t *testing.T) { checkStatuses(t, db) })
	t.Run("contact data", func(t *testing.T) { checkContactData(t, db) })
	t.Run("search", func(t *testing.T) { checkSearch(t, db) })
	t.Run("activity", func(t *testing.T) { checkActivity(t, db, stats) })
	t.Run("demo owner", func(t *testing.T) {
		var role string
		err := db.GetContext(ctx, &role, `SELECT role FROM seller_members
			WHERE issuer = '' AND subject = $1 AND seller_id = $2`, DemoOwnerSubject, DemoSellerID())
		if err != nil || role != "OWNER" {
			t.Errorf("the demo seller's owner member: role %q, %v; want OWNER", role, err)
		}
	})
}

// checkActivity checks the seeded events and searches: all within the last
// activityDays, on public listings and sellers, every event and every lead
// but the SPAM ones counted in the daily rollups, and zero-result searches
// among the searches.
func checkActivity(t *testing.T, db *sqlx.DB, stats Stats) {
	if n := count(t, db, `SELECT count(*) FROM events WHERE created_at < now() - interval '31 days' OR created_at > now()`); n != 0 {
		t.Errorf("%d events outside the last %d days", n, activityDays)
	}
	if n := count(t, db, `SELECT count(*) FROM events e JOIN sellers s ON s.id = e.seller_id
		LEFT JOIN listings l ON l.id = e.listing_id
		WHERE s.status <> 'ACTIVE' OR (e.listing_id IS NOT NULL AND (l.status <> 'ACTIVE' OR l.seller_id <> e.seller_id))`); n != 0 {
		t.Errorf("%d events on listings or sellers the public does not see", n)
	}
	var rolled struct{ Events, Leads int }
	if err := db.Get(&rolled, `SELECT coalesce(sum(views + call_clicks + text_clicks + email_clicks), 0) AS events,
			coalesce(sum(leads), 0) AS leads FROM daily_seller_totals`); err != nil {
		t.Fatal(err)
	}
	notSpam := count(t, db, `SELECT count(*) FROM leads WHERE status <> 'SPAM'`) // SPAM leads are not counted
	if rolled.Events != stats.Events || rolled.Leads != notSpam || notSpam >= stats.Leads {
		t.Errorf("daily_seller_totals count %d events and %d leads, want the %d seeded and the %d of %d leads that are not SPAM",
			rolled.Events, rolled.Leads, stats.Events, notSpam, stats.Leads)
	}
	if n := count(t, db, `SELECT count(DISTINCT type) FROM events`); n != 4 {
		t.Errorf("%d event types, want all 4", n)
	}
	zero := count(t, db, `SELECT count(*) FROM search_queries WHERE result_count = 0`)
	if zero == 0 || zero > stats.Searches/2 {
		t.Errorf("%d of %d searches found nothing, want some but not most", zero, stats.Searches)
	}
	// The counts are the titles that hold the term: a listed part number
	// finds its listings.
	if n := count(t, db, `SELECT count(*) FROM (SELECT DISTINCT term, result_count FROM search_queries) q
		WHERE q.result_count <> (SELECT count(*) FROM listings l JOIN sellers s ON s.id = l.seller_id
			WHERE l.status = 'ACTIVE' AND s.status = 'ACTIVE' AND strpos(lower(l.title), q.term) > 0)`); n != 0 {
		t.Errorf("%d searches with a result count that is not their matching titles", n)
	}
}

func checkIntegrity(t *testing.T, db *sqlx.DB) {
	if n := count(t, db, `SELECT count(*) FROM listings l
		LEFT JOIN seller_locations sl ON sl.id = l.location_id
		WHERE sl.id IS NULL OR sl.seller_id <> l.seller_id`); n != 0 {
		t.Errorf("%d listings without a location of their own seller", n)
	}
	if n := count(t, db, `SELECT count(*) FROM leads ld JOIN listings l ON l.id = ld.listing_id
		WHERE l.seller_id <> ld.seller_id`); n != 0 {
		t.Errorf("%d leads whose listing belongs to another seller", n)
	}
	if n := count(t, db, `SELECT count(*) FROM leads ld JOIN listings l ON l.id = ld.listing_id
		JOIN sellers s ON s.id = l.seller_id WHERE l.status <> 'ACTIVE' OR s.status <> 'ACTIVE'`); n != 0 {
		t.Errorf("%d leads on listings that are not public", n)
	}
	if n := count(t, db, `SELECT count(*) FROM leads WHERE listing_id IS NULL`); n == 0 {
		t.Error("no general leads (without a listing)")
	}
	if n := count(t, db, `SELECT count(*) FROM leads WHERE created_at > now() OR updated_at < created_at`); n != 0 {
		t.Errorf("%d leads with impossible timestamps", n)
	}
	if n := count(t, db, `SELECT count(*) FROM listings l JOIN sellers s ON s.id = l.seller_id
		WHERE l.created_at < s.created_at OR l.created_at < now() - interval '181 days'
		   OR l.updated_at < l.created_at OR l.created_at > now()`); n != 0 {
		t.Errorf("%d listings with impossible timestamps", n)
	}
	if n := count(t, db, `SELECT count(*) FROM listings l
		JOIN seller_locations sl ON sl.seller_id = l.seller_id AND sl.position = 0
		WHERE l.currency <> CASE sl.country WHEN 'US' THEN 'USD' WHEN 'CA' THEN 'CAD'
		                                    WHEN 'GB' THEN 'GBP' WHEN 'DE' THEN 'EUR' END`); n != 0 {
		t.Errorf("%d listings priced in a currency not of their seller's country", n)
	}
	if n := count(t, db, `SELECT count(*) FROM listings WHERE price_cents IS NULL AND price_label IS NULL`); n != 0 {
		t.Errorf("%d listings with neither price nor price label", n)
	}
	if n := count(t, db, `SELECT count(*) FROM listings WHERE price_cents IS NULL`); n == 0 {
		t.Error("no listings without a price")
	}
	if n := count(t, db, `SELECT count(*) FROM
		(SELECT seller_id FROM seller_locations GROUP BY seller_id HAVING count(*) NOT BETWEEN 1 AND 3) x`); n != 0 {
		t.Errorf("%d sellers without 1-3 locations", n)
	}
	if n := count(t, db, `SELECT count(*) FROM sellers s
		WHERE NOT EXISTS (SELECT 1 FROM seller_locations sl WHERE sl.seller_id = s.id)`); n != 0 {
		t.Errorf("%d sellers without a location", n)
	}
	if n := count(t, db, `SELECT count(*) FROM media m JOIN listings l ON l.id = m.listing_id
		WHERE m.url <> 'https://images.example.com/parts/' || l.id || '/' || (m.position + 1) || '.jpg'
		   OR m.content_type <> 'image/jpeg' OR m.alt_text IS NULL`); n != 0 {
		t.Errorf("%d media with unexpected url, type or alt text", n)
	}
	if n := count(t, db, `SELECT count(*) FROM
		(SELECT listing_id FROM media GROUP BY listing_id HAVING count(*) > 3 OR max(position) <> count(*) - 1) x`); n != 0 {
		t.Errorf("%d listings whose media positions are not 0..n-1 (n <= 3)", n)
	}
	slugs := count(t, db, `SELECT count(DISTINCT slug) FROM sellers`)
	if all := count(t, db, `SELECT count(*) FROM sellers`); slugs != all {
		t.Errorf("%d distinct slugs for %d sellers", slugs, all)
	}
	if n := count(t, db, `SELECT count(*) FROM sellers WHERE slug !~ '^[a-z0-9]+(-[a-z0-9]+)*$'`); n != 0 {
		t.Errorf("%d malformed slugs", n)
	}
	if n := count(t, db, `SELECT count(*) FROM
		(SELECT seller_id, sku FROM listings GROUP BY 1, 2 HAVING count(*) > 1 OR sku IS NULL) x`); n != 0 {
		t.Errorf("%d SKUs missing or repeated within a seller", n)
	}
}

func checkStatuses(t *testing.T, db *sqlx.DB) {
	type row struct {
		Status string `db:"status"`
		N      int    `db:"n"`
	}
	byStatus := func(query string) map[string]int {
		var rows []row
		if err := db.Select(&rows, query); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		m := map[string]int{}
		for _, r := range rows {
			m[r.Status] = r.N
		}
		return m
	}
	sellers := byStatus(`SELECT status, count(*) AS n FROM sellers GROUP BY status`)
	if sellers["ACTIVE"] < 30 || sellers["PENDING"] < 2 || sellers["SUSPENDED"] < 1 || sellers["SUSPENDED"] > 2 {
		t.Errorf("seller statuses %v", sellers)
	}
	listings := byStatus(`SELECT status, count(*) AS n FROM listings GROUP BY status`)
	for _, s := range []string{"ACTIVE", "DRAFT", "PAUSED", "SOLD", "REMOVED"} {
		if listings[s] == 0 {
			t.Errorf("no %s listings: %v", s, listings)
		}
	}
	if listings["ACTIVE"] < listings["DRAFT"]+listings["PAUSED"]+listings["SOLD"]+listings["REMOVED"] {
		t.Errorf("listings are not mostly ACTIVE: %v", listings)
	}
	leads := byStatus(`SELECT status, count(*) AS n FROM leads GROUP BY status`)
	for _, s := range []string{"NEW", "CONTACTED", "QUALIFIED", "WON", "LOST", "SPAM"} {
		if leads[s] == 0 {
			t.Errorf("no %s leads: %v", s, leads)
		}
	}
	reports := byStatus(`SELECT status, count(*) AS n FROM listing_reports GROUP BY status`)
	for _, s := range []string{"OPEN", "DISMISSED", "ACTIONED"} {
		if reports[s] == 0 {
			t.Errorf("no %s reports: %v", s, reports)
		}
	}
	public := count(t, db, `SELECT count(*) FROM listings l JOIN sellers s ON s.id = l.seller_id
		WHERE l.status = 'ACTIVE' AND s.status = 'ACTIVE'`)
	if public < 1000 {
		t.Errorf("%d public listings, want thousands", public)
	}
	if n := count(t, db, `SELECT count(*) FROM listings WHERE status = 'REMOVED'
		AND (removal_reason IS NULL OR moderation_note IS NULL)`); n != 0 {
		t.Errorf("%d REMOVED listings without reason or note", n)
	}
	if n := count(t, db, `SELECT count(*) FROM listings WHERE status <> 'REMOVED'
		AND (removal_reason IS NOT NULL OR moderation_note IS NOT NULL)`); n != 0 {
		t.Errorf("%d listings with a removal reason that are not REMOVED", n)
	}
	if n := count(t, db, `SELECT count(*) FROM listing_reports WHERE
		(status = 'OPEN') <> (resolved_at IS NULL) OR (status = 'OPEN') <> (resolution_note IS NULL)
		OR resolved_at < created_at`); n != 0 {
		t.Errorf("%d reports whose resolution does not match their status", n)
	}
	if n := count(t, db, `SELECT count(*) FROM listing_reports r JOIN listings l ON l.id = r.listing_id
		WHERE r.status = 'ACTIONED' AND l.status <> 'REMOVED'`); n != 0 {
		t.Errorf("%d ACTIONED reports on listings that were not removed", n)
	}
	// A few sellers own many listings.
	var top []int
	if err := db.Select(&top, `SELECT count(*) FROM listings GROUP BY seller_id ORDER BY 1 DESC LIMIT 4`); err != nil {
		t.Fatal(err)
	}
	if top[3] < 200 {
		t.Errorf("top sellers own %v listings, want a few with hundreds", top)
	}
}

func checkContactData(t *testing.T, db *sqlx.DB) {
	email := regexp.MustCompile(`^[a-z0-9.+-]+@example\.(com|net|org)$`)
	phone := regexp.MustCompile(`^\+\d{1,2} \d{2,4} 555 01\d\d$`)
	var contacts []struct {
		Kind  string `db:"kind"`
		Value string `db:"value"`
	}
	if err := db.Select(&contacts, `SELECT kind, value FROM seller_contacts`); err != nil {
		t.Fatal(err)
	}
	for _, c := range contacts {
		re := phone
		if c.Kind == "EMAIL" {
			re = email
		}
		if !re.MatchString(c.Value) {
			t.Errorf("seller contact %s %q is not a fictional address", c.Kind, c.Value)
		}
	}
	// Buyers' and reporters' data are sealed: read them through the store.
	st, all := store.New(db), store.Scope{All: true}
	leads, err := st.Leads(context.Background(), store.LeadQuery{Scope: all}, store.PageArgs{Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	reports, err := st.Reports(context.Background(), store.ReportQuery{Scope: all}, store.PageArgs{Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	if len(leads.Items) == 0 || len(reports.Items) == 0 {
		t.Fatal("no leads or reports read back")
	}
	for _, l := range leads.Items {
		if !email.MatchString(l.Email) {
			t.Errorf("buyer email %q is not under example.com/.org", l.Email)
		}
		if l.Phone != nil && !phone.MatchString(*l.Phone) {
			t.Errorf("buyer phone %q is not a 555 number", *l.Phone)
		}
	}
	for _, r := range reports.Items {
		if r.ReporterEmail != nil && !email.MatchString(*r.ReporterEmail) {
			t.Errorf("reporter email %q is not under example.com/.org", *r.ReporterEmail)
		}
	}
	if n := count(t, db, `SELECT count(*) FROM leads WHERE pii IS NULL OR email_bidx IS NULL`); n != 0 {
		t.Errorf("%d seeded leads without sealed personal data", n)
	}
	if n := count(t, db, `SELECT count(*) FROM sellers WHERE website IS NOT NULL
		AND website !~ '^https://[a-z0-9-]+\.example\.com$'`); n != 0 {
		t.Errorf("%d sellers with a website outside example.com", n)
	}
	if n := count(t, db, `SELECT count(DISTINCT country) FROM seller_locations`); n < 4 {
		t.Errorf("sellers in %d countries, want US, CA, GB and DE", n)
	}
}

func checkSearch(t *testing.T, db *sqlx.DB) {
	if n := count(t, db, `SELECT count(*) FROM listings l JOIN sellers s ON s.id = l.seller_id
		WHERE l.status = 'ACTIVE' AND s.status = 'ACTIVE'
		  AND l.search @@ websearch_to_tsquery('english', 'hydraulic pump')`); n == 0 {
		t.Error("no public listing matches 'hydraulic pump'")
	}
	for _, pn := range []string{"1R-0750", "1r 0750", "RE504836", "0986435505"} {
		if n := count(t, db, `SELECT count(*) FROM listings
			WHERE part_number_norm = normalize_part_number($1)`, pn); n == 0 {
			t.Errorf("part number %q finds nothing", pn)
		}
	}
	if n := count(t, db, `SELECT count(DISTINCT brand) FROM listings`); n < 12 {
		t.Errorf("%d brands, want a dozen or more", n)
	}
	if n := count(t, db, `SELECT count(DISTINCT category) FROM listings`); n < 10 {
		t.Errorf("%d categories, want ten or more", n)
	}
}

// TestRunConcurrent runs the seed twice at once: exactly one run loads the
// data, the other waits for it and inserts nothing.
func TestRunConcurrent(t *testing.T) {
	t.Parallel()
	db := sqlx.MustConnect("postgres", testdb.New(t))
	defer db.Close()

	var wg sync.WaitGroup
	results := make([]Stats, 2)
	errs := make([]error, 2)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = Run(context.Background(), db, pii.Dev())
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	}
	if (results[0] == Stats{}) == (results[1] == Stats{}) {
		t.Fatalf("concurrent runs returned %v and %v, want exactly one empty", results[0], results[1])
	}
	if got, want := counts(t, db), results[0]; got != want && got != results[1] {
		t.Errorf("counts %v after concurrent runs", got)
	}
}

// TestGenerateDeterministic checks that two generations of the same day are
// identical, row for row.
func TestGenerateDeterministic(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	a, b := generate(now), generate(now)
	for _, build := range []func(*dataset) table{
		(*dataset).sellerTable, (*dataset).contactTable, (*dataset).locationTable,
		(*dataset).listingTable, (*dataset).mediaTable,
	} {
		ta, tb := build(a), build(b)
		if !reflect.DeepEqual(ta.rows, tb.rows) {
			t.Errorf("%s differ between two generations", ta.name)
		}
	}
	// Leads and reports are sealed with random nonces: compare them before.
	if !reflect.DeepEqual(a.leads, b.leads) {
		t.Error("leads differ between two generations")
	}
	if !reflect.DeepEqual(a.reports, b.reports) {
		t.Error("reports differ between two generations")
	}
	if a.sellers[0].id != sellerID(0) || a.sellers[0].status != "ACTIVE" {
		t.Errorf("first seller %s %s, want the ACTIVE seller Run checks for", a.sellers[0].id, a.sellers[0].status)
	}
}
