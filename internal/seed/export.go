package seed

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Catalog is the demo data's catalog of parts, for bulk generators outside
// this package (bench/gen) that want the same realistic titles,
// descriptions, conditions and prices as the demo marketplace.
type Catalog struct {
	parts []*part
}

// NewCatalog returns the demo catalog: the same parts, in the same order,
// every time. The parts at the head of the list are the well-known ones.
func NewCatalog() *Catalog {
	return &Catalog{parts: makeCatalog(newRand(2))}
}

// Len returns the number of parts in the catalog.
func (c *Catalog) Len() int { return len(c.parts) }

// CatalogPart describes one part of the catalog.
type CatalogPart struct {
	// Brand is its maker, e.g. "Caterpillar".
	Brand string
	// Number is the maker's part number, e.g. "1R-0750".
	Number string
	// Category is the listing category, e.g. "Filters".
	Category string
	// Kind is what it is, e.g. "Fuel Filter".
	Kind string
	// MachineModel is the model of a machine it fits, e.g. "320D".
	MachineModel string
}

// Part returns the i-th part of the catalog.
func (c *Catalog) Part(i int) CatalogPart {
	p := c.parts[i]
	return CatalogPart{Brand: p.brand.name, Number: p.number, Category: p.kind.category, Kind: p.kind.name,
		MachineModel: p.fits.model}
}

// CatalogListing is a listing of a catalog part as a seller would write it.
type CatalogListing struct {
	// Title is the listing's title, in one of a few styles sellers use.
	Title string
	// Description is two to four sentences on condition, fit and shipping.
	Description string
	// Condition is NEW, USED, REMANUFACTURED or FOR_PARTS.
	Condition string
	// Quantity is nil when not stated.
	Quantity *int
	// PriceLabel is free text such as "Call for price"; nil when none.
	PriceLabel *string
	// PriceCents is nil when the listing has a label instead of a price.
	PriceCents *int64
}

// Listing writes a listing of the i-th part, in stock at a yard in
// cityName, priced in currency (USD, CAD, GBP or EUR) and in the given
// status (a SOLD listing has quantity 0), drawing its random choices from r.
func (c *Catalog) Listing(r *rand.Rand, i int, cityName, currency, status string) CatalogListing {
	l := &listing{
		seller:   &seller{currency: currency, status: "ACTIVE"},
		location: &location{city: city{name: cityName}},
		part:     c.parts[i],
		currency: &currency,
		status:   status,
	}
	l.condition = pickCondition(r, l.part.kind)
	l.setQuantity(r)
	l.setPrice(r)
	l.title = listingTitle(r, l)
	l.description = listingDescription(r, l)
	return CatalogListing{Title: l.title, Description: l.description, Condition: l.condition,
		Quantity: l.quantity, PriceLabel: l.priceLabel, PriceCents: l.priceCents}
}

// CatalogCity is a place where sellers have yards.
type CatalogCity struct {
	// Name, Region (state, province or county), Country (ISO 3166-1
	// alpha-2) and PostalCode locate a yard.
	Name, Region, Country, PostalCode string
	// Dial is the country and area code of local phone numbers, e.g. "+1 713".
	Dial string
	// Currency is the currency of prices there (ISO 4217).
	Currency string
}

// Cities returns the cities of the demo sellers' yards, grouped by region.
func Cities() []CatalogCity {
	out := make([]CatalogCity, len(cities))
	for i, c := range cities {
		out[i] = CatalogCity{Name: c.name, Region: c.region, Country: c.country, PostalCode: c.postal, Dial: c.dial,
			Currency: currencies[c.country]}
	}
	return out
}

// Slugify turns a company name into a slug such as "lone-star-heavy-parts".
func Slugify(name string) string { return slugify(name) }

// SKUPrefix returns the upper-case initials of a company name, e.g. "LSHP",
// as the demo sellers use in front of their SKUs.
func SKUPrefix(name string) string { return strings.ToUpper(initials(name)) }

// SellerDescription returns a description of seller name, based in the
// city home, in the words of the demo sellers' descriptions, drawn from r.
func SellerDescription(r *rand.Rand, name, home string) string {
	return fmt.Sprintf("%s has supplied %s to %s from %s since %d.", name, pick(r, sellerSpecialties),
		pick(r, sellerCustomers), home, between(r, 1962, 2016))
}
