package main

import (
	"cmp"
	"database/sql/driver"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/partsmarket/gateway/bench/workload"
	"github.com/partsmarket/gateway/internal/pii"
	"github.com/partsmarket/gateway/internal/seed"
	"github.com/partsmarket/gateway/store"
)

// Sizes at scale 1.
const (
	sellersAtScale1  = 50_000
	listingsAtScale1 = 1_000_000
	mediaPerListing  = 3
	leadsAtScale1    = 200_000
	eventsAtScale1   = 10_000_000
	eventDays        = 90  // events and leads lie within the last eventDays days
	listingDays      = 365 // listings were created within the last listingDays days
)

// Skew: P(rank k) ∝ (v+k)^-s (math/rand/v2's Zipf).
const (
	sellerZipfS, sellerZipfV = 1.2, 20  // listings per seller: the top 100 of 50,000 own about 38 %
	partZipfS, partZipfV     = 1.05, 5  // listings per catalog part: the top 10 of 900 are about 24 %
	viewZipfS, viewZipfV     = 1.05, 10 // events and leads per public listing
	termZipfS                = 1.0      // search terms: weight 1/(rank+1)
	popularTermParts         = 40       // parts whose kind, number and brand make the term list
	workloadListings         = 2_000    // listing ids in the workload file
	workloadInboxSellers     = 20       // sellers in the workload file
	sellerOnlyEventShare     = 0.03     // events about a seller without a listing
	generalLeadShare         = 0.10     // leads to a seller in general
	visitorsPerEvent         = 50       // distinct visitors (IP hashes, sessions): events / visitorsPerEvent
	topSellersAlwaysActive   = 100      // the biggest sellers are ACTIVE and verified
	maxLocationsPerSeller    = 3
)

// Kinds of generated ids (see genID).
const (
	idKindSeller byte = iota + 1
	idKindListing
	idKindContact
	idKindLocation
	idKindMedia
	idKindLead
	idKindEvent
)

// plan is what one run generates: the counts at a scale, the random seed,
// and the instant the data is generated as of.
type plan struct {
	scale    float64
	seed     uint64
	now      time.Time
	sellers  int
	listings int
	leads    int
	events   int
	streams  int // parallel COPY streams per big table
}

// newPlan returns the plan for scale (1: 50,000 sellers, 1,000,000
// listings, 200,000 leads, 10,000,000 events); every count is at least 1.
func newPlan(scale float64, seed uint64, now time.Time, streams int) plan {
	n := func(atScale1 int) int { return max(1, int(math.Round(float64(atScale1)*scale))) }
	return plan{scale: scale, seed: seed, now: now.UTC().Truncate(time.Second), sellers: n(sellersAtScale1),
		listings: n(listingsAtScale1), leads: n(leadsAtScale1), events: n(eventsAtScale1), streams: max(1, streams)}
}

// genID returns the deterministic id of the i-th generated row of a kind:
// a random-looking version 4 UUID, cheap to compute (no hashing library),
// distinct for distinct (seed, kind, i).
func genID(seed uint64, kind byte, i int) string {
	var b [16]byte
	x := splitmix(seed ^ uint64(kind)<<56 ^ uint64(i))
	binary.BigEndian.PutUint64(b[:8], x)
	binary.BigEndian.PutUint64(b[8:], splitmix(x^0x9e3779b97f4a7c15))
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return uuid.UUID(b).String()
}

// splitmix is the SplitMix64 finaliser: a bijection on uint64 that mixes
// well.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// gsellers is a generated seller.
type gseller struct {
	id        string
	name      string
	slug      string
	status    string
	verified  bool
	createdAt time.Time
	currency  string
	locations []int // indexes into data.locations; the first is the home yard
	leads     int
}

// glocation is one yard of a seller.
type glocation struct {
	id       string
	seller   int
	city     seed.CatalogCity
	position int
}

