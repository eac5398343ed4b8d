// Command compare runs the gateway and PostGraphile side by side on one
// database (issue 12): it starts the gateway with its caches off and
// PostGraphile 5 (amber preset, over postgraphile.sql's functions giving
// the gateway's public-listing rule), checks that both answer every query
// parameter with the same listings (ids in order, seller, contacts,
// locations, media), runs each query in rounds alternating between them,
// then a gateway with its caches on, then pgbench over the gateway's own
// statements (pgbench-*.sql), and prints per query and side: requests per
// second, latency, CPU per request of the server's process tree, of the
// PostgreSQL cluster and of this load generator (from /proc), the server's
// memory, and the ratios.
//
// bench/compare/run.sh prepares everything it needs (the benchmark
// cluster, the data, Node and PostGraphile) and runs it; make bench-compare
// runs that.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"

	"github.com/partsmarket/gateway/bench/internal/benchkit"
	"github.com/partsmarket/gateway/bench/workload"
)

// options are the command line.
type options struct {
	databaseURL, pgData, pgBin, pgLog string
	gateway, node, postgraphile       string
	postgraphileConfig, workload      string
	out, sqlDir, queries              string
	rounds, concurrency, ids          int
	duration, warmup, prewarm         time.Duration
	pgbench, capture                  bool
}

func main() {
	var o options
	flag.StringVar(&o.databaseURL, "database-url", "", "the benchmark database (postgres:// URL)")
	flag.StringVar(&o.pgData, "pg-data", ".data/bench-pg", "the benchmark cluster's data directory (for its postmaster's pid)")
	flag.StringVar(&o.pgBin, "pg-bin", "/usr/lib/postgresql/15/bin", "PostgreSQL's binaries (pgbench)")
	flag.StringVar(&o.pgLog, "pg-log", ".data/bench-pg.log", "the benchmark cluster's log (for -capture)")
	flag.StringVar(&o.gateway, "gateway", "bin/gateway", "the gateway binary")
	flag.StringVar(&o.node, "node", "", "the node binary (>= 22) to run PostGraphile on")
	flag.StringVar(&o.postgraphile, "postgraphile", "", "PostGraphile's command line script (postgraphile/dist/cli-run.js)")
	flag.StringVar(&o.postgraphileConfig, "postgraphile-config", "", "PostGraphile's configuration file")
	flag.StringVar(&o.workload, "workload", "", "the workload file bench/gen wrote (regions and their weights)")
	flag.StringVar(&o.out, "out", ".data/bench-compare", "where logs and pgbench scripts go")
	flag.StringVar(&o.sqlDir, "sql-dir", "bench/compare", "where pgbench-page.sql and pgbench-detail.sql are")
	flag.StringVar(&o.queries, "queries", "page,region,detail", "queries to run, in order")
	flag.IntVar(&o.rounds, "rounds", 3, "measured rounds per query and side")
	flag.IntVar(&o.concurrency, "concurrency", 32, "clients (and pgbench clients)")
	flag.IntVar(&o.ids, "ids", 500, "public listings the detail query draws from")
	flag.DurationVar(&o.duration, "duration", 15*time.Second, "measured time per round and side (and per pgbench run)")
	flag.DurationVar(&o.warmup, "warmup", 3*time.Second, "unmeasured time before each round")
	flag.DurationVar(&o.prewarm, "prewarm", 15*time.Second, "unmeasured time per query and side before the first round (node's JIT, pools, caches of both)")
	flag.BoolVar(&o.pgbench, "pgbench", true, "measure the raw-SQL limit with pgbench")
	flag.BoolVar(&o.capture, "capture", false, "only log the statements of one gateway page and detail request (to refresh pgbench-*.sql)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench-compare:", err)
		os.Exit(1)
	}
}

// settingsShown are the benchmark cluster's settings the report prints.
var settingsShown = []string{"server_version", "shared_buffers", "effective_cache_size", "work_mem", "jit",
	"random_page_cost", "max_connections", "fsync", "synchronous_commit"}

