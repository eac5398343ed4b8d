// Package batch runs concurrent calls as batches: while one batch runs,
// the calls that arrive wait, and the next batch takes them all at once.
// The store submits leads so (one statement and one commit for every lead
// that arrived meanwhile, instead of one each): under load the database's
// per-statement and per-commit work is shared, and a lone call runs at once
// in a batch of one, with no waiting for company.
//
// A batch is shared work: it belongs to no single caller. It runs with the
// values of its first caller's context but never with that caller's
// cancellation or deadline, under a timeout of its own (Timeout); a caller
// whose context ends stops waiting at once, and the others still get their
// results. A call whose caller has already gone when its batch is formed is
// left out of it.
//
// Batches run on goroutines started on demand: a call that finds a free slot
// starts one, which runs batches until nothing waits and then gives its slot
// back.
package batch

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Timeout bounds one batch's run: the batch's context ends after it,
// whatever its callers' contexts say.
const Timeout = 30 * time.Second

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
	run     Func[In, Out]
	max     int
	slots   int
	timeout time.Duration

	mu      sync.Mutex
	pending []*call[In, Out]
	running int // goroutines running batches
}

// call is one waiting call.
type call[In, Out any] struct {
	ctx  context.Context
	in   In
	done chan Result[Out] // buffered: a result never waits for a caller that left
}

// New returns a Batcher that runs batches of up to max inputs with run, at
// most slots at a time (each slot holds a database connection while its
// batch runs).
func New[In, Out any](run Func[In, Out], max, slots int) *Batcher[In, Out] {
	return &Batcher[In, Out]{run: run, max: max, slots: slots, timeout: Timeout}
}

// Do runs in in a batch and returns its result, or ctx's error as soon as
// ctx ends (the batch may still commit in then: its work is shared, and
// runs to its end for the other callers).
func (b *Batcher[In, Out]) Do(ctx context.Context, in In) (Out, error) {
	c := &call[In, Out]{ctx: ctx, in: in, done: make(chan Result[Out], 1)}
	b.mu.Lock()
	b.pending = append(b.pending, c)
	start := b.running < b.slots
	if start {
		b.running++
	}
	b.mu.Unlock()
	if start {
		go b.lead()
	}
	select {
	case r := <-c.done:
		return r.Value, r.Err
	case <-ctx.Done():
		var zero Out
		return zero, ctx.Err()
	}
}

// lead runs batches until nothing waits, then gives its slot back.
func (b *Batcher[In, Out]) lead() {
	for {
		calls := b.take()
		if calls == nil {
			return
		}
		ins := make([]In, len(calls))
		for i, c := range calls {
			ins[i] = c.in
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(calls[0].ctx), b.timeout)
		results := b.runBatch(ctx, ins)
		cancel()
		for i, c := range calls {
			c.done <- results[i]
		}
	}
}

// take removes the next batch from the queue: up to max calls whose callers
// still wait (the others are dropped). It returns nil, and gives the slot
// back, when nothing waits.
func (b *Batcher[In, Out]) take() []*call[In, Out] {
	b.mu.Lock()
	defer b.mu.Unlock()
	var calls []*call[In, Out]
	for len(b.pending) > 0 && len(calls) < b.max {
		c := b.pending[0]
		b.pending[0] = nil
		b.pending = b.pending[1:]
		if c.ctx.Err() == nil {
			calls = append(calls, c)
		}
	}
	if len(calls) == 0 {
		b.running--
		return nil
	}
	return calls
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