// glisting is the skeleton of a generated listing; its text is written
// while it is copied.
type glisting struct {
	seller    int32
	location  int32
	part      int32
	status    uint8 // index into listingStatuses
	createdAt int64 // Unix seconds
}

// glead is a generated lead.
type glead struct {
	seller    int
	listing   int // -1: to the seller in general
	status    string
	createdAt time.Time
}

var listingStatuses = []string{"ACTIVE", "DRAFT", "PAUSED", "SOLD", "REMOVED"}

// Listing status mixes (weights in the order of listingStatuses) by the
// status of the seller.
var listingStatusMix = map[string][]float64{
	"ACTIVE":    {85, 4, 4, 6, 1},
	"PENDING":   {20, 80, 0, 0, 0},
	"SUSPENDED": {50, 0, 20, 0, 30},
}

// data is the skeleton of everything a run loads: small enough to keep in
// memory at scale 1 (about 40 MB); the rows themselves are written while
// they are copied.
type data struct {
	plan      plan
	catalog   *seed.Catalog
	sellers   []gseller
	locations []glocation
	listings  []glisting
	public    []int32 // indexes of public listings (ACTIVE, of an ACTIVE seller), in view-popularity order
	active    []int   // indexes of ACTIVE sellers, biggest first
	leads     []glead
	visitors  []string // IP hashes of the visitors events come from
}

// generate builds the skeleton of p's data.
func generate(p plan) *data {
	d := &data{plan: p, catalog: seed.NewCatalog()}
	d.makeSellers(rand.New(rand.NewPCG(p.seed, 1)))
	d.makeListings(rand.New(rand.NewPCG(p.seed, 2)))
	d.makeLeads(rand.New(rand.NewPCG(p.seed, 3)))
	r := rand.New(rand.NewPCG(p.seed, 4))
	d.visitors = make([]string, max(1, p.events/visitorsPerEvent))
	for i := range d.visitors {
		var b [16]byte
		binary.LittleEndian.PutUint64(b[:8], r.Uint64())
		binary.LittleEndian.PutUint64(b[8:], r.Uint64())
		d.visitors[i] = hex.EncodeToString(b[:])
	}
	return d
}

// Words of seller names.
var (
	namePrefixes = []string{"Lone Star", "Buckeye", "Central Valley", "Cascade", "Permian", "Brazos", "Alamo",
		"Panhandle", "Gulf Coast", "Maumee Valley", "Gem City", "Summit", "Kern County", "Sierra", "Delta",
		"Inland Empire", "Peach State", "Coastal", "Prairie State", "Quad Cities", "Rock River", "Midstate",
		"Forest City", "Nickel Belt", "Foothills", "Athabasca", "Midlands", "Hanseatic", "Ruhr", "Big Sky",
		"Red River", "Iron Horse", "Blue Ridge", "Keystone", "Heartland", "Great Plains", "Tri-State", "Northwoods"}
	nameSpecialties = []string{"Heavy Parts", "Diesel & Hydraulic", "Ag Parts", "Equipment Parts", "Diesel Supply",
		"Equipment Salvage", "Tractor & Implement Parts", "Hydraulics", "Undercarriage", "Tractor Parts",
		"Rebuilders", "Engine Exchange", "Fuel Injection", "Machinery Parts", "Tractor Salvage", "Diesel Electric",
		"Parts Exchange", "Remanufacturing", "Mining Supply", "Filters & Fluids", "Plant Spares"}
	nameSuffixes = []string{"", "", "", " Inc.", " LLC", " Co.", " Ltd"}
)

// makeSellers makes the sellers, biggest first, with their yards.
func (d *data) makeSellers(r *rand.Rand) {
	cities := seed.Cities()
	cityWeights := make([]float64, len(cities))
	for i, c := range cities {
		cityWeights[i] = map[string]float64{"US": 3, "CA": 2}[c.Country]
		if cityWeights[i] == 0 {
			cityWeights[i] = 1
		}
	}
	now := d.plan.now
	d.sellers = make([]gseller, d.plan.sellers)
	for i := range d.sellers {
		s := &d.sellers[i]
		home := cities[weightedIndex(r, cityWeights)]
		s.id = genID(d.plan.seed, idKindSeller, i)
		s.name = fmt.Sprintf("%s %s%s", pick(r, namePrefixes), pick(r, nameSpecialties), pick(r, nameSuffixes))
		s.slug = seed.Slugify(s.name) + "-" + strconv.Itoa(i+1)
		s.currency = home.Currency
		switch x := r.Float64(); {
		case i < topSellersAlwaysActive || x < 0.90:
			s.status, s.verified = "ACTIVE", i < topSellersAlwaysActive || r.Float64() < 0.75
			s.createdAt = randomTime(r, now.Add(-days(1500)), now.Add(-days(listingDays)))
		case x < 0.96:
			s.status = "PENDING"
			s.createdAt = randomTime(r, now.Add(-days(30)), now.Add(-days(1)))
		default:
			s.status, s.verified = "SUSPENDED", true
			s.createdAt = randomTime(r, now.Add(-days(900)), now.Add(-days(listingDays)))
		}
		if s.status == "ACTIVE" {
			d.active = append(d.active, i)
		}
		n := 1
		switch y := r.Float64(); {
		case i < topSellersAlwaysActive || y < 0.15:
			n = maxLocationsPerSeller
		case y < 0.45:
			n = 2
		}
		s.locations = append(s.locations, d.addLocation(i, home))
		for _, c := range nearbyCities(cities, home) {
			if len(s.locations) == n {
				break
			}
			if r.Float64() < 0.3 {
				continue
			}
			s.locations = append(s.locations, d.addLocation(i, c))
		}
	}
}

// addLocation adds a yard of seller s in c and returns its index.
func (d *data) addLocation(s int, c seed.CatalogCity) int {
	pos := len(d.sellers[s].locations)
	d.locations = append(d.locations, glocation{id: genID(d.plan.seed, idKindLocation, len(d.locations)), seller: s,
		city: c, position: pos})
	return len(d.locations) - 1
}

// nearbyCities lists the other cities of home's region, then of its country.
func nearbyCities(cities []seed.CatalogCity, home seed.CatalogCity) []seed.CatalogCity {
	var same, country []seed.CatalogCity
	for _, c := range cities {
		switch {
		case c.Name == home.Name:
		case c.Region == home.Region:
			same = append(same, c)
		case c.Country == home.Country:
			country = append(country, c)
		}
	}
	return append(same, country...)
}

// makeListings spreads the listings over the sellers (Zipf: a few sellers
// own many) and the catalog (Zipf: a few parts are listed very often).
func (d *data) makeListings(r *rand.Rand) {
	sellerZipf := rand.NewZipf(r, sellerZipfS, sellerZipfV, uint64(len(d.sellers)-1))
	partZipf := rand.NewZipf(r, partZipfS, partZipfV, uint64(d.catalog.Len()-1))
	now := d.plan.now
	d.listings = make([]glisting, d.plan.listings)
	for i := range d.listings {
		si := int(sellerZipf.Uint64())
		s := &d.sellers[si]
		loc := s.locations[0]
		if r.Float64() >= 0.6 {
			loc = pick(r, s.locations)
		}
		from := max(s.createdAt.Unix(), now.Add(-days(listingDays)).Unix())
		d.listings[i] = glisting{
			seller:    int32(si),
			location:  int32(loc),
			part:      int32(partZipf.Uint64()),
			status:    uint8(weightedIndex(r, listingStatusMix[s.status])),
			createdAt: from + r.Int64N(max(1, now.Unix()-from)),
		}
		if d.listings[i].status == 0 && s.status == "ACTIVE" {
			d.public = append(d.public, int32(i))
		}
	}
	// The order of public decides which listings are popular (views and
	// leads draw from its head): shuffle it, so popularity does not follow
	// the generation order.
	r.Shuffle(len(d.public), func(a, b int) { d.public[a], d.public[b] = d.public[b], d.public[a] })
}

