package seed

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"time"
)

// city is a place where a seller has a yard or a buyer lives.
type city struct {
	name    string
	region  string // state, province or county
	country string // ISO 3166-1 alpha-2
	postal  string
	dial    string // country and area code of local phone numbers
}

// cities lists every seller location, grouped by region.
var cities = []city{
	{"Houston", "TX", "US", "77029", "+1 713"},
	{"Odessa", "TX", "US", "79761", "+1 432"},
	{"Dallas", "TX", "US", "75212", "+1 214"},
	{"San Antonio", "TX", "US", "78219", "+1 210"},
	{"Amarillo", "TX", "US", "79107", "+1 806"},
	{"Beaumont", "TX", "US", "77705", "+1 409"},
	{"Columbus", "OH", "US", "43207", "+1 614"},
	{"Toledo", "OH", "US", "43605", "+1 419"},
	{"Dayton", "OH", "US", "45404", "+1 937"},
	{"Akron", "OH", "US", "44306", "+1 330"},
	{"Cincinnati", "OH", "US", "45216", "+1 513"},
	{"Fresno", "CA", "US", "93725", "+1 559"},
	{"Bakersfield", "CA", "US", "93308", "+1 661"},
	{"Sacramento", "CA", "US", "95815", "+1 916"},
	{"Stockton", "CA", "US", "95206", "+1 209"},
	{"Riverside", "CA", "US", "92507", "+1 951"},
	{"Salinas", "CA", "US", "93901", "+1 831"},
	{"Atlanta", "GA", "US", "30336", "+1 404"},
	{"Macon", "GA", "US", "31206", "+1 478"},
	{"Savannah", "GA", "US", "31408", "+1 912"},
	{"Augusta", "GA", "US", "30906", "+1 706"},
	{"Valdosta", "GA", "US", "31601", "+1 229"},
	{"Tacoma", "WA", "US", "98421", "+1 253"},
	{"Spokane", "WA", "US", "99216", "+1 509"},
	{"Yakima", "WA", "US", "98901", "+1 509"},
	{"Pasco", "WA", "US", "99301", "+1 509"},
	{"Everett", "WA", "US", "98203", "+1 425"},
	{"Peoria", "IL", "US", "61604", "+1 309"},
	{"Moline", "IL", "US", "61265", "+1 309"},
	{"Rockford", "IL", "US", "61109", "+1 815"},
	{"Joliet", "IL", "US", "60436", "+1 815"},
	{"Decatur", "IL", "US", "62526", "+1 217"},
	{"Champaign", "IL", "US", "61822", "+1 217"},
	{"Hamilton", "ON", "CA", "L8L 4Z3", "+1 905"},
	{"London", "ON", "CA", "N6N 1E8", "+1 519"},
	{"Sudbury", "ON", "CA", "P3A 4R7", "+1 705"},
	{"Mississauga", "ON", "CA", "L5T 2N7", "+1 905"},
	{"Thunder Bay", "ON", "CA", "P7B 6B9", "+1 807"},
	{"Edmonton", "AB", "CA", "T6E 5V2", "+1 780"},
	{"Calgary", "AB", "CA", "T2C 2X5", "+1 403"},
	{"Red Deer", "AB", "CA", "T4P 3V2", "+1 403"},
	{"Fort McMurray", "AB", "CA", "T9H 5C5", "+1 780"},
	{"Grande Prairie", "AB", "CA", "T8V 6H2", "+1 780"},
	{"Birmingham", "West Midlands", "GB", "B6 7EU", "+44 121"},
	{"Leeds", "West Yorkshire", "GB", "LS10 1LN", "+44 113"},
	{"Peterborough", "Cambridgeshire", "GB", "PE1 5YF", "+44 1733"},
	{"Hamburg", "Hamburg", "DE", "20539", "+49 40"},
	{"Duisburg", "Nordrhein-Westfalen", "DE", "47059", "+49 203"},
	{"Bremen", "Bremen", "DE", "28197", "+49 421"},
}

