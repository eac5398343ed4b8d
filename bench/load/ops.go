package main

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/partsmarket/gateway/bench/workload"
	"github.com/partsmarket/gateway/internal/access"
)

// The canonical operations' documents. Each takes its page size as $first,
// so the page-size probe can run the same document with other sizes.
const (
	// searchQuery is a search results page: 20 listings with their seller
	// and photos.
	searchQuery = `query SearchPage($q: String!, $region: String, $condition: ListingCondition, $first: Int!) {
  listings(search: $q, filter: {region: $region, condition: $condition}, first: $first) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes {
      id title partNumber brand condition priceCents currency priceLabel createdAt
      location { city region country }
      seller { id companyName verified locations { city region country } }
      media { url altText }
    }
  }
}`
	// detailQuery is a listing page: the listing, its seller with contacts
	// and yards, all its photos, and more listings of the seller (the page
	// shows six besides this one, so it asks for seven).
	detailQuery = `query ListingPage($id: ID!, $first: Int!) {
  listing(id: $id) {
    id title description partNumber brand category condition quantity priceLabel priceCents currency status createdAt updatedAt
    location { city region country postalCode }
    media { id url altText position contentType }
    seller {
      id slug companyName description website verified
      contacts { kind value label }
      locations { city region country postalCode }
      listings(first: $first) { nodes { id title priceCents currency priceLabel condition media { url altText } } }
    }
  }
}`
	// inboxQuery is a seller's lead inbox: the newest leads with the
	// listing they are about and the delivery of their notification.
	inboxQuery = `query LeadInbox($first: Int!) {
  leads(first: $first) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id status createdAt buyerName email phone company message buyerLocation timeline
      listing { id title }
      notification { status attempts lastAttemptAt }
    }
  }
}`
	// metricsQuery is an analyst's daily views, clicks and leads per
	// category over 30 days.
	metricsQuery = `query Metrics($from: Time!, $to: Time!, $first: Int!) {
  marketplaceMetrics(from: $from, to: $to, groupBy: [DAY, CATEGORY], first: $first) {
    day category views callClicks textClicks emailClicks leads
  }
}`
	// submitMutation is a buyer's inquiry about a listing.
	submitMutation = `mutation SubmitLead($input: SubmitLeadInput!) { submitLead(input: $input) { leadId } }`
)

// Page sizes of the canonical operations.
const (
	searchPage  = 20
	detailMore  = 7
	inboxPage   = 50
	metricsRows = 1000
)

// requests builds the requests of the canonical operations over a
// workload.
type requests struct {
	w            *workload.Workload
	sellerTokens []string // one per inbox seller
	analyst      string
	admin        string    // for the -writes listing updates
	details      []string  // the listings detail opens
	from, to     time.Time // the metrics period: the last 30 days of events
	runID        int64     // makes submitted emails unique across runs
	tail         operation // the long-tail search (tail.go)
}

// newRequests mints the tokens (with secret, the gateway's JWT_SECRET) and
// fixes the metrics period.
func newRequests(w *workload.Workload, secret string, runID int64) (*requests, error) {
	q := &requests{w: w, runID: runID, tail: tailSearch(tailTerms()), details: w.Listings}
	cfg := access.TokenConfig{Secret: []byte(secret)}
	for _, id := range w.InboxSellers {
		t, err := access.Mint(cfg, access.RoleSeller, "bench-"+id, id, 24*time.Hour)
		if err != nil {
			return nil, err
		}
		q.sellerTokens = append(q.sellerTokens, t)
	}
	var err error
	if q.analyst, err = access.Mint(cfg, access.RoleAnalyst, "bench-analyst", "", 24*time.Hour); err != nil {
		return nil, err
	}
	if q.admin, err = access.Mint(cfg, access.RoleAdmin, "bench-admin", "", 24*time.Hour); err != nil {
		return nil, err
	}
	q.to = w.Now.UTC().Truncate(24 * time.Hour)
	if !w.EventsTo.IsZero() {
		q.to = w.EventsTo.UTC().Truncate(24 * time.Hour)
	}
	q.from = q.to.AddDate(0, 0, -30)
	return q, nil
}

