package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/partsmarket/gateway/internal/notify/notifytest"
	"github.com/partsmarket/gateway/store"
)

// notifyEnv is the settings of a gateway whose outbox worker sends to sink,
// retrying fast so that tests need no long waits.
func notifyEnv(sink *notifytest.Server) map[string]string {
	return map[string]string{
		"SMTP_URL":             sink.URL(),
		"MAIL_FROM":            "PartsMarket <no-reply@parts.example>",
		"NOTIFY_RETRY_BASE":    "50ms",
		"NOTIFY_RETRY_MAX":     "200ms",
		"NOTIFY_POLL_INTERVAL": "100ms",
		// Tests here send many leads from one address.
		"RATE_LIMIT_LEADS_PER_IP_PER_HOUR":   "10000",
		"RATE_LIMIT_LEADS_PER_EMAIL_PER_DAY": "10000",
	}
}

func startSMTPSink(t *testing.T) *notifytest.Server {
	t.Helper()
	s, err := notifytest.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

const notifySellerEmail = "sales@delta-diesel.example"

// emailSeller stores an active seller with an email contact and an active
// listing, and returns them.
func (a *testAPI) emailSeller() (*store.Seller, *store.Listing) {
	a.t.Helper()
	s, err := a.Store.CreateSeller(context.Background(), store.NewSeller{Slug: "delta-diesel", CompanyName: "Delta Diesel",
		Contacts: []store.NewContact{{Kind: store.ContactPhone, Value: "+1 555 010 7777"},
			{Kind: store.ContactEmail, Value: notifySellerEmail}},
		Locations: []store.NewLocation{{City: "Austin", Country: "US"}}})
	if err != nil {
		a.t.Fatal(err)
	}
	if _, err := a.Store.SetSellerStatus(context.Background(), s.ID, store.SellerActive); err != nil {
		a.t.Fatal(err)
	}
	return s, a.mustListing(s.ID, "Turbocharger 4N-8969", store.ListingActive)
}

const notifyLeadMutation = `mutation($input: SubmitLeadInput!) { submitLead(input: $input) { leadId } }`

// submitNotifyLead submits a lead over HTTP and returns its id.
func (a *testAPI) submitNotifyLead(listingID string, i int, extra map[string]any) string {
	a.t.Helper()
	input := map[string]any{"listingId": listingID, "buyerName": "Jane Buyer", "email": fmt.Sprintf("jane+%d@example.com", i),
		"phone": "+1 555 010 1234", "company": "Acme Mining", "message": fmt.Sprintf("Is it in stock? (%d)", i),
		"buyerLocation": "Perth", "timeline": "this week", "captchaToken": "ok"}
	for k, v := range extra {
		input[k] = v
	}
	r := a.mustPost("", notifyLeadMutation, map[string]any{"input": input})
	id, _ := r.Get("submitLead.leadId").(string)
	if id == "" {
		a.t.Fatalf("no lead id: %s", r.Raw)
	}
	return id
}

const leadNotificationQuery = `query($id: ID!) { lead(id: $id) { id notification { status attempts lastAttemptAt lastError } } }`

// notifyWaitFor polls cond until it holds or within passes.
func notifyWaitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// leadIDInMail returns the lead id a notification email is about.
func leadIDInMail(t *testing.T, m notifytest.Received) string {
	t.Helper()
	id, err := m.LeadID()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestLeadNotificationLifecycle follows one lead's email through a mail
// server that refuses, then accepts, then a resend, as the API shows it.
func TestLeadNotificationLifecycle(t *testing.T) {
	sink := startSMTPSink(t)
	sink.Refuse(451)
	api := newTestAPI(t, notifyEnv(sink))
	f := api.newFixture()
	seller, listing := api.emailSeller()
	sellerTok := api.token("SELLER", seller.ID)
	id := api.submitNotifyLead(listing.ID, 1, nil)

	t.Run("pending while the server refuses", func(t *testing.T) {
		notifyWaitFor(t, 10*time.Second, "a failed attempt", func() bool {
			r := api.mustPost(f.Admin, leadNotificationQuery, map[string]any{"id": id})
			n, _ := r.Get("lead.notification.attempts").(float64)
			return n >= 1
		})
		r := api.mustPost(f.Admin, leadNotificationQuery, map[string]any{"id": id})
		if got := r.Get("lead.notification.status"); got != "PENDING" {
			t.Errorf("status = %v, want PENDING", got)
		}
		if got, _ := r.Get("lead.notification.lastError").(string); !strings.Contains(got, "451") {
			t.Errorf("lastError = %q, want the 451 refusal", got)
		}
		if r.Get("lead.notification.lastAttemptAt") == nil {
			t.Error("lastAttemptAt is null")
		}
	})
	t.Run("seller sees the status, not the error", func(t *testing.T) {
		r := api.post(sellerTok, leadNotificationQuery, map[string]any{"id": id})
		if got := r.Get("lead.notification.status"); got != "PENDING" {
			t.Errorf("status = %v, want PENDING", got)
		}
		if r.Get("lead.notification.lastError") != nil || len(r.Errors) != 1 || r.Errors[0].Code() != "FORBIDDEN" ||
			r.Errors[0].PathString() != "lead.notification.lastError" {
			t.Errorf("want lastError null with one FORBIDDEN error, got %s", r.Raw)
		}
	})
	t.Run("sent exactly once when the server accepts", func(t *testing.T) {
		sink.Refuse(0)
		notifyWaitFor(t, 10*time.Second, "SENT", func() bool {
			r := api.mustPost(f.Admin, leadNotificationQuery, map[string]any{"id": id})
			return r.Get("lead.notification.status") == "SENT"
		})
		time.Sleep(300 * time.Millisecond) // a few more polls: nothing else goes out
		msgs := sink.Messages()
		if len(msgs) != 1 {
			t.Fatalf("messages = %d, want 1", len(msgs))
		}
		if got := strings.Join(msgs[0].To, ","); got != notifySellerEmail {
			t.Errorf("to = %q, want %q", got, notifySellerEmail)
		}
		p, err := msgs[0].Parse()
		if err != nil {
			t.Fatal(err)
		}
		if got, want := p.Subject, "New inquiry: Turbocharger 4N-8969"; got != want {
			t.Errorf("subject = %q, want %q", got, want)
		}
		if got := leadIDInMail(t, msgs[0]); got != id {
			t.Errorf("lead id in mail = %q, want %q", got, id)
		}
		for _, banned := range []string{"Perth", "this week", seller.ID, listing.ID, "127.0.0.1"} {
			if strings.Contains(string(msgs[0].Data), banned) {
				t.Errorf("mail carries %q", banned)
			}
		}
		r := api.mustPost(f.Admin, leadNotificationQuery, map[string]any{"id": id})
		if got := r.Get("lead.notification.lastError"); got != nil {
			t.Errorf("lastError = %v after delivery, want null", got)
		}
	})
	t.Run("resendNotification sends again", func(t *testing.T) {
		r := api.mustPost(f.Admin, `mutation($id: ID!) { resendNotification(leadId: $id) { lead { id notification { status attempts } } } }`,
			map[string]any{"id": id})
		if got := r.Get("resendNotification.lead.notification.status"); got != "PENDING" {
			t.Errorf("status = %v, want PENDING", got)
		}
		if got := r.Get("resendNotification.lead.notification.attempts"); got != float64(0) {
			t.Errorf("attempts = %v, want 0", got)
		}
		notifyWaitFor(t, 10*time.Second, "a second message", func() bool { return len(sink.Messages()) == 2 })
		notifyWaitFor(t, 10*time.Second, "SENT again", func() bool {
			r := api.mustPost(f.Admin, leadNotificationQuery, map[string]any{"id": id})
			return r.Get("lead.notification.status") == "SENT"
		})
		if got := leadIDInMail(t, sink.Messages()[1]); got != id {
			t.Errorf("lead id in mail = %q, want %q", got, id)
		}
	})
	t.Run("resendNotification is for admins, on known leads", func(t *testing.T) {
		q := `mutation($id: ID!) { resendNotification(leadId: $id) { lead { id } } }`
		for _, c := range []struct {
			name, token, id, code string
		}{
			{"seller", sellerTok, id, "FORBIDDEN"},
			{"anonymous", "", id, "UNAUTHENTICATED"},
			{"analyst", f.Analyst, id, "FORBIDDEN"},
			{"unknown lead", f.Admin, "00000000-0000-4000-8000-000000000000", "NOT_FOUND"},
			{"malformed id", f.Admin, "nope", "NOT_FOUND"},
		} {
			t.Run(c.name, func(t *testing.T) {
				r := api.post(c.token, q, map[string]any{"id": c.id})
				if got := r.Codes(); len(got) != 1 || got[0] != c.code {
					t.Errorf("codes = %v, want [%s]: %s", got, c.code, r.Raw)
				}
			})
		}
	})
	t.Run("logs carry no personal data", func(t *testing.T) {
		for _, banned := range []string{"Jane", "jane+", "555 010 1234", "Acme", "in stock", notifySellerEmail} {
			if strings.Contains(api.logs.String(), banned) {
				t.Errorf("logs carry %q", banned)
			}
		}
	})
}

// TestSpamLeadHasNoNotification: a honeypot lead is stored without an outbox
// row, so nothing is mailed and notification is null; an admin can still
// send one.
func TestSpamLeadHasNoNotification(t *testing.T) {
	sink := startSMTPSink(t)
	api := newTestAPI(t, notifyEnv(sink))
	f := api.newFixture()
	_, listing := api.emailSeller()
	id := api.submitNotifyLead(listing.ID, 1, map[string]any{"website": "http://spam.example"})
	r := api.mustPost(f.Admin, leadNotificationQuery, map[string]any{"id": id})
	if r.Get("lead.id") != id || r.Get("lead.notification") != nil {
		t.Fatalf("want the lead with a null notification, got %s", r.Raw)
	}
	api.mustPost(f.Admin, `mutation($id: ID!) { resendNotification(leadId: $id) { lead { id } } }`, map[string]any{"id": id})
	notifyWaitFor(t, 10*time.Second, "the resent mail", func() bool { return len(sink.Messages()) == 1 })
}

// TestNotificationsStayPendingWithoutSMTP: without SMTP_URL no worker runs.
func TestNotificationsStayPendingWithoutSMTP(t *testing.T) {
	api := newTestAPI(t, nil)
	if api.app.notifier != nil {
		t.Fatal("a notification worker runs without SMTP_URL")
	}
	f := api.newFixture()
	_, listing := api.emailSeller()
	id := api.submitNotifyLead(listing.ID, 1, nil)
	time.Sleep(200 * time.Millisecond)
	r := api.mustPost(f.Admin, leadNotificationQuery, map[string]any{"id": id})
	if r.Get("lead.notification.status") != "PENDING" || r.Get("lead.notification.attempts") != float64(0) {
		t.Errorf("want PENDING with 0 attempts, got %s", r.Raw)
	}
}

// TestLeadsPageNotificationsInOneStatement: notifications of a page of leads
// are read with one statement, whatever the page size, in a transaction that
// first states the caller's scope (row-level security): two statements.
func TestLeadsPageNotificationsInOneStatement(t *testing.T) {
	api := newTestAPI(t, mutGenerousLimits)
	f := api.newFixture()
	_, listing := api.emailSeller()
	for i := range 30 {
		api.submitNotifyLead(listing.ID, i, nil)
	}
	count := func(first int, withNotification bool) int {
		sel := "id"
		if withNotification {
			sel = "id notification { status attempts }"
		}
		rid := fmt.Sprintf("leads-%d-%v", first, withNotification)
		r := api.postWithID(rid, f.Admin, fmt.Sprintf(`{ leads(first: %d) { nodes { %s } } }`, first, sel), nil)
		if len(r.Errors) > 0 {
			t.Fatalf("errors: %s", r.Raw)
		}
		if n := len(r.Get("leads.nodes").([]any)); n != first {
			t.Fatalf("nodes = %d, want %d", n, first)
		}
		if withNotification && r.Get("leads.nodes.0.notification.status") != "PENDING" {
			t.Fatalf("no notification: %s", r.Raw)
		}
		return api.statementsOf(rid)
	}
	base := count(5, false)
	small, large := count(5, true), count(30, true)
	if small != base+2 || large != small {
		t.Errorf("statements: without %d, 5 leads %d, 30 leads %d; want two more than without, whatever the size", base, small, large)
	}
}

// TestTwoGatewaysShareTheOutbox runs two gateways on one database, each with
// its worker, and submits 50 leads through both: each is mailed exactly once.
func TestTwoGatewaysShareTheOutbox(t *testing.T) {
	sink := startSMTPSink(t)
	api := newTestAPI(t, notifyEnv(sink))
	second, err := newApp(context.Background(), api.Config, slog.New(slog.NewJSONHandler(&syncBuffer{}, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv2 := httptest.NewServer(second.handler)
	t.Cleanup(func() {
		srv2.Close()
		second.close(context.Background())
	})
	api2 := &testAPI{t: t, URL: srv2.URL, DB: api.DB, Store: api.Store, Config: api.Config, app: second, logs: &syncBuffer{}}
	_, listing := api.emailSeller()
	const n = 50
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			gw := api
			if i%2 == 1 {
				gw = api2
			}
			ids[i] = gw.submitNotifyLead(listing.ID, i, nil)
		}()
	}
	wg.Wait()
	notifyWaitFor(t, 20*time.Second, "50 SENT", func() bool {
		var sent int
		_ = api.DB.Get(&sent, `SELECT count(*) FROM lead_notifications WHERE status = 'SENT'`)
		return sent == n
	})
	time.Sleep(300 * time.Millisecond)
	seen := map[string]int{}
	for _, m := range sink.Messages() {
		seen[leadIDInMail(t, m)]++
	}
	for _, id := range ids {
		if seen[id] != 1 {
			t.Errorf("lead %s mailed %d times, want 1", id, seen[id])
		}
	}
	if got := len(sink.Messages()); got != n {
		t.Errorf("messages = %d, want %d", got, n)
	}
}
