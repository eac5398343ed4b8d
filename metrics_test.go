package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/partsmarket/gateway/internal/config"
	"github.com/partsmarket/gateway/internal/database"
	"github.com/partsmarket/gateway/internal/metrics"
	"github.com/partsmarket/gateway/internal/testdb"
)

// metricSample is one line of a Prometheus text scrape.
type metricSample struct {
	name   string
	labels map[string]string
	value  float64
}

// scrapeMetrics GETs /metrics from the gateway's metrics handler (never the
// public one) and parses the samples.
func (a *testAPI) scrapeMetrics() []metricSample {
	a.t.Helper()
	rec := httptest.NewRecorder()
	a.app.metrics.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		a.t.Fatalf("metrics handler: status %d", rec.Code)
	}
	return parseMetrics(a.t, rec.Body)
}

// parseMetrics parses the Prometheus text format (what the tests need of
// it: no escaped quotes in label values).
func parseMetrics(t *testing.T, r io.Reader) []metricSample {
	t.Helper()
	var out []metricSample
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		sp := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[sp+1:], 64)
		if err != nil {
			t.Fatalf("bad sample %q", line)
		}
		s := metricSample{name: line[:sp], labels: map[string]string{}, value: v}
		if i := strings.IndexByte(s.name, '{'); i >= 0 {
			for _, kv := range strings.Split(strings.TrimSuffix(s.name[i+1:], "}"), `",`) {
				k, val, _ := strings.Cut(kv, "=")
				s.labels[k] = strings.Trim(val, `"`)
			}
			s.name = s.name[:i]
		}
		out = append(out, s)
	}
	return out
}

// metricValue sums the samples named name whose labels include want.
func metricValue(samples []metricSample, name string, want map[string]string) (float64, bool) {
	sum, found := 0.0, false
outer:
	for _, s := range samples {
		if s.name != name {
			continue
		}
		for k, v := range want {
			if s.labels[k] != v {
				continue outer
			}
		}
		sum, found = sum+s.value, true
	}
	return sum, found
}

// wantMetric fails unless the metric's value (summed over matching series)
// is at least min.
func wantMetric(t *testing.T, samples []metricSample, name string, labels map[string]string, min float64) {
	t.Helper()
	v, ok := metricValue(samples, name, labels)
	if !ok || v < min {
		t.Errorf("%s%v = %v (found %v), want at least %v", name, labels, v, ok, min)
	}
}