// currencies maps a seller's country to the currency of its prices.
var currencies = map[string]string{"US": "USD", "CA": "CAD", "GB": "GBP", "DE": "EUR"}

// Standing of a seller in sellerSpecs.
const (
	verified   = iota // ACTIVE and verified
	unverified        // ACTIVE, verification still to do
	pending           // PENDING: signed up, not yet approved
	suspended         // SUSPENDED by an admin
)

// sellerSpec describes one seeded seller: its name, the city of its main
// yard, its standing and its share of the listings (1 is typical).
type sellerSpec struct {
	name     string
	city     string
	standing int
	share    float64
}

// sellerSpecs are the seeded sellers. The first must stay ACTIVE: Run checks
// for its id to tell whether the seed already ran.
var sellerSpecs = []sellerSpec{
	{"Lone Star Heavy Parts", "Houston", verified, 12},
	{"Buckeye Diesel & Hydraulic", "Columbus", verified, 10},
	{"Central Valley Ag Parts", "Fresno", verified, 8},
	{"Cascade Equipment Parts", "Tacoma", verified, 7},
	{"Permian Diesel Supply", "Odessa", verified, 1.5},
	{"Brazos Equipment Salvage", "Dallas", suspended, 1},
	{"Alamo Tractor & Implement Parts", "San Antonio", verified, 1.2},
	{"Panhandle Hydraulics", "Amarillo", verified, 1},
	{"Gulf Coast Undercarriage", "Beaumont", verified, 1.3},
	{"Maumee Valley Tractor Parts", "Toledo", verified, 1},
	{"Gem City Rebuilders", "Dayton", verified, 1.4},
	{"Summit Engine Exchange", "Akron", pending, 0.2},
	{"Kern County Equipment Salvage", "Bakersfield", verified, 2},
	{"Sierra Fuel Injection", "Sacramento", verified, 1},
	{"Delta Heavy Equipment Parts", "Stockton", verified, 1.1},
	{"Inland Empire Filters", "Riverside", pending, 0.2},
	{"Peach State Machinery Parts", "Atlanta", verified, 1.8},
	{"Ocmulgee Tractor Salvage", "Macon", suspended, 0.8},
	{"Coastal Georgia Hydraulics", "Savannah", verified, 0.9},
	{"Augusta Diesel Electric", "Augusta", verified, 0.8},
	{"Inland Northwest Tractor", "Spokane", verified, 1.2},
	{"Yakima Valley Ag Supply", "Yakima", verified, 0.9},
	{"Tri-Cities Diesel", "Pasco", unverified, 0.7},
	{"Prairie State Parts Exchange", "Peoria", verified, 3},
	{"Quad Cities Ag Salvage", "Moline", verified, 1.6},
	{"Rock River Hydraulics", "Rockford", verified, 0.9},
	{"Will County Undercarriage", "Joliet", pending, 0.2},
	{"Midstate Remanufacturing", "Decatur", verified, 1.3},
	{"Hamilton Heavy Parts", "Hamilton", verified, 1.2},
	{"Forest City Tractor", "London", verified, 0.8},
	{"Nickel Belt Mining Supply", "Sudbury", verified, 1},
	{"Peel Region Filters & Fluids", "Mississauga", verified, 0.9},
	{"Edmonton Heavy Equipment Salvage", "Edmonton", verified, 1.5},
	{"Foothills Diesel & Hydraulic", "Calgary", verified, 1.1},
	{"Red Deer Ag Parts", "Red Deer", pending, 0.2},
	{"Athabasca Mining Components", "Fort McMurray", verified, 1},
	{"Midlands Plant Spares", "Birmingham", verified, 0.9},
	{"Yorkshire Tractor Parts", "Leeds", verified, 0.7},
	{"Hanseatic Baumaschinen-Teile", "Hamburg", verified, 0.8},
	{"Ruhr Hydraulik Service GmbH", "Duisburg", unverified, 0.6},
}

