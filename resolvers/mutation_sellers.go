package resolvers

import (
	"context"
	"errors"
	"regexp"
	"strings"

	"github.com/partsmarket/gateway/graph/model"
	"github.com/partsmarket/gateway/internal/access"
	"github.com/partsmarket/gateway/store"
)

// Limits of a seller profile.
const (
	maxContacts  = 20
	maxLocations = 20
)

func (r *mutationResolver) CreateSeller(ctx context.Context, input model.CreateSellerInput) (*model.CreateSellerPayload, error) {
	n, err := newSeller(ctx, input)
	if err != nil {
		return nil, err
	}
	s, err := r.createSeller(ctx, n, r.Store.CreateSeller)
	if err != nil {
		return nil, inInput(err)
	}
	return &model.CreateSellerPayload{Seller: s}, nil
}

// newSeller checks a CreateSellerInput; BAD_USER_INPUT names the fields.
func newSeller(ctx context.Context, input model.CreateSellerInput) (store.NewSeller, error) {
	var c check
	n := store.NewSeller{
		CompanyName: c.required("input.companyName", input.CompanyName, 200),
		Description: c.optional("input.description", input.Description, 5000),
		Website:     c.optional("input.website", input.Website, 2048),
		Contacts:    contacts(&c, input.Contacts),
		Locations:   locations(&c, input.Locations),
	}
	c.webURL("input.website", n.Website)
	if slug := c.optional("input.slug", input.Slug, 60); slug != nil {
		if !slugPattern.MatchString(*slug) {
			c.errs.Add("input.slug", "must be lower-case letters, digits and single dashes")
		}
		n.Slug = *slug
	}
	return n, fail(ctx, c.errs.Err())
}

// createSeller stores n with create. Without a slug it makes one from the
// company name, and tries the next free one when a concurrent request took
// it first.
func (r *mutationResolver) createSeller(ctx context.Context, n store.NewSeller, create func(context.Context, store.NewSeller) (*store.Seller, error)) (*store.Seller, error) {
	if n.Slug != "" {
		return create(ctx, n)
	}
	for attempt := 0; ; attempt++ {
		slug, err := r.Store.FreeSlug(ctx, slugify(n.CompanyName))
		if err != nil {
			return nil, err
		}
		n.Slug = slug
		s, err := create(ctx, n)
		var se *store.Error
		if attempt < 10 && errors.As(err, &se) && se.Field == "slug" {
			continue
		}
		return s, err
	}
}

func (r *mutationResolver) UpdateSellerProfile(ctx context.Context, id string, input model.UpdateSellerProfileInput) (*model.UpdateSellerProfilePayload, error) {
	if !access.FromContext(ctx).Manages(id) {
		return nil, store.NotFound("seller")
	}
	var c check
	p := store.SellerProfile{
		Description: c.patch("input.description", input.Description, 5000),
		Website:     c.patch("input.website", input.Website, 2048),
	}
	if input.CompanyName != nil {
		name := c.required("input.companyName", *input.CompanyName, 200)
		p.CompanyName = &name
	}
	c.webURL("input.website", p.Website)
	p.NotificationEmail = c.patch("input.notificationEmail", input.NotificationEmail, 254)
	if p.NotificationEmail != nil {
		c.email("input.notificationEmail", *p.NotificationEmail)
	}
	p.NotificationsMuted = input.NotificationsMuted
	if input.Contacts != nil {
		cs := contacts(&c, input.Contacts)
		p.Contacts = &cs
	}
	if input.Locations != nil {
		ls := locations(&c, input.Locations)
		p.Locations = &ls
	}
	if err := c.errs.Err(); err != nil {
		return nil, fail(ctx, err)
	}
	s, err := r.Store.UpdateSellerProfile(ctx, id, p)
	if err != nil {
		return nil, err
	}
	return &model.UpdateSellerProfilePayload{Seller: s}, nil
}

func (r *mutationResolver) SetSellerStatus(ctx context.Context, id string, status store.SellerStatus) (*model.SetSellerStatusPayload, error) {
	s, err := r.Store.SetSellerStatus(ctx, id, status)
	if err != nil {
		return nil, err
	}
	return &model.SetSellerStatusPayload{Seller: s}, nil
}

func (r *mutationResolver) VerifySeller(ctx context.Context, id string, notes *string) (*model.VerifySellerPayload, error) {
	var c check
	n := c.optional("notes", notes, 5000)
	if err := c.errs.Err(); err != nil {
		return nil, fail(ctx, err)
	}
	s, err := r.Store.VerifySeller(ctx, id, n)
	if err != nil {
		return nil, err
	}
	return &model.VerifySellerPayload{Seller: s}, nil
}

// SetSellerInternalNotes replaces the admins' notes on a seller (ADMIN by
// the schema); BAD_USER_INPUT for notes over 5,000 characters, NOT_FOUND for
// an unknown seller.
func (r *mutationResolver) SetSellerInternalNotes(ctx context.Context, id string, notes string) (*model.SetSellerInternalNotesPayload, error) {
	var c check
	n := c.patch("notes", &notes, 5000)
	if err := c.errs.Err(); err != nil {
		return nil, fail(ctx, err)
	}
	s, err := r.Store.SetSellerInternalNotes(ctx, id, *n)
	if err != nil {
		return nil, err
	}
	return &model.SetSellerInternalNotesPayload{Seller: s}, nil
}

// contacts checks a list of contact inputs.
func contacts(c *check, in []*model.SellerContactInput) []store.NewContact {
	c.maxItems("input.contacts", len(in), maxContacts)
	out := make([]store.NewContact, len(in))
	for i, ci := range in {
		field := "input.contacts." + itoa(i)
		out[i] = store.NewContact{Kind: ci.Kind, Value: c.required(field+".value", ci.Value, 254), Label: c.optional(field+".label", ci.Label, 50)}
		switch ci.Kind {
		case store.ContactEmail:
			c.email(field+".value", out[i].Value)
		default:
			c.phone(field+".value", &out[i].Value)
		}
	}
	return out
}

// locations checks a list of location inputs.
func locations(c *check, in []*model.SellerLocationInput) []store.NewLocation {
	c.maxItems("input.locations", len(in), maxLocations)
	out := make([]store.NewLocation, len(in))
	for i, li := range in {
		field := "input.locations." + itoa(i)
		out[i] = store.NewLocation{
			City:       c.required(field+".city", li.City, 100),
			Region:     c.optional(field+".region", li.Region, 100),
			PostalCode: c.optional(field+".postalCode", li.PostalCode, 20),
		}
		country := strings.TrimSpace(li.Country)
		out[i].Country = *c.code(field+".country", &country, countryCode, "an ISO 3166-1 alpha-2 country code")
	}
	return out
}

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

// slugify makes a slug from a company name ("Acme Parts, Inc." becomes
// "acme-parts-inc").
func slugify(name string) string {
	s := strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(name), "-"), "-")
	if len(s) > 50 {
		s = strings.Trim(s[:50], "-")
	}
	if s == "" {
		return "seller"
	}
	return s
}
