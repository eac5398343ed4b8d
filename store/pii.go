package store

import (
	"encoding/json"
	"fmt"

	"github.com/partsmarket/gateway/internal/pii"
)

// Additional data that binds a sealed value to its column, so a value copied
// into another column does not open.
var (
	leadPIIAAD         = []byte("leads.pii")
	reportPIIAAD       = []byte("listing_reports.reporter_pii")
	notificationPIIAAD = []byte("sellers.notification_email_pii")
)

// Erased is what an anonymised lead shows instead of the buyer's name, email
// and message (its phone and company become null), and an anonymised report
// instead of its reporter's email.
const Erased = "[erased]"

// LeadPII is the personal data of a lead's buyer: what leads.pii holds,
// sealed, as JSON.
type LeadPII struct {
	BuyerName string  `json:"buyerName"`
	Email     string  `json:"email"`
	Phone     *string `json:"phone,omitempty"`
	Company   *string `json:"company,omitempty"`
	Message   string  `json:"message"`
}

// emailPII is a sealed email address as JSON: what
// listing_reports.reporter_pii, sellers.notification_email_pii and the
// members' and invitations' email_pii hold.
type emailPII struct {
	Email string `json:"email"`
}

// SealLeadPII returns the values of a lead's sealed columns for p under k:
// pii (p as JSON, AES-256-GCM under k's current key), pii_key_id and
// email_bidx (the blind index of p.Email). Bulk loaders (COPY) write these
// three columns as they are; the store reads them back with the same
// keyring. It fails only when the system's random source does.
func SealLeadPII(k *pii.Keyring, p LeadPII) (blob []byte, keyID string, emailBidx []byte, err error) {
	plain, err := json.Marshal(p)
	if err != nil {
		return nil, "", nil, err
	}
	blob, keyID, err = k.Seal(plain, leadPIIAAD)
	if err != nil {
		return nil, "", nil, err
	}
	return blob, keyID, k.BlindIndex(p.Email), nil
}

// SealReporterEmail returns the values of a report's sealed reporter
// columns for email under k: reporter_pii (sealed JSON), reporter_key_id and
// reporter_email_bidx. A report without an email has NULL in all three. Bulk
// loaders (COPY) write them as they are. It fails only when the system's
// random source does.
func SealReporterEmail(k *pii.Keyring, email string) (blob []byte, keyID string, emailBidx []byte, err error) {
	blob, keyID, err = sealEmail(k, email, reportPIIAAD)
	if err != nil {
		return nil, "", nil, err
	}
	return blob, keyID, k.BlindIndex(email), nil
}

// sealNotificationEmail returns a seller's sealed notification email and its
// key id.
func sealNotificationEmail(k *pii.Keyring, email string) ([]byte, string, error) {
	return sealEmail(k, email, notificationPIIAAD)
}

// sealEmail seals email as JSON under k's current key, bound to aad.
func sealEmail(k *pii.Keyring, email string, aad []byte) ([]byte, string, error) {
	return sealJSON(k, emailPII{Email: email}, aad)
}

// sealReporter returns the sealed columns of a report's reporter email as
// query arguments: all NULL when there is none.
func sealReporter(k *pii.Keyring, email *string) (blob, keyID, emailBidx any, err error) {
	if email == nil {
		return nil, nil, nil, nil
	}
	return SealReporterEmail(k, *email)
}

// sealedLead is a lead as read from the database: its personal data still
// sealed.
type sealedLead struct {
	Lead
	PII      []byte  `db:"pii"`
	PIIKeyID *string `db:"pii_key_id"`
}

// open decrypts the lead's personal data into its Lead; an anonymised lead
// gets the Erased placeholders. A key that is unknown or wrong is an
// internal error naming the lead, never garbage.
func (r *sealedLead) open(k *pii.Keyring) (*Lead, error) {
	l := &r.Lead
	if r.PII == nil || r.PIIKeyID == nil {
		l.BuyerName, l.Email, l.Phone, l.Company, l.Message = Erased, Erased, nil, nil, Erased
		return l, nil
	}
	p, err := openLeadPII(k, *r.PIIKeyID, r.PII)
	if err != nil {
		return nil, fmt.Errorf("store: lead %s: %w", l.ID, err)
	}
	l.BuyerName, l.Email, l.Phone, l.Company, l.Message = p.BuyerName, p.Email, p.Phone, p.Company, p.Message
	return l, nil
}

// openLeadPII decrypts and decodes a lead's sealed personal data.
func openLeadPII(k *pii.Keyring, keyID string, blob []byte) (LeadPII, error) {
	var p LeadPII
	plain, err := k.Open(keyID, blob, leadPIIAAD)
	if err != nil {
		return p, err
	}
	if err := json.Unmarshal(plain, &p); err != nil {
		return p, fmt.Errorf("pii: sealed lead data is not JSON")
	}
	return p, nil
}

// sealedReport is a report as read from the database: its reporter's email
// still sealed.
type sealedReport struct {
	ListingReport
	ReporterPII   []byte  `db:"reporter_pii"`
	ReporterKeyID *string `db:"reporter_key_id"`
}

// open decrypts the reporter's email into the report; an anonymised report
// gets the Erased placeholder, a report without an email none.
func (r *sealedReport) open(k *pii.Keyring) (*ListingReport, error) {
	rep := &r.ListingReport
	switch {
	case r.ReporterPII != nil && r.ReporterKeyID != nil:
		e, err := openReporterEmail(k, *r.ReporterKeyID, r.ReporterPII)
		if err != nil {
			return nil, fmt.Errorf("store: report %s: %w", rep.ID, err)
		}
		rep.ReporterEmail = &e
	case rep.AnonymizedAt != nil:
		e := Erased
		rep.ReporterEmail = &e
	default:
		rep.ReporterEmail = nil
	}
	return rep, nil
}

// openReporterEmail decrypts and decodes a reporter's sealed email.
func openReporterEmail(k *pii.Keyring, keyID string, blob []byte) (string, error) {
	return openEmail(k, keyID, blob, reportPIIAAD)
}

// openNotificationEmail decrypts and decodes a seller's sealed notification
// email.
func openNotificationEmail(k *pii.Keyring, keyID string, blob []byte) (string, error) {
	return openEmail(k, keyID, blob, notificationPIIAAD)
}

// openEmail decrypts and decodes an email sealed by sealEmail with aad.
func openEmail(k *pii.Keyring, keyID string, blob []byte, aad []byte) (string, error) {
	var p emailPII
	err := openJSON(k, keyID, blob, aad, &p)
	return p.Email, err
}