// Phrases of seller descriptions.
var (
	sellerSpecialties = []string{
		"new and used parts for Caterpillar, Komatsu and John Deere equipment",
		"hydraulic pumps, motors and cylinders, rebuilt and tested in house",
		"engine parts and complete engines for Cummins, Perkins and Caterpillar",
		"undercarriage for dozers and excavators, from rollers to complete track groups",
		"filters, belts and service parts at fleet prices",
		"salvaged components from late-model tractors and combines",
		"remanufactured fuel injectors and injection pumps",
		"starters, alternators and wiring for heavy equipment",
		"transmission and final drive parts for loaders and graders",
	}
	sellerCustomers = []string{
		"contractors, farms and municipalities",
		"mining and quarry operators",
		"rental fleets and independent repair shops",
		"growers and custom harvesters",
		"road builders and utility contractors",
	}
	sellerExtras = []string{
		"Every used component is tested before it ships.",
		"In-stock filters ship the same day.",
		"We dismantle more than forty machines a year.",
		"Ask about our 12-month warranty on remanufactured units.",
		"Our parts desk can cross-reference OEM and aftermarket numbers.",
		"Freight quotes within the hour on business days.",
		"Local delivery on our own trucks.",
	}
	sellerNotes = []string{
		"Prefers email for lead follow-up.",
		"High lead volume; candidate for featured placement.",
		"Asked about bulk CSV import in the onboarding call.",
		"Second yard added this year.",
	}
	suspensionNotes = []string{
		"Suspended: repeated reports of aftermarket filters sold as genuine OEM.",
		"Suspended: buyers report the phone number never answers and listings are stale.",
	}
)

// seller is one seeded seller with its contacts and locations.
type seller struct {
	index             int
	id                string
	slug              string
	name              string
	description       string
	website           *string
	status            string
	verified          bool
	verificationNotes *string
	internalNotes     *string
	createdAt         time.Time
	updatedAt         time.Time
	currency          string
	skuPrefix         string
	share             float64
	brands            []*brand // brands the seller specialises in
	contacts          []contact
	locations         []*location
}

// public reports whether the seller's listings may be shown to anyone.
func (s *seller) public() bool { return s.status == "ACTIVE" }

// contact is one way to reach a seller.
type contact struct {
	id       string
	kind     string
	value    string
	label    string
	position int
}

// location is one of a seller's yards.
type location struct {
	id       string
	city     city
	position int
}

// makeSellers builds the sellers of sellerSpecs as they are at now.
func makeSellers(r *rand.Rand, now time.Time) []*seller {
	sellers := make([]*seller, len(sellerSpecs))
	for i, spec := range sellerSpecs {
		sellers[i] = makeSeller(r, now, i, spec)
	}
	return sellers
}

// makeSeller builds the i-th seller from spec.
func makeSeller(r *rand.Rand, now time.Time, i int, spec sellerSpec) *seller {
	home := cityNamed(spec.city)
	s := &seller{
		index:     i,
		id:        sellerID(i),
		slug:      slugify(spec.name),
		name:      spec.name,
		currency:  currencies[home.country],
		skuPrefix: initials(spec.name),
		share:     spec.share,
		brands:    pickBrands(r),
	}
	s.website = maybe(r, 0.9, "https://"+s.slug+".example.com")
	s.description = fmt.Sprintf("%s has supplied %s to %s in %s since %d. %s",
		spec.name, pick(r, sellerSpecialties), pick(r, sellerCustomers), regionName(home),
		between(r, 1962, 2016), pick(r, sellerExtras))
	s.setStanding(r, now, spec.standing)
	s.locations = makeLocations(r, s, home)
	s.contacts = makeContacts(r, s, home)
	return s
}

