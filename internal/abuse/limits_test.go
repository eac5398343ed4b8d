package abuse

import (
	"context"
	"encoding/hex"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"

	"github.com/partsmarket/gateway/internal/pii"
	"github.com/partsmarket/gateway/internal/testdb"
	"github.com/partsmarket/gateway/store"
)

func newTestLimiter(t *testing.T, o LimitOptions) (*Limiter, *sqlx.DB) {
	t.Helper()
	db := sqlx.MustConnect("postgres", testdb.New(t))
	t.Cleanup(func() { db.Close() })
	o.HashKey = HashKeyFrom("test secret")
	return NewLimiter(db, o), db
}

func TestLimiterCounts(t *testing.T) {
	var mu sync.Mutex
	var marked []time.Duration
	l, db := newTestLimiter(t, LimitOptions{LeadsPerIPPerHour: 3, ReportsPerIPPerHour: 2, LeadsPerEmailPerDay: 2,
		OnLimited: func(_ context.Context, d time.Duration) { mu.Lock(); marked = append(marked, d); mu.Unlock() }})
	ctx := context.Background()
	ip := "198.51.100.20"

	// Per email: two leads a day, whatever the address or case.
	for i, e := range []string{"Jane@Example.com", "jane@example.com "} {
		if err := l.Lead(ctx, "198.51.100.1", e); err != nil {
			t.Fatalf("lead %d: %v", i, err)
		}
	}
	if err := l.Lead(ctx, "198.51.100.2", "JANE@example.com"); store.ErrorCode(err) != store.ERATELIMITED {
		t.Fatalf("third lead of one email: %v, want RATE_LIMITED", err)
	}

	// Per IP: three leads an hour; reports counted apart.
	for i := 0; i < 3; i++ {
		if err := l.Lead(ctx, ip, "buyer"+string(rune('a'+i))+"@example.com"); err != nil {
			t.Fatalf("lead %d: %v", i, err)
		}
	}
	if err := l.Lead(ctx, ip, "other@example.com"); store.ErrorCode(err) != store.ERATELIMITED {
		t.Fatalf("fourth lead of one IP: %v, want RATE_LIMITED", err)
	}
	for i := 0; i < 2; i++ {
		if err := l.Report(ctx, ip, ""); err != nil {
			t.Fatalf("report %d after the lead limit: %v", i, err)
		}
	}
	if err := l.Report(ctx, ip, ""); store.ErrorCode(err) != store.ERATELIMITED {
		t.Fatalf("third report: %v, want RATE_LIMITED", err)
	}
	if len(marked) != 3 {
		t.Fatalf("OnLimited called %d times, want 3", len(marked))
	}
	for _, d := range marked[1:] {
		if d < time.Second || d > time.Hour {
			t.Errorf("retry after %v, want within the hour", d)
		}
	}
	if marked[0] < time.Second || marked[0] > 24*time.Hour {
		t.Errorf("email retry after %v, want within the day", marked[0])
	}

	// IPv6: one /64 is one client.
	l6, _ := newTestLimiter(t, LimitOptions{ReportsPerIPPerHour: 1})
	if err := l6.Report(ctx, "2001:db8:1:2::1", ""); err != nil {
		t.Fatal(err)
	}
	if err := l6.Report(ctx, "2001:db8:1:2::ffff", ""); store.ErrorCode(err) != store.ERATELIMITED {
		t.Errorf("same /64: %v, want RATE_LIMITED", err)
	}
	if err := l6.Report(ctx, "2001:db8:1:3::1", ""); err != nil {
		t.Errorf("another /64: %v", err)
	}

	// Per reporter email: two reports a day, whatever the IP; reports
	// without an email count per IP only.
	le, _ := newTestLimiter(t, LimitOptions{ReportsPerEmailPerDay: 2})
	for i, ip := range []string{"192.0.2.10", "192.0.2.11"} {
		if err := le.Report(ctx, ip, "Reporter@Example.org"); err != nil {
			t.Fatalf("report %d of one email: %v", i, err)
		}
	}
	if err := le.Report(ctx, "192.0.2.12", "reporter@example.org"); store.ErrorCode(err) != store.ERATELIMITED {
		t.Errorf("third report of one email: %v, want RATE_LIMITED", err)
	}
	if err := le.Report(ctx, "192.0.2.12", ""); err != nil {
		t.Errorf("a report without an email after the email limit: %v", err)
	}

	// Nothing raw at rest.
	var keys []string
	if err := db.Select(&keys, `SELECT kind || ':' || key FROM abuse_counters`); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if strings.Contains(k, "example.com") || strings.Contains(k, "198.51.100") {
			t.Errorf("raw value stored: %s", k)
		}
	}
	// An email is counted under its blind index, the leads' own.
	if want := KindLeadEmail + ":" + hex.EncodeToString(pii.Dev().BlindIndex("jane@example.com")); !slices.Contains(keys, want) {
		t.Errorf("no counter keyed by the email's blind index %s in %v", want, keys)
	}
}

// TestLimiterDisabledAndConcurrent: concurrent attempts, counted in shared
// batches, are refused exactly past the limit.
func TestLimiterDisabledAndConcurrent(t *testing.T) {
	l, _ := newTestLimiter(t, LimitOptions{LeadsPerIPPerHour: 10})
	ctx := context.Background()
	var wg sync.WaitGroup
	var mu sync.Mutex
	limited := 0
	for range 60 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := l.Lead(ctx, "192.0.2.9", "x@example.com")
			if store.ErrorCode(err) == store.ERATELIMITED {
				mu.Lock()
				limited++
				mu.Unlock()
			} else if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if limited != 50 {
		t.Errorf("%d of 60 concurrent leads limited, want 50 (the email limit is off)", limited)
	}
}

func TestIPKey(t *testing.T) {
	for in, want := range map[string]string{"192.0.2.1": "192.0.2.1", "::ffff:192.0.2.1": "192.0.2.1",
		"2001:db8::1": "2001:db8::/64", "": "unknown", "junk": "unknown"} {
		if got := IPUnit(in); got != want {
			t.Errorf("IPUnit(%q) = %q, want %q", in, got, want)
		}
	}
}