// Lead status mix.
var leadStatuses = []workload.Weighted{
	{Value: "NEW", Weight: 40}, {Value: "CONTACTED", Weight: 25}, {Value: "QUALIFIED", Weight: 10},
	{Value: "WON", Weight: 8}, {Value: "LOST", Weight: 12}, {Value: "SPAM", Weight: 5},
}

// makeLeads makes the leads: most about a public listing (popular listings
// get more), some to an active seller in general.
func (d *data) makeLeads(r *rand.Rand) {
	if len(d.public) == 0 || len(d.active) == 0 {
		return
	}
	views := rand.NewZipf(r, viewZipfS, viewZipfV, uint64(len(d.public)-1))
	sellers := rand.NewZipf(r, sellerZipfS, sellerZipfV, uint64(len(d.active)-1))
	now := d.plan.now
	since := now.Add(-days(eventDays))
	d.leads = make([]glead, d.plan.leads)
	for i := range d.leads {
		l := &d.leads[i]
		l.listing = -1
		if r.Float64() < generalLeadShare {
			l.seller = d.active[sellers.Uint64()]
			l.createdAt = randomTime(r, since, now)
		} else {
			l.listing = int(d.public[views.Uint64()])
			gl := d.listings[l.listing]
			l.seller = int(gl.seller)
			l.createdAt = randomTime(r, maxTime(since, time.Unix(gl.createdAt, 0)), now)
		}
		l.status = workload.Pick(r, leadStatuses)
		d.sellers[l.seller].leads++
	}
}

// workload returns what the load generator needs to know about the data.
func (d *data) workload(withEvents bool) *workload.Workload {
	w := &workload.Workload{Scale: d.plan.scale, Now: d.plan.now, Terms: d.terms(), Regions: d.regions(),
		Conditions: []workload.Weighted{{Value: "NEW", Weight: 50}, {Value: "USED", Weight: 35},
			{Value: "REMANUFACTURED", Weight: 15}}}
	if withEvents {
		w.EventsFrom, w.EventsTo = d.plan.now.Add(-days(eventDays)), d.plan.now
	}
	if len(d.public) > 0 {
		r := rand.New(rand.NewPCG(d.plan.seed, 5))
		views := rand.NewZipf(r, viewZipfS, viewZipfV, uint64(len(d.public)-1))
		for range workloadListings {
			w.Listings = append(w.Listings, genID(d.plan.seed, idKindListing, int(d.public[views.Uint64()])))
		}
	}
	busiest := slices.Clone(d.active)
	slices.SortStableFunc(busiest, func(a, b int) int { return d.sellers[b].leads - d.sellers[a].leads })
	for _, s := range busiest[:min(len(busiest), workloadInboxSellers)] {
		w.InboxSellers = append(w.InboxSellers, d.sellers[s].id)
	}
	return w
}

// terms returns the search terms buyers use, most popular first: the kinds,
// numbers and brands of the most listed parts and the machines they fit.
func (d *data) terms() []workload.Weighted {
	var terms []string
	seen := map[string]bool{}
	add := func(t string) {
		t = strings.ToLower(t)
		if !seen[t] {
			seen[t] = true
			terms = append(terms, t)
		}
	}
	for i := range min(popularTermParts, d.catalog.Len()) {
		p := d.catalog.Part(i)
		add(p.Kind)
		if i%2 == 0 {
			add(p.Number)
		}
		if i%3 == 0 {
			add(p.Brand + " " + p.Kind)
		}
		if i%4 == 0 {
			add(p.MachineModel)
		}
	}
	out := make([]workload.Weighted, len(terms))
	for i, t := range terms {
		out[i] = workload.Weighted{Value: t, Weight: 1 / math.Pow(float64(i+1), termZipfS)}
	}
	return out
}

