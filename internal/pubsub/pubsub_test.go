package pubsub

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/partsmarket/gateway/internal/testdb"
	"github.com/partsmarket/gateway/store"
)

// wait bounds every wait for an event that should happen.
const wait = 2 * time.Second

type env struct {
	t     *testing.T
	url   string
	db    *sqlx.DB
	st    *store.Store
	count atomic.Int64
}

func newEnv(t *testing.T) *env {
	t.Helper()
	url := testdb.New(t)
	db := sqlx.MustConnect("postgres", url)
	t.Cleanup(func() { db.Close() })
	return &env{t: t, url: url, db: db, st: store.New(db)}
}

// hub starts a hub on the env's database; it is closed when the test ends.
func (e *env) hub(o Options) *Hub {
	e.t.Helper()
	o.DatabaseURL, o.Store = e.url, e.st
	h := New(o)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.Start(ctx); err != nil {
		e.t.Fatalf("Start: %v", err)
	}
	e.t.Cleanup(h.Close)
	return h
}

func (e *env) seller(name string) string {
	e.t.Helper()
	s, err := e.st.CreateSeller(context.Background(), store.NewSeller{Slug: strings.ToLower(name), CompanyName: name})
	if err != nil {
		e.t.Fatal(err)
	}
	return s.ID
}

func (e *env) lead(sellerID string, status store.LeadStatus) string {
	e.t.Helper()
	n := e.count.Add(1)
	id, err := e.st.CreateLead(context.Background(), store.NewLead{SellerID: sellerID, BuyerName: "Buyer",
		Email: fmt.Sprintf("buyer%d@example.com", n), Message: "Do you have it?", Status: status})
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

// next returns the next lead of s, failing after wait.
func next(t *testing.T, s *Subscription) *store.Lead {
	t.Helper()
	select {
	case l, ok := <-s.Leads():
		if !ok {
			t.Fatalf("subscription ended: %v", s.Err())
		}
		return l
	case <-time.After(wait):
		t.Fatal("no lead within the wait")
	}
	return nil
}

// ended waits for s to end and returns why.
func ended(t *testing.T, s *Subscription) error {
	t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case _, ok := <-s.Leads():
			if !ok {
				return s.Err()
			}
		case <-deadline:
			t.Fatal("subscription did not end")
		}
	}
}

func TestDeliversToTheSellersSubscribersOnly(t *testing.T) {
	e := newEnv(t)
	a, b := e.seller("Alpha"), e.seller("Bravo")
	h := e.hub(Options{})
	a1, _ := h.Subscribe(a)
	a2, _ := h.Subscribe(a)
	b1, _ := h.Subscribe(b)
	defer a1.Close()
	defer a2.Close()
	defer b1.Close()

	leadA := e.lead(a, store.LeadNew)
	for _, s := range []*Subscription{a1, a2} {
		got := next(t, s)
		if got.ID != leadA || got.SellerID != a {
			t.Fatalf("got lead %s of seller %s, want %s of %s", got.ID, got.SellerID, leadA, a)
		}
	}
	select {
	case l := <-b1.Leads():
		t.Fatalf("seller B's subscriber got seller A's lead %s", l.ID)
	case <-time.After(100 * time.Millisecond):
	}
}

func TestSellerIsolationAndSpam(t *testing.T) {
	e := newEnv(t)
	a, b := e.seller("Alpha"), e.seller("Bravo")
	h := e.hub(Options{})
	sa, _ := h.Subscribe(a)
	sb, _ := h.Subscribe(b)
	defer sa.Close()
	defer sb.Close()

	e.lead(a, store.LeadSpam) // a honeypot lead is never announced
	leadA := e.lead(a, store.LeadNew)
	leadB := e.lead(b, store.LeadNew)
	if got := next(t, sa); got.ID != leadA {
		t.Fatalf("seller A got %s, want %s", got.ID, leadA)
	}
	// B's first event is its own lead: A's never reached it.
	if got := next(t, sb); got.ID != leadB {
		t.Fatalf("seller B got %s, want %s", got.ID, leadB)
	}
	select {
	case l := <-sa.Leads():
		t.Fatalf("seller A got another lead: %v", l)
	case <-time.After(100 * time.Millisecond):
	}
}

func TestCopiesPerSubscriber(t *testing.T) {
	e := newEnv(t)
	a := e.seller("Alpha")
	h := e.hub(Options{})
	s1, _ := h.Subscribe(a)
	s2, _ := h.Subscribe(a)
	defer s1.Close()
	defer s2.Close()
	e.lead(a, store.LeadNew)
	l1, l2 := next(t, s1), next(t, s2)
	if l1 == l2 {
		t.Fatal("subscribers share one *store.Lead")
	}
}

