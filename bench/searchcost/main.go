// Command searchcost measures the PostgreSQL CPU time of the store's public
// search, term by term, on one connection: for each term of a vocabulary
// file (rank, tab, term per line; `bench-load -tail-terms` prints the
// search-tail one) it runs store.Listings (relevance, 20 listings, no
// filters, no caches) REPS times and keeps the least CPU time of the
// backend (from /proc/<pid>/schedstat, so the server must be on this
// machine). It prints each term's time and count, the slowest terms, and
// the average weighted as bench/load's search-tail draws terms (1/rank).
//
//	DATABASE_URL=... bench-searchcost [-reps 3] [-every 1] terms.tsv
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq" // registers the "postgres" driver

	"github.com/partsmarket/gateway/store"
)

// result is one term's measurement.
type result struct {
	rank  int
	term  string
	cpu   time.Duration
	total int
	exact bool
}

func main() {
	reps := flag.Int("reps", 3, "runs per term; the least CPU time counts")
	every := flag.Int("every", 1, "measure the first 40 terms and then every Nth")
	flag.Parse()
	if err := run(os.Getenv("DATABASE_URL"), flag.Arg(0), *reps, *every); err != nil {
		fmt.Fprintln(os.Stderr, "searchcost:", err)
		os.Exit(1)
	}
}

// run measures the terms of file on the database at url.
func run(url, file string, reps, every int) error {
	db, err := sqlx.Connect("postgres", url)
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	var pid int
	if err := db.Get(&pid, `SELECT pg_backend_pid()`); err != nil {
		return err
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	st := store.New(db)
	var rs []result
	var weights, weighted float64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rank, term, ok := strings.Cut(sc.Text(), "\t")
		r, err := strconv.Atoi(rank)
		if !ok || err != nil {
			return fmt.Errorf("bad line %q: want rank, tab, term", sc.Text())
		}
		if r > 40 && r%every != 0 {
			continue
		}
		res, err := measure(st, pid, term, reps)
		if err != nil {
			return fmt.Errorf("%q: %w", term, err)
		}
		res.rank = r
		rs = append(rs, res)
		weights += 1 / float64(r)
		weighted += float64(res.cpu) / float64(r)
	}
	if err := sc.Err(); err != nil {
		return err
	}
	for _, r := range rs {
		printResult(r)
	}
	slices.SortFunc(rs, func(a, b result) int { return int(b.cpu - a.cpu) })
	fmt.Println("slowest:")
	for _, r := range rs[:min(15, len(rs))] {
		printResult(r)
	}
	fmt.Printf("PostgreSQL CPU per search, weighted 1/rank (least of %d runs): %.2f ms over %d terms\n", reps, weighted/weights/1e6, len(rs))
	return nil
}

// measure runs one search reps times and returns its least backend CPU
// time and its count.
func measure(st *store.Store, pid int, term string, reps int) (result, error) {
	r := result{term: term, cpu: time.Duration(1<<63 - 1)}
	for range reps {
		before, err := backendCPU(pid)
		if err != nil {
			return r, err
		}
		p, err := st.Listings(context.Background(), store.ListingQuery{Search: term}, store.PageArgs{Limit: 20})
		if err != nil {
			return r, err
		}
		after, err := backendCPU(pid)
		if err != nil {
			return r, err
		}
		r.cpu = min(r.cpu, after-before)
		r.total, r.exact = -1, p.TotalExact
		if p.Total != nil {
			r.total = *p.Total
		}
	}
	return r, nil
}

// backendCPU returns the CPU time process pid has run (schedstat's first
// field, in nanoseconds).
func backendCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/schedstat", pid))
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0, fmt.Errorf("empty /proc/%d/schedstat", pid)
	}
	n, err := strconv.ParseInt(f[0], 10, 64)
	return time.Duration(n), err
}

// printResult prints one term's line.
func printResult(r result) {
	fmt.Printf("%5d %-34s %8.2f ms  total %7d  exact %v\n", r.rank, r.term, float64(r.cpu)/1e6, r.total, r.exact)
}
