package seed

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"
)

// listing is one seeded listing of a catalog part by a seller.
type listing struct {
	id             string
	seller         *seller
	location       *location
	part           *part
	title          string
	description    string
	sku            string
	condition      string
	quantity       *int
	priceLabel     *string
	priceCents     *int64
	currency       *string
	status         string
	removal        *removal // set when REMOVED
	moderationNote *string
	createdAt      time.Time
	updatedAt      time.Time
}

// public reports whether anyone may see the listing.
func (l *listing) public() bool { return l.status == "ACTIVE" && l.seller.public() }

// Status mixes of listings by the standing of their seller.
var (
	activeSellerStatuses = []weight{
		{"ACTIVE", 80}, {"DRAFT", 5}, {"PAUSED", 5}, {"SOLD", 8}, {"REMOVED", 2},
	}
	pendingSellerStatuses   = []weight{{"DRAFT", 80}, {"ACTIVE", 20}}
	suspendedSellerStatuses = []weight{{"ACTIVE", 50}, {"PAUSED", 20}, {"REMOVED", 30}}
)

// conditions are the condition mixes by class of part.
var conditions = map[partClass][]weight{
	stock:   {{"NEW", 1}},
	rebuild: {{"NEW", 30}, {"USED", 35}, {"REMANUFACTURED", 25}, {"FOR_PARTS", 10}},
	plain:   {{"NEW", 40}, {"USED", 50}, {"FOR_PARTS", 10}},
}

// conditionPrice is the share of the new price a part fetches in a condition.
var conditionPrice = map[string]float64{"NEW": 1, "REMANUFACTURED": 0.65, "USED": 0.45, "FOR_PARTS": 0.15}

// exchangeRates converts US dollars into a seller's currency.
var exchangeRates = map[string]float64{"USD": 1, "CAD": 1.37, "GBP": 0.79, "EUR": 0.92}

// Price labels: instead of a price, or next to one.
var (
	noPriceLabels = []string{"Call for price", "Call for price", "Make offer", "Price on request", "Call for quote"}
	corePriceNote = "Plus core charge"
	usedPriceNote = "OBO"
)

// removal is why a listing was removed: the reason its seller sees and the
// report reason that typically leads to it.
type removal struct {
	reason string
	report string
}

// Moderation of removed listings: reasons and the notes only admins see.
var (
	removals = []removal{
		{"Suspected counterfeit: brand markings do not match the manufacturer's.", "SCAM"},
		{"Duplicate of another listing by the same seller.", "DUPLICATE"},
		{"Part number in the title does not match the part in the photos.", "WRONG_INFO"},
		{"Misleading price: a mandatory core charge was left out.", "WRONG_INFO"},
		{"Offensive language in the description.", "OFFENSIVE"},
		{"Listing offered a complete machine, not a part.", "OTHER"},
	}
	moderationNotes = []string{
		"Removed after a buyer report; seller notified by email.",
		"Checked against the OEM catalog; the number belongs to a different part.",
		"Second removal for this seller this quarter.",
		"Seller agreed to relist with correct photos.",
	}
)

// Phrases of listing descriptions.
var (
	conditionSentences = map[string][]string{
		"NEW": {
			"New genuine %s part in the original packaging.",
			"New old stock from a dealer buyout; box shows some shelf wear.",
			"Brand new %s part, never installed.",
		},
		"USED": {
			"Pulled from a running machine with %d hours; tested before removal.",
			"Used, in good working condition. Removed at %d hours during an engine swap.",
			"Good used part from a machine we dismantled at %d hours.",
		},
		"REMANUFACTURED": {
			"Remanufactured to OEM specification with a %d-month warranty.",
			"Rebuilt in house, bench tested, %d-month warranty. Core return required.",
		},
		"FOR_PARTS": {
			"Sold as-is for parts or rebuild. Housing is intact; internals not inspected.",
			"Core only, for rebuilders. Sold as-is, no returns.",
		},
	}
	fitSentences = []string{
		"%s part number %s, fits %s and similar models.",
		"Part number %[2]s (%[1]s). Fits %[3]s.",
		"Replaces %s %s. Confirmed fit on %s; ask about other models.",
	}
	shippingSentences = []string{
		"Ships same day from %s when ordered before 2 pm.",
		"Local pickup available at our %s yard.",
		"Freight quotes on request; we ship from %s.",
		"Can be palletised and shipped from %s within one business day.",
	}
	extraSentences = []string{
		"Please confirm your serial number before ordering.",
		"Volume pricing available for fleets.",
		"Photos are of the actual part.",
		"Cross-reference numbers available on request.",
		"",
		"",
	}
	conditionWords = map[string]string{"NEW": "New", "USED": "Used", "REMANUFACTURED": "Reman", "FOR_PARTS": "Core / For Parts"}
)

// makeListings returns listingTarget listings spread over the sellers by
// their share, so that a few sellers own most of them.
func makeListings(r *rand.Rand, now time.Time, sellers []*seller, catalog []*part) []*listing {
	counts := listingCounts(sellers)
	var listings []*listing
	for i, s := range sellers {
		for j := range counts[i] {
			l := makeListing(r, now, s, catalog, len(listings), j)
			listings = append(listings, l)
		}
	}
	return listings
}

// listingCounts splits listingTarget over the sellers by their share; the
// first seller takes what rounding leaves over.
func listingCounts(sellers []*seller) []int {
	total := 0.0
	for _, s := range sellers {
		total += s.share
	}
	counts := make([]int, len(sellers))
	left := listingTarget
	for i, s := range sellers {
		counts[i] = int(math.Round(listingTarget * s.share / total))
		left -= counts[i]
	}
	counts[0] += left
	return counts
}

// makeListing builds listing number n overall, the j-th of seller s.
func makeListing(r *rand.Rand, now time.Time, s *seller, catalog []*part, n, j int) *listing {
	p := pickPart(r, s, catalog)
	l := &listing{
		id:       id("listing/%d", n),
		seller:   s,
		location: pickLocation(r, s),
		part:     p,
		sku:      fmt.Sprintf("%s-%05d", s.skuPrefix, j+1),
		currency: &s.currency,
	}
	l.condition = pickCondition(r, p.kind)
	l.status = pickListingStatus(r, s)
	l.setQuantity(r)
	l.setPrice(r)
	l.title = listingTitle(r, l)
	l.description = listingDescription(r, l)
	start := now.Add(-days(listingHistory))
	if s.createdAt.After(start) {
		start = s.createdAt
	}
	l.createdAt = randomTime(r, start, now)
	l.updatedAt = l.createdAt
	if l.status != "ACTIVE" || chance(r, 0.3) {
		l.updatedAt = randomTime(r, l.createdAt, now)
	}
	if l.status == "REMOVED" {
		l.removal = &removals[r.IntN(len(removals))]
		l.moderationNote = ptr(pick(r, moderationNotes))
	}
	return l
}

// pickPart returns the catalog part a listing offers: often one of the
// seller's brands, often a popular part, otherwise anything.
func pickPart(r *rand.Rand, s *seller, catalog []*part) *part {
	switch {
	case chance(r, 0.5):
		b := pick(r, s.brands)
		for range 50 {
			if p := pick(r, catalog); p.brand == b {
				return p
			}
		}
		return pick(r, catalog)
	case chance(r, 0.3):
		return catalog[r.IntN(popularParts)]
	default:
		return pick(r, catalog)
	}
}

// pickLocation returns the yard a listing is at, usually the seller's main one.
func pickLocation(r *rand.Rand, s *seller) *location {
	if chance(r, 0.6) {
		return s.locations[0]
	}
	return pick(r, s.locations)
}

// pickCondition returns the condition of a listed part of kind.
func pickCondition(r *rand.Rand, kind *partType) string {
	return weighted(r, conditions[kind.class])
}

// pickListingStatus returns a listing's status, by its seller's standing.
func pickListingStatus(r *rand.Rand, s *seller) string {
	switch s.status {
	case "PENDING":
		return weighted(r, pendingSellerStatuses)
	case "SUSPENDED":
		return weighted(r, suspendedSellerStatuses)
	default:
		return weighted(r, activeSellerStatuses)
	}
}

// setQuantity sets how many are in stock: dozens of bulk items, usually one
// of anything else, none once sold, sometimes not stated.
func (l *listing) setQuantity(r *rand.Rand) {
	switch {
	case l.status == "SOLD":
		l.quantity = ptr(0)
	case chance(r, 0.05):
		l.quantity = nil
	case l.part.kind.class == stock:
		l.quantity = ptr(between(r, 1, 48))
	case chance(r, 0.15):
		l.quantity = ptr(between(r, 2, 4))
	default:
		l.quantity = ptr(1)
	}
}

// setPrice sets the price in the seller's currency, or a label such as
// "Call for price" instead (more often for big-ticket parts).
func (l *listing) setPrice(r *rand.Rand) {
	usd := float64(l.part.listUSD) * conditionPrice[l.condition] * (0.85 + 0.3*r.Float64())
	if chance(r, 0.06) || (usd > 3000 && chance(r, 0.25)) {
		l.priceLabel = ptr(pick(r, noPriceLabels))
		return
	}
	l.priceCents = ptr(roundPrice(usd * exchangeRates[l.seller.currency]))
	switch {
	case l.condition == "REMANUFACTURED" && chance(r, 0.35):
		l.priceLabel = ptr(corePriceNote)
	case l.condition == "USED" && chance(r, 0.1):
		l.priceLabel = ptr(usedPriceNote)
	}
}

// roundPrice turns an amount into cents the way sellers price: x.99 below
// 100, whole multiples of 5 above.
func roundPrice(amount float64) int64 {
	if amount < 100 {
		return int64(math.Max(math.Floor(amount), 1))*100 - 1
	}
	return int64(math.Round(amount/5)) * 5 * 100
}

// listingTitle writes a title the way sellers do, in one of a few styles.
func listingTitle(r *rand.Rand, l *listing) string {
	p := l.part
	switch r.IntN(4) {
	case 0:
		return fmt.Sprintf("%s %s %s", p.brand.name, p.number, p.kind.name)
	case 1:
		return fmt.Sprintf("%s %s %s for %s", p.brand.name, p.kind.name, p.number, p.fits)
	case 2:
		return fmt.Sprintf("%s %s %s - %s", conditionWords[l.condition], p.brand.name, p.kind.name, p.number)
	default:
		return fmt.Sprintf("%s %s fits %s", p.kind.name, p.number, p.fits)
	}
}

// listingDescription writes two to four sentences about condition, fit,
// shipping and whatever else a seller tends to add.
func listingDescription(r *rand.Rand, l *listing) string {
	p := l.part
	sentences := []string{
		conditionSentence(r, l),
		fmt.Sprintf(pick(r, fitSentences), p.brand.name, p.number, p.fits),
		fmt.Sprintf(pick(r, shippingSentences), l.location.city.name),
	}
	if extra := pick(r, extraSentences); extra != "" {
		sentences = append(sentences, extra)
	}
	return strings.Join(sentences, " ")
}

// conditionSentence describes the condition of the listed part.
func conditionSentence(r *rand.Rand, l *listing) string {
	s := pick(r, conditionSentences[l.condition])
	switch l.condition {
	case "NEW":
		if strings.Contains(s, "%s") {
			return fmt.Sprintf(s, l.part.brand.name)
		}
		return s
	case "USED":
		return fmt.Sprintf(s, between(r, 8, 140)*100)
	case "REMANUFACTURED":
		return fmt.Sprintf(s, pick(r, []int{6, 12, 12, 24}))
	default:
		return s
	}
}

// media is one photo of a listing.
type media struct {
	id       string
	listing  *listing
	url      string
	altText  string
	position int
}

// photoViews describe the photos of a listing, in order.
var photoViews = []string{"", "part number tag", "side view"}

// makeMedia gives most listings one to three photos.
func makeMedia(r *rand.Rand, listings []*listing) []*media {
	var ms []*media
	for _, l := range listings {
		if chance(r, 0.15) {
			continue
		}
		for pos := range between(r, 1, 3) {
			alt := l.title
			if photoViews[pos] != "" {
				alt = fmt.Sprintf("%s %s %s, %s", l.part.brand.name, l.part.kind.name, l.part.number, photoViews[pos])
			}
			ms = append(ms, &media{
				id:       id("media/%s/%d", l.id, pos),
				listing:  l,
				url:      fmt.Sprintf("https://images.example.com/parts/%s/%d.jpg", l.id, pos+1),
				altText:  alt,
				position: pos,
			})
		}
	}
	return ms
}
