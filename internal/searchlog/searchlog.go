// Package searchlog records public searches off the request path: Record
// queues a search, and a background loop writes the queue to the database in
// batches, so a search never waits on an insert. Close flushes what is left.
package searchlog

import (
	"context"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/partsmarket/gateway/store"
)

// Writer stores a batch of searches (the store's RecordSearches).
type Writer func(ctx context.Context, recs []store.SearchRecord) error

// Observer is told the buffer's depth whenever it changes and how long each
// flush's write took (metrics). Its methods must be quick and safe for
// concurrent use.
type Observer interface {
	SearchBufferDepth(n int)
	SearchFlushed(d time.Duration)
}

// Recorder buffers searches and writes them every interval.
type Recorder struct {
	write    Writer
	interval time.Duration
	log      *slog.Logger
	observer Observer

	mu      sync.Mutex
	pending []store.SearchRecord

	stop chan struct{}
	done chan struct{}
}

// maxPending bounds the buffer if the database is down for long; older
// searches are dropped first and the drop is logged.
const maxPending = 100_000

// New returns a Recorder that writes with write every interval. Run it with
// Start and end it with Close.
func New(write Writer, interval time.Duration, log *slog.Logger) *Recorder {
	return &Recorder{write: write, interval: interval, log: log, stop: make(chan struct{}), done: make(chan struct{})}
}

// SetObserver sets the Recorder's observer; call it before Start and before
// the first Record.
func (r *Recorder) SetObserver(o Observer) { r.observer = o }

// depthChanged tells the observer the buffer's depth; r.mu is held.
func (r *Recorder) depthChanged() {
	if r.observer != nil {
		r.observer.SearchBufferDepth(len(r.pending))
	}
}

// Record queues one search of the request ctx belongs to; its term is
// normalised and redacted first.
func (r *Recorder) Record(ctx context.Context, rec store.SearchRecord) {
	rec.Term = Redact(rec.Term)
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.pending) >= maxPending {
		r.pending = r.pending[1:]
		r.log.WarnContext(ctx, "search log buffer full; dropping oldest search")
	}
	r.pending = append(r.pending, rec)
	r.depthChanged()
}

// Start runs the flush loop in the background until Close.
func (r *Recorder) Start() {
	go func() {
		defer close(r.done)
		t := time.NewTicker(r.interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				r.Flush(context.Background())
			case <-r.stop:
				return
			}
		}
	}()
}

// Flush writes every queued search now. On failure the searches stay queued
// for the next flush.
func (r *Recorder) Flush(ctx context.Context) {
	r.mu.Lock()
	batch := r.pending
	r.pending = nil
	r.depthChanged()
	r.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	start := time.Now()
	err := r.write(ctx, batch)
	if r.observer != nil {
		r.observer.SearchFlushed(time.Since(start))
	}
	if err != nil {
		r.log.Error("search log flush failed; will retry", "searches", len(batch), "error", err)
		r.mu.Lock()
		r.pending = append(batch, r.pending...)
		r.depthChanged()
		r.mu.Unlock()
	}
}

// Close stops the loop and flushes what is queued.
func (r *Recorder) Close(ctx context.Context) {
	close(r.stop)
	<-r.done
	r.Flush(ctx)
}

var (
	emailLike = regexp.MustCompile(`[^\s@]+@[^\s@]+\.[^\s@]+`)
	// phoneLike matches international numbers (+ and 8 or more digits) and
	// North American ones (3-3-4 digits, separators optional), but not part
	// numbers such as "3979089" or "0 986 435 505".
	phoneLike = regexp.MustCompile(`\+\d[\d\s().-]{6,}\d|\(?\b\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}\b`)
	spaces    = regexp.MustCompile(`\s+`)
)

// Redact normalises a search term (trimmed, lower case, single spaces) and
// replaces anything that looks like an email address or a phone number with
// [email] or [phone].
func Redact(term string) string {
	t := strings.ToLower(strings.TrimSpace(spaces.ReplaceAllString(term, " ")))
	t = emailLike.ReplaceAllString(t, "[email]")
	return phoneLike.ReplaceAllString(t, "[phone]")
}
