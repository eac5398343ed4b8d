// Package batch runs concurrent calls as batches: while one batch runs,
// the calls that arrive wait, and the next batch takes them all at once.
// The store submits leads so (one statement and one commit for every lead
// that arrived meanwhile, instead of one each): under load the database's
// per-statement and per-commit work is shared, and a lone call runs at once
// in a batch of one, with no waiting for company.
//
// There is no background goroutine: the caller that finds a free slot runs
// batches (its own among them) and, once its own is done, hands what is
// still waiting to a goroutine that runs until nothing is left.
package batch

import (
	"context"
	"fmt"
	"sync"
)

// Result is the outcome of one call in a batch.
type Result[Out any] struct {
	// Value is the call's result when Err is nil.
	Value Out
	// Err is the call's error.
	Err error
}

// Func runs one batch: it returns one Result per input, in order.
type Func[In, Out any] func(ctx context.Context, ins []In) []Result[Out]

// Batcher gathers concurrent calls into batches of up to max, with at most
// slots batches running at once.
type Batcher[In, Out any] struct {
	run   Func[In, Out]
	max   int
	slots int

	mu      sync.Mutex
	pending []*call[In, Out]
	running int // callers or goroutines running batches
}

// call is one waiting call.
type call[In, Out any] struct {
	in   In
	done chan Result[Out] // buffered: the result waits for its caller
}

// New returns a Batcher that runs batches of up to max inputs with run, at
// most slots at a time (each slot holds a database connection while its
// batch runs).
func New[In, Out any](run Func[In, Out], max, slots int) *Batcher[In, Out] {
	return &Batcher[In, Out]{run: run, max: max, slots: slots}
}

// Do runs in in a batch and returns its result. Once queued, the call is
// never dropped: it waits for its batch even when ctx ends, because the
// batch may commit it. The batch runs without ctx's cancellation but with
// its values.
func (b *Batcher[In, Out]) Do(ctx context.Context, in In) (Out, error) {
	c := &call[In, Out]{in: in, done: make(chan Result[Out], 1)}
	b.mu.Lock()
	b.pending = append(b.pending, c)
	lead := b.running < b.slots
	if lead {
		b.running++
	}
	b.mu.Unlock()
	if lead {
		b.lead(context.WithoutCancel(ctx), c)
	}
	r := <-c.done
	return r.Value, r.Err
}

// lead runs batches until own's is done (nil: until nothing waits), then
// leaves whatever still waits to a goroutine of its own. It holds one of
// the slots, and gives it up when nothing waits.
func (b *Batcher[In, Out]) lead(ctx context.Context, own *call[In, Out]) {
	for {
		b.mu.Lock()
		if len(b.pending) == 0 {
			b.running--
			b.mu.Unlock()
			return
		}
		if own != nil && len(own.done) == 1 {
			b.mu.Unlock()
			go b.lead(context.Background(), nil)
			return
		}
		n := min(len(b.pending), b.max)
		calls := make([]*call[In, Out], n)
		copy(calls, b.pending)
		b.pending = b.pending[n:]
		b.mu.Unlock()

		ins := make([]In, n)
		for i, c := range calls {
			ins[i] = c.in
		}
		results := b.runBatch(ctx, ins)
		for i, c := range calls {
			c.done <- results[i]
		}
	}
}

// runBatch runs one batch; a panic, or a Func that breaks its contract,
// fails every call of the batch instead of leaving them waiting.
func (b *Batcher[In, Out]) runBatch(ctx context.Context, ins []In) (results []Result[Out]) {
	defer func() {
		if p := recover(); p != nil {
			results = failAll[Out](len(ins), fmt.Errorf("batch: panic: %v", p))
		}
	}()
	results = b.run(ctx, ins)
	if len(results) != len(ins) {
		return failAll[Out](len(ins), fmt.Errorf("batch: %d results for %d inputs", len(results), len(ins)))
	}
	return results
}

// failAll returns n results failed with err.
func failAll[Out any](n int, err error) []Result[Out] {
	results := make([]Result[Out], n)
	for i := range results {
		results[i].Err = err
	}
	return results
}
