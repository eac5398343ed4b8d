package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
)

// The gateway's documents. Each asks for what a page shows; PostGraphile's
// twin below asks for the same fields through its own schema.
const (
	// gatewayPage is the listing page: the 20 newest public listings with
	// their seller (name, verified, yards) and photos.
	gatewayPage = `query Page($first: Int!) {
  listings(first: $first) {` + gatewayPageNodes + `
  }
}`
	// gatewayRegion is the listing page filtered by the listing's region.
	gatewayRegion = `query RegionPage($region: String!, $first: Int!) {
  listings(filter: {region: $region}, first: $first) {` + gatewayPageNodes + `
  }
}`
	// gatewayPageNodes is what both listing pages select on their listings.
	gatewayPageNodes = `
    nodes {
      id title partNumber brand condition priceCents currency priceLabel createdAt
      seller { id companyName verified locations { id city region country } }
      media { id url altText }
    }`
	// gatewayDetail is the listing's own page: the listing, all its photos,
	// its seller with contacts and yards, and the seller's newest listings
	// (seven: the page shows six besides this one) with their photos.
	gatewayDetail = `query Detail($id: ID!, $more: Int!) {
  listing(id: $id) {
    id title description partNumber brand category condition quantity priceLabel priceCents currency createdAt updatedAt
    media { id url altText position contentType }
    seller {
      id slug companyName description website verified
      contacts { kind value label }
      locations { id city region country postalCode }
      listings(first: $more) { nodes { id title priceCents currency priceLabel condition media { id url altText } } }
    }
  }
}`
)

// PostGraphile's documents, over the functions of postgraphile.sql and the
// relations amber derives from the foreign keys. It names the tables of
// the schema public PublicListing, PublicSeller and so on, as it exposes
// two schemas; rowId is a table's id column, id its global node id.
const (
	pgPage = `query Page($first: Int!) {
  visibleListings(first: $first) {` + pgPageNodes + `
  }
}`
	pgRegion = `query RegionPage($region: String!, $first: Int!) {
  visibleListingsInRegion(region: $region, first: $first) {` + pgPageNodes + `
  }
}`
	// pgPageNodes is what both listing pages select on their listings.
	pgPageNodes = `
    nodes {
      rowId title partNumber brand condition priceCents currency priceLabel createdAt
      publicSellerBySellerId {
        rowId companyName verified
        publicSellerLocationsBySellerId(orderBy: [POSITION_ASC, CREATED_AT_ASC]) { nodes { rowId city region country } }
      }
      publicMediasByListingId(orderBy: [POSITION_ASC, CREATED_AT_ASC]) { nodes { rowId url altText } }
    }`
	pgDetail = `query Detail($id: UUID!, $more: Int!) {
  visibleListing(id: $id) {
    rowId title description partNumber brand category condition quantity priceLabel priceCents currency createdAt updatedAt
    publicMediasByListingId(orderBy: [POSITION_ASC, CREATED_AT_ASC]) { nodes { rowId url altText position contentType } }
    publicSellerBySellerId {
      rowId slug companyName description website verified
      publicSellerContactsBySellerId(orderBy: [POSITION_ASC, CREATED_AT_ASC]) { nodes { kind value label } }
      publicSellerLocationsBySellerId(orderBy: [POSITION_ASC, CREATED_AT_ASC]) { nodes { rowId city region country postalCode } }
      visibleListings(first: $more) {
        nodes {
          rowId title priceCents currency priceLabel condition
          publicMediasByListingId(orderBy: [POSITION_ASC, CREATED_AT_ASC]) { nodes { rowId url altText } }
        }
      }
    }
  }
}`
)

// Page sizes: the listing page's and the seller's more listings on the
// detail page.
const (
	pageSize = 20
	moreSize = 7
)

// side is one of the servers compared.
type side int

const (
	gateway side = iota
	postgraphile
)

