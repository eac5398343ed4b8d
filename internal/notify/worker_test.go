package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"

	"github.com/partsmarket/gateway/internal/notify/notifytest"
	"github.com/partsmarket/gateway/internal/testdb"
	"github.com/partsmarket/gateway/store"
)

// env is a fresh database with one active seller that has an email contact
// and a listing.
type env struct {
	t        *testing.T
	url      string
	db       *sqlx.DB
	st       *store.Store
	sellerID string
	listing  *store.Listing
	logs     *syncBuffer
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

const sellerEmail = "sales@alpha-parts.example"

func newEnv(t *testing.T) *env {
	t.Helper()
	url := testdb.New(t)
	db := sqlx.MustConnect("postgres", url)
	t.Cleanup(func() { db.Close() })
	e := &env{t: t, url: url, db: db, st: store.New(db), logs: &syncBuffer{}}
	e.sellerID = e.seller("alpha-parts", store.NewContact{Kind: store.ContactEmail, Value: sellerEmail})
	ctx := context.Background()
	l, err := e.st.CreateListing(ctx, store.NewListing{SellerID: e.sellerID, Title: "Hydraulic pump 1R-0750",
		Condition: store.ConditionUsed, Status: store.ListingActive})
	if err != nil {
		t.Fatal(err)
	}
	e.listing = l
	return e
}

// seller stores an active seller with a phone contact and contacts.
func (e *env) seller(slug string, contacts ...store.NewContact) string {
	e.t.Helper()
	ctx := context.Background()
	s, err := e.st.CreateSeller(ctx, store.NewSeller{Slug: slug, CompanyName: slug,
		Contacts:  append([]store.NewContact{{Kind: store.ContactPhone, Value: "+1 555 010 9999"}}, contacts...),
		Locations: []store.NewLocation{{City: "Houston", Country: "US"}}})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.st.SetSellerStatus(ctx, s.ID, store.SellerActive); err != nil {
		e.t.Fatal(err)
	}
	return s.ID
}

// lead stores a lead on the env's listing; i makes it unique.
func (e *env) lead(i int) string {
	e.t.Helper()
	phone, company, where, when, page := "+1 555 010 1234", "Acme Mining", "Perth, WA", "within a week", "https://parts.example/l/1?utm=x"
	id, err := e.st.CreateLead(context.Background(), store.NewLead{SellerID: e.sellerID, ListingID: &e.listing.ID,
		BuyerName: "Jane Buyer", Email: fmt.Sprintf("jane.buyer+%d@example.com", i), Phone: &phone, Company: &company,
		Message: fmt.Sprintf("Is this still available? (%d)", i), BuyerLocation: &where, Timeline: &when, SourcePage: &page,
		Status: store.LeadNew})
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

// worker starts a worker that sends to smtpURL; it is closed at cleanup.
func (e *env) worker(smtpURL string, opts Options) *Worker {
	e.t.Helper()
	m, err := NewSMTP(smtpURL, "PartsMarket <no-reply@parts.example>")
	if err != nil {
		e.t.Fatal(err)
	}
	// The worker connects as the serving role, bound by row-level
	// security, as in production; the fixtures as the superuser.
	serving := testdb.ServingURL(e.t, e.url)
	db := sqlx.MustConnect("postgres", serving)
	if opts.PollInterval == 0 {
		opts.PollInterval = 100 * time.Millisecond
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.NewJSONHandler(e.logs, nil))
	}
	w := New(store.New(db), serving, m, opts)
	if err := w.Start(); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() {
		w.Close()
		db.Close()
	})
	return w
}

