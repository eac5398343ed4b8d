package seed

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Sizes of the demo activity: what buyers did over the last activityDays,
// so that an analyst's first metrics and search terms show numbers.
const (
	activityDays      = 30  // the metrics' default window
	viewsPerListing   = 6   // on average, per public listing
	clickShare        = 0.2 // contact clicks per view
	sellerPageEvents  = 300 // events on a seller's page, not a listing's
	searchCount       = 900 // public searches
	zeroResultShare   = 0.1 // searches that found nothing
	sessionsPerSearch = 3   // searches per buyer session, about
)

// event is one seeded buyer event (the events table): on a listing, or on
// a seller's page when listing is nil.
type event struct {
	typ     string
	listing *listing
	seller  *seller
	session string
	page    string
	at      time.Time
}

// search is one seeded public search (the search_queries table).
type search struct {
	term    string
	results int
	session string
	at      time.Time
}

// clickTypes are the contact clicks, by weight: calls are the common way.
var clickTypes = []weight{{"CALL_CLICK", 5}, {"EMAIL_CLICK", 3}, {"TEXT_CLICK", 2}}

// missingTerms are searched for and found nothing: parts nobody lists.
var missingTerms = []string{"hydraulic hose 3/8 jic", "zf 4wg200 clutch pack", "perkins 2644H012", "swing motor pc200-8",
	"komatsu 6d125 turbo", "final drive d6n", "deutz bf4m1013 injector", "ripper shank"}

// makeEvents builds the buyer events of the last activityDays: views of
// public listings (popular ones more), a share of them followed by a
// contact click, and some events on sellers' pages.
func makeEvents(r *rand.Rand, now time.Time, sellers []*seller, listings []*listing) []*event {
	from := now.Add(-days(activityDays))
	public := filter(listings, (*listing).public)
	var out []*event
	for i, l := range public {
		// Exponential-ish popularity: most listings get a few views, some
		// many.
		views := int(r.ExpFloat64() * viewsPerListing)
		for v := 0; v < views; v++ {
			session := fmt.Sprintf("demo-session-%d-%d", i, v)
			at := randomTime(r, from, now)
			out = append(out, &event{typ: "LISTING_VIEW", listing: l, seller: l.seller, session: session, page: "/listings/" + l.id, at: at})
			if chance(r, clickShare) {
				out = append(out, &event{typ: weighted(r, clickTypes), listing: l, seller: l.seller, session: session,
					page: "/listings/" + l.id, at: at.Add(time.Duration(between(r, 5, 300)) * time.Second)})
			}
		}
	}
	open := filter(sellers, (*seller).public)
	for i := 0; i < sellerPageEvents; i++ {
		s := pick(r, open)
		typ := "LISTING_VIEW"
		if chance(r, 0.3) {
			typ = weighted(r, clickTypes)
		}
		out = append(out, &event{typ: typ, seller: s, session: fmt.Sprintf("demo-seller-session-%d", i),
			page: "/sellers/" + s.slug, at: randomTime(r, from, now)})
	}
	return out
}

// makeSearches builds the public searches of the last activityDays: brands,
// part types and part numbers that are listed, with the number of public
// listings whose title holds the term, and a share of terms nobody lists.
func makeSearches(r *rand.Rand, now time.Time, listings []*listing) []*search {
	from := now.Add(-days(activityDays))
	public := filter(listings, (*listing).public)
	results := map[string]int{}
	found := func(term string) int {
		n, ok := results[term]
		if !ok {
			for _, l := range public {
				if strings.Contains(strings.ToLower(l.title), term) {
					n++
				}
			}
			results[term] = n
		}
		return n
	}
	out := make([]*search, 0, searchCount)
	for i := 0; i < searchCount; i++ {
		var term string
		switch {
		case chance(r, zeroResultShare):
			term = pick(r, missingTerms)
		default:
			p := pick(r, public).part
			switch r.IntN(3) {
			case 0:
				term = p.number
			case 1:
				term = p.kind.name
			default:
				term = p.brand.name + " " + p.kind.name
			}
		}
		term = strings.ToLower(term)
		out = append(out, &search{term: term, results: found(term),
			session: fmt.Sprintf("demo-search-session-%d", i/sessionsPerSearch), at: randomTime(r, from, now)})
	}
	return out
}