func TestSlowSubscriberIsDisconnectedOthersKeepUp(t *testing.T) {
	e := newEnv(t)
	a := e.seller("Alpha")
	h := e.hub(Options{Buffer: 1})
	slow, _ := h.Subscribe(a)
	fast, _ := h.Subscribe(a)
	defer fast.Close()

	var ids []string
	for range 3 {
		ids = append(ids, e.lead(a, store.LeadNew))
		if got := next(t, fast); got.ID != ids[len(ids)-1] {
			t.Fatalf("fast subscriber got %s, want %s", got.ID, ids[len(ids)-1])
		}
	}
	if err := ended(t, slow); !errors.Is(err, ErrSlowConsumer) {
		t.Fatalf("slow subscriber ended with %v, want ErrSlowConsumer", err)
	}
	if n := h.Subscribers(); n != 1 {
		t.Fatalf("Subscribers() = %d, want 1", n)
	}
}

func TestCloseEndsSubscriptions(t *testing.T) {
	e := newEnv(t)
	a := e.seller("Alpha")
	h := e.hub(Options{})
	s, _ := h.Subscribe(a)
	done := make(chan struct{})
	go func() { h.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(wait):
		t.Fatal("Close did not return")
	}
	if err := ended(t, s); !errors.Is(err, ErrClosed) {
		t.Fatalf("ended with %v, want ErrClosed", err)
	}
	if _, err := h.Subscribe(a); !errors.Is(err, ErrClosed) {
		t.Fatalf("Subscribe after Close: %v, want ErrClosed", err)
	}
	h.Close() // twice is fine
	s.Close()
}

func TestUnsubscribe(t *testing.T) {
	e := newEnv(t)
	a := e.seller("Alpha")
	h := e.hub(Options{})
	s, _ := h.Subscribe(a)
	s.Close()
	s.Close()
	if err := ended(t, s); err != nil {
		t.Fatalf("Err after Close = %v, want nil", err)
	}
	if n := h.Subscribers(); n != 0 {
		t.Fatalf("Subscribers() = %d, want 0", n)
	}
	e.lead(a, store.LeadNew) // delivered to nobody, without panicking on a closed channel
}

// listenerPID returns the backend pid of the hub's LISTEN connection, which
// is tagged application_name=gateway-worker.
func (e *env) listenerPID() int {
	e.t.Helper()
	var pid int
	deadline := time.Now().Add(wait)
	for {
		err := e.db.Get(&pid, `SELECT pid FROM pg_stat_activity WHERE datname = current_database()
			AND application_name = $1 AND query ILIKE 'LISTEN%'`, ApplicationName)
		if err == nil {
			return pid
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("no LISTEN connection tagged %s: %v", ApplicationName, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestReconnectsAndCatchesUp(t *testing.T) {
	e := newEnv(t)
	a := e.seller("Alpha")
	// The first reconnection waits MinReconnect after the first connect,
	// which leaves room to commit a lead while no one listens.
	h := e.hub(Options{MinReconnect: 1500 * time.Millisecond, MaxReconnect: 2 * time.Second})
	s, _ := h.Subscribe(a)
	defer s.Close()

	pid := e.listenerPID()
	if _, err := e.db.Exec(`SELECT pg_terminate_backend($1)`, pid); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(wait)
	for h.connected.Load() {
		if time.Now().After(deadline) {
			t.Fatal("the hub did not notice the lost connection")
		}
		time.Sleep(5 * time.Millisecond)
	}
	missed := e.lead(a, store.LeadNew) // announced to no one
	select {
	case l, ok := <-s.Leads():
		if !ok {
			t.Fatalf("subscription ended: %v", s.Err())
		}
		if l.ID != missed {
			t.Fatalf("got %s, want the missed lead %s", l.ID, missed)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the lead committed while disconnected was not caught up")
	}
	if !h.connected.Load() {
		t.Fatal("not reconnected")
	}
	if e.listenerPID() == pid {
		t.Fatal("still the old connection")
	}
	// Announcements flow again, and the caught-up lead is not sent twice.
	after := e.lead(a, store.LeadNew)
	if got := next(t, s); got.ID != after {
		t.Fatalf("got %s, want %s", got.ID, after)
	}
}

func TestStartGivesUpWithItsContext(t *testing.T) {
	h := New(Options{DatabaseURL: "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=1",
		MinReconnect: 50 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := h.Start(ctx); err == nil {
		t.Fatal("Start succeeded without a server")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Start took %v", d)
	}
	h.Close()
}