// operations returns the canonical operations, in order: search, detail,
// inbox, metrics, submit, and the long-tail search (not run by default).
func (q *requests) operations() []operation {
	return []operation{
		{name: "search", next: func(r *rand.Rand, _ int64) request { return q.search(r, searchPage) }},
		{name: "detail", next: func(r *rand.Rand, _ int64) request { return q.detail(r, detailMore) }},
		{name: "inbox", next: func(r *rand.Rand, _ int64) request { return q.inbox(r, inboxPage) }},
		{name: "metrics", next: func(*rand.Rand, int64) request { return q.metrics() }},
		{name: "submit", next: q.submit},
		q.tail,
	}
}

// search is a search for a popular term in a popular region and
// condition, with a first page of the given size.
func (q *requests) search(r *rand.Rand, first int) request {
	return request{query: searchQuery, variables: map[string]any{
		"q": workload.Pick(r, q.w.Terms), "region": workload.Pick(r, q.w.Regions),
		"condition": workload.Pick(r, q.w.Conditions), "first": first}}
}

// detail opens a listing (popular ones more often) with first more
// listings of its seller.
func (q *requests) detail(r *rand.Rand, first int) request {
	return request{query: detailQuery, variables: map[string]any{"id": pick(r, q.details), "first": first}}
}

// inbox is the first page of one of the busiest sellers' leads.
func (q *requests) inbox(r *rand.Rand, first int) request {
	req := request{query: inboxQuery, variables: map[string]any{"first": first}}
	if len(q.sellerTokens) > 0 {
		req.token = pick(r, q.sellerTokens)
	}
	return req
}

// metrics is the analyst's 30 days by day and category.
func (q *requests) metrics() request {
	return request{query: metricsQuery, token: q.analyst, variables: map[string]any{
		"from": q.from.Format(time.RFC3339), "to": q.to.Format(time.RFC3339), "first": metricsRows}}
}

// submit is a new lead (its email unique) about a popular listing.
func (q *requests) submit(r *rand.Rand, seq int64) request {
	first, last := pick(r, firstNames), pick(r, lastNames)
	return request{query: submitMutation, variables: map[string]any{"input": map[string]any{
		"listingId":    pick(r, q.w.Listings),
		"buyerName":    first + " " + last,
		"email":        strings.ToLower(fmt.Sprintf("%s.%s+%d.%d@load.example", first, last, q.runID, seq)),
		"phone":        fmt.Sprintf("+1 555 %04d", 100+r.IntN(100)),
		"company":      "Bench Excavating",
		"message":      fmt.Sprintf("Is this still available? Need it this week for a machine that is down. #%d", seq),
		"timeline":     "This week",
		"sourcePage":   "/listing",
		"captchaToken": "bench",
	}}}
}

// probe is an operation whose SQL statement count might grow with a page
// size, to be run with a small and a large page.
type probe struct {
	op         string
	param      string
	small, big int
	build      func(r *rand.Rand, first int) request
}

// probes returns the page-size probes: search results, a listing page's
// more listings of the seller, and the lead inbox.
func (q *requests) probes() []probe {
	return []probe{
		{"search", "first", 5, 100, q.search},
		{"detail", "seller's listings first", 2, 50, q.detail},
		{"inbox", "first", 5, 100, q.inbox},
	}
}

// Buyer names of submitted leads.
var (
	firstNames = []string{"James", "Maria", "Robert", "Linda", "Carlos", "Susan", "Wei", "Priya", "Dustin", "Megan"}
	lastNames  = []string{"Smith", "Johnson", "Garcia", "Miller", "Nguyen", "Walker", "Schultz", "Kowalski"}
)

// pick returns a random element of xs.
func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }
