package seed

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// buyer is the (fictional) person behind a lead.
type buyer struct {
	name     string
	email    string
	phone    *string
	company  *string
	location *string
}

// Buyers' names, companies and whereabouts.
var (
	firstNames = []string{
		"James", "Maria", "Robert", "Linda", "Michael", "Patricia", "David", "Jennifer", "Carlos", "Susan",
		"Daniel", "Karen", "Jose", "Nancy", "Kevin", "Lisa", "Brian", "Angela", "Tyler", "Heather",
		"Wei", "Priya", "Dustin", "Megan", "Luis", "Rachel", "Travis", "Amanda", "Hank", "Colleen",
	}
	lastNames = []string{
		"Smith", "Johnson", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez", "Wilson", "Anderson", "Taylor",
		"Thomas", "Moore", "Jackson", "Martin", "Lee", "Thompson", "White", "Harris", "Clark", "Lewis",
		"Nguyen", "Walker", "Hall", "Young", "King", "Wright", "Schultz", "Kowalski", "Olsen", "MacDonald",
	}
	buyerCompanies = []string{
		"Ridgeline Excavating", "Mesa Farms", "Big Sky Aggregates", "Hollow Creek Logging", "Iron Horse Paving",
		"Red River Dirtworks", "Northgate Rentals", "Prairie Wind Ag", "Summit Site Services", "Blue Ridge Quarry",
		"Twin Pines Contracting", "Lakeshore Utilities", "Copper Basin Mining", "Sandhill Farms", "Keystone Demolition",
	}
	buyerCities = []string{
		"Tulsa, OK", "Billings, MT", "Fargo, ND", "Lincoln, NE", "Boise, ID", "Reno, NV", "Little Rock, AR",
		"Wichita, KS", "Des Moines, IA", "Shreveport, LA", "Knoxville, TN", "Regina, SK", "Saskatoon, SK",
		"Winnipeg, MB", "Kamloops, BC", "Houston, TX", "Peoria, IL", "Fresno, CA", "Columbus, OH", "Calgary, AB",
	}
	buyerAreaCodes = []string{"+1 918", "+1 406", "+1 701", "+1 402", "+1 208", "+1 775", "+1 501", "+1 316", "+1 306", "+1 204"}
	emailDomains   = []string{"example.com", "example.org"}
)

// Lead wording.
var (
	timelines = []string{"ASAP", "This week", "This week", "Within a month", "Within a month", "Just researching"}
	// Messages about a listing: %[1]s is the part number, %[2]s the kind of
	// part, %[3]s the machine it fits.
	listingMessages = []string{
		"Is the %[1]s still available? What's your best price?",
		"What's your best price on the %[2]s? We have a %[3]s down and need it this week.",
		"Can you confirm the %[1]s fits a %[3]s? Serial number is on the plate if you need it.",
		"Interested in the %[2]s. Could you send more photos of the part number tag?",
		"Is the price negotiable if I take two? Need them for a %[3]s.",
	}
	// Messages about a rebuildable part, same arguments.
	coreMessages = []string{
		"Do you charge a core on this %[2]s? I can send my old unit back.",
		"Has the %[2]s been tested? Any warranty on it?",
	}
	// Messages that name where the buyer is: %[1]s the part number, %[2]s the place.
	shippingMessages = []string{
		"Hi, is the %[1]s still available? I need it shipped to %[2]s.",
		"Do you ship to %[2]s? Please quote freight on the %[1]s.",
	}
	// Messages to a seller in general: %[1]s a kind of part, %[2]s a machine.
	generalMessages = []string{
		"Looking for a %[1]s for a %[2]s. Do you have one in stock or can you source it?",
		"Do you have an account program for contractors? We buy filters every month.",
		"Need a quote on a %[1]s for a %[2]s, new or good used.",
		"Do you buy machines for parts? We are retiring a %[2]s.",
	}
	spamMessages = []string{
		"Boost your parts store with our SEO package! Reply today for a free audit.",
		"We buy heavy equipment for cash, any condition. Call now for an instant offer!!!",
		"Congratulations, your business was selected for a free premium listing upgrade. Click to claim.",
	}
	// Lead statuses of leads older than a couple of days; newer ones are
	// mostly still NEW.
	settledLeadStatuses = []weight{
		{"NEW", 15}, {"CONTACTED", 25}, {"QUALIFIED", 20}, {"WON", 15}, {"LOST", 15}, {"SPAM", 10},
	}
	freshLeadStatuses = []weight{{"NEW", 80}, {"CONTACTED", 12}, {"SPAM", 8}}
)

// lead is one buyer inquiry, about a listing or to a seller in general.
type lead struct {
	id         string
	seller     *seller
	listing    *listing // nil for a general inquiry
	buyer      buyer
	message    string
	timeline   *string
	sourcePage string
	status     string
	createdAt  time.Time
	updatedAt  time.Time
}

// makeLeads returns leads on public listings and a few general inquiries to
// ACTIVE sellers.
func makeLeads(r *rand.Rand, now time.Time, sellers []*seller, listings []*listing) []*lead {
	public := filter(listings, (*listing).public)
	active := filter(sellers, (*seller).public)
	var leads []*lead
	for range listingLeads {
		l := pick(r, public)
		leads = append(leads, makeLead(r, now, len(leads), l.seller, l, l.createdAt))
	}
	for range generalLeads {
		s := pick(r, active)
		leads = append(leads, makeLead(r, now, len(leads), s, nil, now.Add(-days(listingHistory))))
	}
	return leads
}

// makeLead builds lead number n to s, about l when l is not nil, sent
// after since.
func makeLead(r *rand.Rand, now time.Time, n int, s *seller, l *listing, since time.Time) *lead {
	ld := &lead{
		id:        id("lead/%d", n),
		seller:    s,
		listing:   l,
		buyer:     makeBuyer(r),
		timeline:  maybe(r, 0.8, pick(r, timelines)),
		createdAt: randomTime(r, since, now),
	}
	if now.Sub(ld.createdAt) < days(3) {
		ld.status = weighted(r, freshLeadStatuses)
	} else {
		ld.status = weighted(r, settledLeadStatuses)
	}
	ld.updatedAt = ld.createdAt
	if ld.status != "NEW" {
		ld.updatedAt = randomTime(r, ld.createdAt, minTime(now, ld.createdAt.Add(days(5))))
	}
	ld.message, ld.sourcePage = leadMessage(r, ld)
	return ld
}

// leadMessage writes what the buyer said and the page they said it on.
func leadMessage(r *rand.Rand, ld *lead) (message, page string) {
	switch {
	case ld.status == "SPAM":
		ld.buyer.company, ld.timeline = nil, nil
		msg := pick(r, spamMessages)
		if ld.listing != nil {
			return msg, "/listings/" + ld.listing.id
		}
		return msg, "/sellers/" + ld.seller.slug
	case ld.listing != nil:
		return listingMessage(r, ld.listing.part, ld.buyer.location), "/listings/" + ld.listing.id
	default:
		kind := pick(r, partTypes)
		msg := fmt.Sprintf(pick(r, generalMessages), strings.ToLower(kind.name), pick(r, machines))
		return msg, "/sellers/" + ld.seller.slug
	}
}

// listingMessage writes a buyer's question about p; a buyer who said where
// they are may ask about shipping there.
func listingMessage(r *rand.Rand, p *part, where *string) string {
	kind := strings.ToLower(p.kind.name)
	switch {
	case where != nil && chance(r, 0.3):
		return fmt.Sprintf(pick(r, shippingMessages), p.number, *where)
	case p.kind.class == rebuild && chance(r, 0.3):
		return fmt.Sprintf(pick(r, coreMessages), p.number, kind, p.fits)
	default:
		return fmt.Sprintf(pick(r, listingMessages), p.number, kind, p.fits)
	}
}

// makeBuyer invents a buyer with an example.com or example.org address and
// a 555 phone number.
func makeBuyer(r *rand.Rand) buyer {
	first, last := pick(r, firstNames), pick(r, lastNames)
	local := strings.ToLower(first + "." + last)
	if chance(r, 0.4) {
		local = strings.ToLower(first[:1]+last) + partNumber(r, "##")
	}
	return buyer{
		name:     first + " " + last,
		email:    local + "@" + pick(r, emailDomains),
		phone:    maybe(r, 0.7, phone(r, pick(r, buyerAreaCodes))),
		company:  maybe(r, 0.6, pick(r, buyerCompanies)),
		location: maybe(r, 0.7, pick(r, buyerCities)),
	}
}

