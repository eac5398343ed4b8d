package resolvers

import (
	"context"
	"encoding/json"
	"time"

	"github.com/partsmarket/gateway/graph/model"
	"github.com/partsmarket/gateway/internal/access"
	"github.com/partsmarket/gateway/internal/pii"
	"github.com/partsmarket/gateway/store"
)

// Privacy requests (GDPR articles 15 to 17): an admin exports, corrects or
// erases everything held under one email. Each is audited in its own
// transaction, naming the email only by its blind index.

// eventsNote says why an export lists no events.
const eventsNote = "Events (listing views and contact clicks) record a session id and a keyed hash of the client IP, " +
	"never an email, so no event can be linked to this email."

// personalDataDocument is the document exportPersonalData returns.
type personalDataDocument struct {
	Email      string           `json:"email"`
	ExportedAt time.Time        `json:"exportedAt"`
	Leads      []exportedLead   `json:"leads"`
	Reports    []exportedReport `json:"reports"`
	Events     []struct{}       `json:"events"`
	Notes      []string         `json:"notes"`
}

// exportedLead is one lead of an export.
type exportedLead struct {
	ID            string           `json:"id"`
	SellerID      string           `json:"sellerId"`
	ListingID     *string          `json:"listingId"`
	BuyerName     string           `json:"buyerName"`
	Email         string           `json:"email"`
	Phone         *string          `json:"phone"`
	Company       *string          `json:"company"`
	Message       string           `json:"message"`
	BuyerLocation *string          `json:"buyerLocation"`
	Timeline      *string          `json:"timeline"`
	SourcePage    *string          `json:"sourcePage"`
	Status        store.LeadStatus `json:"status"`
	CreatedAt     time.Time        `json:"createdAt"`
}

// exportedReport is one report of an export.
type exportedReport struct {
	ID            string             `json:"id"`
	ListingID     string             `json:"listingId"`
	Reason        store.ReportReason `json:"reason"`
	Details       *string            `json:"details"`
	ReporterEmail *string            `json:"reporterEmail"`
	Status        store.ReportStatus `json:"status"`
	CreatedAt     time.Time          `json:"createdAt"`
	ResolvedAt    *time.Time         `json:"resolvedAt"`
}

// privacyEmail checks the email argument of a privacy request.
func privacyEmail(ctx context.Context, c *check, email string) (string, error) {
	if access.FromContext(ctx).Role != access.RoleAdmin {
		return "", store.Errorf(store.EFORBIDDEN, "not allowed to access this field")
	}
	e := c.required("email", email, 254)
	c.email("email", e)
	return e, nil
}

// onlyPrivacyEmail checks the email of a privacy request that has no other
// argument, failing with its field error.
func onlyPrivacyEmail(ctx context.Context, email string) (string, error) {
	var c check
	e, err := privacyEmail(ctx, &c, email)
	if err != nil {
		return "", err
	}
	if err := c.errs.Err(); err != nil {
		return "", fail(ctx, err)
	}
	return e, nil
}

// ExportPersonalData returns every lead and report held under email (any
// case) as one JSON document.
func (r *mutationResolver) ExportPersonalData(ctx context.Context, email string) (*model.PersonalDataExport, error) {
	e, err := onlyPrivacyEmail(ctx, email)
	if err != nil {
		return nil, err
	}
	d, err := r.Store.ExportPersonalData(ctx, e)
	if err != nil {
		return nil, err
	}
	doc := personalDataDocument{Email: pii.NormalizeEmail(e), ExportedAt: time.Now().UTC(),
		Leads: []exportedLead{}, Reports: []exportedReport{}, Events: []struct{}{}, Notes: []string{eventsNote}}
	for _, l := range d.Leads {
		doc.Leads = append(doc.Leads, exportedLead{ID: l.ID, SellerID: l.SellerID, ListingID: l.ListingID,
			BuyerName: l.BuyerName, Email: l.Email, Phone: l.Phone, Company: l.Company, Message: l.Message,
			BuyerLocation: l.BuyerLocation, Timeline: l.Timeline, SourcePage: l.SourcePage, Status: l.Status, CreatedAt: l.CreatedAt})
	}
	for _, rep := range d.Reports {
		doc.Reports = append(doc.Reports, exportedReport{ID: rep.ID, ListingID: rep.ListingID, Reason: rep.Reason,
			Details: rep.Details, ReporterEmail: rep.ReporterEmail, Status: rep.Status, CreatedAt: rep.CreatedAt, ResolvedAt: rep.ResolvedAt})
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	return &model.PersonalDataExport{Email: doc.Email, Document: b}, nil
}

// CorrectPersonalData corrects the personal data held under email; fields
// left out are kept, an empty phone or company is cleared.
func (r *mutationResolver) CorrectPersonalData(ctx context.Context, email string, changes model.PersonalDataChanges) (*model.CorrectPersonalDataPayload, error) {
	var c check
	e, err := privacyEmail(ctx, &c, email)
	if err != nil {
		return nil, err
	}
	var fix store.PersonalDataCorrection
	if changes.BuyerName != nil {
		v := c.required("changes.buyerName", *changes.BuyerName, 200)
		fix.BuyerName = &v
	}
	if changes.Email != nil {
		v := c.required("changes.email", *changes.Email, 254)
		c.email("changes.email", v)
		fix.Email = &v
	}
	fix.Phone = c.patch("changes.phone", changes.Phone, 40)
	if fix.Phone != nil && *fix.Phone != "" {
		c.phone("changes.phone", fix.Phone)
	}
	fix.Company = c.patch("changes.company", changes.Company, 200)
	if fix == (store.PersonalDataCorrection{}) {
		c.errs.Add("changes", "at least one field is required")
	}
	if err := c.errs.Err(); err != nil {
		return nil, fail(ctx, err)
	}
	n, err := r.Store.CorrectPersonalData(ctx, e, fix)
	if err != nil {
		return nil, err
	}
	return &model.CorrectPersonalDataPayload{UpdatedLeads: n.Leads, UpdatedReports: n.Reports}, nil
}

// ErasePersonalData anonymises every lead and report held under email;
// erasing again answers zero counts.
func (r *mutationResolver) ErasePersonalData(ctx context.Context, email string) (*model.ErasePersonalDataPayload, error) {
	e, err := onlyPrivacyEmail(ctx, email)
	if err != nil {
		return nil, err
	}
	n, err := r.Store.ErasePersonalData(ctx, e)
	if err != nil {
		return nil, err
	}
	return &model.ErasePersonalDataPayload{AnonymizedLeads: n.Leads, AnonymizedReports: n.Reports}, nil
}
