package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"io"
	"log/slog"
	"maps"
	"strings"
	"testing"

	"github.com/partsmarket/gateway/internal/config"
	"github.com/partsmarket/gateway/internal/pii"
	"github.com/partsmarket/gateway/store"
)

// runCommand runs a gateway subcommand against a's database with env on top
// of a's settings and returns what it printed.
func (a *testAPI) runCommand(env map[string]string, args ...string) (string, error) {
	a.t.Helper()
	getenv := func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		if k == "DATABASE_URL" {
			return a.Config.DatabaseURL
		}
		return ""
	}
	var out bytes.Buffer
	err := run(context.Background(), args, getenv, &out, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	return out.String(), err
}

// TestKeysRotateCommand: `gateway keys rotate` with a new first key
// re-encrypts every lead and report under it; a gateway that lacks the new
// key then fails loudly on them (INTERNAL_SERVER_ERROR, no garbage) while one
// with it reads them as before; a second run has nothing to do.
func TestKeysRotateCommand(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t, nil)
	f := a.newFixture()
	key := make([]byte, pii.KeySize)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"ENCRYPTION_KEYS": "k2:" + base64.StdEncoding.EncodeToString(key) + "," + pii.DevEncryptionKeys}
	a.mustPost(f.TokenA, setNotificationsMutation, map[string]any{"id": f.SellerA.ID,
		"input": map[string]any{"notificationEmail": "private.leads@alpha.example"}})
	out, err := a.runCommand(env, "keys", "rotate")
	if err != nil {
		t.Fatalf("keys rotate: %v\n%s", err, out)
	}
	if !strings.Contains(out, "re-encrypting under key k2") || !strings.Contains(out, "rotated: leads=2 reports=2 sellers=1") {
		t.Errorf("keys rotate printed %q, want the new key and leads=2 reports=2 sellers=1", out)
	}
	var ids []string
	if err := a.DB.Select(&ids, `SELECT DISTINCT pii_key_id FROM leads UNION SELECT DISTINCT reporter_key_id FROM listing_reports
		UNION SELECT notification_email_key_id FROM sellers WHERE notification_email_key_id IS NOT NULL`); err != nil {
		t.Fatal(err)
	}
	if len(ids) != 1 || ids[0] != "k2" {
		t.Errorf("key ids after rotation: %v, want [k2]", ids)
	}

	// The running gateway has only the development key.
	r := a.post(f.Admin, `query($id: ID!) { lead(id: $id) { id email } }`, map[string]any{"id": f.LeadA})
	if codes := r.Codes(); len(codes) != 1 || codes[0] != "INTERNAL_SERVER_ERROR" || r.Get("lead.email") != nil {
		t.Errorf("lead under an unknown key: %s, want INTERNAL_SERVER_ERROR and no email", r.Raw)
	}
	keys, err := pii.Parse(env["ENCRYPTION_KEYS"], pii.DevBlindIndexKey)
	if err != nil {
		t.Fatal(err)
	}
	l, err := store.New(a.DB, store.WithKeyring(keys)).Lead(context.Background(), store.Scope{All: true}, f.LeadA)
	if err != nil || l.Email != "jane.buyer@example.com" || l.BuyerName != "Jane Buyer" {
		t.Errorf("lead with the new keyring: %+v, %v", l, err)
	}
	n, err := store.New(a.DB, store.WithKeyring(keys)).NotificationSettingsBySellerID(context.Background(), []string{f.SellerA.ID})
	if err != nil || len(n) != 1 || n[0].Email == nil || *n[0].Email != "private.leads@alpha.example" {
		t.Errorf("notification email with the new keyring: %+v, %v", n, err)
	}

	out, err = a.runCommand(env, "keys", "rotate")
	if err != nil || !strings.Contains(out, "rotated: leads=0 reports=0 sellers=0") {
		t.Errorf("second keys rotate: %q, %v; want nothing rotated", out, err)
	}
	if _, err := a.runCommand(env, "keys", "spin"); err == nil {
		t.Error("keys spin: no error")
	}
}

