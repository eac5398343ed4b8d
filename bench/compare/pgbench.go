package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// rawResult is one pgbench run over a page's statements.
type rawResult struct {
	page       string
	pages      int64 // transactions: one page each
	rate       float64
	pgCPU      time.Duration
	pgbenchCPU time.Duration
}

var tpsLine = regexp.MustCompile(`(?m)^tps = ([0-9.]+) \(without initial connection time\)`)
var txLine = regexp.MustCompile(`(?m)^number of transactions actually processed: ([0-9]+)`)

// pgbench runs script, the statements of one page, in prepared mode with
// o.concurrency clients for o.duration and the variables defines
// (name=value), and reads the PostgreSQL cluster's CPU around it.
func pgbench(ctx context.Context, o options, postmaster int, page, script string, defines []string) (*rawResult, error) {
	file := filepath.Join(o.out, "pgbench-"+strings.ReplaceAll(page, " ", "-")+".sql")
	if err := os.WriteFile(file, []byte(script), 0o644); err != nil {
		return nil, err
	}
	u, err := pq.ParseURL(o.databaseURL)
	if err != nil {
		return nil, err
	}
	args := []string{"-n", "-M", "prepared", "-c", strconv.Itoa(o.concurrency), "-j", "2", "-f", file}
	for _, d := range defines {
		args = append(args, "-D", d)
	}
	bin := filepath.Join(o.pgBin, "pgbench")
	// pgbench takes its connection from the libpq environment.
	env := append(os.Environ(), "PGAPPNAME=pgbench")
	for _, kv := range strings.Fields(u) {
		k, v, _ := strings.Cut(kv, "=")
		v = strings.Trim(v, "'")
		switch k {
		case "host":
			env = append(env, "PGHOST="+v)
		case "port":
			env = append(env, "PGPORT="+v)
		case "user":
			env = append(env, "PGUSER="+v)
		case "dbname":
			env = append(env, "PGDATABASE="+v)
		}
	}
	// A first run of one page per client measures what starting the
	// connections and the first executions cost; the measured run's
	// numbers are net of it.
	first, err := runPgbench(ctx, bin, env, postmaster, append(slices.Clone(args), "-t", "1"))
	if err != nil {
		return nil, err
	}
	full, err := runPgbench(ctx, bin, env, postmaster, append(slices.Clone(args), "-T", strconv.Itoa(int(o.duration.Seconds()))))
	if err != nil {
		return nil, err
	}
	return &rawResult{page: page, rate: full.rate, pages: full.pages - first.pages,
		pgCPU: full.pgCPU - first.pgCPU, pgbenchCPU: full.pgbenchCPU - first.pgbenchCPU}, nil
}

// runPgbench runs pgbench (bin) with env and args and reads the cluster's
// CPU around it.
func runPgbench(ctx context.Context, bin string, env []string, postmaster int, args []string) (*rawResult, error) {
	run := exec.CommandContext(ctx, bin, args...)
	run.Env = env
	before, err := treeCPU(postmaster)
	if err != nil {
		return nil, err
	}
	out, err := run.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("pgbench %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	after, err := treeCPU(postmaster)
	if err != nil {
		return nil, err
	}
	m, n := tpsLine.FindSubmatch(out), txLine.FindSubmatch(out)
	if m == nil || n == nil {
		return nil, fmt.Errorf("pgbench %s: no tps in its output:\n%s", strings.Join(args, " "), out)
	}
	r := &rawResult{pgCPU: after - before, pgbenchCPU: run.ProcessState.UserTime() + run.ProcessState.SystemTime()}
	r.rate, _ = strconv.ParseFloat(string(m[1]), 64)
	r.pages, _ = strconv.ParseInt(string(n[1]), 10, 64)
	return r, nil
}

// pageDefines returns the variables of pgbench-page.sql: :listings, the
// ids of the newest public listings the page shows, and :sellers, their
// sellers' ids (uuid arrays as the gateway sends them).
func pageDefines(ctx context.Context, db *sqlx.DB) ([]string, error) {
	var v struct {
		Listings string `db:"listings"`
		Sellers  string `db:"sellers"`
	}
	err := db.GetContext(ctx, &v, `SELECT array_agg(id ORDER BY n)::text AS listings, array_agg(DISTINCT seller_id)::text AS sellers
		FROM (SELECT l.id, l.seller_id, row_number() OVER (ORDER BY l.created_at DESC, l.id DESC) AS n FROM listings l
			WHERE `+publicListing+` ORDER BY l.created_at DESC, l.id DESC LIMIT $1) p`, pageSize)
	return []string{"listings=" + v.Listings, "sellers=" + v.Sellers}, err
}

// lookupPage names the pgbench run of the detail page's id lookup alone.
const lookupPage = "detail id lookup"

// detailLookup is the statement that starts each page of
// pgbench-detail.sql: it reads the variables of the listing drawn from the
// table detailScript fills.
const detailLookup = "SELECT listing, seller, sellers, more FROM bench_compare.detail_ids WHERE n = :n \\gset\n"

// detailScript returns pgbench-detail.sql (body) as pgbench runs it and
// the lines that only look the variables up (to measure that alone). Each
// page draws one of the detail ids (\set n) and reads the variables of that
// listing with detailLookup, a primary-key lookup in the table
// bench_compare.detail_ids, which it fills (a page that the gateway serves
// runs one statement fewer). The variables: :listing (the listing's id as a
// one-element uuid array), :seller (its seller's id), :sellers (the same as
// a one-element array) and :more (the ids of the seller's newest public
// listings the page shows, an array).
func detailScript(ctx context.Context, db *sqlx.DB, ids []string, body string) (script, lookup string, err error) {
	for _, stmt := range []string{
		`DROP SCHEMA IF EXISTS bench_compare CASCADE`,
		`CREATE SCHEMA bench_compare`,
		`CREATE TABLE bench_compare.detail_ids (n int PRIMARY KEY, listing text NOT NULL, seller text NOT NULL,
			sellers text NOT NULL, more text NOT NULL)`,
	} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return "", "", err
		}
	}
	res, err := db.ExecContext(ctx, `INSERT INTO bench_compare.detail_ids (n, listing, seller, sellers, more)
		SELECT i.n, '{' || l.id || '}', l.seller_id::text, '{' || l.seller_id || '}',
			(SELECT array_agg(m.id ORDER BY m.created_at DESC, m.id DESC)::text FROM (
				SELECT m.id, m.created_at FROM listings m
				WHERE m.seller_id = l.seller_id AND m.status = 'ACTIVE'
				ORDER BY m.created_at DESC, m.id DESC LIMIT $2) m)
		FROM unnest($1::uuid[]) WITH ORDINALITY AS i(id, n)
		JOIN listings l ON l.id = i.id`, pq.Array(ids), moreSize)
	if err != nil {
		return "", "", err
	}
	if n, err := res.RowsAffected(); err != nil || n != int64(len(ids)) {
		return "", "", fmt.Errorf("the detail ids: %d of %d found (%v)", n, len(ids), err)
	}
	if _, err := db.ExecContext(ctx, `ANALYZE bench_compare.detail_ids`); err != nil {
		return "", "", err
	}
	lookup = fmt.Sprintf("\\set n random(1, %d)\n%s", len(ids), detailLookup)
	return lookup + body, lookup, nil
}
