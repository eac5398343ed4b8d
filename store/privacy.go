package store

import (
	"context"
	"encoding/hex"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Audit actions of privacy requests and retention. Their events name an
// email only by its blind index, in hex, as the target id of target type
// "email".
const (
	AuditPrivacyExport    = "privacy.export"
	AuditPrivacyCorrect   = "privacy.correct"
	AuditPrivacyErase     = "privacy.erase"
	AuditPrivacyRetention = "privacy.retention"
)

// anonymizeLead and anonymizeReport are the SET clauses that erase the
// personal data of a lead or a report: the sealed values, the blind index,
// the lead's dedupe key and the buyer's location go, anonymized_at says
// when; counts, statuses, dates and the rest stay.
const (
	anonymizeLead   = `pii = NULL, pii_key_id = NULL, email_bidx = NULL, dedupe_key = NULL, buyer_location = NULL, anonymized_at = now()`
	anonymizeReport = `reporter_pii = NULL, reporter_key_id = NULL, reporter_email_bidx = NULL, anonymized_at = now()`
)

// PersonalData is everything held under one email: the leads it sent and
// the reports it made, oldest first, decrypted.
type PersonalData struct {
	Leads   []*Lead
	Reports []*ListingReport
}

// ExportPersonalData returns everything held under email (found by its blind
// index, so case and surrounding space do not matter) and records a
// privacy.export audit event in the same transaction. Anonymised rows hold
// nothing under any email. EINTERNAL-class errors only.
func (s *Store) ExportPersonalData(ctx context.Context, email string) (*PersonalData, error) {
	bidx := s.keys.BlindIndex(email)
	tx, err := s.db.onPrimary().beginScoped(ctx, everything, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	d, err := s.personalData(ctx, tx, bidx, false)
	if err != nil {
		return nil, err
	}
	err = s.Audit(ctx, tx, AuditEntry{Action: AuditPrivacyExport, TargetType: "email", TargetID: hex.EncodeToString(bidx),
		Changes: map[string]any{"leads": len(d.Leads), "reports": len(d.Reports)}})
	if err != nil {
		return nil, err
	}
	return d, tx.Commit()
}

// personalData reads and opens the leads and reports under blind index bidx
// in tx, oldest first, locking them when lock is set.
func (s *Store) personalData(ctx context.Context, tx *sqlx.Tx, bidx []byte, lock bool) (*PersonalData, error) {
	forUpdate := ""
	if lock {
		forUpdate = ` FOR UPDATE OF d`
	}
	var leads []*sealedLead
	err := tx.SelectContext(ctx, &leads, `SELECT `+leadColumns+` FROM leads d WHERE d.email_bidx = $1
		ORDER BY d.created_at, d.id`+forUpdate, bidx)
	if err != nil {
		return nil, err
	}
	if lock {
		forUpdate = ` FOR UPDATE OF r`
	}
	var reports []*sealedReport
	err = tx.SelectContext(ctx, &reports, `SELECT `+reportColumns+reportFrom+` WHERE r.reporter_email_bidx = $1
		ORDER BY r.created_at, r.id`+forUpdate, bidx)
	if err != nil {
		return nil, err
	}
	d := &PersonalData{Leads: make([]*Lead, len(leads)), Reports: make([]*ListingReport, len(reports))}
	for i, r := range leads {
		if d.Leads[i], err = r.open(s.keys); err != nil {
			return nil, err
		}
	}
	for i, r := range reports {
		if d.Reports[i], err = r.open(s.keys); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// PersonalDataCorrection is a correction of the personal data held under one
// email. A nil field is kept; Phone or Company pointing at "" is cleared.
// BuyerName, Phone and Company apply to leads; Email to leads and reports.
type PersonalDataCorrection struct {
	BuyerName *string
	Email     *string
	Phone     *string
	Company   *string
}

// CorrectionCounts says how many rows a correction rewrote.
type CorrectionCounts struct {
	// Leads are the leads under the email (all are rewritten when any field
	// changes); Reports the reports whose reporter email changed.
	Leads, Reports int
}

// CorrectPersonalData applies c to every lead and report held under email
// (re-sealed under the current key; a new email gets its own blind index, so
// the rows are then found under it) and records a privacy.correct audit
// event naming the fields changed, never their values, in the same
// transaction. EINTERNAL-class errors only.
func (s *Store) CorrectPersonalData(ctx context.Context, email string, c PersonalDataCorrection) (CorrectionCounts, error) {
	bidx := s.keys.BlindIndex(email)
	tx, err := s.db.onPrimary().beginScoped(ctx, everything, nil)
	if err != nil {
		return CorrectionCounts{}, err
	}
	defer tx.Rollback()
	d, err := s.personalData(ctx, tx, bidx, true)
	if err != nil {
		return CorrectionCounts{}, err
	}
	var ids []string
	var blobs, bidxs, dedupeKeys [][]byte
	for _, l := range d.Leads {
		p := LeadPII{BuyerName: l.BuyerName, Email: l.Email, Phone: l.Phone, Company: l.Company, Message: l.Message}
		set(&p.BuyerName, c.BuyerName)
		set(&p.Email, c.Email)
		setOrClear(&p.Phone, c.Phone)
		setOrClear(&p.Company, c.Company)
		blob, _, b, err := SealLeadPII(s.keys, p)
		if err != nil {
			return CorrectionCounts{}, err
		}
		ids, blobs, bidxs = append(ids, l.ID), append(blobs, blob), append(bidxs, b)
		dedupeKeys = append(dedupeKeys, leadDedupeKey(s.keys, p.Email, l.SellerID, l.ListingID, p.Message))
	}
	counts := CorrectionCounts{Leads: len(ids)}
	if len(ids) > 0 {
		// The dedupe key follows the email: no trace of the old one stays.
		_, err = tx.ExecContext(ctx, `UPDATE leads d SET pii = u.blob, pii_key_id = $1, email_bidx = u.bidx, dedupe_key = u.dedupe_key
			FROM unnest($2::uuid[], $3::bytea[], $4::bytea[], $5::bytea[]) AS u(id, blob, bidx, dedupe_key) WHERE d.id = u.id`,
			s.keys.CurrentKeyID(), pq.Array(ids), pq.Array(blobs), pq.Array(bidxs), pq.Array(dedupeKeys))
		if err != nil {
			return CorrectionCounts{}, err
		}
	}
	if c.Email != nil && len(d.Reports) > 0 {
		blob, keyID, b, err := SealReporterEmail(s.keys, *c.Email)
		if err != nil {
			return CorrectionCounts{}, err
		}
		// One sealed value serves every row: they hold the same email,
		// which their shared blind index shows anyway.
		res, err := tx.ExecContext(ctx, `UPDATE listing_reports SET reporter_pii = $1, reporter_key_id = $2, reporter_email_bidx = $3
			WHERE reporter_email_bidx = $4`, blob, keyID, b, bidx)
		if err != nil {
			return CorrectionCounts{}, err
		}
		n, _ := res.RowsAffected()
		counts.Reports = int(n)
	}
	changes := map[string]any{"leads": counts.Leads, "reports": counts.Reports, "fields": c.fields()}
	if c.Email != nil {
		changes["newTargetId"] = hex.EncodeToString(s.keys.BlindIndex(*c.Email))
	}
	err = s.Audit(ctx, tx, AuditEntry{Action: AuditPrivacyCorrect, TargetType: "email", TargetID: hex.EncodeToString(bidx), Changes: changes})
	if err != nil {
		return CorrectionCounts{}, err
	}
	return counts, tx.Commit()
}

// fields names the fields c changes, in a fixed order.
func (c PersonalDataCorrection) fields() []string {
	var out []string
	for _, f := range []struct {
		name string
		v    *string
	}{{"buyerName", c.BuyerName}, {"email", c.Email}, {"phone", c.Phone}, {"company", c.Company}} {
		if f.v != nil {
			out = append(out, f.name)
		}
	}
	return out
}

// set replaces *dst by *v when v is not nil.
func set(dst *string, v *string) {
	if v != nil {
		*dst = *v
	}
}

// setOrClear replaces *dst by v when v is not nil, clearing it for "".
func setOrClear(dst **string, v *string) {
	switch {
	case v == nil:
	case *v == "":
		*dst = nil
	default:
		s := *v
		*dst = &s
	}
}

// ErasureCounts says how many rows an erasure or a retention run anonymised.
type ErasureCounts struct {
	Leads, Reports int
}

// ErasePersonalData anonymises every lead and report held under email: their
// personal data are deleted (the lead's name, email and message then read
// Erased), what is not personal (seller, listing, status, dates, counts)
// stays. It records a privacy.erase audit event in the same transaction. A
// second erasure finds nothing and answers zero counts. EINTERNAL-class
// errors only.
func (s *Store) ErasePersonalData(ctx context.Context, email string) (ErasureCounts, error) {
	bidx := s.keys.BlindIndex(email)
	tx, err := s.db.onPrimary().beginScoped(ctx, everything, nil)
	if err != nil {
		return ErasureCounts{}, err
	}
	defer tx.Rollback()
	var c ErasureCounts
	if c.Leads, err = execCount(ctx, tx, `UPDATE leads SET `+anonymizeLead+` WHERE email_bidx = $1`, bidx); err != nil {
		return ErasureCounts{}, err
	}
	if c.Reports, err = execCount(ctx, tx, `UPDATE listing_reports SET `+anonymizeReport+` WHERE reporter_email_bidx = $1`, bidx); err != nil {
		return ErasureCounts{}, err
	}
	err = s.Audit(ctx, tx, AuditEntry{Action: AuditPrivacyErase, TargetType: "email", TargetID: hex.EncodeToString(bidx),
		Changes: map[string]any{"anonymizedLeads": c.Leads, "anonymizedReports": c.Reports}})
	if err != nil {
		return ErasureCounts{}, err
	}
	return c, tx.Commit()
}

// execCount runs a statement in tx and returns how many rows it affected.
func execCount(ctx context.Context, tx *sqlx.Tx, q string, args ...any) (int, error) {
	res, err := tx.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}