func TestMetricsRequests(t *testing.T) {
	api := newTestAPI(t, map[string]string{"EVENT_FLUSH_INTERVAL": "20ms"})
	f := api.newFixture()

	before := api.scrapeMetrics()
	stmtsBefore, _ := metricValue(before, "gateway_sql_statements_per_request_count", nil)

	api.mustPost("", `query GoodListings { listings(search: "pump", first: 5) { nodes { id } } }`, nil)
	if r := api.post("", `query LeadsAnon { leads(first: 5) { nodes { id } } }`, nil); len(r.Errors) == 0 || r.Errors[0].Code() != "UNAUTHENTICATED" {
		t.Fatalf("want UNAUTHENTICATED, got %s", r.Raw)
	}
	tooDeep := `query TooCostly { sellers(first: 100) { nodes { listings(first: 100) { nodes { seller { listings(first: 100) { nodes { id } } } } } } } }`
	if r := api.post("", tooDeep, nil); len(r.Errors) != 1 || r.Errors[0].Code() != "QUERY_TOO_COMPLEX" {
		t.Fatalf("want QUERY_TOO_COMPLEX, got %s", r.Raw)
	}
	api.mustPost(f.Admin, `{ viewer { role } }`, nil)
	if r := api.post("", `{ nope }`, nil); len(r.Errors) == 0 {
		t.Fatalf("want a validation error, got %s", r.Raw)
	}

	// The search log flushes in the background (EVENT_FLUSH_INTERVAL).
	var m []metricSample
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		m = api.scrapeMetrics()
		if v, _ := metricValue(m, "gateway_search_log_flush_duration_seconds_count", nil); v >= 1 || time.Now().After(deadline) {
			break
		}
	}

	req := "gateway_http_requests_total"
	wantMetric(t, m, req, map[string]string{"operation": "GoodListings", "outcome": "ok", "status": "2xx"}, 1)
	wantMetric(t, m, req, map[string]string{"operation": "LeadsAnon", "outcome": "UNAUTHENTICATED", "status": "2xx"}, 1)
	// A request error answered as application/json is HTTP 200 (GraphQL over HTTP).
	wantMetric(t, m, req, map[string]string{"operation": "TooCostly", "outcome": "QUERY_TOO_COMPLEX", "status": "2xx"}, 1)
	wantMetric(t, m, req, map[string]string{"operation": "anonymous", "outcome": "ok", "status": "2xx"}, 1)
	wantMetric(t, m, req, map[string]string{"outcome": "GRAPHQL_VALIDATION_FAILED"}, 1)
	wantMetric(t, m, "gateway_http_request_duration_seconds_count", map[string]string{"operation": "GoodListings"}, 1)
	wantMetric(t, m, "gateway_http_request_duration_seconds_bucket", map[string]string{"operation": "GoodListings", "le": "+Inf"}, 1)
	if v, _ := metricValue(m, "gateway_sql_statements_per_request_count", nil); v < stmtsBefore+5 {
		t.Errorf("gateway_sql_statements_per_request_count = %v, want at least %v", v, stmtsBefore+5)
	}
	wantMetric(t, m, "gateway_sql_statements_per_request_sum", nil, 1) // the good listing search ran SQL
	// Cost: the good query, the FORBIDDEN one, the refused one (its cost is
	// over 10,000) and the viewer query.
	wantMetric(t, m, "gateway_query_cost_count", nil, 4)
	if over, _ := metricValue(m, "gateway_query_cost_bucket", map[string]string{"le": "10000"}); func() bool {
		all, _ := metricValue(m, "gateway_query_cost_count", nil)
		return all-over < 1
	}() {
		t.Errorf("no query cost observed over 10000 (the QUERY_TOO_COMPLEX one)")
	}
	wantMetric(t, m, "gateway_search_log_flush_duration_seconds_count", nil, 1)
	if _, ok := metricValue(m, "gateway_search_log_buffer_depth", nil); !ok {
		t.Error("no gateway_search_log_buffer_depth")
	}
	for _, kind := range []string{"budget", "lead-ip", "lead-email", "report-ip"} {
		if _, ok := metricValue(m, "gateway_rate_limited_total", map[string]string{"kind": kind}); !ok {
			t.Errorf("no gateway_rate_limited_total{kind=%q}", kind)
		}
	}
	// The registry is our own, with the runtime and process collectors.
	wantMetric(t, m, "go_goroutines", nil, 1)
	if _, ok := metricValue(m, "process_start_time_seconds", nil); !ok {
		t.Error("no process collector")
	}
	// No personal data in labels: no IP address, no email.
	for _, s := range m {
		for k, v := range s.labels {
			if strings.Contains(v, "127.0.0.1") || strings.Contains(v, "@") || strings.Contains(v, "::1") {
				t.Errorf("%s has label %s=%q", s.name, k, v)
			}
		}
	}

	// The public port does not serve /metrics.
	resp, err := http.Get(api.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("public GET /metrics: status %d, want 404", resp.StatusCode)
	}
}

func TestMetricsRateLimited(t *testing.T) {
	api := newTestAPI(t, abuseEnv(map[string]string{"RATE_LIMIT_POINTS_PER_MINUTE": "60", "LIMIT_COST": "60",
		"RATE_LIMIT_REPORTS_PER_IP_PER_HOUR": "1"}))
	f := api.newFixture()
	// The admin's budget (60 points) pays for one operation of 34 points
	// (all of them used: no connection, no null object), not two.
	limited := rlExhaust(t, 5, func() gqlResponse {
		return api.post(f.Admin, `query Costly($id: ID!) { a: listing(id: $id) { ...F } b: listing(id: $id) { ...F } }
			fragment F on Listing { id title description partNumber brand category condition quantity priceLabel
				priceCents currency status createdAt updatedAt seller { id } }`, map[string]any{"id": f.ListingA.ID})
	})
	if len(limited.Errors) != 1 || limited.Errors[0].Code() != "RATE_LIMITED" {
		t.Fatalf("want RATE_LIMITED, got %s", limited.Raw)
	}
	m := api.scrapeMetrics()
	wantMetric(t, m, "gateway_rate_limited_total", map[string]string{"kind": "budget"}, 1)
	wantMetric(t, m, "gateway_http_requests_total", map[string]string{"operation": "Costly", "outcome": "RATE_LIMITED", "status": "4xx"}, 1)

	// The abuse limits (anonymous: a budget of its own).
	report := map[string]any{"input": map[string]any{"listingId": f.ListingB.ID, "reason": "SCAM", "captchaToken": "ok"}}
	api.mustPost("", mutReportListing, report)
	if r := api.post("", mutReportListing, report); len(r.Errors) != 1 || r.Errors[0].Code() != "RATE_LIMITED" {
		t.Fatalf("want RATE_LIMITED, got %s", r.Raw)
	}
	m = api.scrapeMetrics()
	wantMetric(t, m, "gateway_rate_limited_total", map[string]string{"kind": "report-ip"}, 1)
	if v, _ := metricValue(m, "gateway_rate_limited_total", map[string]string{"kind": "lead-ip"}); v != 0 {
		t.Errorf("lead-ip rejections %v, want 0", v)
	}
}

