package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/partsmarket/gateway/bench/internal/benchkit"
)

// request is one GraphQL request of an operation.
type request struct {
	query     string
	variables map[string]any
	token     string // bearer token; "" for anonymous
}

// operation is one kind of request the load generator sends.
type operation struct {
	name string
	// next returns the worker's next request; r is the worker's own random
	// stream and seq numbers the requests of the whole run.
	next func(r *rand.Rand, seq int64) request
}

// settings say how hard and how long each operation runs.
type settings struct {
	url         string // the gateway's base URL
	metricsURL  string // its /metrics, "" for none
	pid         int    // its process id for RSS, 0 for none
	concurrency int
	warmup      time.Duration
	duration    time.Duration
	requests    int       // when positive: stop after this many requests instead of after duration
	maxMessages int       // distinct error messages kept per operation
	cpu         *cpuProbe // CPU time of PostgreSQL, the gateway and the load generator; nil: not read
}

// opResult is what one operation measured.
type opResult struct {
	name        string
	concurrency int
	elapsed     time.Duration
	requests    int64 // completed requests, errors included
	errors      int64
	messages    []string // the first distinct error messages
	latencies   []time.Duration
	// Server side, from /metrics (valid when scraped): requests it saw
	// and the SQL statements they ran.
	scraped          bool
	serverRequests   float64
	serverStatements float64
	// Response cache lookups during the run, from /metrics.
	cacheHits, cacheMisses float64
	// Gateway memory after the run, in bytes (0: unknown), and where the
	// number comes from.
	rss, hwm  int64
	rssSource string
	// cpu is the CPU time each side spent in the measured phase (valid
	// when cpuRead).
	cpu     cpuUsed
	cpuRead bool
}

// cpuPerRequest returns CPU milliseconds per completed request.
func (r *opResult) cpuPerRequest(seconds float64) float64 {
	if r.requests == 0 {
		return 0
	}
	return seconds * 1000 / float64(r.requests)
}

// rate returns completed requests per second.
func (r *opResult) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.requests) / r.elapsed.Seconds()
}

// statementsPerRequest returns the SQL statements per request the server
// counted, or -1 when unknown.
func (r *opResult) statementsPerRequest() float64 {
	if !r.scraped || r.serverRequests == 0 {
		return -1
	}
	return r.serverStatements / r.serverRequests
}

// percentile returns the p-th percentile (0 < p <= 100) of the latencies.
func (r *opResult) percentile(p float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	i := int(float64(len(r.latencies))*p/100+0.999999) - 1
	return r.latencies[max(0, min(i, len(r.latencies)-1))]
}

// runOp runs op: a warmup at s.concurrency that is not counted, then
// s.concurrency clients for s.duration, each sending its next request as
// soon as the previous one is answered. /metrics is scraped between the
// two phases and at the end, once no request is in flight.
func runOp(ctx context.Context, client *http.Client, s settings, op operation, seq *atomic.Int64) (*opResult, error) {
	if s.warmup > 0 {
		drive(ctx, client, s, op, seq, s.warmup, nil)
	}
	before, err := scrape(ctx, client, s.metricsURL)
	if err != nil {
		return nil, err
	}
	res := &opResult{name: op.name, concurrency: s.concurrency}
	var cpuBefore cpuSample
	if s.cpu != nil {
		if cpuBefore, err = s.cpu.sample(ctx); err != nil {
			return nil, err
		}
	}
	drive(ctx, client, s, op, seq, s.duration, res)
	if s.cpu != nil {
		cpuAfter, err := s.cpu.sample(ctx)
		if err != nil {
			return nil, err
		}
		res.cpu, res.cpuRead = cpuAfter.since(cpuBefore), true
	}
	after, err := scrape(ctx, client, s.metricsURL)
	if err != nil {
		return nil, err
	}
	if before != nil && after != nil {
		res.scraped = true
		res.serverRequests = after.statementsCount - before.statementsCount
		res.serverStatements = after.statementsSum - before.statementsSum
		res.cacheHits, res.cacheMisses = after.cacheHits-before.cacheHits, after.cacheMisses-before.cacheMisses
		res.rss, res.rssSource = after.rss, "process_resident_memory_bytes"
	}
	if s.pid > 0 {
		if rss, hwm, err := procMemory(s.pid); err == nil {
			res.rss, res.hwm, res.rssSource = rss, hwm, "/proc VmRSS"
		}
	}
	slices.Sort(res.latencies)
	return res, nil
}

