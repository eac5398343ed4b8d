package events

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/partsmarket/gateway/store"
)

// fakeWriter records the batches it is given and fails while failing is set.
type fakeWriter struct {
	mu      sync.Mutex
	batches [][]store.EventRecord
	failing bool
}

func (w *fakeWriter) write(_ context.Context, recs []store.EventRecord) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.failing {
		return errors.New("database down")
	}
	w.batches = append(w.batches, append([]store.EventRecord(nil), recs...))
	return nil
}

func (w *fakeWriter) stored() (events, batches int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, b := range w.batches {
		events += len(b)
	}
	return events, len(w.batches)
}

func view(i int) store.EventRecord {
	return store.EventRecord{Type: store.EventListingView, SellerID: "s", At: time.Unix(int64(i), 0)}
}

func TestBufferFlushesFullBatchesBeforeTheInterval(t *testing.T) {
	w := &fakeWriter{}
	b := New(Options{Write: w.write, Interval: time.Hour, BatchSize: 100, MaxPending: 1000})
	b.Start()
	defer b.Close(context.Background())
	for i := range 250 {
		if err := b.Add(view(i)); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		// A flush drains the queue, partial batches included, so how
		// many it finds depends on how fast Add runs beside it: what
		// must hold is that a full batch did not wait for the interval.
		if n, _ := w.stored(); n >= 100 {
			break
		}
		if time.Now().After(deadline) {
			n, _ := w.stored()
			t.Fatalf("stored %d events, want a full batch of 100 before the hour-long interval", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, batch := range w.batches {
		if len(batch) > 100 {
			t.Errorf("a batch of %d events, want at most BatchSize 100", len(batch))
		}
	}
}

func TestBufferCloseFlushesEverythingInOrder(t *testing.T) {
	w := &fakeWriter{}
	b := New(Options{Write: w.write, Interval: time.Hour, BatchSize: 64, MaxPending: 10_000})
	b.Start()
	for i := range 1000 {
		if err := b.Add(view(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n, _ := w.stored(); n != 1000 {
		t.Fatalf("stored %d events after Close, want 1000", n)
	}
	i := 0
	for _, batch := range w.batches {
		for _, r := range batch {
			if r.At.Unix() != int64(i) {
				t.Fatalf("event %d stored as number %d: batches out of order", r.At.Unix(), i)
			}
			i++
		}
	}
	if err := b.Add(view(0)); !errors.Is(err, ErrClosed) {
		t.Errorf("Add after Close: got %v, want ErrClosed", err)
	}
}

func TestBufferIsBoundedAndKeepsFailedBatches(t *testing.T) {
	w := &fakeWriter{failing: true}
	b := New(Options{Write: w.write, Interval: time.Hour, BatchSize: 10, MaxPending: 25})
	for i := range 25 {
		if err := b.Add(view(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Add(view(25)); !errors.Is(err, ErrFull) {
		t.Fatalf("Add to a full buffer: got %v, want ErrFull", err)
	}
	if err := b.Add(view(25), view(26)); !errors.Is(err, ErrFull) {
		t.Fatalf("Add of two to a full buffer: got %v, want ErrFull", err)
	}
	if err := b.Flush(context.Background()); err == nil {
		t.Fatal("Flush with a failing database: got nil error")
	}
	if got := b.Pending(); got != 25 {
		t.Fatalf("pending after a failed flush: %d, want all 25 kept", got)
	}
	w.mu.Lock()
	w.failing = false
	w.mu.Unlock()
	if err := b.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n, batches := w.stored(); n != 25 || batches != 3 {
		t.Errorf("stored %d events in %d batches, want 25 in 3", n, batches)
	}
	if err := b.Add(view(26)); err != nil {
		t.Errorf("Add after the flush made room: %v", err)
	}
}
