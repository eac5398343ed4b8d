package events

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/partsmarket/gateway/internal/ratelimit"
	"github.com/partsmarket/gateway/store"
)

// fakeLookup sees every listing as public, and counts its lookups.
type fakeLookup struct{ lookups int }

func (l *fakeLookup) PublicListingKeys(_ context.Context, ids []string) ([]*store.ListingKeys, error) {
	l.lookups++
	out := make([]*store.ListingKeys, len(ids))
	for i, id := range ids {
		out[i] = &store.ListingKeys{ListingID: id, SellerID: "seller"}
	}
	return out, nil
}

func (l *fakeLookup) PublicSellerIDs(_ context.Context, ids []string) ([]string, error) {
	l.lookups++
	return ids, nil
}

// TestRecordChargesTheClientsBudget: each event costs its client IP one
// point, valid or not and before any lookup; a request the budget cannot
// pay for queues nothing and says when to retry; another IP, and another
// IPv6 /64, have budgets of their own, while addresses of one /64 share one.
func TestRecordChargesTheClientsBudget(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	budget := ratelimit.New(ratelimit.Options{PointsPerMinute: 5, Now: func() time.Time { return now }})
	w := &fakeWriter{}
	buf := New(Options{Write: w.write, Interval: time.Hour})
	lookup := &fakeLookup{}
	in := NewIngestor(IngestOptions{Buffer: buf, Lookup: lookup, Budget: budget})
	id := "00000000-0000-0000-0000-000000000001"
	views := func(n int) []Input {
		evs := make([]Input, n)
		for i := range evs {
			evs[i] = Input{Type: store.EventListingView, ListingID: &id}
		}
		return evs
	}
	ctx := context.Background()
	from := func(ip string) Request { return Request{ClientIP: ip, At: now} }

	if err := in.Record(ctx, "", views(3), from("203.0.113.7")); err != nil {
		t.Fatal(err)
	}
	if err := in.Record(ctx, "", []Input{{Type: "BOGUS"}}, from("203.0.113.7")); err == nil {
		t.Fatal("an invalid event was accepted")
	}
	lookups := lookup.lookups
	err := in.Record(ctx, "", views(2), from("203.0.113.7")) // 4 spent: 2 do not fit
	var limited *LimitedError
	if !errors.As(err, &limited) || limited.RetryAfter < time.Second {
		t.Fatalf("over the budget: %v, want a *LimitedError with a wait", err)
	}
	if lookup.lookups != lookups {
		t.Error("a refused request looked its listings up")
	}
	if err := in.Record(ctx, "", views(1), from("203.0.113.7")); err != nil {
		t.Fatalf("the last point of the budget: %v", err)
	}
	for _, ip := range []string{"198.51.100.9", "2001:db8:1::1"} {
		if err := in.Record(ctx, "", views(5), from(ip)); err != nil {
			t.Errorf("another client %s: %v", ip, err)
		}
	}
	if err := in.Record(ctx, "", views(1), from("2001:db8:1::2")); !errors.As(err, &limited) {
		t.Errorf("an address of the same /64: %v, want its budget spent", err)
	}
	if got := len(buf.pending); got != 3+1+5+5 {
		t.Errorf("%d events queued, want 14", got)
	}
}

// TestRecordWithoutConsent: an event with consent false, or any event of a
// request carrying Sec-GPC: 1 or DNT: 1, is queued (it counts) but without
// session id, user agent or IP hash; consent null or true keeps them.
func TestRecordWithoutConsent(t *testing.T) {
	no, yes := false, true
	session := "s-123"
	id := "00000000-0000-0000-0000-000000000001"
	for _, tt := range []struct {
		name    string
		consent *bool
		header  map[string]string
		private bool
	}{
		{"consent not given", nil, nil, false},
		{"consent true", &yes, nil, false},
		{"consent false", &no, nil, true},
		{"Sec-GPC: 1", nil, map[string]string{"Sec-GPC": "1"}, true},
		{"DNT: 1", &yes, map[string]string{"DNT": "1"}, true},
		{"DNT: 0", nil, map[string]string{"DNT": "0"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := &fakeWriter{}
			buf := New(Options{Write: w.write, Interval: time.Hour})
			in := NewIngestor(IngestOptions{Buffer: buf, Lookup: &fakeLookup{}, HashKey: []byte("k")})
			h := http.Header{}
			for k, v := range tt.header {
				h.Set(k, v)
			}
			req := Request{UserAgent: "Mozilla/5.0", ClientIP: "203.0.113.7", At: time.Now(), OptedOut: OptedOut(h)}
			ev := Input{Type: store.EventListingView, ListingID: &id, SessionID: &session, Consent: tt.consent}
			if err := in.Record(context.Background(), "", []Input{ev}, req); err != nil {
				t.Fatal(err)
			}
			if err := buf.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			if len(w.batches) != 1 || len(w.batches[0]) != 1 {
				t.Fatalf("stored %v, want the one event", w.batches)
			}
			r := w.batches[0][0]
			stripped := r.SessionID == nil && r.UserAgent == nil && r.IPHash == nil
			kept := r.SessionID != nil && r.UserAgent != nil && r.IPHash != nil
			if (tt.private && !stripped) || (!tt.private && !kept) || r.ListingID == nil || *r.ListingID != id {
				t.Errorf("stored %+v; private %t", r, tt.private)
			}
		})
	}
}
