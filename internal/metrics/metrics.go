// Package metrics holds the gateway's Prometheus metrics: requests by
// operation and outcome, request latency, SQL statements and query cost per
// request, rate-limit rejections, the search log's buffer, and (ops.go)
// the connection pools, the lead notification outbox and the caches. It uses a
// registry of its own (with the Go runtime and process collectors), served by
// Handler on the metrics listener (METRICS_ADDR), never on the public port.
//
// Labels never carry personal data: operation names are capped (see
// Options.MaxOperations), outcomes are error codes or status classes, and
// rate-limit kinds are fixed names.
package metrics

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/partsmarket/gateway/internal/notify"
	"github.com/partsmarket/gateway/store"
)

// Rate-limit rejection kinds (the kind label of
// gateway_rate_limited_total).
const (
	// KindBudget is a refusal by the per-principal query cost budget.
	KindBudget = "budget"
	// KindLeadIP is a refusal of submitLead by the per-IP limit.
	KindLeadIP = "lead-ip"
	// KindLeadEmail is a refusal of submitLead by the per-email limit.
	KindLeadEmail = "lead-email"
	// KindReportIP is a refusal of reportListing by the per-IP limit.
	KindReportIP = "report-ip"
)

// Operation label values that are not operation names.
const (
	// OperationAnonymous labels GraphQL operations without a name.
	OperationAnonymous = "anonymous"
	// OperationOther labels named operations past the cap.
	OperationOther = "other"
	// OperationNone labels requests that ran no GraphQL operation (health
	// checks, media, requests refused before parsing).
	OperationNone = "none"
)

// OutcomeOK is the outcome label of a request without errors.
const OutcomeOK = "ok"

// DefaultMaxOperations is how many distinct operation names get a label of
// their own by default.
const DefaultMaxOperations = 200

// Options configure New.
type Options struct {
	// MaxOperations is how many distinct operation names are labelled as
	// they are; later names are labelled "other". 0: DefaultMaxOperations.
	MaxOperations int
}

// Metrics are the gateway's metrics and their registry. A nil *Metrics is
// valid: every method then does nothing.
type Metrics struct {
	reg *prometheus.Registry

	requests    *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	statements  prometheus.Histogram
	cost        prometheus.Histogram
	rateLimited *prometheus.CounterVec
	searchDepth prometheus.Gauge
	searchFlush prometheus.Histogram
	eventDepth  prometheus.Gauge
	eventFlush  prometheus.Histogram
	respCache   *prometheus.CounterVec
	respHits    prometheus.Counter
	respMisses  prometheus.Counter
	// searchCache counts the search cache's lookups by result;
	// outboxAttempts the lead notifications' delivery attempts by
	// outcome; outboxErrors the scrapes that could not read the outbox.
	searchCache    *prometheus.CounterVec
	outboxAttempts *prometheus.CounterVec
	outboxErrors   prometheus.Counter
	maxOps         int
	mu             sync.Mutex
	knownOps       map[string]struct{}
	handler        http.Handler
	handlerOnce    sync.Once
}

// New returns the gateway's metrics on a fresh registry.
func New(o Options) *Metrics {
	if o.MaxOperations <= 0 {
		o.MaxOperations = DefaultMaxOperations
	}
	m := &Metrics{
		reg:      prometheus.NewRegistry(),
		maxOps:   o.MaxOperations,
		knownOps: map[string]struct{}{},
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_http_requests_total",
			Help: "HTTP requests by GraphQL operation name, outcome (ok, the first error's code, or error) and status class.",
		}, []string{"operation", "outcome", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gateway_http_request_duration_seconds",
			Help:    "HTTP request latency by GraphQL operation name.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"operation"}),
		statements: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "gateway_sql_statements_per_request",
			Help:    "SQL statements run on behalf of one HTTP request.",
			Buckets: []float64{0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144},
		}),
		cost: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "gateway_query_cost",
			Help:    "Requested query cost of GraphQL operations, computed before execution (refused ones included).",
			Buckets: []float64{1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000},
		}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_rate_limited_total",
			Help: "Rate-limit rejections by kind (budget, lead-ip, lead-email, report-ip).",
		}, []string{"kind"}),
		searchDepth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gateway_search_log_buffer_depth",
			Help: "Searches buffered by the search log, waiting for a flush.",
		}),
		searchFlush: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "gateway_search_log_flush_duration_seconds",
			Help:    "Latency of one search log flush (a batch write to the database).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}),
		eventDepth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gateway_event_buffer_depth",
			Help: "Events (views, clicks) accepted and buffered, waiting for a flush.",
		}),
		eventFlush: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "gateway_event_flush_duration_seconds",
			Help:    "Latency of one event batch write (COPY of the raw events and the rollup upserts, one transaction).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}),
		respCache: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_response_cache_lookups_total",
			Help: "Anonymous queries looked up in the response cache, by result (hit, miss).",
		}, []string{"result"}),
		searchCache: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_search_cache_lookups_total",
			Help: "Public listing queries looked up in the search cache, by result (hit, stale: answered while refreshed, miss).",
		}, []string{"result"}),
		outboxAttempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_outbox_attempts_total",
			Help: "Delivery attempts of lead notifications by this process, by outcome (sent; retry and failed are failures, failed the last attempt).",
		}, []string{"outcome"}),
		outboxErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gateway_outbox_backlog_errors_total",
			Help: "Scrapes that could not read the outbox's backlog (its gauges are then left out).",
		}),
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.duration, m.statements, m.cost, m.rateLimited, m.searchDepth, m.searchFlush, m.eventDepth, m.eventFlush,
		m.respCache, m.searchCache, m.outboxAttempts, m.outboxErrors, hitRatios{m},
	)
	for _, r := range []string{store.LookupHit, store.LookupStale, store.LookupMiss} {
		m.searchCache.WithLabelValues(r)
	}
	for _, o := range []string{notify.OutcomeSent, notify.OutcomeRetry, notify.OutcomeFailed} {
		m.outboxAttempts.WithLabelValues(o)
	}
	for _, k := range []string{KindBudget, KindLeadIP, KindLeadEmail, KindReportIP} {
		m.rateLimited.WithLabelValues(k) // every kind shows up at 0
	}
	m.respHits, m.respMisses = m.respCache.WithLabelValues("hit"), m.respCache.WithLabelValues("miss")
	return m
}