func (e *env) notification(leadID string) *store.LeadNotification {
	e.t.Helper()
	n, err := e.st.Notification(context.Background(), leadID)
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// leadIDOf returns the lead id a message is about.
func leadIDOf(t *testing.T, m notifytest.Received) string {
	t.Helper()
	id, err := m.LeadID()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func startSink(t *testing.T, addr string) *notifytest.Server {
	t.Helper()
	s, err := notifytest.Start(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestDeliveredOnce(t *testing.T) {
	e := newEnv(t)
	sink := startSink(t, "127.0.0.1:0")
	// A long poll: the wake-up must come from LISTEN.
	e.worker(sink.URL(), Options{PollInterval: time.Hour})
	start := time.Now()
	id := e.lead(1)
	eventually(t, 5*time.Second, "one message", func() bool { return len(sink.Messages()) == 1 })
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("delivered after %v, want promptly (LISTEN)", d)
	}
	eventually(t, 5*time.Second, "SENT", func() bool { return e.notification(id).Status == store.NotificationSent })
	n := e.notification(id)
	if n.Attempts != 1 || n.SentAt == nil || n.LastAttemptAt == nil || n.LastError != nil {
		t.Errorf("notification = %+v, want 1 attempt, sent_at set, no error", n)
	}
	m := sink.Messages()[0]
	if got, want := strings.Join(m.To, ","), sellerEmail; got != want {
		t.Errorf("to = %q, want %q", got, want)
	}
	p, err := m.Parse()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.Subject, "New inquiry: Hydraulic pump 1R-0750"; got != want {
		t.Errorf("subject = %q, want %q", got, want)
	}
	if got := leadIDOf(t, m); got != id {
		t.Errorf("lead id = %q, want %q", got, id)
	}
	// Nothing is sent twice: more polls find nothing due.
	time.Sleep(300 * time.Millisecond)
	if got := len(sink.Messages()); got != 1 {
		t.Errorf("messages = %d, want 1", got)
	}
}

// TestEmailContent checks that the email carries only what the seller sees of
// the lead in the portal.
func TestEmailContent(t *testing.T) {
	e := newEnv(t)
	sink := startSink(t, "127.0.0.1:0")
	e.worker(sink.URL(), Options{})
	id := e.lead(7)
	eventually(t, 5*time.Second, "one message", func() bool { return len(sink.Messages()) == 1 })
	m := sink.Messages()[0]
	p, err := m.Parse()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Jane Buyer", "jane.buyer+7@example.com", "+1 555 010 1234", "Acme Mining",
		"Is this still available? (7)", id, "Hydraulic pump 1R-0750"} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("body lacks %q:\n%s", want, p.Body)
		}
	}
	raw := string(m.Data)
	for _, banned := range []string{"Perth", "within a week", "utm=x", e.sellerID, e.listing.ID, "127.0.0.1"} {
		if strings.Contains(p.Body, banned) || strings.Contains(raw, banned) {
			t.Errorf("message carries %q, which is not for the email:\n%s", banned, raw)
		}
	}
	if got, want := p.Header.Get("Reply-To"), "<jane.buyer+7@example.com>"; got != want {
		t.Errorf("Reply-To = %q, want %q", got, want)
	}
	if ct := p.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type = %q, want text/plain", ct)
	}
	// Logs carry no personal data.
	for _, banned := range []string{"Jane", "jane.buyer", "555 010", "Acme", "available", sellerEmail} {
		if strings.Contains(e.logs.String(), banned) {
			t.Errorf("logs carry %q: %s", banned, e.logs.String())
		}
	}
}