// query is one of the compared pages: each side's document, and the
// parameters the load draws from.
type query struct {
	name, title string
	docs        [2]string // by side
	// params are the values of the query's parameter (the check walks
	// through all of them), weights how often the load draws each (nil:
	// equally often); vars makes the variables of one.
	params  []string
	weights []float64
	vars    func(p string) map[string]any
}

// bodies returns side's request body for each of q's parameters.
func (q query) bodies(s side) [][]byte {
	out := make([][]byte, len(q.params))
	for i, p := range q.params {
		b, err := json.Marshal(map[string]any{"query": q.docs[s], "variables": q.vars(p)})
		if err != nil {
			panic(err) // strings and ints always marshal
		}
		out[i] = b
	}
	return out
}

// picker returns a function drawing the index of one of q's parameters,
// as often as its weight says.
func (q query) picker() func(r *rand.Rand) int {
	if q.weights == nil {
		return func(r *rand.Rand) int { return r.IntN(len(q.params)) }
	}
	total := 0.0
	for _, w := range q.weights {
		total += w
	}
	return func(r *rand.Rand) int {
		x := r.Float64() * total
		for i, w := range q.weights {
			if x < w {
				return i
			}
			x -= w
		}
		return len(q.weights) - 1
	}
}

// queries returns the page, region and detail queries over the regions
// (with their weights) and the detail ids.
func queries(regions []string, weights []float64, ids []string) []query {
	return []query{
		{name: "page", title: "listing page: 20 newest public listings, seller {companyName verified locations}, media",
			docs: [2]string{gatewayPage, pgPage}, params: []string{""},
			vars: func(string) map[string]any { return map[string]any{"first": pageSize} }},
		{name: "region", title: fmt.Sprintf("the same page, filter {region} (%d regions, weighted as bench/gen's workload)", len(regions)),
			docs: [2]string{gatewayRegion, pgRegion}, params: regions, weights: weights,
			vars: func(p string) map[string]any { return map[string]any{"first": pageSize, "region": p} }},
		{name: "detail", title: fmt.Sprintf("detail: listing, seller, contacts, locations, all media, %d more listings of the seller (%d ids)", moreSize-1, len(ids)),
			docs: [2]string{gatewayDetail, pgDetail}, params: ids,
			vars: func(p string) map[string]any { return map[string]any{"id": p, "more": moreSize} }},
	}
}

// row is a listing as the check compares it, whichever side answered.
type row struct {
	ID, Title, Price, Seller string
	// Locations and Media are ids (media with their URLs), in order;
	// Contacts are "KIND value label".
	Locations, Contacts, Media []string
	// More are the seller's newest public listings (detail only).
	More []row
}

// The answers of each side, as JSON decodes them.
type (
	gwListing struct {
		ID, Title  string
		PriceCents json.Number
		Seller     *struct {
			ID        string
			Locations []struct{ ID string }
			Contacts  []struct {
				Kind, Value string
				Label       *string
			}
			Listings struct{ Nodes []gwListing }
		}
		Media []struct{ ID, URL string }
	}
	gwAnswer struct {
		Listings struct{ Nodes []gwListing }
		Listing  *gwListing
	}
	pgListing struct {
		RowID, Title           string
		PriceCents             json.Number
		PublicSellerBySellerID *struct {
			RowID                           string
			PublicSellerLocationsBySellerID struct{ Nodes []struct{ RowID string } }
			PublicSellerContactsBySellerID  struct {
				Nodes []struct {
					Kind, Value string
					Label       *string
				}
			}
			VisibleListings struct{ Nodes []pgListing }
		}
		PublicMediasByListingID struct{ Nodes []struct{ RowID, URL string } }
	}
	pgAnswer struct {
		VisibleListings         *struct{ Nodes []pgListing }
		VisibleListingsInRegion *struct{ Nodes []pgListing }
		VisibleListing          *pgListing
	}
)