// setStanding sets the seller's status, verification, notes and age.
func (s *seller) setStanding(r *rand.Rand, now time.Time, standing int) {
	switch standing {
	case verified, unverified:
		s.status = "ACTIVE"
		s.createdAt = randomTime(r, now.Add(-days(1500)), now.Add(-days(200)))
	case pending:
		s.status = "PENDING"
		s.createdAt = randomTime(r, now.Add(-days(30)), now.Add(-days(3)))
		s.internalNotes = ptr("Waiting for proof of business address.")
	case suspended:
		s.status = "SUSPENDED"
		s.createdAt = randomTime(r, now.Add(-days(900)), now.Add(-days(300)))
		s.internalNotes = ptr(suspensionNotes[s.index%len(suspensionNotes)])
	}
	s.updatedAt = randomTime(r, s.createdAt, now)
	if standing == verified || standing == suspended {
		s.verified = true
		checked := s.createdAt.Add(days(between(r, 1, 10)))
		s.verificationNotes = ptr(fmt.Sprintf("Business registration, yard address and phone checked on %s.",
			checked.Format("2006-01-02")))
	}
	if standing == verified && chance(r, 0.25) {
		s.internalNotes = ptr(pick(r, sellerNotes))
	}
}

// makeLocations returns the seller's yards: home first, then up to two more
// in the same region or country. The big sellers have three.
func makeLocations(r *rand.Rand, s *seller, home city) []*location {
	n := 1
	switch {
	case s.share >= 5:
		n = 3
	case chance(r, 0.15):
		n = 3
	case chance(r, 0.4):
		n = 2
	}
	used := map[string]bool{home.name: true}
	locs := []*location{{id: id("location/%d/0", s.index), city: home}}
	for _, c := range nearby(home) {
		if len(locs) == n {
			break
		}
		if used[c.name] || chance(r, 0.3) {
			continue
		}
		used[c.name] = true
		locs = append(locs, &location{id: id("location/%d/%d", s.index, len(locs)), city: c, position: len(locs)})
	}
	return locs
}

// nearby lists the cities of home's region, then the rest of its country.
func nearby(home city) []city {
	var same, country []city
	for _, c := range cities {
		switch {
		case c.region == home.region:
			same = append(same, c)
		case c.country == home.country:
			country = append(country, c)
		}
	}
	return append(same, country...)
}

// makeContacts returns the seller's public channels: a sales phone and
// email always, a parts-desk text line and email and an after-hours phone
// often.
func makeContacts(r *rand.Rand, s *seller, home city) []contact {
	var cs []contact
	add := func(kind, value, label string) {
		cs = append(cs, contact{id: id("contact/%d/%d", s.index, len(cs)), kind: kind, value: value, label: label, position: len(cs)})
	}
	add("PHONE", phone(r, home.dial), "Sales")
	if chance(r, 0.6) {
		add("TEXT", phone(r, home.dial), "Parts desk")
	}
	add("EMAIL", s.slug+"@example.com", "Sales")
	if chance(r, 0.4) {
		add("EMAIL", "parts."+s.slug+"@example.net", "Parts desk")
	}
	if chance(r, 0.25) {
		add("PHONE", phone(r, home.dial), "After hours")
	}
	return cs
}

// cityNamed returns the city called name; the tables are static, so a
// missing name is a programming error.
func cityNamed(name string) city {
	for _, c := range cities {
		if c.name == name {
			return c
		}
	}
	panic("seed: unknown city " + name)
}

// regionName names the area a seller serves, e.g. "Texas" for TX.
func regionName(c city) string {
	names := map[string]string{
		"TX": "Texas", "OH": "Ohio", "CA": "California", "GA": "Georgia", "WA": "Washington",
		"IL": "Illinois", "ON": "Ontario", "AB": "Alberta", "GB": "the United Kingdom", "DE": "Germany",
	}
	if n, ok := names[c.region]; ok {
		return n
	}
	return names[c.country]
}

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

// slugify turns a company name into a slug such as "lone-star-heavy-parts".
func slugify(name string) string {
	s := strings.ReplaceAll(strings.ToLower(name), "'", "")
	return strings.Trim(nonSlug.ReplaceAllString(s, "-"), "-")
}

// initials returns the upper-case initials of name's words, e.g. "LSHP",
// used as the prefix of the seller's SKUs.
func initials(name string) string {
	var b strings.Builder
	for _, w := range strings.FieldsFunc(name, func(r rune) bool { return r == ' ' || r == '-' }) {
		if c := w[0]; c >= 'A' && c <= 'Z' {
			b.WriteByte(c)
		}
	}
	return b.String()
}