// regions returns the regions of the listings' yards, weighted by how many
// public listings are there.
func (d *data) regions() []workload.Weighted {
	count := map[string]float64{}
	for _, i := range d.public {
		count[d.locations[d.listings[i].location].city.Region]++
	}
	out := make([]workload.Weighted, 0, len(count))
	for region, n := range count {
		out = append(out, workload.Weighted{Value: region, Weight: n})
	}
	slices.SortFunc(out, func(a, b workload.Weighted) int {
		return cmp.Or(cmp.Compare(b.Weight, a.Weight), strings.Compare(a.Value, b.Value))
	})
	return out
}

// Row writers: each appends the COPY rows of one table to emit. They are
// split into streams: stream k of n writes the rows i with i%n == k.

var sellerColumns = []string{"id", "slug", "company_name", "description", "website", "status", "verified",
	"created_at", "updated_at"}

func (d *data) sellerRows(stream, streams int, emit func([]driver.Value) error) error {
	r := rand.New(rand.NewPCG(d.plan.seed, 100+uint64(stream)))
	for i := stream; i < len(d.sellers); i += streams {
		s := &d.sellers[i]
		home := d.locations[s.locations[0]].city
		desc := seed.SellerDescription(r, s.name, home.Name)
		var website any
		if r.Float64() < 0.8 {
			website = "https://" + s.slug + ".example.com"
		}
		if err := emit([]driver.Value{s.id, s.slug, s.name, desc, website, s.status, s.verified, s.createdAt,
			randomTime(r, s.createdAt, d.plan.now)}); err != nil {
			return err
		}
	}
	return nil
}

var contactColumns = []string{"id", "seller_id", "kind", "value", "label", "position", "created_at"}

func (d *data) contactRows(stream, streams int, emit func([]driver.Value) error) error {
	r := rand.New(rand.NewPCG(d.plan.seed, 200+uint64(stream)))
	for i := stream; i < len(d.sellers); i += streams {
		s := &d.sellers[i]
		dial := d.locations[s.locations[0]].city.Dial
		n := 0
		add := func(kind, value, label string) error {
			n++
			return emit([]driver.Value{genID(d.plan.seed, idKindContact, i*8+n), s.id, kind, value, label, int64(n - 1), s.createdAt})
		}
		phone := func() string { return fmt.Sprintf("%s 555 %04d", dial, 100+r.IntN(100)) }
		if err := add("PHONE", phone(), "Sales"); err != nil {
			return err
		}
		if r.Float64() < 0.6 {
			if err := add("TEXT", phone(), "Parts desk"); err != nil {
				return err
			}
		}
		if err := add("EMAIL", "sales@"+s.slug+".example.com", "Sales"); err != nil {
			return err
		}
		if r.Float64() < 0.4 {
			if err := add("EMAIL", "parts@"+s.slug+".example.com", "Parts desk"); err != nil {
				return err
			}
		}
	}
	return nil
}

var locationColumns = []string{"id", "seller_id", "city", "region", "country", "postal_code", "position", "created_at"}

func (d *data) locationRows(stream, streams int, emit func([]driver.Value) error) error {
	for i := stream; i < len(d.locations); i += streams {
		l := &d.locations[i]
		s := &d.sellers[l.seller]
		if err := emit([]driver.Value{l.id, s.id, l.city.Name, l.city.Region, l.city.Country, l.city.PostalCode,
			int64(l.position), s.createdAt}); err != nil {
			return err
		}
	}
	return nil
}

var listingColumns = []string{"id", "seller_id", "location_id", "title", "description", "part_number", "sku", "brand",
	"category", "condition", "quantity", "price_label", "price_cents", "currency", "status", "created_at", "updated_at",
	"region"} // region: the loader disables the trigger that copies it from the yard (migration 00011)

