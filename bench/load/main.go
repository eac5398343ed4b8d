// Command load drives a running gateway with the marketplace's canonical
// operations, one after the other, each at a fixed concurrency for a fixed
// time after a warmup, and prints per operation: requests per second,
// latency percentiles, errors (every response with GraphQL errors, no data
// or a status other than 200 counts, and the first few messages are
// printed), the SQL statements per request the gateway counted (from its
// /metrics, scraped before and after) and the gateway's memory (VmRSS and
// VmHWM from /proc with -pid, else process_resident_memory_bytes).
//
// The operations (see ops.go): search (a results page of 20 for a popular
// term, region and condition), detail (a listing with its seller, media and
// seven more of the seller's listings), inbox (50 leads of a busy seller,
// with a seller token), metrics (an analyst's 30 days by day and category)
// and submit (a new lead; run the gateway with high RATE_LIMIT_* values).
// Then a page-size probe runs search, detail and inbox with a small and a
// large page, to show whether statements per request grow with the page.
// The search-tail operation (tail.go; not in the default list) searches a
// long-tail vocabulary of the generated catalog; with -pg-url and
// -pg-database the CPU time per request of PostgreSQL's backends, the
// gateway and the load generator is printed too (bench/search_tail.sh).
//
// The workload file comes from bench/gen; tokens are signed with
// -jwt-secret (the gateway's JWT_SECRET).
//
//	go run ./bench/load -url http://127.0.0.1:8080 -metrics-url http://127.0.0.1:9090/metrics \
//		-workload workload.json -pid $(pgrep -n gateway) -concurrency 32 -duration 10s
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/partsmarket/gateway/bench/workload"
	"github.com/partsmarket/gateway/internal/config"
)

