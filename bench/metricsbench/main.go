// Command metricsbench measures marketplaceMetrics over a large event
// history: by default 10 million events over the last 30 days, on
// 200,000 listings of 10,000 sellers (skewed: a few listings get most of the
// views), with leads.
//
// It builds the gateway, creates a fresh database on the server of
// -database-url, migrates it, generates the data straight into the tables
// inside PostgreSQL (generate_series, several connections in parallel; the
// raw events' secondary indexes are dropped during the load) and builds the
// daily rollups from the raw rows with one INSERT … SELECT … GROUP BY per
// table and rebuild_metric_rollups(), as the flushes would have left them. Then it starts `gateway serve` and sends
// marketplaceMetrics queries as an ANALYST over HTTP, each -runs times, and
// prints p50 and p95 per query and over all of them.
//
//	go run ./bench/metricsbench
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"golang.org/x/sync/errgroup"

	"github.com/partsmarket/gateway/bench/internal/benchkit"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "metricsbench:", err)
		os.Exit(1)
	}
}

type options struct {
	databaseURL string
	bin         string
	events      int
	days        int
	sellers     int
	listings    int
	leads       int
	streams     int
	runs        int
	keep        bool
	indexes     bool
}

func run() error {
	var o options
	flag.StringVar(&o.databaseURL, "database-url", benchkit.EnvOr("DATABASE_URL", benchkit.DefaultDatabaseURL),
		"a server on which to create a fresh database")
	flag.StringVar(&o.bin, "bin", "", "gateway binary (default: go build the repository)")
	flag.IntVar(&o.events, "events", 10_000_000, "raw events to generate")
	flag.IntVar(&o.days, "days", 30, "the events lie within the last days")
	flag.IntVar(&o.sellers, "sellers", 10_000, "active sellers")
	flag.IntVar(&o.listings, "listings", 200_000, "active listings")
	flag.IntVar(&o.leads, "leads", 200_000, "leads")
	flag.IntVar(&o.streams, "streams", 2, "connections generating events in parallel")
	flag.IntVar(&o.runs, "runs", 30, "times each query is sent")
	flag.BoolVar(&o.keep, "keep", false, "keep the database")
	flag.BoolVar(&o.indexes, "rebuild-indexes", false, "rebuild the raw events' indexes after the load (metrics do not read them)")
	flag.Parse()
	ctx := context.Background()

	g, err := benchkit.Prepare(ctx, benchkit.Config{Name: "metricsbench", DatabaseURL: o.databaseURL, Bin: o.bin, Keep: o.keep,
		Env: []string{"RATE_LIMIT_POINTS_PER_MINUTE=1000000000"}})
	if err != nil {
		return err
	}
	defer g.Close()
	if o.keep {
		fmt.Println("database:", g.DBName)
	}
	db, err := sqlx.Connect("postgres", g.DBURL)
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(o.streams + 1)

	begin := time.Now()
	if err := generate(ctx, db, o); err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	genTime := time.Since(begin)
	var rollupRows struct {
		Listing int `db:"listing"`
		Seller  int `db:"seller"`
		Totals  int `db:"totals"`
		Segment int `db:"segment"`
	}
	if err := db.GetContext(ctx, &rollupRows, `SELECT (SELECT count(*) FROM daily_listing_stats) AS listing,
		(SELECT count(*) FROM daily_seller_stats) AS seller, (SELECT count(*) FROM daily_seller_totals) AS totals,
		(SELECT count(*) FROM daily_segment_stats) AS segment`); err != nil {
		return err
	}

	if err := g.Serve(); err != nil {
		return err
	}
	defer g.Stop()
	tokenCmd := exec.CommandContext(ctx, g.Bin, "token", "--role", "analyst")
	tokenCmd.Env = g.Env
	tok, err := tokenCmd.Output()
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	token := strings.TrimSpace(string(tok))

	var sellerID, category string
	if err := db.GetContext(ctx, &sellerID, `SELECT seller_id::text FROM daily_listing_stats GROUP BY 1 ORDER BY sum(views) DESC LIMIT 1`); err != nil {
		return err
	}
	category = "Category 3"
	to := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, 1)
	from := to.AddDate(0, 0, -o.days)
	queries := []struct {
		name    string
		groupBy []string
		filter  map[string]any
	}{
		{"total", []string{}, nil},
		{"by DAY", []string{"DAY"}, nil},
		{"by WEEK", []string{"WEEK"}, nil},
		{"by SELLER (top 100)", []string{"SELLER"}, nil},
		{"by CATEGORY", []string{"CATEGORY"}, nil},
		{"by REGION", []string{"REGION"}, nil},
		{"by EVENT_TYPE", []string{"EVENT_TYPE"}, nil},
		{"by DAY, CATEGORY", []string{"DAY", "CATEGORY"}, nil},
		{"by DAY, one seller", []string{"DAY"}, map[string]any{"sellerId": sellerID}},
		{"by SELLER, one category", []string{"SELLER"}, map[string]any{"category": category}},
	}
	client := &http.Client{Timeout: 60 * time.Second}
	var all []time.Duration
	fmt.Printf("metricsbench: %d events over %d days, %d listings of %d sellers, %d leads; %d CPUs\n",
		o.events, o.days, o.listings, o.sellers, o.leads, runtime.NumCPU())
	fmt.Printf("generated and rolled up in %.1fs; rollup rows: %d listing-days, %d seller-level days, %d seller totals, %d segment days\n",
		genTime.Seconds(), rollupRows.Listing, rollupRows.Seller, rollupRows.Totals, rollupRows.Segment)
	fmt.Printf("\n| query | p50 | p95 | rows |\n| --- | --- | --- | --- |\n")
	for _, q := range queries {
		var lat []time.Duration
		var rows int
		for i := range o.runs + 2 {
			start := time.Now()
			n, err := metrics(ctx, client, g.Base, token, from, to, q.groupBy, q.filter)
			if err != nil {
				return fmt.Errorf("%s: %w", q.name, err)
			}
			if i >= 2 { // two warm-up runs
				lat = append(lat, time.Since(start))
			}
			rows = n
		}
		slices.Sort(lat)
		all = append(all, lat...)
		fmt.Printf("| %s | %s | %s | %d |\n", q.name, pct(lat, 50), pct(lat, 95), rows)
	}
	slices.Sort(all)
	fmt.Printf("| all queries | %s | %s | |\n", pct(all, 50), pct(all, 95))
	return nil
}

