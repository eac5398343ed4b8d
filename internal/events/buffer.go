// Package events ingests buyer events (listing views, contact clicks) off
// the request path: Add checks the event's listing or seller through a small
// cache and queues it; a background loop writes the queue in batches, each
// batch one transaction (a COPY of the raw events and one upsert per rollup
// table), every flush interval or as soon as a batch is full. Close flushes
// what is left. The queue is bounded: when it is full Add answers ErrFull
// and the caller tells its client to retry, rather than memory growing
// without bound while the database is slow or down.
package events

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/partsmarket/gateway/store"
)

// Writer stores a batch of events and their rollups atomically (the store's
// RecordEvents).
type Writer func(ctx context.Context, recs []store.EventRecord) error

// Observer is told the queue's depth whenever it changes and how long each
// batch write took (metrics). Its methods must be quick and safe for
// concurrent use.
type Observer interface {
	EventBufferDepth(n int)
	EventsFlushed(d time.Duration)
}

// ErrFull is returned by Add when the queue holds MaxPending events.
var ErrFull = errors.New("events: buffer full")

// ErrClosed is returned by Add after Close.
var ErrClosed = errors.New("events: buffer closed")

// Defaults of Options.
const (
	DefaultBatchSize  = 5_000
	DefaultMaxPending = 100_000
)

// Options configure New.
type Options struct {
	// Write stores a batch; required.
	Write Writer
	// Settle, when set, ends every flush that wrote all queued events: work
	// that must follow within a flush interval though no event asks for it
	// (store.FoldPendingRollups: the rollup counts of leads and reports).
	Settle func(ctx context.Context) error
	// Interval is the longest an accepted event waits before its flush
	// starts (EVENT_FLUSH_INTERVAL); 0: one second.
	Interval time.Duration
	// BatchSize is how many queued events start a flush before the interval
	// ends, and the most one transaction writes; 0: DefaultBatchSize.
	BatchSize int
	// MaxPending bounds the queue; 0: DefaultMaxPending.
	MaxPending int
	Log        *slog.Logger
	Observer   Observer
}

// Buffer queues events and writes them in batches.
type Buffer struct {
	o Options

	mu      sync.Mutex
	pending []store.EventRecord
	closed  bool

	flushMu sync.Mutex // one flush at a time, so batches are written in order
	kick    chan struct{}
	stop    chan struct{}
	done    chan struct{}
}

// New returns a Buffer; run it with Start and end it with Close.
func New(o Options) *Buffer {
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.MaxPending <= 0 {
		o.MaxPending = DefaultMaxPending
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &Buffer{o: o, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
}

// depthChanged tells the observer the queue's depth; b.mu is held.
func (b *Buffer) depthChanged() {
	if b.o.Observer != nil {
		b.o.Observer.EventBufferDepth(len(b.pending))
	}
}

// Add queues events, all or none: ErrFull when they do not fit, ErrClosed
// after Close.
func (b *Buffer) Add(recs ...store.EventRecord) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	if len(b.pending)+len(recs) > b.o.MaxPending {
		return ErrFull
	}
	b.pending = append(b.pending, recs...)
	b.depthChanged()
	if len(b.pending) >= b.o.BatchSize {
		select {
		case b.kick <- struct{}{}:
		default:
		}
	}
	return nil
}

// Pending returns how many events are queued.
func (b *Buffer) Pending() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.pending)
}

// Start runs the flush loop in the background until Close.
func (b *Buffer) Start() {
	go func() {
		defer close(b.done)
		t := time.NewTicker(b.o.Interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
			case <-b.kick:
			case <-b.stop:
				return
			}
			if err := b.Flush(context.Background()); err != nil {
				b.o.Log.Error("event flush failed; will retry", "error", err.Error())
			}
		}
	}()
}

// Flush writes every queued event now, in batches of at most BatchSize, then
// runs Options.Settle. A batch that fails goes back to the front of the
// queue for the next flush, and Flush returns its error.
func (b *Buffer) Flush(ctx context.Context) error {
	b.flushMu.Lock()
	defer b.flushMu.Unlock()
	for {
		b.mu.Lock()
		n := min(len(b.pending), b.o.BatchSize)
		if n == 0 {
			b.mu.Unlock()
			if b.o.Settle == nil {
				return nil
			}
			return b.o.Settle(ctx)
		}
		batch := b.pending[:n:n]
		b.pending = b.pending[n:]
		b.depthChanged()
		b.mu.Unlock()

		start := time.Now()
		err := b.o.Write(ctx, batch)
		if b.o.Observer != nil {
			b.o.Observer.EventsFlushed(time.Since(start))
		}
		if err != nil {
			b.mu.Lock()
			b.pending = append(batch, b.pending...)
			b.depthChanged()
			b.mu.Unlock()
			return err
		}
	}
}

// Close stops the loop, refuses further events and flushes what is queued;
// an error means events are left unwritten (they are logged by count).
func (b *Buffer) Close(ctx context.Context) error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	b.mu.Unlock()
	close(b.stop)
	<-b.done
	err := b.Flush(ctx)
	if err != nil {
		b.o.Log.Error("events lost at shutdown", "events", b.Pending(), "error", err.Error())
	}
	return err
}