func TestServerDownThenBack(t *testing.T) {
	e := newEnv(t)
	// Reserve a loopback port, then leave nothing listening on it.
	probe := startSink(t, "127.0.0.1:0")
	addr := probe.Addr()
	probe.Close()
	e.worker("smtp://"+addr, Options{RetryBase: 50 * time.Millisecond, RetryMax: 200 * time.Millisecond, MaxAttempts: 1000})
	id := e.lead(1)
	eventually(t, 10*time.Second, "two failed attempts", func() bool { return e.notification(id).Attempts >= 2 })
	n := e.notification(id)
	if n.Status != store.NotificationPending || n.LastError == nil || n.LastAttemptAt == nil || n.SentAt != nil {
		t.Fatalf("notification = %+v, want PENDING with an error", n)
	}
	if got, want := *n.LastError, "smtp: connection refused"; got != want {
		t.Errorf("last_error = %q, want %q", got, want)
	}
	if !n.NextAttemptAt.After(*n.LastAttemptAt) {
		t.Errorf("next_attempt_at %v not after last_attempt_at %v", n.NextAttemptAt, *n.LastAttemptAt)
	}
	sink := startSink(t, addr)
	eventually(t, 10*time.Second, "SENT after the server is back", func() bool {
		return e.notification(id).Status == store.NotificationSent
	})
	time.Sleep(300 * time.Millisecond)
	if got := len(sink.Messages()); got != 1 {
		t.Fatalf("messages = %d, want exactly 1", got)
	}
	if got := leadIDOf(t, sink.Messages()[0]); got != id {
		t.Errorf("lead id = %q, want %q", got, id)
	}
}

func TestTemporaryRefusalThenAccepted(t *testing.T) {
	e := newEnv(t)
	sink := startSink(t, "127.0.0.1:0")
	sink.Refuse(451)
	e.worker(sink.URL(), Options{RetryBase: 50 * time.Millisecond, RetryMax: 200 * time.Millisecond})
	ids := []string{e.lead(1), e.lead(2), e.lead(3)}
	for _, id := range ids {
		eventually(t, 10*time.Second, "a failed attempt", func() bool { return e.notification(id).Attempts >= 1 })
		n := e.notification(id)
		if n.Status != store.NotificationPending || n.LastError == nil {
			t.Fatalf("notification = %+v, want PENDING with an error", n)
		}
		if got, want := *n.LastError, "smtp: sending SMTP MAIL FROM command failed (451 4.3.0)"; got != want {
			t.Errorf("last_error = %q, want %q", got, want)
		}
	}
	sink.Refuse(0)
	for _, id := range ids {
		eventually(t, 10*time.Second, "SENT", func() bool { return e.notification(id).Status == store.NotificationSent })
	}
	time.Sleep(300 * time.Millisecond)
	seen := map[string]int{}
	for _, m := range sink.Messages() {
		seen[leadIDOf(t, m)]++
	}
	for _, id := range ids {
		if seen[id] != 1 {
			t.Errorf("lead %s sent %d times, want 1", id, seen[id])
		}
	}
	if len(seen) != len(ids) {
		t.Errorf("messages about %d leads, want %d", len(seen), len(ids))
	}
}

func TestGivesUpAfterMaxAttempts(t *testing.T) {
	e := newEnv(t)
	sink := startSink(t, "127.0.0.1:0")
	sink.Refuse(421)
	e.worker(sink.URL(), Options{RetryBase: 20 * time.Millisecond, RetryMax: 40 * time.Millisecond, MaxAttempts: 3})
	id := e.lead(1)
	eventually(t, 10*time.Second, "FAILED", func() bool { return e.notification(id).Status == store.NotificationFailed })
	if n := e.notification(id); n.Attempts != 3 {
		t.Errorf("attempts = %d, want 3", n.Attempts)
	}
	// A resend queues it again with a fresh budget.
	sink.Refuse(0)
	n, err := e.st.ResendNotification(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if n.Status != store.NotificationPending || n.Attempts != 0 {
		t.Errorf("after resend: %+v, want PENDING with 0 attempts", n)
	}
	eventually(t, 5*time.Second, "SENT after resend", func() bool { return e.notification(id).Status == store.NotificationSent })
	if got := len(sink.Messages()); got != 1 {
		t.Errorf("messages = %d, want 1", got)
	}
}

func TestSellerWithoutEmail(t *testing.T) {
	e := newEnv(t)
	sink := startSink(t, "127.0.0.1:0")
	e.worker(sink.URL(), Options{})
	e.sellerID = e.seller("no-email")
	id, err := e.st.CreateLead(context.Background(), store.NewLead{SellerID: e.sellerID, BuyerName: "Jane Buyer",
		Email: "jane@example.com", Message: "hello", Status: store.LeadNew})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "FAILED", func() bool { return e.notification(id).Status == store.NotificationFailed })
	n := e.notification(id)
	if n.LastError == nil || *n.LastError != ErrNoEmailContact || n.Attempts != 1 {
		t.Errorf("notification = %+v, want 1 attempt and %q", n, ErrNoEmailContact)
	}
	if got := len(sink.Messages()); got != 0 {
		t.Errorf("messages = %d, want 0", got)
	}
}

