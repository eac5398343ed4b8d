// Command leadbench measures sustained lead submission over HTTP and the
// latency of the seller's notification from submit to SMTP accept.
//
// By default it builds the gateway, creates a fresh database on the server
// of -database-url, migrates it and runs `gateway serve` as a child process
// with SMTP_URL pointing at an in-process SMTP sink (so the whole path is the
// real binary: HTTP, GraphQL, PostgreSQL, the outbox worker and SMTP). With
// -url it drives a gateway that is already running; give that gateway's
// database as -database-url and start it with SMTP_URL=smtp://<-smtp-addr>
// to measure notification latency too.
//
// It submits leads at a fixed concurrency for a fixed time, then counts the
// rows in the database: durable leads must equal accepted submissions.
//
//	go run ./bench/leadbench -concurrency 32 -duration 20s
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
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/partsmarket/gateway/bench/internal/benchkit"
	"github.com/partsmarket/gateway/internal/notify/notifytest"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "leadbench:", err)
		os.Exit(1)
	}
}

type options struct {
	url         string
	databaseURL string
	bin         string
	smtpAddr    string
	concurrency int
	duration    time.Duration
	listings    int
	drain       time.Duration
	keep        bool
	gatewayLog  string
	dbConns     int
}

func run() error {
	var o options
	flag.StringVar(&o.url, "url", "", "base URL of a running gateway (default: start one on a fresh database)")
	flag.StringVar(&o.databaseURL, "database-url", benchkit.EnvOr("DATABASE_URL", benchkit.DefaultDatabaseURL),
		"with -url: the gateway's database; without: a server on which to create a fresh database")
	flag.StringVar(&o.bin, "bin", "", "gateway binary to start (default: go build the repository)")
	flag.StringVar(&o.smtpAddr, "smtp-addr", "127.0.0.1:0", "address of the in-process SMTP sink")
	flag.IntVar(&o.concurrency, "concurrency", 32, "submissions in flight")
	flag.DurationVar(&o.duration, "duration", 20*time.Second, "how long to submit")
	flag.IntVar(&o.listings, "listings", 20, "listings (of as many sellers) the leads are spread over")
	flag.DurationVar(&o.drain, "drain", 60*time.Second, "how long to wait for the notifications after submitting")
	flag.BoolVar(&o.keep, "keep", false, "keep the fresh database")
	flag.StringVar(&o.gatewayLog, "gateway-log", "", "file for the started gateway's log (default: discarded)")
	flag.IntVar(&o.dbConns, "db-conns", 20, "DATABASE_MAX_CONNS of the started gateway")
	flag.Parse()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	sink, err := notifytest.Start(o.smtpAddr)
	if err != nil {
		return fmt.Errorf("smtp sink: %w", err)
	}
	defer sink.Close()

	dbURL, baseURL := o.databaseURL, strings.TrimRight(o.url, "/")
	if baseURL == "" {
		g, err := benchkit.Start(ctx, benchkit.Config{Name: "leadbench", DatabaseURL: o.databaseURL, Bin: o.bin, Keep: o.keep,
			Log: o.gatewayLog, Env: []string{
				"SMTP_URL=" + sink.URL(), "MAIL_FROM=PartsMarket <no-reply@bench.example>",
				"DATABASE_MAX_CONNS=" + fmt.Sprint(o.dbConns), "CAPTCHA_PROVIDER=test",
				// Raise every per-client budget: the benchmark is one client.
				// It speaks for many buyers through X-Forwarded-For (its
				// loopback address is a trusted proxy), as a load balancer
				// would, so the per-IP counters are spread over many rows as
				// in production rather than all on one.
				"TRUSTED_PROXIES=127.0.0.1/32",
				"RATE_LIMIT_LEADS_PER_IP_PER_HOUR=100000000", "RATE_LIMIT_LEADS_PER_EMAIL_PER_DAY=100000000",
				"RATE_LIMIT_REPORTS_PER_IP_PER_HOUR=100000000", "RATE_LIMIT_POINTS_PER_MINUTE=1000000000"}})
		if err != nil {
			return err
		}
		defer g.Close()
		dbURL, baseURL = g.DBURL, g.Base
	}
	db, err := sqlx.Connect("postgres", dbURL)
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	defer db.Close()
	listingIDs, err := fixture(ctx, db, o.listings)
	if err != nil {
		return fmt.Errorf("fixture: %w", err)
	}

	// Notification latency: submit start → the sink accepting the message.
	// The sink may accept a message before the submitter reads the reply,
	// so submissions are matched by the sequence number in their message.
	var started sync.Map // sequence number → time.Time
	var latMu sync.Mutex
	var latencies []time.Duration
	var unmatched atomic.Int64
	sink.OnReceive(func(m notifytest.Received) {
		if v, ok := started.Load(seqOf(m)); ok {
			latMu.Lock()
			latencies = append(latencies, m.At.Sub(v.(time.Time)))
			latMu.Unlock()
			return
		}
		unmatched.Add(1)
	})

	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: o.concurrency * 2, MaxIdleConnsPerHost: o.concurrency * 2, IdleConnTimeout: time.Minute}}
	var accepted, failed atomic.Int64
	var firstErr atomic.Value
	var seq atomic.Int64
	runID := time.Now().UnixNano()
	deadline := time.Now().Add(o.duration)
	begin := time.Now()
	var wg sync.WaitGroup
	for range o.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				i := seq.Add(1)
				started.Store(i, time.Now())
				_, err := submit(ctx, client, baseURL, listingIDs[int(i)%len(listingIDs)], runID, i)
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				accepted.Add(1)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(begin)

	// Durability: every accepted lead is a row, with its outbox row.
	var rows, outbox int
	if err := db.GetContext(ctx, &rows, `SELECT count(*) FROM leads WHERE listing_id = ANY($1::uuid[])`, pq.Array(listingIDs)); err != nil {
		return err
	}
	if err := db.GetContext(ctx, &outbox, `SELECT count(*) FROM lead_notifications n JOIN leads d ON d.id = n.lead_id
		WHERE d.listing_id = ANY($1::uuid[])`, pq.Array(listingIDs)); err != nil {
		return err
	}
	drainStart := time.Now()
	for time.Since(drainStart) < o.drain {
		latMu.Lock()
		n := len(latencies)
		latMu.Unlock()
		if int64(n) >= accepted.Load() {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	latMu.Lock()
	lat := slices.Clone(latencies)
	latMu.Unlock()
	slices.Sort(lat)

	fmt.Printf("leadbench: %s, concurrency %d, duration %s, %d CPUs, GOMAXPROCS %d\n",
		target(o), o.concurrency, o.duration, runtime.NumCPU(), runtime.GOMAXPROCS(0))
	fmt.Printf("accepted %d, failed %d, in %.1fs: %.0f leads/s accepted\n", accepted.Load(), failed.Load(), elapsed.Seconds(),
		float64(accepted.Load())/elapsed.Seconds())
	durable := "yes"
	if int64(rows) != accepted.Load() {
		durable = "NO"
	}
	fmt.Printf("durable rows %d (outbox rows %d): equal to accepted: %s; %.0f durable leads/s\n", rows, outbox, durable,
		float64(rows)/elapsed.Seconds())
	if v := firstErr.Load(); v != nil {
		fmt.Printf("first failure: %s\n", v)
	}
	fmt.Printf("notifications received %d of %d (unmatched %d)\n", len(lat), accepted.Load(), unmatched.Load())
	if len(lat) > 0 {
		pct := func(p int) time.Duration { return benchkit.Percentile(lat, p).Round(time.Millisecond) }
		fmt.Printf("notification latency submit→SMTP accept: p50 %s, p95 %s, p99 %s, max %s\n",
			pct(50), pct(95), pct(99), lat[len(lat)-1].Round(time.Millisecond))
	}
	if durable != "yes" {
		return errors.New("durable rows differ from accepted submissions")
	}
	return nil
}

func target(o options) string {
	if o.url != "" {
		return "gateway at " + o.url
	}
	return "gateway started on a fresh database"
}

const mutation = `mutation($input: SubmitLeadInput!) { submitLead(input: $input) { leadId } }`

// submit sends one lead and returns its id.
func submit(ctx context.Context, client *http.Client, baseURL, listingID string, runID, i int64) (string, error) {
	body, _ := json.Marshal(map[string]any{"query": mutation, "variables": map[string]any{"input": map[string]any{
		"listingId": listingID, "buyerName": "Bench Buyer", "email": fmt.Sprintf("buyer%d.%d@bench.example", runID, i),
		"phone": "+1 555 010 1234", "company": "Bench Mining", "message": fmt.Sprintf("Is this available? #%d", i),
		"captchaToken": "bench"}}})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, baseURL+"/graphql", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.18.%d.%d", i/250%250, i%250+1)) // a buyer's address (RFC 2544 range)
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out struct {
		Data struct {
			SubmitLead *struct {
				LeadID string `json:"leadId"`
			} `json:"submitLead"`
		} `json:"data"`
		Errors []struct {
			Message    string         `json:"message"`
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return "", fmt.Errorf("HTTP %d: undecodable response", resp.StatusCode)
	}
	if len(out.Errors) > 0 || out.Data.SubmitLead == nil {
		code := ""
		if len(out.Errors) > 0 {
			code = fmt.Sprint(out.Errors[0].Extensions["code"])
		}
		return "", fmt.Errorf("HTTP %d: %s", resp.StatusCode, code)
	}
	return out.Data.SubmitLead.LeadID, nil
}

// fixture stores n active sellers, each with an email contact and an active
// listing, and returns the listing ids.
func fixture(ctx context.Context, db *sqlx.DB, n int) ([]string, error) {
	run := time.Now().UnixNano()
	var ids []string
	err := db.SelectContext(ctx, &ids, `
		WITH s AS (
			INSERT INTO sellers (slug, company_name, status)
			SELECT 'bench-' || $1::text || '-' || i, 'Bench Seller ' || i, 'ACTIVE' FROM generate_series(1, $2::int) i
			RETURNING id),
		c AS (INSERT INTO seller_contacts (seller_id, kind, value) SELECT id, 'EMAIL', 'sales-' || id || '@bench.example' FROM s)
		INSERT INTO listings (seller_id, title, condition, status)
		SELECT id, 'Bench hydraulic pump ' || left(id::text, 8), 'USED', 'ACTIVE' FROM s
		RETURNING id`, fmt.Sprint(run), n)
	return ids, err
}

// seqOf returns the sequence number of the submission a notification email
// is about (from its message "… #<n>"), or -1.
func seqOf(m notifytest.Received) int64 {
	p, err := m.Parse()
	if err != nil {
		return -1
	}
	_, after, ok := strings.Cut(p.Body, "Is this available? #")
	if !ok {
		return -1
	}
	var n int64
	if _, err := fmt.Sscan(after, &n); err != nil {
		return -1
	}
	return n
}
