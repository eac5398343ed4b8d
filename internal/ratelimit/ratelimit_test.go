package ratelimit

import (
	"context"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"

	"github.com/partsmarket/gateway/internal/testclock"
	"github.com/partsmarket/gateway/internal/testdb"
)

func TestChargeRefusesAndRefills(t *testing.T) {
	clock := testclock.New(time.Unix(1_700_000_000, 0))
	l := New(Options{PointsPerMinute: 600, Now: clock.Now}) // 10 points/s
	if d := l.Charge("a", 500); !d.Allowed || d.Remaining != 100 || d.Limit != 600 || d.RestoreRate != 10 {
		t.Fatalf("first charge: %+v", d)
	}
	d := l.Charge("a", 150)
	if d.Allowed || d.Remaining != 100 {
		t.Fatalf("over budget: %+v, want refused with 100 left", d)
	}
	if d.RetryAfter != 5*time.Second {
		t.Fatalf("retry after %v, want 5s (50 points at 10/s)", d.RetryAfter)
	}
	if d := l.Charge("b", 600); !d.Allowed || d.Remaining != 0 {
		t.Fatalf("another key: %+v", d)
	}
	if d := l.Peek("a"); d.Remaining != 100 {
		t.Fatalf("refused charge was charged: %+v", d)
	}
	clock.Advance(5 * time.Second)
	if d := l.Charge("a", 150); !d.Allowed || d.Remaining != 0 {
		t.Fatalf("after the wait: %+v", d)
	}
	clock.Advance(time.Hour)
	if d := l.Peek("a"); d.Remaining != 600 {
		t.Fatalf("refill caps at the budget: %+v", d)
	}
}

func TestCostAboveBudgetNeedsFullBucket(t *testing.T) {
	clock := testclock.New(time.Unix(1_700_000_000, 0))
	l := New(Options{PointsPerMinute: 60, Now: clock.Now}) // 1 point/s
	if d := l.Charge("a", 100); !d.Allowed || d.Remaining != 0 {
		t.Fatalf("full bucket pays a big cost: %+v", d)
	}
	clock.Advance(30 * time.Second) // debt 70 of 60: still nothing left
	d := l.Charge("a", 1)
	if d.Allowed || d.RetryAfter != 11*time.Second {
		t.Fatalf("in debt: %+v, want refused for 11s", d)
	}
}

func newDB(t *testing.T) *sqlx.DB {
	t.Helper()
	db := sqlx.MustConnect("postgres", testdb.New(t))
	t.Cleanup(func() { db.Close() })
	return db
}

// TestSharedThroughDatabase checks that two limiters on one database share
// a budget once they have synced, and that a key's stored form is a hash.
func TestSharedThroughDatabase(t *testing.T) {
	db := newDB(t)
	ctx := context.Background()
	key := HashKeyFrom("test secret")
	a := New(Options{PointsPerMinute: 6000, DB: db, HashKey: key}) // 100/s
	b := New(Options{PointsPerMinute: 6000, DB: db, HashKey: key})
	if d := a.Charge("203.0.113.9", 5000); !d.Allowed {
		t.Fatalf("charge on a: %+v", d)
	}
	if err := a.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	// b has not seen the key: it learns the shared debt at its sync.
	if d := b.Peek("203.0.113.9"); d.Remaining != 6000 {
		t.Fatalf("b before any charge: %+v", d)
	}
	if d := b.Charge("203.0.113.9", 1); !d.Allowed {
		t.Fatalf("b's first charge (optimistic until its sync): %+v", d)
	}
	if err := b.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	// The bucket refills 100 points a second, so allow a slow machine some
	// refill; without the shared debt b would have about 5,999 left.
	if d := b.Peek("203.0.113.9"); d.Remaining < 900 || d.Remaining > 2000 {
		t.Fatalf("b after sync: %d left, want about 6000-5001", d.Remaining)
	}
	if d := b.Charge("203.0.113.9", 2000); d.Allowed {
		t.Fatalf("b overspent the shared budget: %+v", d)
	}
	if err := a.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if d := a.Peek("203.0.113.9"); d.Remaining < 900 || d.Remaining > 2000 {
		t.Fatalf("a after sync: %d left, want about 999", d.Remaining)
	}
	var stored []string
	if err := db.SelectContext(ctx, &stored, `SELECT key FROM rate_limit_buckets`); err != nil {
		t.Fatal(err)
	}
	if len(stored) != 1 || stored[0] == "203.0.113.9" || len(stored[0]) != 32 {
		t.Fatalf("stored keys %q, want one hash", stored)
	}
}

