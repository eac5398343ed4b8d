package resolvers

import (
	"context"
	"strings"

	"github.com/partsmarket/gateway/graph/model"
	"github.com/partsmarket/gateway/internal/abuse"
	"github.com/partsmarket/gateway/internal/access"
	"github.com/partsmarket/gateway/store"
)

// maxLeadMessage bounds a lead's message, in characters.
const maxLeadMessage = 5000

// SubmitLead stores a buyer's inquiry before it answers. Ids of listings or
// sellers the public cannot see get the same answer as ids that do not
// exist; a filled honeypot stores the lead as SPAM and answers as usual; the
// same lead sent again within 24 hours answers the first lead's id.
func (r *mutationResolver) SubmitLead(ctx context.Context, input model.SubmitLeadInput) (*model.SubmitLeadPayload, error) {
	var c check
	n := store.NewLead{
		BuyerName:     c.required("input.buyerName", input.BuyerName, 200),
		Email:         c.required("input.email", input.Email, 254),
		Phone:         c.optional("input.phone", input.Phone, 40),
		Company:       c.optional("input.company", input.Company, 200),
		Message:       c.required("input.message", input.Message, maxLeadMessage),
		BuyerLocation: c.optional("input.buyerLocation", input.BuyerLocation, 200),
		Timeline:      c.optional("input.timeline", input.Timeline, 200),
		SourcePage:    c.optional("input.sourcePage", input.SourcePage, 2048),
		Status:        store.LeadNew,
	}
	c.email("input.email", n.Email)
	c.phone("input.phone", n.Phone)
	if err := r.leadTarget(ctx, &c, &n, c.id(input.ListingID), c.id(input.SellerID)); err != nil {
		return nil, err
	}
	if err := c.errs.Err(); err != nil {
		return nil, fail(ctx, err)
	}
	// Abuse checks, cheapest first: the rate limits (after validation, so
	// bad input costs nothing; before the CAPTCHA, so a bot over its limit
	// costs no provider call), then the CAPTCHA. Every attempt that gets
	// here counts, honeypot hits and repeats of a stored lead included.
	if r.Limiter != nil {
		if err := r.Limiter.Lead(ctx, abuse.ClientIP(ctx), n.Email); err != nil {
			return nil, err
		}
	}
	if err := r.Captcha.Verify(ctx, deref(input.CaptchaToken), abuse.ClientIP(ctx)); err != nil {
		return nil, err
	}
	if strings.TrimSpace(deref(input.Website)) != "" {
		n.Status = store.LeadSpam
	}
	id, err := r.Store.CreateLead(ctx, n)
	if err != nil {
		return nil, err
	}
	return &model.SubmitLeadPayload{LeadID: id}, nil
}

// leadTarget sets the lead's listing and seller from the input's ids, which
// must name a public listing or seller; it returns only database failures.
func (r *mutationResolver) leadTarget(ctx context.Context, c *check, n *store.NewLead, listingID, sellerID *string) error {
	public := store.Scope{}
	switch {
	case listingID != nil:
		l, err := r.Store.Listing(ctx, public, *listingID)
		if err != nil {
			return c.notFound(err, "input.listingId", "no such listing")
		}
		if sellerID != nil && *sellerID != l.SellerID {
			c.errs.Add("input.sellerId", "is not the listing's seller")
		}
		n.ListingID, n.SellerID = &l.ID, l.SellerID
	case sellerID != nil:
		s, err := r.Store.Seller(ctx, public, *sellerID)
		if err != nil {
			return c.notFound(err, "input.sellerId", "no such seller")
		}
		n.SellerID = s.ID
	default:
		c.errs.Add("input.listingId", "a listingId or a sellerId is required")
	}
	return nil
}

// UpdateLeadStatus moves a lead in its seller's workflow (see leadMoves),
// recording who moved it and when. The store checks the move on the locked
// lead, so a seller cannot race a lead out of SPAM.
func (r *mutationResolver) UpdateLeadStatus(ctx context.Context, id string, status store.LeadStatus) (*model.UpdateLeadStatusPayload, error) {
	p := access.FromContext(ctx)
	if _, err := r.Store.Lead(ctx, p.Scope(), id); err != nil {
		return nil, err
	}
	l, err := r.Store.SetLeadStatus(ctx, id, status, store.Actor{ID: p.Subject, Role: string(p.Role)}, leadMove(p))
	if err != nil {
		return nil, err
	}
	return &model.UpdateLeadStatusPayload{Lead: l}, nil
}

// ReportListing stores a report about a public listing.
func (r *mutationResolver) ReportListing(ctx context.Context, input model.ReportListingInput) (*model.ReportListingPayload, error) {
	var c check
	n := store.NewReport{
		ListingID:     input.ListingID,
		Reason:        input.Reason,
		Details:       c.optional("input.details", input.Details, 2000),
		ReporterEmail: c.optional("input.reporterEmail", input.ReporterEmail, 254),
	}
	if n.ReporterEmail != nil {
		c.email("input.reporterEmail", *n.ReporterEmail)
	}
	if _, err := r.Store.Listing(ctx, store.Scope{}, input.ListingID); err != nil {
		if err := c.notFound(err, "input.listingId", "no such listing"); err != nil {
			return nil, err
		}
	}
	if err := c.errs.Err(); err != nil {
		return nil, fail(ctx, err)
	}
	// Abuse checks as in SubmitLead: the per-IP and per-email report
	// limits, then the CAPTCHA.
	if r.Limiter != nil {
		if err := r.Limiter.Report(ctx, abuse.ClientIP(ctx), deref(n.ReporterEmail)); err != nil {
			return nil, err
		}
	}
	if err := r.Captcha.Verify(ctx, deref(input.CaptchaToken), abuse.ClientIP(ctx)); err != nil {
		return nil, err
	}
	id, err := r.Store.CreateReport(ctx, n)
	if err != nil {
		return nil, err
	}
	return &model.ReportListingPayload{ReportID: id}, nil
}

func (r *mutationResolver) ResolveReport(ctx context.Context, id string, action model.ReportAction, note *string) (*model.ResolveReportPayload, error) {
	var c check
	n := c.optional("note", note, 2000)
	if err := c.errs.Err(); err != nil {
		return nil, fail(ctx, err)
	}
	rep, err := r.Store.ResolveReport(ctx, id, action == model.ReportActionRemoveListing, n, access.FromContext(ctx).Subject)
	if err != nil {
		return nil, err
	}
	return &model.ResolveReportPayload{Report: rep}, nil
}