func (d *data) listingRows(stream, streams int, emit func([]driver.Value) error) error {
	pcg := rand.NewPCG(0, 0)
	r := rand.New(pcg)
	for i := stream; i < len(d.listings); i += streams {
		pcg.Seed(d.plan.seed, 1_000_000_000+uint64(i)) // the same text whatever the number of streams
		gl := &d.listings[i]
		s := &d.sellers[gl.seller]
		loc := &d.locations[gl.location]
		status := listingStatuses[gl.status]
		part := d.catalog.Part(int(gl.part))
		l := d.catalog.Listing(r, int(gl.part), loc.city.Name, s.currency, status)
		created := time.Unix(gl.createdAt, 0).UTC()
		updated := created
		if status != "ACTIVE" || r.Float64() < 0.3 {
			updated = randomTime(r, created, d.plan.now)
		}
		if err := emit([]driver.Value{genID(d.plan.seed, idKindListing, i), s.id, loc.id, l.Title, l.Description,
			part.Number, fmt.Sprintf("%s-%07d", seed.SKUPrefix(s.name), i+1), part.Brand, part.Category, l.Condition,
			optInt(l.Quantity), optString(l.PriceLabel), optInt64(l.PriceCents), s.currency, status, created, updated,
			strings.ToLower(loc.city.Region),
		}); err != nil {
			return err
		}
	}
	return nil
}

var mediaColumns = []string{"id", "listing_id", "url", "alt_text", "position", "content_type", "created_at"}

// photoViews describe the photos of a listing, in order.
var photoViews = []string{"front view", "part number tag", "side view"}

func (d *data) mediaRows(stream, streams int, emit func([]driver.Value) error) error {
	for i := stream; i < len(d.listings); i += streams {
		gl := &d.listings[i]
		id := genID(d.plan.seed, idKindListing, i)
		part := d.catalog.Part(int(gl.part))
		created := time.Unix(gl.createdAt, 0).UTC()
		for pos := range mediaPerListing {
			if err := emit([]driver.Value{genID(d.plan.seed, idKindMedia, i*mediaPerListing+pos), id,
				"https://images.example.com/parts/" + id + "/" + strconv.Itoa(pos+1) + ".jpg",
				part.Brand + " " + part.Kind + " " + part.Number + ", " + photoViews[pos%len(photoViews)],
				int64(pos), "image/jpeg", created}); err != nil {
				return err
			}
		}
	}
	return nil
}

var leadColumns = []string{"id", "seller_id", "listing_id", "buyer_location", "timeline", "source_page", "status",
	"created_at", "updated_at", "pii", "pii_key_id", "email_bidx"}

// Lead wording.
var (
	firstNames = []string{"James", "Maria", "Robert", "Linda", "Michael", "Patricia", "David", "Jennifer", "Carlos",
		"Susan", "Daniel", "Karen", "Jose", "Nancy", "Kevin", "Lisa", "Brian", "Angela", "Tyler", "Heather", "Wei",
		"Priya", "Dustin", "Megan", "Luis", "Rachel", "Travis", "Amanda", "Hank", "Colleen"}
	lastNames = []string{"Smith", "Johnson", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez", "Wilson",
		"Anderson", "Taylor", "Thomas", "Moore", "Jackson", "Martin", "Lee", "Thompson", "White", "Harris", "Clark",
		"Nguyen", "Walker", "Hall", "Young", "King", "Wright", "Schultz", "Kowalski", "Olsen", "MacDonald"}
	buyerCompanies = []string{"Ridgeline Excavating", "Mesa Farms", "Big Sky Aggregates", "Hollow Creek Logging",
		"Iron Horse Paving", "Red River Dirtworks", "Northgate Rentals", "Prairie Wind Ag", "Summit Site Services"}
	buyerCities = []string{"Tulsa, OK", "Billings, MT", "Fargo, ND", "Lincoln, NE", "Boise, ID", "Reno, NV",
		"Wichita, KS", "Des Moines, IA", "Regina, SK", "Winnipeg, MB", "Houston, TX", "Peoria, IL", "Calgary, AB"}
	timelines       = []string{"ASAP", "This week", "Within a month", "Just researching"}
	listingMessages = []string{
		"Is the %[1]s still available? What's your best price?",
		"What's your best price on the %[2]s? We have a machine down and need it this week.",
		"Can you confirm the %[1]s fits our %[3]s? Serial number is on the plate if you need it.",
		"Interested in the %[2]s. Could you send more photos of the part number tag?",
	}
	generalMessages = []string{
		"Do you have a %s in stock? Please call me back.",
		"Looking for parts for a %s, can you send a list of what you have?",
	}
)

