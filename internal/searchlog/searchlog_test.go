package searchlog

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/partsmarket/gateway/store"
)

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"  Hydraulic   PUMP ", "hydraulic pump"},
		{"1R-0750", "1r-0750"},
		{"3979089", "3979089"},
		{"0 986 435 505", "0 986 435 505"},
		{"RE504836", "re504836"},
		{"call jane.doe@example.com now", "call [email] now"},
		{"(555) 010-1234", "[phone]"},
		{"555.010.1234 pump", "[phone] pump"},
		{"+44 20 7946 0958", "[phone]"},
		{"5550101234", "[phone]"},
		{"07946 095812", "[phone]"},
		{"0049 30 9018207", "[phone]"},
		{"06 12 34 56 78", "[phone]"},
		{"x @ y.org", "[email]"},
		{"x at y dot org", "[email]"},
		{"3406E", "3406e"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := Redact(tt.in); got != tt.want {
				t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// fakeWriter records batches and fails while failing is set.
type fakeWriter struct {
	mu      sync.Mutex
	batches [][]store.SearchRecord
	failing bool
}

func (w *fakeWriter) write(_ context.Context, recs []store.SearchRecord) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.failing {
		return errors.New("database down")
	}
	w.batches = append(w.batches, recs)
	return nil
}

func TestRecorderBatchesAndKeepsWhatFailed(t *testing.T) {
	w := &fakeWriter{failing: true}
	r := New(w.write, time.Hour, slog.New(slog.NewTextHandler(io.Discard, nil)))
	r.Start()
	for range 3 {
		r.Record(context.Background(), store.SearchRecord{Term: "Pump"})
	}
	r.Flush(context.Background())
	if len(w.batches) != 0 {
		t.Fatalf("got %d batches while the writer fails, want 0", len(w.batches))
	}
	w.failing = false
	r.Record(context.Background(), store.SearchRecord{Term: "me@example.com"})
	r.Close(context.Background())
	if len(w.batches) != 1 || len(w.batches[0]) != 4 {
		t.Fatalf("got batches %v, want one batch of all 4 searches", w.batches)
	}
	if got := w.batches[0][3].Term; got != "[email]" {
		t.Errorf("stored term %q, want it redacted", got)
	}
}
