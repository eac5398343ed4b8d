package store_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/partsmarket/gateway/internal/database"
	"github.com/partsmarket/gateway/internal/pii"
	"github.com/partsmarket/gateway/store"
)

// personal are distinctive personal values of one buyer, looked for in the
// database's bytes.
var personal = struct{ name, email, phone, company, message string }{
	"Zebulon Quackenbush", "zebulon.quackenbush@example.com", "+1 555 0177 4242", "Quackenbush Haulage",
	"Wondering about the xylophone-shaped radiator",
}

// TestPersonalDataAtRest: a lead's and a report's personal fields are nowhere
// in the database in clear: not in any column's text (as a dump shows it),
// not in the raw bytes of the tables' files, not in a lower-cased form; the
// store reads them back decrypted.
func TestPersonalDataAtRest(t *testing.T) {
	t.Parallel()
	st, db := newStore(t)
	s := MustCreateActiveSeller(t, st, "Dump Co")
	l := MustCreateListing(t, st, store.NewListing{SellerID: s.ID})
	lead := MustCreateLead(t, st, store.NewLead{SellerID: s.ID, ListingID: &l.ID, BuyerName: personal.name, Email: personal.email,
		Phone: ptr(personal.phone), Company: ptr(personal.company), Message: personal.message})
	rep := MustCreateReport(t, st, store.NewReport{ListingID: l.ID, Reason: store.ReasonScam, ReporterEmail: ptr(personal.email)})
	if lead.BuyerName != personal.name || lead.Email != personal.email || *lead.Phone != personal.phone ||
		*lead.Company != personal.company || lead.Message != personal.message {
		t.Errorf("lead read back as %+v", lead)
	}
	if rep.ReporterEmail == nil || *rep.ReporterEmail != personal.email {
		t.Errorf("reporter email read back as %v", rep.ReporterEmail)
	}

	var dump []string
	mustOK(t, db.Select(&dump, `SELECT t::text FROM leads t UNION ALL SELECT t::text FROM listing_reports t
		UNION ALL SELECT t::text FROM lead_notifications t UNION ALL SELECT t::text FROM lead_status_changes t
		UNION ALL SELECT t::text FROM abuse_counters t`), "dump")
	if len(dump) < 3 {
		t.Fatalf("dump has %d rows, want the lead, its notification and the report", len(dump))
	}
	var raw [][]byte
	mustOK(t, db.Select(&raw, `SELECT pii FROM leads UNION ALL SELECT email_bidx FROM leads UNION ALL SELECT dedupe_key FROM leads
		UNION ALL SELECT reporter_pii FROM listing_reports UNION ALL SELECT reporter_email_bidx FROM listing_reports`), "raw columns")
	// The tables' files as PostgreSQL wrote them (after a checkpoint).
	_, err := db.Exec(`CHECKPOINT`)
	mustOK(t, err, "checkpoint")
	var files [][]byte
	mustOK(t, db.Select(&files, `SELECT pg_read_binary_file(pg_relation_filepath(c)) FROM
		unnest(ARRAY['leads'::regclass, 'listing_reports'::regclass]) AS c`), "table files")
	if len(files) != 2 || len(files[0]) == 0 {
		t.Fatal("table files are empty: the check would prove nothing")
	}
	raw = append(raw, files...)
	for _, v := range []string{personal.name, personal.email, personal.phone, personal.company, personal.message,
		"Quackenbush", "quackenbush", "0177 4242", "xylophone"} {
		for _, row := range dump {
			if strings.Contains(strings.ToLower(row), strings.ToLower(v)) {
				t.Errorf("a row's text holds %q: %s", v, row)
			}
		}
		for _, b := range raw {
			if bytes.Contains(bytes.ToLower(b), []byte(strings.ToLower(v))) {
				t.Errorf("raw bytes hold %q", v)
			}
		}
	}
	var keyIDs []string
	mustOK(t, db.Select(&keyIDs, `SELECT pii_key_id FROM leads UNION ALL SELECT reporter_key_id FROM listing_reports`), "key ids")
	for _, id := range keyIDs {
		if id != "dev1" {
			t.Errorf("key id %q, want dev1 (the development key)", id)
		}
	}
}