// leadRows writes the leads with their personal data sealed under keys, as
// the gateway stores them.
func (d *data) leadRows(keys *pii.Keyring) func(stream, streams int, emit func([]driver.Value) error) error {
	return func(stream, streams int, emit func([]driver.Value) error) error {
		r := rand.New(rand.NewPCG(d.plan.seed, 300+uint64(stream)))
		for i := stream; i < len(d.leads); i += streams {
			l := &d.leads[i]
			first, last := pick(r, firstNames), pick(r, lastNames)
			p := store.LeadPII{BuyerName: first + " " + last,
				Email: strings.ToLower(fmt.Sprintf("%s.%s%d@example.com", first, last, i))}
			if r.Float64() < 0.7 {
				phone := fmt.Sprintf("+1 555 %04d", 100+r.IntN(100))
				p.Phone = &phone
			}
			if r.Float64() < 0.5 {
				company := pick(r, buyerCompanies)
				p.Company = &company
			}
			var listingID any
			source := "/sellers/" + d.sellers[l.seller].slug
			if l.listing >= 0 {
				gl := &d.listings[l.listing]
				part := d.catalog.Part(int(gl.part))
				p.Message = fmt.Sprintf(pick(r, listingMessages), part.Number, strings.ToLower(part.Kind), part.MachineModel)
				id := genID(d.plan.seed, idKindListing, l.listing)
				listingID, source = id, "/listings/"+id
			} else {
				p.Message = fmt.Sprintf(pick(r, generalMessages), d.catalog.Part(r.IntN(d.catalog.Len())).MachineModel)
			}
			blob, keyID, bidx, err := store.SealLeadPII(keys, p)
			if err != nil {
				return err
			}
			updated := l.createdAt
			if l.status != "NEW" {
				updated = randomTime(r, l.createdAt, d.plan.now)
			}
			if err := emit([]driver.Value{genID(d.plan.seed, idKindLead, i), d.sellers[l.seller].id, listingID,
				pick(r, buyerCities), pick(r, timelines), source, l.status, l.createdAt, updated, blob, keyID, bidx,
			}); err != nil {
				return err
			}
		}
		return nil
	}
}

var notificationColumns = []string{"lead_id", "status", "attempts", "next_attempt_at", "last_attempt_at", "last_error",
	"sent_at", "created_at"}

// notificationRows writes each lead's outbox row: almost all sent a few
// seconds after the lead, a few failed for good, a few still pending.
func (d *data) notificationRows(stream, streams int, emit func([]driver.Value) error) error {
	r := rand.New(rand.NewPCG(d.plan.seed, 400+uint64(stream)))
	for i := stream; i < len(d.leads); i += streams {
		l := &d.leads[i]
		at := l.createdAt.Add(time.Duration(1+r.IntN(20)) * time.Second)
		row := []driver.Value{genID(d.plan.seed, idKindLead, i), "SENT", int64(1), l.createdAt, at, nil, at, l.createdAt}
		switch x := r.Float64(); {
		case x < 0.01:
			row[1], row[2], row[4], row[6] = "PENDING", int64(0), nil, nil
		case x < 0.03:
			row[1], row[2], row[5], row[6] = "FAILED", int64(10), "550 5.1.1 mailbox unavailable", nil
		}
		if err := emit(row); err != nil {
			return err
		}
	}
	return nil
}

