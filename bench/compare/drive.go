package main

import (
	"context"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/partsmarket/gateway/bench/internal/benchkit"
)

// server is a GraphQL server under test.
type server struct {
	label    string
	endpoint string // its /graphql
	pid      int    // the root of its process tree
}

// round is what one measured round of one query against one server saw.
type round struct {
	requests, errors int64
	firstError       string
	elapsed          time.Duration
	latencies        []time.Duration
	// CPU used during the round by the server's process tree, by the
	// PostgreSQL cluster's processes and by this program.
	serverCPU, pgCPU, loadCPU time.Duration
	// rss is the server tree's resident memory after the round, hwm the
	// peak of its root process (VmHWM) so far.
	rss, hwm int64
}

// load says how hard to drive a server.
type load struct {
	client      *http.Client
	concurrency int
	warmup      time.Duration
	duration    time.Duration
	postmaster  int // the PostgreSQL cluster's postmaster
}

// measure runs one round: an unmeasured warmup, then l.concurrency clients
// for l.duration, each sending a request drawn from bodies (by pick) as
// soon as its previous one is answered; CPU is read from /proc before and
// after the measured part.
func (l load) measure(ctx context.Context, srv server, bodies [][]byte, pick func(*rand.Rand) int) (*round, error) {
	if l.warmup > 0 {
		l.drive(ctx, srv, bodies, pick, l.warmup, nil)
	}
	cpu := func() (s, p, self time.Duration, err error) {
		if s, err = treeCPU(srv.pid); err != nil {
			return
		}
		if p, err = treeCPU(l.postmaster); err != nil {
			return
		}
		st, err := readStat(os.Getpid())
		return s, p, st.cpu, err
	}
	s0, p0, l0, err := cpu()
	if err != nil {
		return nil, err
	}
	res := &round{}
	l.drive(ctx, srv, bodies, pick, l.duration, res)
	s1, p1, l1, err := cpu()
	if err != nil {
		return nil, err
	}
	res.serverCPU, res.pgCPU, res.loadCPU = s1-s0, p1-p0, l1-l0
	res.rss, res.hwm = treeRSS(srv.pid), statusKB(srv.pid, "VmHWM")*1024
	slices.Sort(res.latencies)
	return res, ctx.Err()
}

// drive runs l.concurrency workers against srv for d and, when res is not
// nil, records every answer in it.
func (l load) drive(ctx context.Context, srv server, bodies [][]byte, pick func(*rand.Rand) int, d time.Duration, res *round) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for w := range l.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(start.UnixNano()), uint64(w)))
			var lat []time.Duration
			var errs int64
			first := ""
			for ctx.Err() == nil && time.Now().Before(deadline) {
				t0 := time.Now()
				_, err := benchkit.PostGraphQL(ctx, l.client, srv.endpoint, bodies[pick(r)], "")
				lat = append(lat, time.Since(t0))
				if err != nil {
					errs++
					if first == "" {
						first = err.Error()
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
			if res.firstError == "" {
				res.firstError = first
			}
		}()
	}
	wg.Wait()
	if res != nil {
		res.elapsed = time.Since(start)
	}
}

// newClient returns an HTTP client keeping a connection per worker.
func newClient(concurrency int) *http.Client {
	return &http.Client{Timeout: time.Minute, Transport: &http.Transport{
		MaxIdleConns: concurrency * 2, MaxIdleConnsPerHost: concurrency * 2, IdleConnTimeout: time.Minute}}
}