// TestPrivacyRequests: an admin exports, corrects and erases the personal
// data under an email through the API; nobody else may; each request is
// audited under the email's blind index, never in clear; sellers then see
// their leads anonymised and counted as before.
func TestPrivacyRequests(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t, nil)
	f := a.newFixture()
	const export = `mutation($e: String!) { exportPersonalData(email: $e) { email document } }`
	const erase = `mutation($e: String!) { erasePersonalData(email: $e) { anonymizedLeads anonymizedReports } }`
	const correct = `mutation($e: String!, $c: PersonalDataChanges!) { correctPersonalData(email: $e, changes: $c) { updatedLeads updatedReports } }`
	doc := func(r gqlResponse) map[string]any {
		t.Helper()
		d, ok := r.Get("exportPersonalData.document").(map[string]any)
		if !ok {
			t.Fatalf("no document: %s", r.Raw)
		}
		return d
	}

	t.Run("only admins", func(t *testing.T) {
		for _, tok := range []string{"", f.TokenA, f.Analyst} {
			for _, q := range []string{export, erase} {
				r := a.post(tok, q, map[string]any{"e": "jane.buyer@example.com"})
				if codes := r.Codes(); len(codes) != 1 || codes[0] != refusalFor(tok) {
					t.Errorf("%s: got %s, want %s", q[:30], r.Raw, refusalFor(tok))
				}
			}
		}
	})
	t.Run("bad input", func(t *testing.T) {
		for _, tt := range []struct {
			query string
			vars  map[string]any
			field string
		}{
			{export, map[string]any{"e": "not-an-email"}, "email"},
			{erase, map[string]any{"e": " "}, "email"},
			{correct, map[string]any{"e": "jane.buyer@example.com", "c": map[string]any{}}, "changes"},
			{correct, map[string]any{"e": "jane.buyer@example.com", "c": map[string]any{"email": "nope"}}, "changes.email"},
			{correct, map[string]any{"e": "jane.buyer@example.com", "c": map[string]any{"buyerName": ""}}, "changes.buyerName"},
			{correct, map[string]any{"e": "jane.buyer@example.com", "c": map[string]any{"phone": "call me"}}, "changes.phone"},
		} {
			r := a.post(f.Admin, tt.query, tt.vars)
			if len(r.Errors) != 1 || r.Errors[0].Code() != "BAD_USER_INPUT" || r.Errors[0].Field() != tt.field {
				t.Errorf("%v: got %s, want BAD_USER_INPUT on %s", tt.vars, r.Raw, tt.field)
			}
		}
	})

	r := a.mustPost(f.Admin, export, map[string]any{"e": "Jane.Buyer@Example.com"})
	d := doc(r)
	leads, _ := d["leads"].([]any)
	if r.Get("exportPersonalData.email") != "jane.buyer@example.com" || len(leads) != 2 {
		t.Fatalf("export: %s, want Jane's two leads", r.Raw)
	}
	if l := leads[0].(map[string]any); l["buyerName"] != "Jane Buyer" || l["phone"] != "+1 555 010 1234" || l["message"] == nil {
		t.Errorf("exported lead %v", l)
	}
	if ev, _ := d["events"].([]any); ev == nil || len(ev) != 0 || !strings.Contains(r.Raw, "never an email") {
		t.Errorf("export says nothing of events: %s", r.Raw)
	}
	if rep := doc(a.mustPost(f.Admin, export, map[string]any{"e": "reporter@example.org"}))["reports"].([]any); len(rep) != 2 {
		t.Errorf("reporter's export has %d reports, want 2", len(rep))
	}

	r = a.mustPost(f.Admin, correct, map[string]any{"e": "jane.buyer@example.com", "c": map[string]any{"phone": "+1 555 010 9876", "company": ""}})
	if r.Get("correctPersonalData.updatedLeads") != 2.0 || r.Get("correctPersonalData.updatedReports") != 0.0 {
		t.Errorf("correct: %s", r.Raw)
	}
	r = a.mustPost(f.TokenA, `query($id: ID!) { lead(id: $id) { phone company } }`, map[string]any{"id": f.LeadA})
	if r.Get("lead.phone") != "+1 555 010 9876" || r.Get("lead.company") != nil {
		t.Errorf("corrected lead: %s", r.Raw)
	}

	r = a.mustPost(f.Admin, erase, map[string]any{"e": "jane.buyer@example.com"})
	if r.Get("erasePersonalData.anonymizedLeads") != 2.0 || r.Get("erasePersonalData.anonymizedReports") != 0.0 {
		t.Errorf("erase: %s", r.Raw)
	}
	r = a.mustPost(f.TokenA, `query($id: ID!, $s: ID!) { lead(id: $id) { buyerName email phone message status }
		seller(id: $s) { leads { totalCount } } }`, map[string]any{"id": f.LeadA, "s": f.SellerA.ID})
	if r.Get("lead.buyerName") != "[erased]" || r.Get("lead.email") != "[erased]" || r.Get("lead.phone") != nil ||
		r.Get("lead.status") != "NEW" || r.Get("seller.leads.totalCount") != 1.0 {
		t.Errorf("seller's view of an erased lead: %s", r.Raw)
	}
	if strings.Contains(r.Raw, "Jane") || strings.Contains(r.Raw, "jane") {
		t.Errorf("erased lead still shows personal data: %s", r.Raw)
	}
	if d := doc(a.mustPost(f.Admin, export, map[string]any{"e": "jane.buyer@example.com"})); len(d["leads"].([]any)) != 0 || len(d["reports"].([]any)) != 0 {
		t.Errorf("export after erasure: %v", d)
	}
	r = a.mustPost(f.Admin, erase, map[string]any{"e": "jane.buyer@example.com"})
	if r.Get("erasePersonalData.anonymizedLeads") != 0.0 || r.Get("erasePersonalData.anonymizedReports") != 0.0 {
		t.Errorf("second erase: %s, want zero counts", r.Raw)
	}
	r = a.mustPost(f.Admin, erase, map[string]any{"e": "reporter@example.org"})
	if r.Get("erasePersonalData.anonymizedReports") != 2.0 {
		t.Errorf("erase reporter: %s", r.Raw)
	}
	r = a.mustPost(f.Admin, `{ reports(first: 10) { totalCount nodes { reporterEmail details } } }`, nil)
	if r.Get("reports.totalCount") != 2.0 || r.Get("reports.nodes.0.reporterEmail") != "[erased]" ||
		r.Get("reports.nodes.1.reporterEmail") != "[erased]" || r.Get("reports.nodes.0.details") != "Looks like a duplicate" {
		t.Errorf("erased reports: %s", r.Raw)
	}

	// One audit event per request, naming the email by its blind index.
	r = a.mustPost(f.Admin, `{ auditEvents(filter: {targetType: "email"}, first: 100) { nodes { action targetId actorRole changes } } }`, nil)
	nodes, _ := r.Get("auditEvents.nodes").([]any)
	actions := map[string]int{}
	bidx := hex.EncodeToString(pii.Dev().BlindIndex("jane.buyer@example.com"))
	for _, n := range nodes {
		e := n.(map[string]any)
		actions[e["action"].(string)]++
		if e["action"] == "privacy.erase" && e["targetId"] != bidx && e["targetId"] != hex.EncodeToString(pii.Dev().BlindIndex("reporter@example.org")) {
			t.Errorf("erase event names %v, want a blind index", e["targetId"])
		}
	}
	if want := map[string]int{"privacy.export": 3, "privacy.correct": 1, "privacy.erase": 3}; !maps.Equal(actions, want) {
		t.Errorf("audit actions %v, want %v", actions, want)
	}
	if strings.Contains(r.Raw, "@example") {
		t.Errorf("the audit log names an email: %s", r.Raw)
	}
}

