package store_test

import (
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/partsmarket/gateway/internal/pii"
	"github.com/partsmarket/gateway/store"
)

// privacyFixture is two sellers with leads and reports of one buyer (Jane)
// and of another (Omar).
type privacyFixture struct {
	s1, s2              *store.Seller
	jane1, jane2, omar1 *store.Lead
	janeReport          *store.ListingReport
}

func newPrivacyFixture(t *testing.T, st *store.Store) privacyFixture {
	t.Helper()
	var f privacyFixture
	f.s1 = MustCreateActiveSeller(t, st, "Privacy One")
	f.s2 = MustCreateActiveSeller(t, st, "Privacy Two")
	l1 := MustCreateListing(t, st, store.NewListing{SellerID: f.s1.ID})
	f.jane1 = MustCreateLead(t, st, store.NewLead{SellerID: f.s1.ID, ListingID: &l1.ID, BuyerName: "Jane Privacy",
		Email: "jane.privacy@example.com", Phone: ptr("+1 555 0100"), Company: ptr("Privacy Mining"), BuyerLocation: ptr("Tulsa, OK")})
	f.jane2 = MustCreateLead(t, st, store.NewLead{SellerID: f.s2.ID, BuyerName: "Jane Privacy", Email: "JANE.PRIVACY@example.com",
		Status: store.LeadWon})
	f.omar1 = MustCreateLead(t, st, store.NewLead{SellerID: f.s1.ID, BuyerName: "Omar Other", Email: "omar@example.com"})
	f.janeReport = MustCreateReport(t, st, store.NewReport{ListingID: l1.ID, ReporterEmail: ptr("jane.privacy@example.com")})
	MustCreateReport(t, st, store.NewReport{ListingID: l1.ID, ReporterEmail: ptr("omar@example.com")})
	return f
}

// auditOf returns the target ids and changes of the audit events of action.
func auditOf(t *testing.T, db *sqlx.DB, action string) []struct {
	TargetID string `db:"target_id"`
	Changes  string `db:"changes"`
} {
	t.Helper()
	var out []struct {
		TargetID string `db:"target_id"`
		Changes  string `db:"changes"`
	}
	mustOK(t, db.Select(&out, `SELECT target_id, coalesce(changes::text, '') AS changes FROM audit_events
		WHERE action = $1 AND target_type = 'email' ORDER BY created_at, id`, action), "audit events")
	for _, e := range out {
		if strings.Contains(strings.ToLower(e.Changes+e.TargetID), "privacy@") {
			t.Errorf("audit event %s names the email: %+v", action, e)
		}
	}
	return out
}

// TestExportPersonalData: an export finds every lead and report of an email,
// whatever its case, decrypted, and nothing of other emails; it is audited
// under the email's blind index.
func TestExportPersonalData(t *testing.T) {
	t.Parallel()
	st, db := newStore(t)
	f := newPrivacyFixture(t, st)
	d, err := st.ExportPersonalData(t.Context(), " Jane.Privacy@EXAMPLE.com")
	mustOK(t, err, "ExportPersonalData")
	if got, want := idsOf(d.Leads), []string{f.jane1.ID, f.jane2.ID}; !equal(got, want) {
		t.Errorf("leads %v, want %v", got, want)
	}
	if len(d.Reports) != 1 || d.Reports[0].ID != f.janeReport.ID || *d.Reports[0].ReporterEmail != "jane.privacy@example.com" {
		t.Errorf("reports %+v, want Jane's one", d.Reports)
	}
	if d.Leads[0].BuyerName != "Jane Privacy" || *d.Leads[0].Company != "Privacy Mining" {
		t.Errorf("lead exported as %+v", d.Leads[0])
	}
	events := auditOf(t, db, store.AuditPrivacyExport)
	if len(events) != 1 || events[0].TargetID != hex.EncodeToString(pii.Dev().BlindIndex("jane.privacy@example.com")) {
		t.Errorf("audit events %+v, want one naming the blind index", events)
	}
}