func main() {
	var o options
	flag.StringVar(&o.url, "url", "http://127.0.0.1:8080", "the gateway's base URL")
	flag.StringVar(&o.metricsURL, "metrics-url", "http://127.0.0.1:9090/metrics", "the gateway's /metrics (\"\": not scraped)")
	flag.IntVar(&o.pid, "pid", 0, "the gateway's process id, for VmRSS/VmHWM (0: process_resident_memory_bytes)")
	flag.StringVar(&o.workload, "workload", "workload.json", "the workload file bench/gen wrote")
	flag.StringVar(&o.secret, "jwt-secret", cmp.Or(os.Getenv("JWT_SECRET"), config.DevJWTSecret), "the gateway's JWT_SECRET")
	flag.IntVar(&o.concurrency, "concurrency", 32, "clients per operation")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "measured time per operation")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured time per operation before it")
	flag.StringVar(&o.ops, "ops", "search,detail,inbox,metrics,submit", "operations to run, in order")
	flag.IntVar(&o.probeRequests, "probe", 20, "requests per page size in the page-size probe (0: no probe)")
	flag.DurationVar(&o.wait, "wait", 0, "how long to wait for the gateway's /readyz to answer 200 first")
	flag.StringVar(&o.pgURL, "pg-url", "", "a PostgreSQL URL of the gateway's server, to read the CPU time of the backends of -pg-database from /proc (same machine)")
	flag.StringVar(&o.pgDatabase, "pg-database", "", "the gateway's database, whose backends' CPU time is read (with -pg-url)")
	flag.Float64Var(&o.writes, "writes", 0, "listing writes per second while the operations run (updateListing price changes as an admin, over the workload's listings)")
	flag.IntVar(&o.detailIDs, "detail-ids", 0, "open only the workload's first N listings in detail (0: all)")
	flag.BoolVar(&o.gzip, "gzip", true, "accept gzipped responses, as browsers do (false: ask for them uncompressed)")
	printTail := flag.Bool("tail-terms", false, "print the search-tail vocabulary (rank, tab, term; most searched first) and exit")
	flag.Parse()
	if *printTail {
		for i, t := range tailTerms() {
			fmt.Printf("%d\t%s\n", i+1, t.Value)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

// options are the command line.
type options struct {
	url, metricsURL, workload, secret, ops string
	pgURL, pgDatabase                      string
	pid, concurrency, probeRequests        int
	duration, warmup, wait                 time.Duration
	writes                                 float64
	detailIDs                              int
	gzip                                   bool
}

func run(ctx context.Context, o options, out io.Writer) error {
	w, err := workload.Read(o.workload)
	if err != nil {
		return err
	}
	if o.concurrency < 1 || o.duration <= 0 {
		return errors.New("-concurrency and -duration must be positive")
	}
	q, err := newRequests(w, o.secret, time.Now().UnixNano())
	if err != nil {
		return err
	}
	if o.detailIDs > 0 && o.detailIDs < len(q.details) {
		q.details = q.details[:o.detailIDs]
	}
	var ops []operation
	for _, name := range strings.Split(o.ops, ",") {
		i := slices.IndexFunc(q.operations(), func(op operation) bool { return op.name == strings.TrimSpace(name) })
		if i < 0 {
			return fmt.Errorf("unknown operation %q (search, detail, inbox, metrics, submit, search-tail)", name)
		}
		ops = append(ops, q.operations()[i])
	}
	client := newClient(o.concurrency, o.gzip)
	if err := waitReady(ctx, client, strings.TrimRight(o.url, "/"), o.wait); err != nil {
		return err
	}
	cpu, err := newCPUProbe(o.pgURL, o.pgDatabase, o.pid)
	if err != nil {
		return err
	}
	s := settings{url: strings.TrimRight(o.url, "/"), metricsURL: o.metricsURL, pid: o.pid,
		concurrency: o.concurrency, warmup: o.warmup, duration: o.duration, maxMessages: 5, cpu: cpu}
	fmt.Fprintf(out, "load: %s, workload scale %g, %d clients, %s per operation after %s warmup, %d CPUs\n",
		s.url, w.Scale, o.concurrency, o.duration, o.warmup, runtime.NumCPU())
	var seq atomic.Int64
	var results []*opResult
	if o.writes > 0 {
		stopWrites := startWrites(ctx, client, s.url, q, o.writes, out)
		defer stopWrites()
	}
	for _, op := range ops {
		res, err := runOp(ctx, client, s, op, &seq)
		if err != nil {
			return fmt.Errorf("%s: %w", op.name, err)
		}
		printResult(out, res)
		results = append(results, res)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if o.probeRequests > 0 && o.metricsURL != "" {
		fmt.Fprintln(out, "\nSQL statements per request by page size (sequential requests):")
		for _, p := range q.probes() {
			if !slices.ContainsFunc(ops, func(op operation) bool { return op.name == p.op }) {
				continue
			}
			var line []string
			for _, first := range []int{p.small, p.big} {
				r, err := runOp(ctx, client, settings{url: s.url, metricsURL: s.metricsURL, concurrency: 1,
					duration: time.Hour, maxMessages: 1, requests: o.probeRequests}, operation{name: p.op,
					next: func(r *rand.Rand, _ int64) request { return p.build(r, first) }}, &seq)
				if err != nil {
					return fmt.Errorf("probe %s: %w", p.op, err)
				}
				cell := fmt.Sprintf("%s %d: %.1f", p.param, first, r.statementsPerRequest())
				if r.errors > 0 {
					cell += fmt.Sprintf(" (%d of %d failed: %s)", r.errors, r.requests, r.messages[0])
				}
				line = append(line, cell)
			}
			fmt.Fprintf(out, "  %-7s %s\n", p.op, strings.Join(line, "; "))
		}
	}
	fmt.Fprintln(out, "\n"+markdownHeader)
	for _, r := range results {
		fmt.Fprintln(out, r.markdownRow())
	}
	return nil
}

// printResult prints one operation's numbers and its first errors.
func printResult(out io.Writer, r *opResult) {
	stmts := "n/a"
	if v := r.statementsPerRequest(); v >= 0 {
		stmts = fmt.Sprintf("%.1f (server saw %.0f requests)", v, r.serverRequests)
	}
	fmt.Fprintf(out, "\n%s: %d requests in %.1fs = %.0f req/s; p50 %s p95 %s p99 %s max %s; errors %d; SQL statements/request %s",
		r.name, r.requests, r.elapsed.Seconds(), r.rate(), ms(r.percentile(50)), ms(r.percentile(95)), ms(r.percentile(99)),
		ms(r.percentile(100)), r.errors, stmts)
	if r.rss > 0 {
		fmt.Fprintf(out, "; gateway RSS %.0f MB", float64(r.rss)/(1<<20))
		if r.hwm > 0 {
			fmt.Fprintf(out, ", peak %.0f MB", float64(r.hwm)/(1<<20))
		}
		fmt.Fprintf(out, " (%s)", r.rssSource)
	}
	if n := r.cacheHits + r.cacheMisses; n > 0 {
		fmt.Fprintf(out, "; response cache hits %.1f %% of %.0f lookups", 100*r.cacheHits/n, n)
	}
	fmt.Fprintln(out)
	if r.cpuRead {
		fmt.Fprintf(out, "  CPU ms/request: PostgreSQL %.2f, gateway %.2f, load generator %.2f\n",
			r.cpuPerRequest(r.cpu.postgres), r.cpuPerRequest(r.cpu.gateway), r.cpuPerRequest(r.cpu.load))
	}
	for _, m := range r.messages {
		fmt.Fprintf(out, "  error: %s\n", m)
	}
}

// newClient returns an HTTP client that keeps a connection per client and
// asks for gzipped responses (and decodes them) when gzip is true.
func newClient(concurrency int, gzip bool) *http.Client {
	return &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
		MaxIdleConns: concurrency * 2, MaxIdleConnsPerHost: concurrency * 2, IdleConnTimeout: time.Minute,
		DisableCompression: !gzip}}
}

// waitReady polls base/readyz until it answers 200, for at most d (0: no
// waiting).
func waitReady(ctx context.Context, client *http.Client, base string, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	deadline := time.Now().Add(d)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/readyz", nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s/readyz did not answer 200 within %s: %w", base, d, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