func TestMetricsOperationCardinality(t *testing.T) {
	api := newTestAPI(t, nil)
	n := metrics.DefaultMaxOperations + 10
	for i := 0; i < n; i++ {
		api.mustPost("", fmt.Sprintf("query Op%03d { viewer { role } }", i), nil)
	}
	m := api.scrapeMetrics()
	ops := map[string]bool{}
	for _, s := range m {
		if s.name == "gateway_http_requests_total" {
			ops[s.labels["operation"]] = true
		}
	}
	named := 0
	for op := range ops {
		if strings.HasPrefix(op, "Op") {
			named++
		}
	}
	if named > metrics.DefaultMaxOperations {
		t.Errorf("%d operation names labelled, want at most %d", named, metrics.DefaultMaxOperations)
	}
	if !ops["Op000"] || ops[fmt.Sprintf("Op%03d", n-1)] {
		t.Errorf("want the first names labelled and the last not: Op000 %v, Op%03d %v", ops["Op000"], n-1, ops[fmt.Sprintf("Op%03d", n-1)])
	}
	wantMetric(t, m, "gateway_http_requests_total", map[string]string{"operation": "other", "outcome": "ok"}, 10)
	// Names seen before the cap keep their label.
	api.mustPost("", "query Op000 { viewer { role } }", nil)
	wantMetric(t, api.scrapeMetrics(), "gateway_http_requests_total", map[string]string{"operation": "Op000"}, 2)
}

// TestMetricsListener runs serve: /metrics and the profiler answer on
// METRICS_ADDR, not on the public port, and the listener shuts down with
// the server.
func TestMetricsListener(t *testing.T) {
	dbURL := testdb.New(t)
	{
		db, err := sql.Open("postgres", dbURL)
		if err != nil {
			t.Fatal(err)
		}
		if err := database.MigrateUp(context.Background(), db); err != nil {
			t.Fatalf("MigrateUp: %v", err)
		}
		db.Close()
	}
	port, metricsPort := httpFreePort(t), httpFreePort(t)
	env := map[string]string{"DATABASE_URL": dbURL, "PORT": strconv.Itoa(port), "METRICS_ADDR": "127.0.0.1:" + strconv.Itoa(metricsPort)}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- serve(ctx, cfg, slog.New(slog.NewJSONHandler(logs, nil))) }()
	client := &http.Client{Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	get := func(url string) (int, string, error) {
		resp, err := client.Get(url)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), nil
	}
	metricsURL := "http://127.0.0.1:" + strconv.Itoa(metricsPort) + "/metrics"
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		select {
		case err := <-served:
			t.Fatalf("serve returned early: %v\n%s", err, logs.String())
		default:
		}
		code, _, err := get("http://127.0.0.1:" + strconv.Itoa(port) + "/healthz")
		mcode, _, merr := get(metricsURL)
		if err == nil && merr == nil && code == 200 && mcode == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not up: %v %v\n%s", err, merr, logs.String())
		}
	}
	if code, _, err := get("http://127.0.0.1:" + strconv.Itoa(port) + "/metrics"); err != nil || code != http.StatusNotFound {
		t.Errorf("public /metrics: %d %v, want 404", code, err)
	}
	code, body, err := get(metricsURL)
	if err != nil || code != 200 || !strings.Contains(body, `gateway_http_requests_total{operation="none",outcome="ok",status="2xx"}`) {
		t.Errorf("metrics listener: %d %v\n%s", code, err, body)
	}
	// The profiler is on the internal listener only.
	pprofPath := "/debug/pprof/goroutine?debug=1"
	if code, body, err := get("http://127.0.0.1:" + strconv.Itoa(metricsPort) + pprofPath); err != nil || code != 200 || !strings.Contains(body, "goroutine profile") {
		t.Errorf("pprof on the metrics listener: %d %v\n%.200s", code, err, body)
	}
	if code, _, err := get("http://127.0.0.1:" + strconv.Itoa(port) + pprofPath); err != nil || code == 200 {
		t.Errorf("public pprof: %d %v, want it absent", code, err)
	}
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not return")
	}
	client.CloseIdleConnections()
	if _, _, err := get(metricsURL); err == nil {
		t.Error("the metrics listener still answers after shutdown")
	}
}