// TestErasePersonalData: erasure anonymises every lead and report of an
// email and nothing else; sellers keep their counts and the leads' statuses;
// the erased data are gone from the rows; a second erasure and an export
// find nothing.
func TestErasePersonalData(t *testing.T) {
	t.Parallel()
	st, db := newStore(t)
	f := newPrivacyFixture(t, st)
	all := store.Scope{All: true}
	countOf := func(sellerID string) int {
		n, err := st.CountLeads(t.Context(), store.LeadQuery{Scope: store.Scope{SellerID: sellerID}})
		mustOK(t, err, "CountLeads")
		return n
	}
	before1, before2 := countOf(f.s1.ID), countOf(f.s2.ID)

	got, err := st.ErasePersonalData(t.Context(), "jane.privacy@example.com")
	mustOK(t, err, "ErasePersonalData")
	if want := (store.ErasureCounts{Leads: 2, Reports: 1}); got != want {
		t.Errorf("erased %+v, want %+v", got, want)
	}
	if a, b := countOf(f.s1.ID), countOf(f.s2.ID); a != before1 || b != before2 {
		t.Errorf("sellers' lead counts %d, %d after erasure, want %d, %d", a, b, before1, before2)
	}
	for _, id := range []string{f.jane1.ID, f.jane2.ID} {
		l, err := st.Lead(t.Context(), all, id)
		mustOK(t, err, "Lead")
		if l.BuyerName != store.Erased || l.Email != store.Erased || l.Message != store.Erased || l.Phone != nil ||
			l.Company != nil || l.BuyerLocation != nil || l.AnonymizedAt == nil {
			t.Errorf("erased lead reads %+v", l)
		}
	}
	if l, _ := st.Lead(t.Context(), all, f.jane2.ID); l.Status != store.LeadWon || l.SellerID != f.s2.ID {
		t.Errorf("erased lead lost its facts: %+v", l)
	}
	if l, _ := st.Lead(t.Context(), all, f.omar1.ID); l.Email != "omar@example.com" || l.AnonymizedAt != nil {
		t.Errorf("another buyer's lead was touched: %+v", l)
	}
	r, err := st.Report(t.Context(), all, f.janeReport.ID)
	if mustOK(t, err, "Report"); r.ReporterEmail == nil || *r.ReporterEmail != store.Erased || r.AnonymizedAt == nil {
		t.Errorf("erased report reads %+v", r)
	}
	var left int
	mustOK(t, db.Get(&left, `SELECT count(*) FROM leads WHERE id = ANY($1::uuid[])
		AND (pii IS NOT NULL OR email_bidx IS NOT NULL OR dedupe_key IS NOT NULL)`,
		"{"+f.jane1.ID+","+f.jane2.ID+"}"), "count")
	if left != 0 {
		t.Errorf("%d erased leads still hold sealed data, a blind index or a dedupe key", left)
	}

	t.Run("idempotent", func(t *testing.T) {
		got, err := st.ErasePersonalData(t.Context(), "Jane.Privacy@example.com")
		mustOK(t, err, "ErasePersonalData again")
		if got != (store.ErasureCounts{}) {
			t.Errorf("second erasure anonymised %+v, want nothing", got)
		}
	})
	t.Run("export finds nothing", func(t *testing.T) {
		d, err := st.ExportPersonalData(t.Context(), "jane.privacy@example.com")
		mustOK(t, err, "ExportPersonalData")
		if len(d.Leads) != 0 || len(d.Reports) != 0 {
			t.Errorf("export after erasure: %+v", d)
		}
	})
	t.Run("the lead sent again is a new lead", func(t *testing.T) {
		again := MustCreateLead(t, st, store.NewLead{SellerID: f.s2.ID, BuyerName: "Jane Privacy", Email: "jane.privacy@example.com",
			Message: f.jane2.Message})
		if again.ID == f.jane2.ID {
			t.Errorf("a repeat of an erased lead answered its id")
		}
	})
	if events := auditOf(t, db, store.AuditPrivacyErase); len(events) != 2 {
		t.Errorf("%d erase audit events, want 2 (one per request)", len(events))
	}
}