// drive runs s.concurrency workers sending op's requests for d and, when
// res is not nil, records every answer in it.
func drive(ctx context.Context, client *http.Client, s settings, op operation, seq *atomic.Int64, d time.Duration, res *opResult) {
	var mu sync.Mutex
	seen := map[string]bool{}
	start := time.Now()
	deadline := start.Add(d)
	var left atomic.Int64 // requests still to send when s.requests is set
	left.Store(int64(s.requests))
	var wg sync.WaitGroup
	for w := range s.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(w)))
			var lat []time.Duration
			var errs int64
			var msgs []string
			for ctx.Err() == nil && time.Now().Before(deadline) {
				if s.requests > 0 && left.Add(-1) < 0 {
					break
				}
				req := op.next(r, seq.Add(1))
				t0 := time.Now()
				err := send(ctx, client, s.url, req)
				lat = append(lat, time.Since(t0))
				if err != nil {
					errs++
					if len(msgs) < s.maxMessages {
						msgs = append(msgs, err.Error())
					}
				}
			}
			if res == nil {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			res.requests += int64(len(lat))
			res.errors += errs
			res.latencies = append(res.latencies, lat...)
			for _, m := range msgs {
				if !seen[m] && len(res.messages) < s.maxMessages {
					seen[m] = true
					res.messages = append(res.messages, m)
				}
			}
		}()
	}
	wg.Wait()
	if res != nil {
		res.elapsed = time.Since(start)
	}
}

// send posts one request; see benchkit.PostGraphQL for what counts as an
// error.
func send(ctx context.Context, client *http.Client, base string, req request) error {
	body, err := json.Marshal(map[string]any{"query": req.query, "variables": req.variables})
	if err != nil {
		return err
	}
	_, err = benchkit.PostGraphQL(ctx, client, base+"/graphql", body, req.token)
	return err
}

// serverMetrics are the gateway metrics the load generator reads.
type serverMetrics struct {
	statementsSum, statementsCount float64 // gateway_sql_statements_per_request
	cacheHits, cacheMisses         float64 // gateway_response_cache_lookups_total
	rss                            int64   // process_resident_memory_bytes
}

// scrape reads /metrics at url; nil without a url.
func scrape(ctx context.Context, client *http.Client, url string) (*serverMetrics, error) {
	if url == "" {
		return nil, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scraping %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scraping %s: HTTP %d", url, resp.StatusCode)
	}
	m := &serverMetrics{}
	found := false
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok || strings.HasPrefix(name, "#") {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			continue
		}
		switch name {
		case "gateway_sql_statements_per_request_sum":
			m.statementsSum, found = v, true
		case "gateway_sql_statements_per_request_count":
			m.statementsCount = v
		case "process_resident_memory_bytes":
			m.rss = int64(v)
		case `gateway_response_cache_lookups_total{result="hit"}`:
			m.cacheHits = v
		case `gateway_response_cache_lookups_total{result="miss"}`:
			m.cacheMisses = v
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("scraping %s: %w", url, err)
	}
	if !found {
		return nil, fmt.Errorf("scraping %s: no gateway_sql_statements_per_request histogram", url)
	}
	return m, nil
}

// procMemory returns the resident set size and its peak (VmRSS, VmHWM) of
// process pid, in bytes.
func procMemory(pid int) (rss, hwm int64, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(value)
		if len(f) != 2 || f[1] != "kB" {
			continue
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			continue
		}
		switch key {
		case "VmRSS":
			rss = kb * 1024
		case "VmHWM":
			hwm = kb * 1024
		}
	}
	if rss == 0 {
		return 0, 0, fmt.Errorf("/proc/%d/status has no VmRSS", pid)
	}
	return rss, hwm, nil
}

// markdownHeader is the head of the table markdownRow writes rows of.
const markdownHeader = `| operation | clients | req/s | p50 | p95 | p99 | errors | SQL statements/request | gateway RSS after |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |`

// markdownRow returns r as a row of the markdownHeader table.
func (r *opResult) markdownRow() string {
	stmts := "n/a"
	if v := r.statementsPerRequest(); v >= 0 {
		stmts = strconv.FormatFloat(v, 'f', 1, 64)
	}
	mem := "n/a"
	if r.rss > 0 {
		mem = fmt.Sprintf("%.0f MB", float64(r.rss)/(1<<20))
		if r.hwm > 0 {
			mem += fmt.Sprintf(" (peak %.0f MB)", float64(r.hwm)/(1<<20))
		}
	}
	return fmt.Sprintf("| %s | %d | %s | %s | %s | %s | %d of %d | %s | %s |", r.name, r.concurrency,
		thousands(r.rate()), ms(r.percentile(50)), ms(r.percentile(95)), ms(r.percentile(99)),
		r.errors, r.requests, stmts, mem)
}

// ms formats d in milliseconds, with one decimal below 10 ms.
func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	if v < 10 {
		return strconv.FormatFloat(v, 'f', 1, 64) + " ms"
	}
	return strconv.FormatFloat(v, 'f', 0, 64) + " ms"
}

// thousands formats v rounded, with commas: 1,234.
func thousands(v float64) string {
	s := strconv.FormatInt(int64(v+0.5), 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