func (l gwListing) row() row {
	r := row{ID: l.ID, Title: l.Title, Price: l.PriceCents.String()}
	for _, m := range l.Media {
		r.Media = append(r.Media, m.ID+" "+m.URL)
	}
	if s := l.Seller; s != nil {
		r.Seller = s.ID
		for _, x := range s.Locations {
			r.Locations = append(r.Locations, x.ID)
		}
		for _, c := range s.Contacts {
			r.Contacts = append(r.Contacts, contact(c.Kind, c.Value, c.Label))
		}
		for _, m := range s.Listings.Nodes {
			r.More = append(r.More, m.row())
		}
	}
	return r
}

func (l pgListing) row() row {
	r := row{ID: l.RowID, Title: l.Title, Price: l.PriceCents.String()}
	for _, m := range l.PublicMediasByListingID.Nodes {
		r.Media = append(r.Media, m.RowID+" "+m.URL)
	}
	if s := l.PublicSellerBySellerID; s != nil {
		r.Seller = s.RowID
		for _, x := range s.PublicSellerLocationsBySellerID.Nodes {
			r.Locations = append(r.Locations, x.RowID)
		}
		for _, c := range s.PublicSellerContactsBySellerID.Nodes {
			r.Contacts = append(r.Contacts, contact(c.Kind, c.Value, c.Label))
		}
		for _, m := range s.VisibleListings.Nodes {
			r.More = append(r.More, m.row())
		}
	}
	return r
}

// contact formats a contact for the comparison.
func contact(kind, value string, label *string) string {
	if label == nil {
		return kind + " " + value
	}
	return kind + " " + value + " " + *label
}

// rows reads a side's answer (the data member of a GraphQL response) into
// the rows the check compares: a page's listings, or the one listing of a
// detail page (none when it was not found).
func rows(s side, data json.RawMessage) ([]row, error) {
	var out []row
	if s == gateway {
		var a gwAnswer
		if err := json.Unmarshal(data, &a); err != nil {
			return nil, err
		}
		for _, l := range a.Listings.Nodes {
			out = append(out, l.row())
		}
		if a.Listing != nil {
			out = append(out, a.Listing.row())
		}
		return out, nil
	}
	var a pgAnswer
	if err := json.Unmarshal(data, &a); err != nil {
		return nil, err
	}
	for _, c := range []*struct{ Nodes []pgListing }{a.VisibleListings, a.VisibleListingsInRegion} {
		if c != nil {
			for _, l := range c.Nodes {
				out = append(out, l.row())
			}
		}
	}
	if a.VisibleListing != nil {
		out = append(out, a.VisibleListing.row())
	}
	return out, nil
}

// diff describes the first difference between the gateway's rows and
// PostGraphile's, "" when they are the same.
func diff(gw, pg []row) string {
	if len(gw) != len(pg) {
		return fmt.Sprintf("the gateway returned %d listings, PostGraphile %d", len(gw), len(pg))
	}
	for i := range gw {
		if d := diffRow(gw[i], pg[i]); d != "" {
			return fmt.Sprintf("listing %d (%s): %s", i, gw[i].ID, d)
		}
	}
	return ""
}

// diffRow describes the first difference between two rows.
func diffRow(a, b row) string {
	fields := []struct {
		name string
		x, y []string
	}{
		{"id, title, price, seller", []string{a.ID, a.Title, a.Price, a.Seller}, []string{b.ID, b.Title, b.Price, b.Seller}},
		{"seller locations", a.Locations, b.Locations},
		{"seller contacts", a.Contacts, b.Contacts},
		{"media", a.Media, b.Media},
	}
	for _, f := range fields {
		if strings.Join(f.x, "\n") != strings.Join(f.y, "\n") {
			return fmt.Sprintf("%s differ: gateway %q, PostGraphile %q", f.name, f.x, f.y)
		}
	}
	if d := diff(a.More, b.More); d != "" {
		return "the seller's listings: " + d
	}
	return ""
}