// TestCorrectPersonalData: a correction rewrites the named fields of every
// lead and report of an email and keeps the rest; a new email moves the rows
// under its blind index.
func TestCorrectPersonalData(t *testing.T) {
	t.Parallel()
	st, db := newStore(t)
	f := newPrivacyFixture(t, st)
	got, err := st.CorrectPersonalData(t.Context(), "jane.privacy@example.com", store.PersonalDataCorrection{
		Email: ptr("jane.new@example.com"), Phone: ptr("+1 555 0199"), Company: ptr("")})
	mustOK(t, err, "CorrectPersonalData")
	if want := (store.CorrectionCounts{Leads: 2, Reports: 1}); got != want {
		t.Errorf("corrected %+v, want %+v", got, want)
	}
	old, err := st.ExportPersonalData(t.Context(), "jane.privacy@example.com")
	mustOK(t, err, "export old")
	if len(old.Leads)+len(old.Reports) != 0 {
		t.Errorf("old email still holds %d leads and %d reports", len(old.Leads), len(old.Reports))
	}
	d, err := st.ExportPersonalData(t.Context(), "jane.new@example.com")
	mustOK(t, err, "export new")
	if len(d.Leads) != 2 || len(d.Reports) != 1 || *d.Reports[0].ReporterEmail != "jane.new@example.com" {
		t.Fatalf("new email holds %+v", d)
	}
	l := d.Leads[0]
	if l.Email != "jane.new@example.com" || *l.Phone != "+1 555 0199" || l.Company != nil || l.BuyerName != "Jane Privacy" ||
		l.Message != f.jane1.Message {
		t.Errorf("corrected lead reads %+v", l)
	}
	// The dedupe key follows the email: the lead sent again under the new
	// email is the same lead, under the old one a new lead.
	n := store.NewLead{SellerID: f.s2.ID, BuyerName: "Jane Privacy", Email: "jane.new@example.com", Message: f.jane2.Message,
		Status: store.LeadNew}
	if id, err := st.CreateLead(t.Context(), n); err != nil || id != f.jane2.ID {
		t.Errorf("repeat under the new email: got %s, %v; want %s", id, err, f.jane2.ID)
	}
	n.Email = "jane.privacy@example.com"
	if id, err := st.CreateLead(t.Context(), n); err != nil || id == f.jane2.ID {
		t.Errorf("repeat under the old email: got %s, %v; want a new lead", id, err)
	}
	events := auditOf(t, db, store.AuditPrivacyCorrect)
	if len(events) != 1 || !strings.Contains(events[0].Changes, `"fields": ["email", "phone", "company"]`) {
		t.Errorf("audit events %+v, want one naming the fields", events)
	}
}

func equal(a, b []string) bool { return strings.Join(a, ",") == strings.Join(b, ",") }

