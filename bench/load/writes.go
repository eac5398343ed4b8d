package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// updatePrice is the -writes listing update: a new price.
const updatePrice = `mutation Reprice($id: ID!, $price: Int!) { updateListing(id: $id, input: {priceCents: $price}) { listing { id } } }`

// startWrites sends perSecond listing price updates per second, each to a
// random listing of the workload, through the gateway (as an admin) until
// the returned function is called; that function prints how many were
// sent and failed.
func startWrites(ctx context.Context, client *http.Client, base string, q *requests, perSecond float64, out io.Writer) func() {
	ctx, cancel := context.WithCancel(ctx)
	var sent, failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	started := time.Now()
	wg.Go(func() {
		r := rand.New(rand.NewPCG(uint64(q.runID), 7))
		tick := time.NewTicker(time.Duration(float64(time.Second) / perSecond))
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			req := request{query: updatePrice, token: q.admin,
				variables: map[string]any{"id": pick(r, q.w.Listings), "price": 1000 + r.IntN(1_000_000)}}
			wg.Go(func() {
				if err := send(ctx, client, base, req); err != nil && ctx.Err() == nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
				sent.Add(1)
			})
		}
	})
	return func() {
		cancel()
		wg.Wait()
		fmt.Fprintf(out, "\nwrites: %d listing updates in %.0fs (%.1f/s), %d failed", sent.Load(), time.Since(started).Seconds(),
			float64(sent.Load())/time.Since(started).Seconds(), failed.Load())
		if e, ok := firstErr.Load().(string); ok {
			fmt.Fprintf(out, " (first: %s)", e)
		}
		fmt.Fprintln(out)
	}
}
