package metrics

import (
	"context"
	"database/sql"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	dto "github.com/prometheus/client_model/go"

	"github.com/partsmarket/gateway/store"
)

// What operators watch besides requests: the connection pools, the lead
// notification outbox and the caches' hit ratios.

// backlogTimeout bounds the outbox query of one scrape.
const backlogTimeout = 2 * time.Second

// WatchPool exports the statistics of db, the pool named name (http,
// worker, analyst, notify), as the go_sql_* metrics with db_name=name:
// connections open, in use and idle, the pool's maximum, and how many
// times and how long callers waited for a connection. Each name is
// watched once.
func (m *Metrics) WatchPool(name string, db *sql.DB) {
	if m == nil {
		return
	}
	m.reg.MustRegister(collectors.NewDBStatsCollector(db, name))
}

// OutboxAttempt counts one delivery attempt of a lead notification by its
// outcome (notify's sent, retry or failed): the failures are the retry and
// failed ones.
func (m *Metrics) OutboxAttempt(outcome string) {
	if m == nil {
		return
	}
	m.outboxAttempts.WithLabelValues(outcome).Inc()
}

// SearchCacheLookup counts one lookup in the search cache by its result
// (store's hit, stale or miss).
func (m *Metrics) SearchCacheLookup(result string) {
	if m == nil {
		return
	}
	m.searchCache.WithLabelValues(result).Inc()
}

// WatchOutbox exports the outbox's backlog, read by backlog at each
// scrape (within backlogTimeout): gateway_outbox_pending,
// gateway_outbox_due and gateway_outbox_oldest_pending_seconds. A scrape
// whose read fails leaves them out and counts
// gateway_outbox_backlog_errors_total.
func (m *Metrics) WatchOutbox(backlog func(context.Context) (store.OutboxBacklog, error)) {
	if m == nil {
		return
	}
	m.reg.MustRegister(outboxCollector{read: backlog, errors: m.outboxErrors})
}

// outboxCollector reads the outbox's backlog when scraped.
type outboxCollector struct {
	read   func(context.Context) (store.OutboxBacklog, error)
	errors prometheus.Counter
}

var (
	outboxPendingDesc = prometheus.NewDesc("gateway_outbox_pending",
		"Lead notifications PENDING in the outbox (due now or waiting for a retry).", nil, nil)
	outboxDueDesc = prometheus.NewDesc("gateway_outbox_due",
		"PENDING lead notifications that are due now: what the workers have yet to send.", nil, nil)
	outboxOldestDesc = prometheus.NewDesc("gateway_outbox_oldest_pending_seconds",
		"How long the oldest PENDING lead notification has waited since its lead came in (0: none).", nil, nil)
)

// Describe sends the backlog's descriptions.
func (c outboxCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- outboxPendingDesc
	ch <- outboxDueDesc
	ch <- outboxOldestDesc
}

// Collect reads the backlog and sends it.
func (c outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), backlogTimeout)
	defer cancel()
	b, err := c.read(ctx)
	if err != nil {
		c.errors.Inc()
		return
	}
	ch <- prometheus.MustNewConstMetric(outboxPendingDesc, prometheus.GaugeValue, float64(b.Pending))
	ch <- prometheus.MustNewConstMetric(outboxDueDesc, prometheus.GaugeValue, float64(b.Due))
	ch <- prometheus.MustNewConstMetric(outboxOldestDesc, prometheus.GaugeValue, b.OldestPending.Seconds())
}

// hitRatioDesc describes gateway_cache_hit_ratio.
var hitRatioDesc = prometheus.NewDesc("gateway_cache_hit_ratio",
	"Share of lookups answered from the cache since the start (the search cache's stale answers included); "+
		"absent before the first lookup. For a recent ratio, divide the rates of the lookup counters.",
	[]string{"cache"}, nil)

// hitRatios computes the caches' hit ratios from their lookup counters
// when scraped.
type hitRatios struct{ m *Metrics }

// Describe sends the ratio's description.
func (h hitRatios) Describe(ch chan<- *prometheus.Desc) { ch <- hitRatioDesc }

// Collect sends the ratio of each cache that was looked up.
func (h hitRatios) Collect(ch chan<- prometheus.Metric) {
	send := func(cache string, answered, missed float64) {
		if answered+missed > 0 {
			ch <- prometheus.MustNewConstMetric(hitRatioDesc, prometheus.GaugeValue, answered/(answered+missed), cache)
		}
	}
	send("response", counterValue(h.m.respHits), counterValue(h.m.respMisses))
	search := func(result string) float64 { return counterValue(h.m.searchCache.WithLabelValues(result)) }
	send("search", search(store.LookupHit)+search(store.LookupStale), search(store.LookupMiss))
}

// counterValue reads a counter's value.
func counterValue(c prometheus.Counter) float64 {
	var d dto.Metric
	if err := c.Write(&d); err != nil {
		return 0
	}
	return d.GetCounter().GetValue()
}