// generate loads sellers, listings, events and leads inside PostgreSQL and
// builds the rollups from the raw rows.
func generate(ctx context.Context, db *sqlx.DB, o options) error {
	// step runs statements in one round trip; its integer arguments are
	// written into the text ($1 … $9), as the simple protocol has none.
	step := func(what, stmt string, args ...int) error {
		t := time.Now()
		for i, a := range args {
			stmt = strings.ReplaceAll(stmt, fmt.Sprintf("$%d::", i+1), fmt.Sprintf("%d::", a))
		}
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		fmt.Printf("  %-28s %6.1fs\n", what, time.Since(t).Seconds())
		return nil
	}
	if err := step("sellers, locations", `
		INSERT INTO sellers (slug, company_name, status) SELECT 'seller-' || i, 'Seller ' || i, 'ACTIVE' FROM generate_series(1, $1::int) i;
		INSERT INTO seller_locations (seller_id, city, region, country)
			SELECT id, 'City', 'Region ' || (abs(hashtext(id::text)) % 50), 'US' FROM sellers;`, o.sellers); err != nil {
		return err
	}
	// Listings belong to sellers with a skew (a few sellers own many).
	if err := step("listings", `
		CREATE TABLE bench_sellers AS SELECT row_number() OVER (ORDER BY id) - 1 AS n, id FROM sellers;
		INSERT INTO listings (seller_id, location_id, title, category, condition, status)
			SELECT s.id, sl.id, 'Part ' || i, 'Category ' || (i % 40), 'USED', 'ACTIVE'
			FROM (SELECT i, floor($2::int * power(random(), 2))::int AS pick FROM generate_series(1, $1::int) i OFFSET 0) g
			JOIN bench_sellers s ON s.n = g.pick
			JOIN seller_locations sl ON sl.seller_id = s.id;
		CREATE TABLE bench_listings AS SELECT row_number() OVER (ORDER BY id) - 1 AS n, id, seller_id FROM listings;
		CREATE UNIQUE INDEX ON bench_listings (n);
		ANALYZE bench_listings; ANALYZE bench_sellers;`, o.listings, o.sellers); err != nil {
		return err
	}
	if err := step("drop event indexes", `ALTER TABLE events DROP CONSTRAINT events_pkey;
		DROP INDEX events_newest_idx, events_listing_idx, events_seller_idx;`); err != nil {
		return err
	}
	t := time.Now()
	var g errgroup.Group
	per := (o.events + o.streams - 1) / o.streams
	for s := range o.streams {
		n := min(per, o.events-s*per)
		g.Go(func() error {
			// Views of a listing follow a power law; 3 % are seller-level.
			_, err := db.ExecContext(ctx, `
				INSERT INTO events (type, listing_id, seller_id, session_id, source_page, user_agent, ip_hash, created_at)
				SELECT (ARRAY['LISTING_VIEW','LISTING_VIEW','LISTING_VIEW','LISTING_VIEW','LISTING_VIEW','LISTING_VIEW',
						'CALL_CLICK','TEXT_CLICK','EMAIL_CLICK','LISTING_VIEW'])[1 + (i % 10)],
					CASE WHEN i % 33 = 0 THEN NULL ELSE l.id END, l.seller_id,
					'session-' || (i % 100000), '/listings', 'metricsbench', md5((i % 200000)::text),
					now() - random() * make_interval(days => $3::int)
				FROM (SELECT i, floor($4::int * power(random(), 3))::int AS pick
					FROM generate_series($1::bigint, $2::bigint) i OFFSET 0) g
				JOIN bench_listings l ON l.n = g.pick`,
				s*per+1, s*per+n, o.days, o.listings)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return fmt.Errorf("events: %w", err)
	}
	fmt.Printf("  %-28s %6.1fs\n", "events", time.Since(t).Seconds())
	// Leads are stored anonymised: personal data is encrypted by the
	// application, which this load bypasses; the rollups count them alike.
	if err := step("leads (rolled up by trigger)", `
		INSERT INTO leads (seller_id, listing_id, source_page, created_at, anonymized_at)
		SELECT seller_id, listing_id, '/listings', at, at FROM (
			SELECT l.seller_id, CASE WHEN i % 10 = 0 THEN NULL ELSE l.id END AS listing_id,
				now() - random() * make_interval(days => $2::int) AS at
			FROM (SELECT i, floor($3::int * power(random(), 3))::int AS pick FROM generate_series(1, $1::int) i OFFSET 0) g
			JOIN bench_listings l ON l.n = g.pick) x`, o.leads, o.days, o.listings); err != nil {
		return err
	}
	if err := step("rollups from raw events", `
		INSERT INTO daily_listing_stats AS d (day, listing_id, seller_id, category, region, views, call_clicks, text_clicks, email_clicks)
		SELECT (e.created_at AT TIME ZONE 'UTC')::date, e.listing_id, k.seller_id, k.category, k.region,
			count(*) FILTER (WHERE e.type = 'LISTING_VIEW'), count(*) FILTER (WHERE e.type = 'CALL_CLICK'),
			count(*) FILTER (WHERE e.type = 'TEXT_CLICK'), count(*) FILTER (WHERE e.type = 'EMAIL_CLICK')
		FROM events e JOIN listing_rollup_keys k ON k.listing_id = e.listing_id
		GROUP BY 1, 2, 3, 4, 5
		ON CONFLICT (day, listing_id) DO UPDATE SET views = d.views + EXCLUDED.views, call_clicks = d.call_clicks + EXCLUDED.call_clicks,
			text_clicks = d.text_clicks + EXCLUDED.text_clicks, email_clicks = d.email_clicks + EXCLUDED.email_clicks;
		INSERT INTO daily_seller_stats AS d (day, seller_id, views, call_clicks, text_clicks, email_clicks)
		SELECT (created_at AT TIME ZONE 'UTC')::date, seller_id,
			count(*) FILTER (WHERE type = 'LISTING_VIEW'), count(*) FILTER (WHERE type = 'CALL_CLICK'),
			count(*) FILTER (WHERE type = 'TEXT_CLICK'), count(*) FILTER (WHERE type = 'EMAIL_CLICK')
		FROM events WHERE listing_id IS NULL
		GROUP BY 1, 2
		ON CONFLICT (day, seller_id) DO UPDATE SET views = d.views + EXCLUDED.views, call_clicks = d.call_clicks + EXCLUDED.call_clicks,
			text_clicks = d.text_clicks + EXCLUDED.text_clicks, email_clicks = d.email_clicks + EXCLUDED.email_clicks;
		SELECT rebuild_metric_rollups();`); err != nil {
		return err
	}
	if o.indexes {
		if err := step("rebuild event indexes", `ALTER TABLE events ADD PRIMARY KEY (id);
			CREATE INDEX events_newest_idx ON events (created_at DESC, id DESC);
			CREATE INDEX events_listing_idx ON events (listing_id, created_at DESC, id DESC) WHERE listing_id IS NOT NULL;
			CREATE INDEX events_seller_idx ON events (seller_id, created_at DESC, id DESC);`); err != nil {
			return err
		}
	}
	return step("drop helpers, analyze", `DROP TABLE bench_listings, bench_sellers;
		ANALYZE daily_listing_stats; ANALYZE daily_seller_stats; ANALYZE daily_seller_totals; ANALYZE daily_segment_stats;
		ANALYZE events;`)
}

// metrics sends one marketplaceMetrics query and returns its row count.
func metrics(ctx context.Context, client *http.Client, base, token string, from, to time.Time, groupBy []string, filter map[string]any) (int, error) {
	body, _ := json.Marshal(map[string]any{
		"query": `query($from: Time!, $to: Time!, $g: [MetricDimension!]!, $f: MetricFilter) {
			marketplaceMetrics(from: $from, to: $to, groupBy: $g, filter: $f) {
				day sellerId category region eventType views callClicks textClicks emailClicks leads } }`,
		"variables": map[string]any{"from": from, "to": to, "g": groupBy, "f": filter}})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/graphql", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out struct {
		Data struct {
			Rows []json.RawMessage `json:"marketplaceMetrics"`
		} `json:"data"`
		Errors []json.RawMessage `json:"errors"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || len(out.Errors) > 0 || out.Data.Rows == nil {
		return 0, fmt.Errorf("HTTP %d: %.300s", resp.StatusCode, raw)
	}
	return len(out.Data.Rows), nil
}

// pct formats the p-th percentile of sorted, "-" when it is empty.
func pct(sorted []time.Duration, p int) string {
	if len(sorted) == 0 {
		return "-"
	}
	return benchkit.Percentile(sorted, p).Round(100 * time.Microsecond).String()
}