// TestTwoWorkers runs two workers (as two gateway instances would) on one
// outbox: every lead is sent exactly once.
func TestTwoWorkers(t *testing.T) {
	e := newEnv(t)
	sink := startSink(t, "127.0.0.1:0")
	opts := Options{BatchSize: 3, Concurrency: 2}
	e.worker(sink.URL(), opts)
	e.worker(sink.URL(), opts)
	const n = 50
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids[i] = e.lead(i)
		}()
	}
	wg.Wait()
	eventually(t, 20*time.Second, "50 messages", func() bool { return len(sink.Messages()) >= n })
	var sent int
	eventually(t, 5*time.Second, "50 SENT", func() bool {
		_ = e.db.Get(&sent, `SELECT count(*) FROM lead_notifications WHERE status = 'SENT'`)
		return sent == n
	})
	time.Sleep(300 * time.Millisecond)
	seen := map[string]int{}
	for _, m := range sink.Messages() {
		seen[leadIDOf(t, m)]++
	}
	for _, id := range ids {
		if seen[id] != 1 {
			t.Errorf("lead %s sent %d times, want 1", id, seen[id])
		}
	}
	if got := len(sink.Messages()); got != n {
		t.Errorf("messages = %d, want %d", got, n)
	}
}

func TestRetryIn(t *testing.T) {
	o := Options{RetryBase: 30 * time.Second, RetryMax: time.Hour}
	for _, c := range []struct {
		attempts int
		want     time.Duration
	}{{1, 30 * time.Second}, {2, time.Minute}, {3, 2 * time.Minute}, {8, 64 * time.Minute}, {9, time.Hour}, {50, time.Hour}} {
		t.Run(fmt.Sprint(c.attempts), func(t *testing.T) {
			want := min(c.want, time.Hour)
			for range 20 {
				got := o.retryIn(c.attempts)
				if got < want*8/10 || got > want*12/10 {
					t.Fatalf("retryIn(%d) = %v, want %v ±20%%", c.attempts, got, want)
				}
			}
		})
	}
}

func TestNewSMTP(t *testing.T) {
	for _, c := range []struct {
		name, url, from string
		ok              bool
	}{
		{"plain", "smtp://127.0.0.1:2525", "a@b.example", true},
		{"auth", "smtp://user:s3cret-pw@mail.example:587", "PartsMarket <a@b.example>", true},
		{"implicit TLS", "smtps://user:s3cret-pw@mail.example", "a@b.example", true},
		{"bad scheme", "http://user:s3cret-pw@mail.example", "a@b.example", false},
		{"bad port", "smtp://user:s3cret-pw@mail.example:99999", "a@b.example", false},
		{"unparsable", "smtp://user:s3cret-pw@mail.example:%zz", "a@b.example", false},
		{"no from", "smtp://mail.example", "", false},
		{"bad from", "smtp://mail.example", "not an address", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewSMTP(c.url, c.from)
			if (err == nil) != c.ok {
				t.Fatalf("err = %v, want ok %v", err, c.ok)
			}
			if err != nil && strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error quotes the password: %v", err)
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{errors.New("dial tcp 10.0.0.1:25: some text with jane@example.com"), "smtp: delivery failed"},
		{context.DeadlineExceeded, "smtp: timed out"},
		{errBadMessage, "smtp: bad recipient or sender address"},
	} {
		if got := Describe(c.err); got != c.want {
			t.Errorf("Describe(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}