func run(ctx context.Context, o options, out io.Writer) error {
	if o.databaseURL == "" || o.rounds < 1 || o.concurrency < 1 || o.ids < 1 || o.duration < time.Second {
		return errors.New("-database-url is required; -rounds, -concurrency and -ids must be positive, -duration at least 1s")
	}
	w, err := workload.Read(o.workload)
	if err != nil {
		return err
	}
	db, err := sqlx.Connect("postgres", o.databaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	postmaster, err := postmasterPID(o.pgData)
	if err != nil {
		return err
	}
	if o.capture {
		return capture(ctx, o, db, out)
	}
	ids, err := publicSample(ctx, db, o.ids)
	if err != nil {
		return err
	}
	var regions []string
	var weights []float64
	for _, r := range w.Regions {
		regions, weights = append(regions, r.Value), append(weights, r.Weight)
	}
	var qs []query
	for _, name := range strings.Split(o.queries, ",") {
		found := false
		for _, q := range queries(regions, weights, ids) {
			if q.name == strings.TrimSpace(name) {
				qs, found = append(qs, q), true
			}
		}
		if !found {
			return fmt.Errorf("unknown query %q (page, region, detail)", name)
		}
	}
	if err := header(ctx, o, db, w, out); err != nil {
		return err
	}
	l := load{client: newClient(o.concurrency), concurrency: o.concurrency, warmup: o.warmup,
		duration: o.duration, postmaster: postmaster}
	results := map[string]*tally{}
	if err := sideBySide(ctx, o, l, qs, results); err != nil {
		return err
	}
	if err := cachedGateway(ctx, o, l, qs, results); err != nil {
		return err
	}
	var raw []*rawResult
	if o.pgbench {
		if raw, err = rawLimit(ctx, o, db, postmaster, ids); err != nil {
			return err
		}
	}
	report(out, o, qs, results, raw)
	return nil
}

// publicListing is the gateway's rule for a public listing of "listings l"
// (store/listings.go): ACTIVE, of an ACTIVE seller.
const publicListing = `l.status = 'ACTIVE' AND NOT EXISTS (SELECT 1 FROM sellers s WHERE s.id = l.seller_id AND s.status <> 'ACTIVE')`

// publicSample returns the ids of n public listings drawn in a fixed
// pseudo-random order (the same data gives the same ids).
func publicSample(ctx context.Context, db *sqlx.DB, n int) ([]string, error) {
	var ids []string
	err := db.SelectContext(ctx, &ids, `SELECT l.id FROM listings l WHERE `+publicListing+`
		ORDER BY md5(l.id::text) LIMIT $1`, n)
	if err == nil && len(ids) == 0 {
		err = errors.New("the benchmark database has no public listings")
	}
	return ids, err
}

// rawLimit runs pgbench over the gateway's own statements of a listing
// page and of a detail page (over ids), and over the detail page's id
// lookup alone.
func rawLimit(ctx context.Context, o options, db *sqlx.DB, postmaster int, ids []string) ([]*rawResult, error) {
	defines, err := pageDefines(ctx, db)
	if err != nil {
		return nil, err
	}
	page, err := os.ReadFile(filepath.Join(o.sqlDir, "pgbench-page.sql"))
	if err != nil {
		return nil, err
	}
	body, err := os.ReadFile(filepath.Join(o.sqlDir, "pgbench-detail.sql"))
	if err != nil {
		return nil, err
	}
	detail, lookup, err := detailScript(ctx, db, ids, string(body))
	if err != nil {
		return nil, err
	}
	var raw []*rawResult
	for _, s := range []struct {
		page, script string
		defines      []string
	}{{"page", string(page), defines}, {"detail", detail, nil}, {lookupPage, lookup, nil}} {
		fmt.Fprintf(os.Stderr, "bench-compare: pgbench, %s\n", s.page)
		r, err := pgbench(ctx, o, postmaster, s.page, s.script, s.defines)
		if err != nil {
			return nil, err
		}
		raw = append(raw, r)
	}
	return raw, nil
}

// sideBySide starts the gateway (caches off) and PostGraphile, checks that
// they agree on every parameter of every query, runs each query on each
// unmeasured for o.prewarm, then measures the queries in rounds alternating
// between them (which goes first alternates too).
func sideBySide(ctx context.Context, o options, l load, qs []query, results map[string]*tally) error {
	gw, err := startGateway(ctx, o, false)
	if err != nil {
		return err
	}
	defer gw.stop()
	pg, err := startPostGraphile(ctx, o)
	if err != nil {
		return err
	}
	defer pg.stop()
	servers := [2]server{gateway: gw.server, postgraphile: pg.server}
	for _, q := range qs {
		n, err := check(ctx, l, q, servers)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "bench-compare: %s: both sides return the same %d listings over %d parameters\n",
			q.name, n, len(q.params))
	}
	for _, q := range qs {
		for _, s := range []side{gateway, postgraphile} {
			fmt.Fprintf(os.Stderr, "bench-compare: %s on %s, unmeasured, for %s\n", q.name, servers[s].label, o.prewarm)
			l.drive(ctx, servers[s], q.bodies(s), q.picker(), o.prewarm, nil)
		}
	}
	for r := range o.rounds {
		for _, q := range qs {
			pick := q.picker()
			order := []side{gateway, postgraphile}
			if r%2 == 1 {
				order = []side{postgraphile, gateway}
			}
			for _, s := range order {
				if err := measureInto(ctx, l, q, servers[s], q.bodies(s), pick, results); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// cachedGateway measures the gateway with its caches on: one round per
// query, as a row of its own.
func cachedGateway(ctx context.Context, o options, l load, qs []query, results map[string]*tally) error {
	gw, err := startGateway(ctx, o, true)
	if err != nil {
		return err
	}
	defer gw.stop()
	for _, q := range qs {
		if err := measureInto(ctx, l, q, gw.server, q.bodies(gateway), q.picker(), results); err != nil {
			return err
		}
	}
	return nil
}

// measureInto measures one round and adds it to the query's and server's
// tally; any failed request fails the run.
func measureInto(ctx context.Context, l load, q query, srv server, bodies [][]byte, pick func(*rand.Rand) int, results map[string]*tally) error {
	fmt.Fprintf(os.Stderr, "bench-compare: %s on %s for %s\n", q.name, srv.label, l.duration)
	res, err := l.measure(ctx, srv, bodies, pick)
	if err != nil {
		return err
	}
	if res.errors > 0 {
		return fmt.Errorf("%s on %s: %d of %d requests failed, first: %s", q.name, srv.label, res.errors, res.requests, res.firstError)
	}
	key := q.name + "\x00" + srv.label
	if results[key] == nil {
		results[key] = &tally{}
	}
	results[key].add(res)
	return nil
}

// check asks both servers every parameter of q and fails on the first
// answer that differs; it returns how many listings they agreed on.
func check(ctx context.Context, l load, q query, servers [2]server) (int, error) {
	var bodies [2][][]byte
	for _, s := range []side{gateway, postgraphile} {
		bodies[s] = q.bodies(s)
	}
	total := 0
	for i, p := range q.params {
		var got [2][]row
		for _, s := range []side{gateway, postgraphile} {
			data, err := benchkit.PostGraphQL(ctx, l.client, servers[s].endpoint, bodies[s][i], "")
			if err != nil {
				return 0, fmt.Errorf("check %s %q on %s: %w", q.name, p, servers[s].label, err)
			}
			if got[s], err = rows(s, data); err != nil {
				return 0, fmt.Errorf("check %s %q on %s: %w", q.name, p, servers[s].label, err)
			}
		}
		if d := diff(got[gateway], got[postgraphile]); d != "" {
			return 0, fmt.Errorf("check %s %q: the gateway and PostGraphile disagree: %s", q.name, p, d)
		}
		total += len(got[gateway])
	}
	if total == 0 {
		return 0, fmt.Errorf("check %s: both sides returned no listings at all", q.name)
	}
	return total, nil
}

// header prints what was measured on what.
func header(ctx context.Context, o options, db *sqlx.DB, w *workload.Workload, out io.Writer) error {
	var counts struct {
		Sellers  int `db:"sellers"`
		Listings int `db:"listings"`
		Public   int `db:"public"`
		Media    int `db:"media"`
	}
	if err := db.GetContext(ctx, &counts, `SELECT
		(SELECT count(*) FROM sellers) AS sellers, (SELECT count(*) FROM listings) AS listings,
		(SELECT count(*) FROM listings l WHERE `+publicListing+`) AS public,
		(SELECT count(*) FROM media) AS media`); err != nil {
		return err
	}
	var settings []string
	for _, name := range settingsShown {
		var v string
		if err := db.GetContext(ctx, &v, `SELECT current_setting($1)`, name); err != nil {
			return err
		}
		settings = append(settings, name+"="+v)
	}
	nodeVersion, err := exec.CommandContext(ctx, o.node, "--version").Output()
	if err != nil {
		return fmt.Errorf("%s --version: %w", o.node, err)
	}
	pgVersion, err := os.ReadFile(filepath.Join(filepath.Dir(filepath.Dir(filepath.Dir(o.postgraphile))), "postgraphile", "package.json"))
	if err != nil {
		return err
	}
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Fprintf(out, "bench-compare: data at scale %g: %d sellers, %d listings (%d public), %d media\n",
		w.Scale, counts.Sellers, counts.Listings, counts.Public, counts.Media)
	fmt.Fprintf(out, "PostgreSQL (private benchmark cluster): %s\n", strings.Join(settings, " "))
	fmt.Fprintf(out, "PostGraphile %s (preset amber, pool of 20) on node %s; gateway with its caches off (RESPONSE_CACHE_TTL=0 SEARCH_CACHE_TTL=0) unless said, pool DATABASE_MAX_CONNS (default 20)\n",
		packageVersion(pgVersion), strings.TrimSpace(string(nodeVersion)))
	fmt.Fprintf(out, "%d clients, %d rounds x %s per query and side (after %s warmup each, and %s per query and side before the first), alternating; %d CPUs, load average %s\n",
		o.concurrency, o.rounds, o.duration, o.warmup, o.prewarm, runtime.NumCPU(), strings.Join(strings.Fields(string(load))[:3], " "))
	return nil
}

// packageVersion returns the "version" of a package.json.
func packageVersion(b []byte) string {
	_, rest, ok := strings.Cut(string(b), `"version": "`)
	if !ok {
		return "?"
	}
	v, _, _ := strings.Cut(rest, `"`)
	return v
}

// postmasterPID reads the pid of the cluster's postmaster from its
// postmaster.pid.
func postmasterPID(pgData string) (int, error) {
	b, err := os.ReadFile(filepath.Join(pgData, "postmaster.pid"))
	if err != nil {
		return 0, fmt.Errorf("the benchmark cluster is not running: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return strconv.Atoi(strings.TrimSpace(line))
}
