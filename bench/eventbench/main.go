// Command eventbench measures sustained event ingestion over HTTP: how many
// recordEvent mutations (or POST /events beacons, with -via events) a real
// gateway accepts per second, and whether every accepted event is stored.
//
// By default it builds the gateway, creates a fresh database on the server
// of -database-url, migrates it and runs `gateway serve` as a child process.
// It stores active sellers with a listing each, sends events at a fixed
// concurrency for a fixed time, waits EVENT_FLUSH_INTERVAL plus one second
// (the freshness the API guide promises) and counts the rows, then stops the
// gateway (which flushes what is left) and counts again: stored rows must
// equal accepted events, or the run fails.
//
//	go run ./bench/eventbench -concurrency 32 -duration 20s
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/partsmarket/gateway/bench/internal/benchkit"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "eventbench:", err)
		os.Exit(1)
	}
}

type options struct {
	databaseURL string
	bin         string
	via         string
	concurrency int
	duration    time.Duration
	listings    int
	flush       time.Duration
	keep        bool
	gatewayLog  string
}

func run() error {
	var o options
	flag.StringVar(&o.databaseURL, "database-url", benchkit.EnvOr("DATABASE_URL", benchkit.DefaultDatabaseURL),
		"a server on which to create a fresh database")
	flag.StringVar(&o.bin, "bin", "", "gateway binary to start (default: go build the repository)")
	flag.StringVar(&o.via, "via", "graphql", "graphql (the recordEvent mutation) or events (POST /events, one event per request)")
	flag.IntVar(&o.concurrency, "concurrency", 32, "requests in flight")
	flag.DurationVar(&o.duration, "duration", 20*time.Second, "how long to send")
	flag.IntVar(&o.listings, "listings", 200, "listings (of as many sellers) the events are spread over")
	flag.DurationVar(&o.flush, "flush", time.Second, "EVENT_FLUSH_INTERVAL of the started gateway")
	flag.BoolVar(&o.keep, "keep", false, "keep the fresh database")
	flag.StringVar(&o.gatewayLog, "gateway-log", "", "file for the started gateway's log (default: discarded)")
	flag.Parse()
	if o.via != "graphql" && o.via != "events" {
		return errors.New("-via must be graphql or events")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	g, err := benchkit.Start(ctx, benchkit.Config{Name: "eventbench", DatabaseURL: o.databaseURL, Bin: o.bin, Keep: o.keep,
		Log: o.gatewayLog, Env: []string{
			"EVENT_FLUSH_INTERVAL=" + o.flush.String(),
			// One client sends everything: raise the per-client cost budget.
			"RATE_LIMIT_POINTS_PER_MINUTE=1000000000", "RATE_LIMIT_EVENTS_PER_IP_PER_MINUTE=1000000000"}})
	if err != nil {
		return err
	}
	defer g.Close()
	db, err := sqlx.Connect("postgres", g.DBURL)
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	defer db.Close()
	listingIDs, err := fixture(ctx, db, o.listings)
	if err != nil {
		return fmt.Errorf("fixture: %w", err)
	}

	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: o.concurrency * 2, MaxIdleConnsPerHost: o.concurrency * 2, IdleConnTimeout: time.Minute}}
	var accepted, failed atomic.Int64
	var firstErr atomic.Value
	var seq atomic.Int64
	var latMu sync.Mutex
	var latencies []time.Duration
	types := []string{"LISTING_VIEW", "LISTING_VIEW", "LISTING_VIEW", "CALL_CLICK", "TEXT_CLICK", "EMAIL_CLICK"}
	deadline := time.Now().Add(o.duration)
	begin := time.Now()
	var wg sync.WaitGroup
	for range o.concurrency {
		wg.Go(func() {
			var lat []time.Duration
			for time.Now().Before(deadline) {
				i := seq.Add(1)
				ev := map[string]any{"type": types[int(i)%len(types)], "listingId": listingIDs[int(i)%len(listingIDs)],
					"sessionId": fmt.Sprintf("bench-%d", i%5000), "sourcePage": "/listings/bench"}
				start := time.Now()
				if err := send(ctx, client, g.Base, o.via, ev); err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				lat = append(lat, time.Since(start))
				accepted.Add(1)
			}
			latMu.Lock()
			latencies = append(latencies, lat...)
			latMu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(begin)
	slices.Sort(latencies)

	// Freshness: stored within EVENT_FLUSH_INTERVAL plus one second.
	time.Sleep(o.flush + time.Second)
	fresh, err := count(ctx, db)
	if err != nil {
		return err
	}
	// Shutdown flushes the rest.
	g.Stop()
	stored, err := count(ctx, db)
	if err != nil {
		return err
	}
	var rolled int64
	if err := db.GetContext(ctx, &rolled, `SELECT coalesce(sum(views + call_clicks + text_clicks + email_clicks), 0)
		FROM daily_listing_stats`); err != nil {
		return err
	}

	fmt.Printf("eventbench: via %s, concurrency %d, duration %s, %d listings, EVENT_FLUSH_INTERVAL %s, %d CPUs, GOMAXPROCS %d\n",
		o.via, o.concurrency, o.duration, o.listings, o.flush, runtime.NumCPU(), runtime.GOMAXPROCS(0))
	fmt.Printf("accepted %d, failed %d, in %.1fs: %.0f events/s accepted\n", accepted.Load(), failed.Load(),
		elapsed.Seconds(), float64(accepted.Load())/elapsed.Seconds())
	if len(latencies) > 0 {
		pct := func(p int) time.Duration { return benchkit.Percentile(latencies, p).Round(100 * time.Microsecond) }
		fmt.Printf("request latency: p50 %s, p95 %s, p99 %s\n", pct(50), pct(95), pct(99))
	}
	fmt.Printf("rows %s after the run: %d; after shutdown: %d; counted in the rollups: %d\n",
		o.flush+time.Second, fresh, stored, rolled)
	if v := firstErr.Load(); v != nil {
		fmt.Printf("first failure: %s\n", v)
	}
	ok := stored == accepted.Load() && rolled == stored
	fmt.Printf("stored rows equal accepted events and rollups: %v\n", ok)
	if !ok {
		return errors.New("stored rows differ from accepted events")
	}
	return nil
}

// send records one event and returns an error unless it was accepted.
func send(ctx context.Context, client *http.Client, base, via string, ev map[string]any) error {
	var req *http.Request
	var err error
	if via == "events" {
		body, _ := json.Marshal(ev)
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, base+"/events", bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	} else {
		body, _ := json.Marshal(map[string]any{"query": `mutation($input: RecordEventInput!) { recordEvent(input: $input) { accepted } }`,
			"variables": map[string]any{"input": ev}})
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, base+"/graphql", bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", "eventbench/1.0")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if via == "events" {
		if resp.StatusCode != http.StatusNoContent {
			return fmt.Errorf("HTTP %d: %.200s", resp.StatusCode, raw)
		}
		return nil
	}
	if resp.StatusCode != http.StatusOK || !bytes.Contains(raw, []byte(`"accepted":true`)) {
		return fmt.Errorf("HTTP %d: %.200s", resp.StatusCode, raw)
	}
	return nil
}

func count(ctx context.Context, db *sqlx.DB) (int64, error) {
	var n int64
	err := db.GetContext(ctx, &n, `SELECT count(*) FROM events`)
	return n, err
}

// fixture stores n active sellers with a location and an active listing
// each, and returns the listing ids.
func fixture(ctx context.Context, db *sqlx.DB, n int) ([]string, error) {
	var ids []string
	err := db.SelectContext(ctx, &ids, `
		WITH s AS (
			INSERT INTO sellers (slug, company_name, status)
			SELECT 'eventbench-' || i, 'Event Bench Seller ' || i, 'ACTIVE' FROM generate_series(1, $1::int) i
			RETURNING id),
		loc AS (
			INSERT INTO seller_locations (seller_id, city, region, country)
			SELECT id, 'Dallas', 'TX', 'US' FROM s RETURNING id, seller_id)
		INSERT INTO listings (seller_id, location_id, title, category, condition, status)
		SELECT seller_id, id, 'Bench hydraulic pump ' || left(seller_id::text, 8), 'Hydraulics', 'USED', 'ACTIVE' FROM loc
		RETURNING id`, n)
	return ids, err
}
