package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

const (
	privateNotifyEmail       = "leads@delta-diesel.example"
	setNotificationsMutation = `mutation($id: ID!, $input: UpdateSellerProfileInput!) {
		updateSellerProfile(id: $id, input: $input) { seller { notificationEmail notificationsMuted } } }`
	notificationSettingsQuery = `query($id: ID!) { seller(id: $id) { id notificationEmail notificationsMuted } }`
)

// TestLeadMailFollowsNotificationSettings: lead mail goes to the private
// notification email instead of the public EMAIL contacts when it is set
// (also for a seller without any public email), to the contacts again when
// it is cleared, and nowhere while the seller has muted it (the notification
// is FAILED with the reason, the lead in the inbox as always).
func TestLeadMailFollowsNotificationSettings(t *testing.T) {
	sink := startSMTPSink(t)
	api := newTestAPI(t, notifyEnv(sink))
	f := api.newFixture()
	seller, listing := api.emailSeller()
	tok := api.token("SELLER", seller.ID)
	set := func(input map[string]any) gqlResponse {
		return api.mustPost(tok, setNotificationsMutation, map[string]any{"id": seller.ID, "input": input})
	}
	// mailedTo submits a lead and returns the recipients of its mail.
	mailedTo := func(i int) string {
		t.Helper()
		before := len(sink.Messages())
		id := api.submitNotifyLead(listing.ID, i, nil)
		notifyWaitFor(t, 10*time.Second, "the lead's mail", func() bool { return len(sink.Messages()) > before })
		m := sink.Messages()[before]
		if got := leadIDInMail(t, m); got != id {
			t.Fatalf("mail about lead %s, want %s", got, id)
		}
		return strings.Join(m.To, ",")
	}

	if got := mailedTo(1); got != notifySellerEmail {
		t.Errorf("without settings: mail to %q, want the public contact %q", got, notifySellerEmail)
	}
	r := set(map[string]any{"notificationEmail": privateNotifyEmail})
	if got := r.Get("updateSellerProfile.seller.notificationEmail"); got != privateNotifyEmail {
		t.Errorf("notificationEmail after setting it: %v", got)
	}
	if got := mailedTo(2); got != privateNotifyEmail {
		t.Errorf("with a notification email: mail to %q, want only %q", got, privateNotifyEmail)
	}

	t.Run("stored sealed", func(t *testing.T) {
		var blob []byte
		if err := api.DB.Get(&blob, `SELECT notification_email_pii FROM sellers WHERE id = $1`, seller.ID); err != nil {
			t.Fatal(err)
		}
		if len(blob) == 0 || bytes.Contains(blob, []byte("delta-diesel")) {
			t.Errorf("notification_email_pii = %q, want a sealed value", blob)
		}
	})

	t.Run("a seller without a public email", func(t *testing.T) {
		api.mustPost(tok, setNotificationsMutation, map[string]any{"id": seller.ID, "input": map[string]any{
			"contacts": []any{map[string]any{"kind": "PHONE", "value": "+1 555 010 7777"}}}})
		if got := mailedTo(3); got != privateNotifyEmail {
			t.Errorf("mail to %q, want %q", got, privateNotifyEmail)
		}
	})

	t.Run("muted", func(t *testing.T) {
		r := set(map[string]any{"notificationsMuted": true})
		if got := r.Get("updateSellerProfile.seller.notificationsMuted"); got != true {
			t.Fatalf("notificationsMuted = %v, want true", got)
		}
		before := len(sink.Messages())
		id := api.submitNotifyLead(listing.ID, 4, nil)
		notifyWaitFor(t, 10*time.Second, "the notification FAILED", func() bool {
			r := api.mustPost(f.Admin, leadNotificationQuery, map[string]any{"id": id})
			return r.Get("lead.notification.status") == "FAILED"
		})
		r = api.mustPost(f.Admin, leadNotificationQuery, map[string]any{"id": id})
		if got := r.Get("lead.notification.lastError"); got != "seller muted lead notifications" {
			t.Errorf("lastError = %v, want the muting", got)
		}
		if n := len(sink.Messages()); n != before {
			t.Errorf("%d mails sent while muted", n-before)
		}
		inbox := api.mustPost(tok, `query($id: ID!) { lead(id: $id) { id } }`, map[string]any{"id": id})
		if inbox.Get("lead.id") != id {
			t.Errorf("the muted seller cannot read its lead: %s", inbox.Raw)
		}
		set(map[string]any{"notificationsMuted": false})
		if got := mailedTo(5); got != privateNotifyEmail {
			t.Errorf("after unmuting: mail to %q, want %q", got, privateNotifyEmail)
		}
	})

	t.Run("cleared", func(t *testing.T) {
		set(map[string]any{"notificationEmail": "", "contacts": []any{
			map[string]any{"kind": "EMAIL", "value": notifySellerEmail}}})
		var blob []byte
		if err := api.DB.Get(&blob, `SELECT notification_email_pii FROM sellers WHERE id = $1`, seller.ID); err != nil || blob != nil {
			t.Errorf("after clearing: notification_email_pii = %q (%v), want NULL", blob, err)
		}
		if got := mailedTo(6); got != notifySellerEmail {
			t.Errorf("after clearing: mail to %q, want the public contact %q", got, notifySellerEmail)
		}
	})
}

// TestNotificationSettingsAccess: the owning seller and admins read the
// notification email, analysts read it masked, another seller and anonymous
// callers are refused; a bad address is BAD_USER_INPUT naming the field; the
// audit log records that it changed, not the address.
func TestNotificationSettingsAccess(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	api.mustPost(f.TokenA, setNotificationsMutation, map[string]any{"id": f.SellerA.ID,
		"input": map[string]any{"notificationEmail": "private.leads@alpha.example"}})
	for _, tt := range []struct {
		who, token string
		email      any
		code       string
	}{
		{"owner", f.TokenA, "private.leads@alpha.example", ""},
		{"admin", f.Admin, "private.leads@alpha.example", ""},
		{"analyst", f.Analyst, "p***@***.example", ""},
		{"another seller", f.TokenB, nil, "FORBIDDEN"},
		{"anonymous", "", nil, "UNAUTHENTICATED"},
	} {
		t.Run(tt.who, func(t *testing.T) {
			r := api.post(tt.token, notificationSettingsQuery, map[string]any{"id": f.SellerA.ID})
			if got := r.Get("seller.notificationEmail"); got != tt.email {
				t.Errorf("notificationEmail = %v, want %v (%s)", got, tt.email, r.Raw)
			}
			if tt.code == "" && len(r.Errors) > 0 {
				t.Errorf("errors: %s", r.Raw)
			}
			if tt.code != "" && (len(r.Errors) != 2 || r.Errors[0].Code() != tt.code) {
				t.Errorf("want %s on both fields, got %s", tt.code, r.Raw)
			}
		})
	}

	bad := api.post(f.TokenA, setNotificationsMutation, map[string]any{"id": f.SellerA.ID,
		"input": map[string]any{"notificationEmail": "not an address"}})
	mutWantInvalid(t, bad, "input.notificationEmail")

	var logged []string
	if err := api.DB.Select(&logged, `SELECT coalesce(changes::text, '') FROM audit_events
		WHERE action = 'seller.update' AND target_id = $1`, f.SellerA.ID); err != nil {
		t.Fatal(err)
	}
	changes := strings.Join(logged, " ")
	if !strings.Contains(changes, "notificationEmail") || strings.Contains(changes, "alpha.example") {
		t.Errorf("audit changes %s: want notificationEmail recorded without the address", changes)
	}
}