// Registry returns the registry the metrics are registered on.
func (m *Metrics) Registry() *prometheus.Registry {
	if m == nil {
		return nil
	}
	return m.reg
}

// Handler serves the metrics in the Prometheus exposition format. A nil
// *Metrics gives a handler that answers 404.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	m.handlerOnce.Do(func() {
		m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
	})
	return m.handler
}

// Operation returns the operation label for an operation name: "anonymous"
// for "", the name itself for the first MaxOperations distinct names, and
// "other" after that.
func (m *Metrics) Operation(name string) string {
	if name == "" {
		return OperationAnonymous
	}
	if m == nil {
		return OperationOther
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.knownOps[name]; ok {
		return name
	}
	if len(m.knownOps) >= m.maxOps || len(name) > 128 {
		return OperationOther
	}
	m.knownOps[name] = struct{}{}
	return name
}

// Request is what ObserveRequest records about one HTTP request.
type Request struct {
	// Operation is the GraphQL operation's name ("" when anonymous).
	Operation string
	// NoOperation is set when the request ran no GraphQL operation.
	NoOperation bool
	// Code is the first error's extensions.code ("" without errors).
	Code string
	// Status is the HTTP status written (0: 200).
	Status int
	// Duration is how long the request took.
	Duration time.Duration
	// Statements is how many SQL statements it ran.
	Statements int64
}

// ObserveRequest records one finished HTTP request.
func (m *Metrics) ObserveRequest(r Request) {
	if m == nil {
		return
	}
	op := OperationNone
	if !r.NoOperation {
		op = m.Operation(r.Operation)
	}
	m.requests.WithLabelValues(op, Outcome(r.Status, r.Code), StatusClass(r.Status)).Inc()
	m.duration.WithLabelValues(op).Observe(r.Duration.Seconds())
	m.statements.Observe(float64(r.Statements))
}

// ObserveCost records the requested cost of one GraphQL operation.
func (m *Metrics) ObserveCost(cost int) {
	if m == nil {
		return
	}
	m.cost.Observe(float64(cost))
}

// RateLimited counts one rate-limit rejection of kind (one of the Kind
// constants; anything else counts as "other").
func (m *Metrics) RateLimited(kind string) {
	if m == nil {
		return
	}
	switch kind {
	case KindBudget, KindLeadIP, KindLeadEmail, KindReportIP:
	default:
		kind = "other"
	}
	m.rateLimited.WithLabelValues(kind).Inc()
}

// SearchBufferDepth sets the search log's buffer depth.
func (m *Metrics) SearchBufferDepth(n int) {
	if m == nil {
		return
	}
	m.searchDepth.Set(float64(n))
}

// SearchFlushed records the latency of one search log flush.
func (m *Metrics) SearchFlushed(d time.Duration) {
	if m == nil {
		return
	}
	m.searchFlush.Observe(d.Seconds())
}

// EventBufferDepth sets the event buffer's depth.
func (m *Metrics) EventBufferDepth(n int) {
	if m == nil {
		return
	}
	m.eventDepth.Set(float64(n))
}

// EventsFlushed records the latency of one event batch write.
func (m *Metrics) EventsFlushed(d time.Duration) {
	if m == nil {
		return
	}
	m.eventFlush.Observe(d.Seconds())
}

// StatusClass returns the class of an HTTP status: "2xx", "4xx", … (0 is
// taken as 200).
func StatusClass(status int) string {
	if status == 0 {
		status = http.StatusOK
	}
	if status < 100 || status > 599 {
		return "other"
	}
	return strconv.Itoa(status/100) + "xx"
}

// Outcome returns the outcome label: code when it is a plausible error
// code (upper case letters, digits and underscores), else "ok" for a status
// below 400 and "error" otherwise.
func Outcome(status int, code string) string {
	if code != "" {
		if validCode(code) {
			return code
		}
		return "error"
	}
	if status == 0 || status < 400 {
		return OutcomeOK
	}
	return "error"
}

// validCode reports whether code looks like an extensions.code.
func validCode(code string) bool {
	if len(code) > 40 {
		return false
	}
	for _, c := range code {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

// ResponseCacheLookup counts one lookup in the response cache.
func (m *Metrics) ResponseCacheLookup(hit bool) {
	if m == nil {
		return
	}
	if hit {
		m.respHits.Inc()
	} else {
		m.respMisses.Inc()
	}
}