// TestRetentionRunCommand: `gateway retention run` anonymises what is older
// than LEAD_RETENTION_DAYS (default 730): the seller still sees and counts
// the lead, without the buyer's data; a second run does nothing.
func TestRetentionRunCommand(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t, nil)
	f := a.newFixture()
	if _, err := a.DB.Exec(`UPDATE leads SET created_at = now() - interval '731 days' WHERE id = $1`, f.LeadA); err != nil {
		t.Fatal(err)
	}
	if _, err := a.DB.Exec(`UPDATE listing_reports SET created_at = now() - interval '731 days' WHERE id = $1`, f.ReportA); err != nil {
		t.Fatal(err)
	}
	out, err := a.runCommand(nil, "retention", "run")
	if err != nil || !strings.Contains(out, "anonymised leads=1 reports=1; deleted events=0") {
		t.Fatalf("retention run: %q, %v", out, err)
	}
	r := a.mustPost(f.TokenA, `query($s: ID!) { seller(id: $s) { leads { totalCount nodes { id buyerName email status } } } }`,
		map[string]any{"s": f.SellerA.ID})
	if r.Get("seller.leads.totalCount") != 1.0 || r.Get("seller.leads.nodes.0.buyerName") != "[erased]" ||
		r.Get("seller.leads.nodes.0.status") != "NEW" {
		t.Errorf("seller's leads after retention: %s", r.Raw)
	}
	r = a.mustPost(f.TokenB, `query($id: ID!) { lead(id: $id) { email } }`, map[string]any{"id": f.LeadB})
	if r.Get("lead.email") != "jane.buyer@example.com" {
		t.Errorf("a recent lead was anonymised: %s", r.Raw)
	}
	out, err = a.runCommand(map[string]string{"LEAD_RETENTION_DAYS": "730"}, "retention", "run")
	if err != nil || !strings.Contains(out, "anonymised leads=0 reports=0") {
		t.Errorf("second retention run: %q, %v", out, err)
	}
	if _, err := a.runCommand(map[string]string{"LEAD_RETENTION_DAYS": "soon"}, "retention", "run"); err == nil ||
		!strings.Contains(err.Error(), "LEAD_RETENTION_DAYS") {
		t.Errorf("a bad LEAD_RETENTION_DAYS: %v, want an error naming it", err)
	}
}

