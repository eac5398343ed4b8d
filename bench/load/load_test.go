package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeGateway answers every POST /graphql after a fixed latency, with a
// GraphQL error for every errorEvery-th request, HTTP 500 for every
// failEvery-th, and serves /metrics with a statements histogram that grows
// by statements per request.
type fakeGateway struct {
	latency    time.Duration
	errorEvery int64
	failEvery  int64
	statements int

	requests, errors, failures atomic.Int64
	mu                         sync.Mutex
	statementsSum              int64
}

func (f *fakeGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/metrics" {
		f.mu.Lock()
		sum, n := f.statementsSum, f.requests.Load()
		f.mu.Unlock()
		fmt.Fprintf(w, "# HELP gateway_sql_statements_per_request x\n# TYPE gateway_sql_statements_per_request histogram\n")
		fmt.Fprintf(w, "gateway_sql_statements_per_request_bucket{le=\"+Inf\"} %d\n", n)
		fmt.Fprintf(w, "gateway_sql_statements_per_request_sum %d\ngateway_sql_statements_per_request_count %d\n", sum, n)
		fmt.Fprintf(w, "process_resident_memory_bytes 4.2e+07\n")
		return
	}
	var body struct {
		Query     string         `json:"query"`
		Variables map[string]any `json:"variables"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Query == "" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	time.Sleep(f.latency)
	f.mu.Lock()
	n := f.requests.Add(1)
	f.statementsSum += int64(f.statements)
	f.mu.Unlock()
	switch {
	case f.failEvery > 0 && n%f.failEvery == 0:
		f.failures.Add(1)
		http.Error(w, "internal error", http.StatusInternalServerError)
	case f.errorEvery > 0 && n%f.errorEvery == 0:
		f.errors.Add(1)
		fmt.Fprint(w, `{"data":{"listing":null},"errors":[{"message":"listing not found","path":["listing"],"extensions":{"code":"NOT_FOUND"}}]}`)
	default:
		fmt.Fprint(w, `{"data":{"listing":{"id":"1"}}}`)
	}
}

func testOp() operation {
	return operation{name: "fake", next: func(r *rand.Rand, seq int64) request {
		return request{query: "{ listing(id: 1) { id } }", variables: map[string]any{"seq": seq}}
	}}
}

// TestRunOpCounts checks that the numbers runOp reports are the server's:
// requests, errors of both kinds, statements per request and latency.
func TestRunOpCounts(t *testing.T) {
	f := &fakeGateway{latency: 5 * time.Millisecond, errorEvery: 7, failEvery: 11, statements: 3}
	srv := httptest.NewServer(f)
	defer srv.Close()
	s := settings{url: srv.URL, metricsURL: srv.URL + "/metrics", concurrency: 8, duration: 300 * time.Millisecond,
		maxMessages: 5}
	var seq atomic.Int64
	res, err := runOp(context.Background(), newClient(8, true), s, testOp(), &seq)
	if err != nil {
		t.Fatal(err)
	}
	if res.requests == 0 || res.requests != f.requests.Load() {
		t.Errorf("requests: got %d, the server answered %d", res.requests, f.requests.Load())
	}
	if want := f.errors.Load() + f.failures.Load(); res.errors != want || want == 0 {
		t.Errorf("errors: got %d, the server sent %d GraphQL errors and %d HTTP 500s", res.errors, f.errors.Load(), f.failures.Load())
	}
	if int64(len(res.latencies)) != res.requests {
		t.Errorf("latencies: got %d for %d requests", len(res.latencies), res.requests)
	}
	if got := res.serverRequests; got != float64(res.requests) {
		t.Errorf("requests the server's metrics counted: got %.0f, want %d", got, res.requests)
	}
	if got := res.statementsPerRequest(); got != 3 {
		t.Errorf("statements per request: got %.2f, want 3", got)
	}
	if p50 := res.percentile(50); p50 < f.latency {
		t.Errorf("p50 %s for a server that takes %s to answer", p50, f.latency)
	}
	if res.percentile(50) > res.percentile(99) || res.percentile(99) > res.percentile(100) {
		t.Errorf("percentiles out of order: %s %s %s", res.percentile(50), res.percentile(99), res.percentile(100))
	}
	if res.rss != 42e6 {
		t.Errorf("RSS: got %d, want 42000000 from process_resident_memory_bytes", res.rss)
	}
	var sawCode, saw500 bool
	for _, m := range res.messages {
		sawCode = sawCode || strings.Contains(m, "NOT_FOUND: listing not found at [listing]")
		saw500 = saw500 || strings.Contains(m, "HTTP 500")
	}
	if !sawCode || !saw500 || len(res.messages) > s.maxMessages {
		t.Errorf("error messages %q: want the GraphQL error's code, message and path and the HTTP 500, at most %d",
			res.messages, s.maxMessages)
	}
	row := res.markdownRow()
	if want := fmt.Sprintf("| %d of %d |", res.errors, res.requests); !strings.Contains(row, want) {
		t.Errorf("markdown row %q does not show %q", row, want)
	}
}

// TestRunOpWarmupNotCounted checks that warmup requests reach the server
// but not the numbers, and that a fixed request count is honoured.
func TestRunOpWarmupNotCounted(t *testing.T) {
	f := &fakeGateway{latency: time.Millisecond, statements: 2}
	srv := httptest.NewServer(f)
	defer srv.Close()
	s := settings{url: srv.URL, metricsURL: srv.URL + "/metrics", concurrency: 4, warmup: 100 * time.Millisecond,
		duration: time.Hour, requests: 37, maxMessages: 5}
	var seq atomic.Int64
	res, err := runOp(context.Background(), newClient(4, true), s, testOp(), &seq)
	if err != nil {
		t.Fatal(err)
	}
	if res.requests != 37 || res.serverRequests != 37 {
		t.Errorf("measured requests: got %d (server metrics %.0f), want 37", res.requests, res.serverRequests)
	}
	if total := f.requests.Load(); total <= 37 {
		t.Errorf("the server saw %d requests: the warmup sent none", total)
	}
	if res.errors != 0 || res.statementsPerRequest() != 2 {
		t.Errorf("errors %d, statements per request %.2f; want 0 and 2", res.errors, res.statementsPerRequest())
	}
}

// TestSendErrors checks what send counts as an error.
func TestSendErrors(t *testing.T) {
	cases := []struct {
		name, body string
		status     int
		wantErr    string // "" for success
	}{
		{"data", `{"data":{"x":1}}`, 200, ""},
		{"graphql error with data", `{"data":{"x":null},"errors":[{"message":"no","extensions":{"code":"FORBIDDEN"}}]}`, 200, "FORBIDDEN"},
		{"rate limited", `{"errors":[{"message":"slow down","extensions":{"code":"RATE_LIMITED"}}]}`, 429, "HTTP 429: RATE_LIMITED"},
		{"null data", `{"data":null}`, 200, "no data"},
		{"not json", `<html>bad gateway</html>`, 502, "not a GraphQL response"},
		{"status without errors", `{"data":{"x":1}}`, 503, "HTTP 503"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(c.status)
				fmt.Fprint(w, c.body)
			}))
			defer srv.Close()
			err := send(context.Background(), srv.Client(), srv.URL, request{query: "{x}"})
			switch {
			case c.wantErr == "" && err != nil:
				t.Errorf("got %v, want success", err)
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Errorf("got %v, want an error with %q", err, c.wantErr)
			}
		})
	}
}

// TestTailTerms: the long-tail vocabulary has over a thousand distinct
// terms, part numbers and terms that match nothing among them, weighted
// less and less down the list, and the operation draws from all of it.
func TestTailTerms(t *testing.T) {
	terms := tailTerms()
	seen := map[string]bool{}
	for i, w := range terms {
		if seen[w.Value] {
			t.Errorf("term %q twice", w.Value)
		}
		seen[w.Value] = true
		if i > 0 && w.Weight >= terms[i-1].Weight {
			t.Errorf("term %d (%q) weighs %g, not less than the one before (%g)", i, w.Value, w.Weight, terms[i-1].Weight)
		}
	}
	if len(terms) < 1000 {
		t.Errorf("got %d terms, want at least 1,000", len(terms))
	}
	for _, want := range append([]string{"1r-0750", "re504836", "fuel filter"}, tailNoMatch...) {
		if !seen[want] {
			t.Errorf("no term %q", want)
		}
	}
	op := tailSearch(terms)
	r := rand.New(rand.NewPCG(1, 2))
	drawn := map[string]bool{}
	for range 20000 {
		drawn[op.next(r, 0).variables["q"].(string)] = true
	}
	if len(drawn) < 500 {
		t.Errorf("20,000 draws found %d distinct terms, want the tail drawn too (at least 500)", len(drawn))
	}
}