// newKey returns a fresh base64 AES-256 key.
func newKey(t *testing.T) string {
	t.Helper()
	b := make([]byte, pii.KeySize)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// TestRotateKeys: with a new key first in the keyring, rotation re-encrypts
// every lead and report under it, in batches; everything stays readable
// (and findable by email) with the new keyring, not with the old one; a
// second run has nothing to do.
func TestRotateKeys(t *testing.T) {
	t.Parallel()
	old, db := newStore(t)
	s := MustCreateActiveSeller(t, old, "Rotate Co")
	l := MustCreateListing(t, old, store.NewListing{SellerID: s.ID})
	var leadIDs []string
	for range 7 {
		leadIDs = append(leadIDs, MustCreateLead(t, old, store.NewLead{SellerID: s.ID, ListingID: &l.ID, Phone: ptr("+1 555 0100")}).ID)
	}
	MustCreateLead(t, old, store.NewLead{SellerID: s.ID, Email: "rotate@example.com"})
	rep := MustCreateReport(t, old, store.NewReport{ListingID: l.ID, ReporterEmail: ptr("reporter@example.com")})
	MustCreateReport(t, old, store.NewReport{ListingID: l.ID})
	before, err := old.Leads(t.Context(), store.LeadQuery{Scope: store.Scope{All: true}}, store.PageArgs{Limit: 100})
	mustOK(t, err, "Leads")
	owner := store.Identity{Subject: "rotate-owner"}
	member, err := old.RegisterSeller(t.Context(), store.NewSeller{Slug: "rotate-members", CompanyName: "Rotate Members"}, owner, "owner@rotate.example")
	mustOK(t, err, "RegisterSeller")
	_, err = old.InviteSellerMember(t.Context(), store.NewInvitation{SellerID: member.ID, Email: "staff@rotate.example",
		Role: store.MemberStaff, CreatedBy: owner.Subject, Token: "rotate-token", TokenHash: []byte("rotate-hash"), TTL: time.Hour})
	mustOK(t, err, "InviteSellerMember")

	keys, err := pii.Parse("k2:"+newKey(t)+","+pii.DevEncryptionKeys, pii.DevBlindIndexKey)
	mustOK(t, err, "Parse")
	st := store.New(db, store.WithKeyring(keys))
	var progress []store.RotationCounts
	got, err := st.RotateKeys(t.Context(), 3, func(c store.RotationCounts) { progress = append(progress, c) })
	mustOK(t, err, "RotateKeys")
	// The members: the owner's email, the invitation's email and its mail.
	if want := (store.RotationCounts{Leads: 8, Reports: 1, Members: 3}); got != want {
		t.Errorf("rotated %+v, want %+v", got, want)
	}
	if len(progress) != 7 { // leads in batches of 3, 3 and 2, the report, then each member column
		t.Errorf("progress told %d times (%v), want 7", len(progress), progress)
	}
	members, err := st.MembersBySellerID(t.Context(), []string{member.ID})
	if mustOK(t, err, "SellerMembers"); len(members) != 1 || deref(members[0].Email) != "owner@rotate.example" {
		t.Errorf("members after rotation: %+v", members)
	}
	var memberKeys []string
	mustOK(t, db.Select(&memberKeys, `SELECT email_key_id FROM seller_members UNION ALL SELECT email_key_id FROM seller_invitations
		UNION ALL SELECT mail_key_id FROM seller_invitations`), "member key ids")
	if strings.Join(memberKeys, ",") != "k2,k2,k2" {
		t.Errorf("member key ids after rotation: %v, want k2 thrice", memberKeys)
	}
	var keyIDs []string
	mustOK(t, db.Select(&keyIDs, `SELECT pii_key_id FROM leads UNION ALL
		SELECT reporter_key_id FROM listing_reports WHERE reporter_key_id IS NOT NULL`), "key ids")
	if len(keyIDs) != 9 {
		t.Errorf("%d sealed rows, want 9", len(keyIDs))
	}
	for _, id := range keyIDs {
		if id != "k2" {
			t.Errorf("key id %q after rotation, want k2", id)
		}
	}
	after, err := st.Leads(t.Context(), store.LeadQuery{Scope: store.Scope{All: true}}, store.PageArgs{Limit: 100})
	mustOK(t, err, "Leads after rotation")
	if len(after.Items) != len(before.Items) {
		t.Fatalf("%d leads after rotation, want %d", len(after.Items), len(before.Items))
	}
	for i, l := range after.Items {
		b := before.Items[i]
		if l.ID != b.ID || l.Email != b.Email || l.BuyerName != b.BuyerName || l.Message != b.Message || deref(l.Phone) != deref(b.Phone) {
			t.Errorf("lead %s reads %+v after rotation, want %+v", l.ID, l, b)
		}
	}
	n, err := st.CountLeads(t.Context(), store.LeadQuery{Scope: store.Scope{All: true}, Filter: store.LeadFilter{Email: ptr("Rotate@Example.com")}})
	if mustOK(t, err, "CountLeads"); n != 1 {
		t.Errorf("email filter after rotation finds %d leads, want 1", n)
	}
	r, err := st.Report(t.Context(), store.Scope{All: true}, rep.ID)
	if mustOK(t, err, "Report"); r.ReporterEmail == nil || *r.ReporterEmail != "reporter@example.com" {
		t.Errorf("reporter email after rotation: %v", r.ReporterEmail)
	}

	t.Run("a keyring without the new key fails loudly", func(t *testing.T) {
		_, err := old.Lead(t.Context(), store.Scope{All: true}, leadIDs[0])
		if !errors.Is(err, pii.ErrUnknownKey) || store.ErrorCode(err) != store.EINTERNAL {
			t.Errorf("got %v, want an internal ErrUnknownKey", err)
		}
	})
	t.Run("idempotent", func(t *testing.T) {
		got, err := st.RotateKeys(t.Context(), 3, nil)
		mustOK(t, err, "RotateKeys again")
		if got != (store.RotationCounts{}) {
			t.Errorf("second rotation re-encrypted %+v, want nothing", got)
		}
	})
}

// TestWrongKeyFailsLoudly: rows sealed under key "dev1" read with another key
// of the same id are an internal error naming the row, never garbage, and
// the error carries no personal data.
func TestWrongKeyFailsLoudly(t *testing.T) {
	t.Parallel()
	st, db := newStore(t)
	s := MustCreateActiveSeller(t, st, "Wrong Key Co")
	l := MustCreateListing(t, st, store.NewListing{SellerID: s.ID})
	lead := MustCreateLead(t, st, store.NewLead{SellerID: s.ID, ListingID: &l.ID, Email: "secret.buyer@example.com"})
	rep := MustCreateReport(t, st, store.NewReport{ListingID: l.ID, ReporterEmail: ptr("secret.reporter@example.com")})
	keys, err := pii.Parse("dev1:"+newKey(t), pii.DevBlindIndexKey)
	mustOK(t, err, "Parse")
	wrong := store.New(db, store.WithKeyring(keys))
	all := store.Scope{All: true}
	_, leadErr := wrong.Lead(t.Context(), all, lead.ID)
	_, leadsErr := wrong.Leads(t.Context(), store.LeadQuery{Scope: all}, store.PageArgs{Limit: 10})
	_, repErr := wrong.Report(t.Context(), all, rep.ID)
	_, repsErr := wrong.Reports(t.Context(), store.ReportQuery{Scope: all}, store.PageArgs{Limit: 10})
	for name, err := range map[string]error{"Lead": leadErr, "Leads": leadsErr, "Report": repErr, "Reports": repsErr} {
		if !errors.Is(err, pii.ErrDecrypt) || store.ErrorCode(err) != store.EINTERNAL {
			t.Errorf("%s: got %v, want an internal ErrDecrypt", name, err)
			continue
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: the error quotes personal data: %v", name, err)
		}
	}
}

// TestEncryptMigrationRefusesPlaintext: migration 00005 cannot encrypt in
// SQL, so it refuses to run over leads stored in clear (and deletes none of
// them); on a database without them it runs.
func TestEncryptMigrationRefusesPlaintext(t *testing.T) {
	t.Parallel()
	_, db := newStore(t)
	ctx := t.Context()
	version := func() int64 {
		var v int64
		mustOK(t, db.Get(&v, `SELECT max(version_id) FROM goose_db_version`), "version")
		return v
	}
	for version() > 4 {
		mustOK(t, database.MigrateDown(ctx, db.DB), "migrate down")
	}
	_, err := db.Exec(`WITH s AS (INSERT INTO sellers (slug, company_name) VALUES ('clear', 'Clear Co') RETURNING id)
		INSERT INTO leads (seller_id, buyer_name, email, message) SELECT id, 'Jane Clear', 'jane@example.com', 'hi' FROM s`)
	mustOK(t, err, "insert a plaintext lead")
	err = database.MigrateUp(ctx, db.DB)
	if err == nil || !strings.Contains(err.Error(), "plaintext personal data") {
		t.Fatalf("migrate up over a plaintext lead: %v, want a refusal", err)
	}
	if v := version(); v != 4 {
		t.Errorf("version %d after the refusal, want 4", v)
	}
	var n int
	if mustOK(t, db.Get(&n, `SELECT count(*) FROM leads`), "count"); n != 1 {
		t.Errorf("%d leads after the refusal, want the one kept", n)
	}
	_, err = db.Exec(`DELETE FROM leads`)
	mustOK(t, err, "delete")
	mustOK(t, database.MigrateUp(ctx, db.DB), "migrate up without plaintext")
}