// minTime returns the earlier of a and b.
func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// report is one report of a listing to the moderators.
type report struct {
	id             string
	listing        *listing
	reason         string
	details        *string
	reporterEmail  *string
	status         string
	resolutionNote *string
	resolvedBy     *string
	createdAt      time.Time
	resolvedAt     *time.Time
}

// Report wording.
var (
	reportDetails = map[string][]string{
		"SCAM": {
			"Seller asked for payment by gift card before shipping.",
			"Same photos are on another site with a different phone number.",
		},
		"WRONG_INFO": {
			"Part number in the title does not match the tag in the photos.",
			"Listed as new but the photos show a used core.",
		},
		"ALREADY_SOLD": {
			"Called the seller; they said it sold last month.",
			"Seller told me this went to another buyer weeks ago.",
		},
		"DUPLICATE": {"Same part listed three times by this seller."},
		"OFFENSIVE": {"Description insults other sellers by name."},
		"OTHER": {
			"Price seems to be in the wrong currency.",
			"Listing is for a complete machine, not a part.",
		},
	}
	openReasons    = []weight{{"WRONG_INFO", 30}, {"ALREADY_SOLD", 25}, {"SCAM", 15}, {"DUPLICATE", 15}, {"OTHER", 10}, {"OFFENSIVE", 5}}
	dismissalNotes = map[string]string{
		"SCAM":         "Seller verified by phone; payment is by card or invoice only.",
		"WRONG_INFO":   "Part number verified against the manufacturer's catalog.",
		"ALREADY_SOLD": "Seller confirmed the part is still in stock.",
		"DUPLICATE":    "Not a duplicate: different serial numbers.",
		"OFFENSIVE":    "Description reviewed; nothing offensive found.",
		"OTHER":        "Checked with the seller; the listing is accurate.",
	}
	actionNotes = []string{
		"Listing removed; seller notified.",
		"Confirmed with the seller and removed the listing.",
		"Removed after checking with the seller; reporter thanked.",
	}
	resolver = "demo-admin"
)

// Number of reports by outcome.
const (
	actionedReports  = 10
	dismissedReports = 10
	openReports      = 20
)

// makeReports returns reports that led to the removal of removed listings,
// reports that were dismissed and reports still open, all on distinct
// listings.
func makeReports(r *rand.Rand, now time.Time, listings []*listing) []*report {
	var removed, public []*listing
	for _, l := range listings {
		switch {
		case l.status == "REMOVED":
			removed = append(removed, l)
		case l.public():
			public = append(public, l)
		}
	}
	var reports []*report
	add := func(l *listing, reason, status string) {
		reports = append(reports, makeReport(r, now, len(reports), l, reason, status))
	}
	for _, l := range spread(removed, actionedReports) {
		add(l, l.removal.report, "ACTIONED")
	}
	targets := spread(public, dismissedReports+openReports)
	for i, l := range targets {
		status := "OPEN"
		if i < dismissedReports {
			status = "DISMISSED"
		}
		add(l, weighted(r, openReasons), status)
	}
	return reports
}

// makeReport builds report number n about l.
func makeReport(r *rand.Rand, now time.Time, n int, l *listing, reason, status string) *report {
	rp := &report{
		id:            id("report/%d", n),
		listing:       l,
		reason:        reason,
		details:       maybe(r, 0.85, pick(r, reportDetails[reason])),
		reporterEmail: maybe(r, 0.6, makeBuyer(r).email),
		status:        status,
		createdAt:     randomTime(r, l.createdAt, now),
	}
	if status == "OPEN" {
		return rp
	}
	resolved := randomTime(r, rp.createdAt, minTime(now, rp.createdAt.Add(days(4))))
	rp.resolvedAt, rp.resolvedBy = &resolved, &resolver
	if status == "ACTIONED" {
		rp.resolutionNote = ptr(pick(r, actionNotes))
		l.updatedAt = resolved // the removal
	} else {
		rp.resolutionNote = ptr(dismissalNotes[reason])
	}
	return rp
}

// spread returns n listings evenly spaced through ls (all of them if there
// are fewer), so reports fall on different sellers.
func spread(ls []*listing, n int) []*listing {
	if len(ls) <= n {
		return ls
	}
	out := make([]*listing, n)
	for i := range out {
		out[i] = ls[i*len(ls)/n]
	}
	return out
}