var eventColumns = []string{"id", "type", "listing_id", "seller_id", "session_id", "source_page", "user_agent",
	"ip_hash", "created_at"}

// Event mix and context.
var (
	eventTypes = []workload.Weighted{{Value: "LISTING_VIEW", Weight: 85}, {Value: "CALL_CLICK", Weight: 7},
		{Value: "TEXT_CLICK", Weight: 3}, {Value: "EMAIL_CLICK", Weight: 5}}
	clickTypes  = eventTypes[1:]
	sourcePages = []string{"/search", "/search", "/listing", "/listing", "/seller", "/"}
	userAgents  = []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
		"Mozilla/5.0 (Linux; Android 14; SM-S911U) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
	}
)

// eventRows writes the events: views and clicks of public listings (popular
// ones far more often), a few clicks on a seller's page without a listing,
// spread evenly over the last eventDays days. Stream k writes its share of
// the events from a random stream of its own.
func (d *data) eventRows(stream, streams int, emit func([]driver.Value) error) error {
	if len(d.public) == 0 || len(d.active) == 0 {
		return nil
	}
	r := rand.New(rand.NewPCG(d.plan.seed, 500+uint64(stream)))
	views := rand.NewZipf(r, viewZipfS, viewZipfV, uint64(len(d.public)-1))
	sellers := rand.NewZipf(r, sellerZipfS, sellerZipfV, uint64(len(d.active)-1))
	from := d.plan.now.Add(-days(eventDays))
	span := int64(days(eventDays))
	row := make([]driver.Value, len(eventColumns))
	for i := stream; i < d.plan.events; i += streams {
		v := r.IntN(len(d.visitors))
		row[0] = genID(d.plan.seed, idKindEvent, i)
		if r.Float64() < sellerOnlyEventShare {
			row[1] = workload.Pick(r, clickTypes)
			row[2] = nil
			row[3] = d.sellers[d.active[sellers.Uint64()]].id
			row[5] = "/seller"
		} else {
			li := int(d.public[views.Uint64()])
			row[1] = workload.Pick(r, eventTypes)
			row[2] = genID(d.plan.seed, idKindListing, li)
			row[3] = d.sellers[d.listings[li].seller].id
			row[5] = pick(r, sourcePages)
		}
		offset := r.Int64N(span)
		// A visitor's session lasts a day.
		row[4] = "s" + strconv.FormatUint(splitmix(uint64(v)<<20|uint64(offset/int64(days(1)))), 36)
		row[6] = userAgents[v%len(userAgents)]
		row[7] = d.visitors[v]
		row[8] = from.Add(time.Duration(offset))
		if err := emit(row); err != nil {
			return err
		}
	}
	return nil
}

// pick returns a random element of xs.
func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// weightedIndex returns an index of weights with probability proportional
// to its weight.
func weightedIndex(r *rand.Rand, weights []float64) int {
	total := 0.0
	for _, w := range weights {
		total += w
	}
	x := r.Float64() * total
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}

// randomTime returns a random instant in [from, to), to the second.
func randomTime(r *rand.Rand, from, to time.Time) time.Time {
	span := to.Sub(from)
	if span <= time.Second {
		return from
	}
	return from.Add(time.Duration(r.Int64N(int64(span)))).Truncate(time.Second)
}

// days returns n days as a Duration.
func days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func optInt(p *int) driver.Value {
	if p == nil {
		return nil
	}
	return int64(*p)
}

func optInt64(p *int64) driver.Value {
	if p == nil {
		return nil
	}
	return *p
}

func optString(p *string) driver.Value {
	if p == nil {
		return nil
	}
	return *p
}