// TestPersonalDataConfig: the development defaults of the keys and the
// retention windows, and errors that name the variable and quote no key.
func TestPersonalDataConfig(t *testing.T) {
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Keyring == nil || cfg.Keyring.CurrentKeyID() != "dev1" || cfg.EncryptionKeys != pii.DevEncryptionKeys ||
		cfg.BlindIndexKey != pii.DevBlindIndexKey || cfg.LeadRetentionDays != 730 || cfg.EventRetentionDays != 400 {
		t.Errorf("development defaults: keys %q, retention %d/%d", cfg.Keyring.CurrentKeyID(), cfg.LeadRetentionDays, cfg.EventRetentionDays)
	}
	secret := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 16))
	for _, tt := range []struct{ name, variable, value string }{
		{"short encryption key", "ENCRYPTION_KEYS", "k1:" + secret},
		{"no key id", "ENCRYPTION_KEYS", secret},
		{"short blind index key", "BLIND_INDEX_KEY", secret},
		{"bad retention", "EVENT_RETENTION_DAYS", "-1"},
	} {
		_, err := config.Load(func(k string) string { return map[string]string{tt.variable: tt.value}[k] })
		if err == nil || !strings.Contains(err.Error(), tt.variable) || strings.Contains(err.Error(), secret) {
			t.Errorf("%s: %v, want an error naming %s without the key", tt.name, err, tt.variable)
		}
	}
}
