package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// tally adds up the rounds of one query on one server.
type tally struct {
	rounds                    []float64 // each round's requests per second
	requests                  int64
	elapsed                   time.Duration
	latencies                 []time.Duration
	serverCPU, pgCPU, loadCPU time.Duration
	rss, hwm                  int64 // the largest seen after a round
}

func (t *tally) add(r *round) {
	t.rounds = append(t.rounds, float64(r.requests)/r.elapsed.Seconds())
	t.requests += r.requests
	t.elapsed += r.elapsed
	t.latencies = append(t.latencies, r.latencies...)
	t.serverCPU += r.serverCPU
	t.pgCPU += r.pgCPU
	t.loadCPU += r.loadCPU
	t.rss, t.hwm = max(t.rss, r.rss), max(t.hwm, r.hwm)
}

// rate is the requests per second over all rounds.
func (t *tally) rate() float64 { return float64(t.requests) / t.elapsed.Seconds() }

// perRequest returns d per request in milliseconds.
func (t *tally) perRequest(d time.Duration) float64 {
	return float64(d) / float64(time.Millisecond) / float64(t.requests)
}

// percentile returns the p-th percentile (nearest rank) of the latencies.
func (t *tally) percentile(p int) time.Duration {
	slices.Sort(t.latencies)
	i := (len(t.latencies)*p+99)/100 - 1
	return t.latencies[max(0, min(i, len(t.latencies)-1))]
}

// report prints the results as Markdown tables: per query and server, the
// ratios, and the raw-SQL limit.
func report(out io.Writer, o options, qs []query, results map[string]*tally, raw []*rawResult) {
	defer func() {
		load, _ := os.ReadFile("/proc/loadavg")
		fmt.Fprintf(out, "\nload average at the end: %s\n", strings.Join(strings.Fields(string(load))[:3], " "))
	}()
	servers := []string{"gateway", "PostGraphile", "gateway, caches on"}
	fmt.Fprintln(out, "\n| query | server | req/s (rounds) | p50 | p99 | CPU ms/request: server | PostgreSQL | server + PostgreSQL | load generator | server RSS after (peak) |")
	fmt.Fprintln(out, "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
	for _, q := range qs {
		for _, s := range servers {
			t := results[q.name+"\x00"+s]
			if t == nil {
				continue
			}
			var rounds []string
			for _, r := range t.rounds {
				rounds = append(rounds, thousands(r))
			}
			peak := ""
			if t.hwm > 0 {
				peak = fmt.Sprintf(" (%s)", mb(t.hwm))
			}
			fmt.Fprintf(out, "| %s | %s | %s (%s) | %s | %s | %.2f | %.2f | %.2f | %.2f | %s%s |\n",
				q.name, s, thousands(t.rate()), strings.Join(rounds, ", "), ms(t.percentile(50)), ms(t.percentile(99)),
				t.perRequest(t.serverCPU), t.perRequest(t.pgCPU), t.perRequest(t.serverCPU+t.pgCPU),
				t.perRequest(t.loadCPU), mb(t.rss), peak)
		}
	}
	fmt.Fprintln(out, "\n| query | req/s gateway / PostGraphile | CPU per request (server + PostgreSQL) gateway / PostGraphile | PostgreSQL CPU per request gateway / PostGraphile |")
	fmt.Fprintln(out, "| --- | --- | --- | --- |")
	for _, q := range qs {
		g, p := results[q.name+"\x00gateway"], results[q.name+"\x00PostGraphile"]
		if g == nil || p == nil {
			continue
		}
		fmt.Fprintf(out, "| %s | %.2f× | %.2f× | %.2f× |\n", q.name, g.rate()/p.rate(),
			g.perRequest(g.serverCPU+g.pgCPU)/p.perRequest(p.serverCPU+p.pgCPU), g.perRequest(g.pgCPU)/p.perRequest(p.pgCPU))
	}
	if len(raw) == 0 {
		return
	}
	fmt.Fprintf(out, "\nRaw-SQL limit: pgbench -M prepared, %d clients, %s, the gateway's own statements of one page per transaction\n", o.concurrency, o.duration)
	fmt.Fprintln(out, "\n| page | pgbench pages/s | PostgreSQL CPU ms/page | pgbench CPU ms/page | gateway req/s (caches off) | gateway / limit |")
	fmt.Fprintln(out, "| --- | --- | --- | --- | --- | --- |")
	for _, r := range raw {
		name := r.page
		gw := "n/a"
		ratio := "n/a"
		if g := results[name+"\x00gateway"]; g != nil {
			gw, ratio = thousands(g.rate()), fmt.Sprintf("%.0f %%", 100*g.rate()/r.rate)
		}
		perPage := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) / float64(r.pages) }
		fmt.Fprintf(out, "| %s | %s | %.2f | %.2f | %s | %s |\n", name, thousands(r.rate), perPage(r.pgCPU), perPage(r.pgbenchCPU), gw, ratio)
	}
}

// ms formats d in milliseconds, with one decimal below 10 ms.
func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	if v < 10 {
		return strconv.FormatFloat(v, 'f', 1, 64) + " ms"
	}
	return strconv.FormatFloat(v, 'f', 0, 64) + " ms"
}

// mb formats a size in bytes as whole megabytes.
func mb(b int64) string { return fmt.Sprintf("%.0f MB", float64(b)/(1<<20)) }

// thousands formats v rounded, with commas: 1,234.
func thousands(v float64) string {
	s := strconv.FormatInt(int64(v+0.5), 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