// TestRunRetention: a retention run anonymises the leads and reports older
// than the lead window and deletes the raw events older than the event
// window, in batches; recent rows, sellers' lead counts and the daily
// rollups stay as they were; a second run does nothing; each run is audited
// once, by the system.
func TestRunRetention(t *testing.T) {
	t.Parallel()
	st, db := newStore(t)
	s := MustCreateActiveSeller(t, st, "Retention Co")
	l := MustCreateListing(t, st, store.NewListing{SellerID: s.ID})
	var old []string
	for range 5 {
		old = append(old, MustCreateLead(t, st, store.NewLead{SellerID: s.ID, ListingID: &l.ID}).ID)
	}
	recent := MustCreateLead(t, st, store.NewLead{SellerID: s.ID, ListingID: &l.ID, Email: "recent@example.com"})
	oldReport := MustCreateReport(t, st, store.NewReport{ListingID: l.ID, ReporterEmail: ptr("old.reporter@example.com")})
	oldAnonymous := MustCreateReport(t, st, store.NewReport{ListingID: l.ID})
	recentReport := MustCreateReport(t, st, store.NewReport{ListingID: l.ID, ReporterEmail: ptr("new.reporter@example.com")})
	for _, id := range old {
		MustSetCreatedAt(t, db, "leads", id, time.Now().AddDate(0, 0, -31))
	}
	MustSetCreatedAt(t, db, "listing_reports", oldReport.ID, time.Now().AddDate(0, 0, -31))
	MustSetCreatedAt(t, db, "listing_reports", oldAnonymous.ID, time.Now().AddDate(0, 0, -31))
	_, err := db.Exec(`INSERT INTO events (type, listing_id, seller_id, created_at)
		SELECT 'LISTING_VIEW', $1, $2, now() - d * interval '1 day' FROM generate_series(0, 14) AS d`, l.ID, s.ID)
	mustOK(t, err, "insert events")
	rollups := func() string {
		var out string
		mustOK(t, db.Get(&out, `SELECT coalesce(string_agg(concat_ws(',', day, listing_id, views, leads, reports), ';' ORDER BY day, listing_id), '')
			FROM daily_listing_stats`), "rollups")
		return out
	}
	rollupsBefore := rollups()
	countBefore, err := st.CountLeads(t.Context(), store.LeadQuery{Scope: store.Scope{SellerID: s.ID}})
	mustOK(t, err, "CountLeads")

	for i, ttl := range []time.Duration{-time.Minute, time.Hour} { // one expired invitation, one live
		_, err := st.InviteSellerMember(t.Context(), store.NewInvitation{SellerID: s.ID, Email: "invitee@example.com",
			Role: store.MemberStaff, CreatedBy: "retention", Token: "t", TokenHash: []byte{byte(i)}, TTL: ttl})
		mustOK(t, err, "InviteSellerMember")
	}

	policy := store.RetentionPolicy{LeadDays: 30, EventDays: 10, BatchSize: 2}
	var progress int
	got, err := st.RunRetention(t.Context(), policy, func(store.RetentionCounts) { progress++ })
	mustOK(t, err, "RunRetention")
	if want := (store.RetentionCounts{Leads: 5, Reports: 1, Events: 5, Invitations: 1}); got != want {
		t.Errorf("retention did %+v, want %+v", got, want)
	}
	if progress != 3+1+1+3 { // leads 2+2+1, one report, one invitation, events 2+2+1
		t.Errorf("progress told %d times, want 8", progress)
	}
	var invitations int
	if mustOK(t, db.Get(&invitations, `SELECT count(*) FROM seller_invitations WHERE expires_at > now()`), "invitations"); invitations != 1 {
		t.Errorf("%d live invitations after retention, want 1", invitations)
	}
	for _, id := range old {
		l, err := st.Lead(t.Context(), store.Scope{All: true}, id)
		if mustOK(t, err, "Lead"); l.AnonymizedAt == nil || l.Email != store.Erased {
			t.Errorf("old lead %s not anonymised: %+v", id, l)
		}
	}
	var keyed int
	mustOK(t, db.Get(&keyed, `SELECT count(*) FROM leads WHERE id = ANY($1::uuid[]) AND dedupe_key IS NOT NULL`,
		"{"+strings.Join(old, ",")+"}"), "count dedupe keys")
	if keyed != 0 {
		t.Errorf("%d anonymised leads keep a dedupe key", keyed)
	}
	if l, _ := st.Lead(t.Context(), store.Scope{All: true}, recent.ID); l.Email != "recent@example.com" || l.AnonymizedAt != nil {
		t.Errorf("recent lead touched: %+v", l)
	}
	if r, _ := st.Report(t.Context(), store.Scope{All: true}, oldReport.ID); *r.ReporterEmail != store.Erased {
		t.Errorf("old report not anonymised: %+v", r)
	}
	if r, _ := st.Report(t.Context(), store.Scope{All: true}, oldAnonymous.ID); r.ReporterEmail != nil || r.AnonymizedAt != nil {
		t.Errorf("old report without an email: %+v, want untouched", r)
	}
	if r, _ := st.Report(t.Context(), store.Scope{All: true}, recentReport.ID); *r.ReporterEmail != "new.reporter@example.com" {
		t.Errorf("recent report touched: %+v", r)
	}
	var events int
	mustOK(t, db.Get(&events, `SELECT count(*) FROM events`), "count events")
	if events != 10 {
		t.Errorf("%d events left, want the 10 of the last 10 days", events)
	}
	if n, _ := st.CountLeads(t.Context(), store.LeadQuery{Scope: store.Scope{SellerID: s.ID}}); n != countBefore {
		t.Errorf("seller's lead count %d after retention, want %d", n, countBefore)
	}
	if r := rollups(); r != rollupsBefore {
		t.Errorf("rollups changed:\n%s\nwant\n%s", r, rollupsBefore)
	}

	again, err := st.RunRetention(t.Context(), policy, nil)
	mustOK(t, err, "RunRetention again")
	if again != (store.RetentionCounts{}) {
		t.Errorf("second run did %+v, want nothing", again)
	}
	var audit []struct {
		ActorID *string `db:"actor_id"`
		Changes string  `db:"changes"`
	}
	mustOK(t, db.Select(&audit, `SELECT actor_id, changes::text AS changes FROM audit_events
		WHERE action = 'privacy.retention' ORDER BY created_at, id`), "audit")
	if len(audit) != 2 || audit[0].ActorID != nil || !strings.Contains(audit[0].Changes, `"anonymizedLeads": 5`) ||
		!strings.Contains(audit[1].Changes, `"anonymizedLeads": 0`) || !strings.Contains(audit[0].Changes, `"completed": true`) {
		t.Errorf("retention audit events %+v, want two by the system with counts", audit)
	}
}