// TestCloseAndLoop checks the sync loop: a kicked sync spreads spend without
// an explicit Sync, and Close pushes what is left.
func TestCloseAndLoop(t *testing.T) {
	db := newDB(t)
	key := HashKeyFrom("test secret")
	a := New(Options{PointsPerMinute: 600, DB: db, HashKey: key, SyncInterval: 100 * time.Millisecond})
	b := New(Options{PointsPerMinute: 600, DB: db, HashKey: key, SyncInterval: 100 * time.Millisecond})
	a.Start()
	b.Start()
	defer b.Close(context.Background())
	b.Charge("k", 1) // b knows the key
	a.Charge("k", 590)
	deadline := time.Now().Add(5 * time.Second)
	for b.Peek("k").Remaining > 100 {
		if time.Now().After(deadline) {
			t.Fatalf("b never saw a's spend: %+v", b.Peek("k"))
		}
		time.Sleep(20 * time.Millisecond)
	}
	a.Close(context.Background())
	a.Close(context.Background()) // twice is fine
	c := New(Options{PointsPerMinute: 600, DB: db, HashKey: key})
	c.Charge("k", 0)
	if err := c.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d := c.Peek("k"); d.Remaining > 100 {
		t.Fatalf("a fresh instance sees %d left, want the shared spend", d.Remaining)
	}
}

// TestTablesKeepBudgetsApart: a limiter with a table of its own syncs there,
// and the purge of a limiter with a faster restore rate leaves its rows
// alone (on one table it would delete a debt not yet restored at the slow
// rate).
func TestTablesKeepBudgetsApart(t *testing.T) {
	db := newDB(t)
	ctx := context.Background()
	key := HashKeyFrom("test secret")
	fast := New(Options{PointsPerMinute: 6_000_000, DB: db, HashKey: key})
	slow := New(Options{PointsPerMinute: 60, DB: db, HashKey: key, Table: "event_rate_limit_buckets"})
	if d := slow.Charge("203.0.113.9", 60); !d.Allowed {
		t.Fatalf("charge: %+v", d)
	}
	if err := slow.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `UPDATE event_rate_limit_buckets SET updated_at = now() - interval '2 seconds'`); err != nil {
		t.Fatal(err)
	}
	if err := fast.purge(ctx); err != nil {
		t.Fatal(err)
	}
	var shared, other int
	if err := db.GetContext(ctx, &shared, `SELECT count(*) FROM event_rate_limit_buckets`); err != nil {
		t.Fatal(err)
	}
	if err := db.GetContext(ctx, &other, `SELECT count(*) FROM rate_limit_buckets`); err != nil {
		t.Fatal(err)
	}
	if shared != 1 || other != 0 {
		t.Fatalf("%d rows in the limiter's own table and %d in the default one, want 1 and 0", shared, other)
	}
	if err := slow.purge(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.GetContext(ctx, &shared, `SELECT count(*) FROM event_rate_limit_buckets`); err != nil || shared != 1 {
		t.Fatalf("its own purge deleted a debt not yet restored: %d rows, %v", shared, err)
	}
}

// TestRefund: points given back after execution are available at once,
// never more than the key owes, and reach the other instances through the
// shared table even when the charge was pushed before the refund.
func TestRefund(t *testing.T) {
	clock := testclock.New(time.Unix(1_700_000_000, 0))
	l := New(Options{PointsPerMinute: 600, Now: clock.Now})
	if d := l.Refund("nobody", 50); d.Remaining != 600 {
		t.Fatalf("refund to an unknown key: %+v, want a full bucket", d)
	}
	l.Charge("a", 500)
	if d := l.Refund("a", 400); d.Remaining != 500 {
		t.Fatalf("after refunding 400 of 500: %+v, want 500 left", d)
	}
	if d := l.Refund("a", 1000); d.Remaining != 600 {
		t.Fatalf("a refund beyond the debt: %+v, want a full bucket and no more", d)
	}

	db := newDB(t)
	ctx := context.Background()
	key := HashKeyFrom("test secret")
	a := New(Options{PointsPerMinute: 6000, DB: db, HashKey: key}) // 100/s
	b := New(Options{PointsPerMinute: 6000, DB: db, HashKey: key})
	a.Charge("k", 5000)
	if err := a.Sync(ctx); err != nil { // the charge is pushed
		t.Fatal(err)
	}
	a.Refund("k", 4000) // then most of it comes back
	if err := a.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	b.Charge("k", 1)
	if err := b.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	// Without the pushed refund b would see about 1,000 left.
	if d := b.Peek("k"); d.Remaining < 4900 {
		t.Fatalf("b after a's refund: %d left, want about 6000-1001", d.Remaining)
	}
	var debt float64
	if err := db.GetContext(ctx, &debt, `SELECT min(debt) FROM rate_limit_buckets`); err != nil || debt < 0 {
		t.Fatalf("stored debt %v (%v), want >= 0", debt, err)
	}
}
