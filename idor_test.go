package main

import (
	"encoding/json"
	"slices"
	"sort"
	"testing"

	"github.com/google/uuid"

	"github.com/partsmarket/gateway/store"
)

// idorTables are the tables whose rows a refused request must leave alone.
var idorTables = []string{"sellers", "seller_contacts", "seller_locations", "listings", "media", "leads", "listing_reports"}

// idorSnapshot returns every row of idorTables, as JSON per table, so that a
// test can tell whether a request changed anything at all (updated_at
// included).
func idorSnapshot(t *testing.T, api *testAPI) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, table := range idorTables {
		var rows string
		err := api.DB.Get(&rows, `SELECT coalesce(json_agg(to_jsonb(t) - 'search' ORDER BY t.id)::text, '[]') FROM `+table+` t`)
		if err != nil {
			t.Fatalf("snapshot of %s: %v", table, err)
		}
		out[table] = rows
	}
	return out
}

// idorSameDB fails the test for each table that differs between snapshots.
func idorSameDB(t *testing.T, before, after map[string]string) {
	t.Helper()
	for _, table := range idorTables {
		if before[table] != after[table] {
			t.Errorf("the request changed table %s:\nbefore %s\nafter  %s", table, before[table], after[table])
		}
	}
}

// idorShape is what a caller learns from a response: HTTP status, data, and
// each error's code, message, path and field.
func idorShape(r gqlResponse) string {
	type shape struct{ Code, Message, Path, Field string }
	errs := make([]shape, len(r.Errors))
	for i, e := range r.Errors {
		errs[i] = shape{e.Code(), e.Message, e.PathString(), e.Field()}
	}
	b, _ := json.Marshal(map[string]any{"status": r.Status, "data": r.Data, "errors": errs})
	return string(b)
}

// idorIDs returns the ids of the nodes at path (a list of objects with id).
func idorIDs(t *testing.T, r gqlResponse, path string) []string {
	t.Helper()
	nodes, ok := r.Get(path).([]any)
	if !ok {
		t.Fatalf("no list at %s: %s", path, r.Raw)
	}
	ids := make([]string, 0, len(nodes))
	for _, n := range nodes {
		m, _ := n.(map[string]any)
		id, _ := m["id"].(string)
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

func idorSorted(ids ...string) []string {
	out := slices.Clone(ids)
	sort.Strings(out)
	return out
}

// idorCase is one way seller A's token may try to reach a row of seller B.
type idorCase struct {
	name  string
	query string
	// vars binds the id under test (B's real id or a random UUID).
	vars func(id string) map[string]any
	// real is B's id.
	real string
	// root is the query's root field.
	root string
	// codes are the acceptable error codes; none for a list, which must
	// come back empty without error.
	codes []string
}

// TestIDORSellerCannotReachAnotherSellersRows sends, with seller A's token,
// each way of naming one of seller B's rows, once with B's real id and once
// with a random UUID that names nothing. The answers must be identical (ids
// reveal nothing) and neither request may change the database.
func TestIDORSellerCannotReachAnotherSellersRows(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	var mediaB, locationB, locationA string
	if err := api.DB.Get(&mediaB, `SELECT id FROM media WHERE listing_id = $1 LIMIT 1`, f.ListingB.ID); err != nil {
		t.Fatal(err)
	}
	if err := api.DB.Get(&locationB, `SELECT id FROM seller_locations WHERE seller_id = $1 LIMIT 1`, f.SellerB.ID); err != nil {
		t.Fatal(err)
	}
	if err := api.DB.Get(&locationA, `SELECT id FROM seller_locations WHERE seller_id = $1 LIMIT 1`, f.SellerA.ID); err != nil {
		t.Fatal(err)
	}
	id := func(id string) map[string]any { return map[string]any{"id": id} }
	notFound := []string{"NOT_FOUND"}
	// A write on a row the caller may not touch: NOT_FOUND (or FORBIDDEN),
	// as long as the answer is the same as for an id that does not exist.
	refused := []string{"NOT_FOUND", "FORBIDDEN"}
	const (
		updateListing = `mutation($id: ID!) { updateListing(id: $id, input: {title: "Hijacked", description: "pwned"}) { listing { id title } } }`
		setStatus     = `mutation($id: ID!, $status: ListingStatus!) { setListingStatus(id: $id, status: $status) { listing { id status } } }`
		addMedia      = `mutation($id: ID!) { addListingMedia(input: {listingId: $id, url: "https://evil.example.com/x.jpg"}) { media { id } listing { id } } }`
	)
	cases := []idorCase{
		{name: "lead by id", root: "lead", real: f.LeadB, codes: notFound, vars: id,
			query: `query($id: ID!) { lead(id: $id) { id status buyerName email } }`},
		{name: "draft listing by id", root: "listing", real: f.DraftB.ID, codes: notFound, vars: id,
			query: `query($id: ID!) { listing(id: $id) { id title status sku } }`},
		{name: "leads filtered by seller", root: "leads", real: f.SellerB.ID, vars: id,
			query: `query($id: ID!) { leads(filter: {sellerId: $id}) { totalCount nodes { id } } }`},
		{name: "leads filtered by listing", root: "leads", real: f.ListingB.ID, vars: id,
			query: `query($id: ID!) { leads(filter: {listingId: $id}) { totalCount nodes { id } } }`},
		{name: "reports filtered by seller", root: "reports", real: f.SellerB.ID, vars: id,
			query: `query($id: ID!) { reports(filter: {sellerId: $id}) { totalCount nodes { id } } }`},
		{name: "draft listings filtered by seller", root: "listings", real: f.SellerB.ID, vars: id,
			query: `query($id: ID!) { listings(filter: {sellerId: $id, status: [DRAFT, PAUSED, SOLD, REMOVED]}) { totalCount nodes { id } } }`},
		{name: "updateListing on public listing", root: "updateListing", real: f.ListingB.ID, codes: refused, vars: id, query: updateListing},
		{name: "updateListing on draft", root: "updateListing", real: f.DraftB.ID, codes: refused, vars: id, query: updateListing},
		{name: "setListingStatus on public listing", root: "setListingStatus", real: f.ListingB.ID, codes: refused, query: setStatus,
			vars: func(id string) map[string]any { return map[string]any{"id": id, "status": "PAUSED"} }},
		{name: "setListingStatus on draft", root: "setListingStatus", real: f.DraftB.ID, codes: refused, query: setStatus,
			vars: func(id string) map[string]any { return map[string]any{"id": id, "status": "ACTIVE"} }},
		{name: "addListingMedia on public listing", root: "addListingMedia", real: f.ListingB.ID, codes: refused, vars: id, query: addMedia},
		{name: "addListingMedia on draft", root: "addListingMedia", real: f.DraftB.ID, codes: refused, vars: id, query: addMedia},
		{name: "removeListingMedia", root: "removeListingMedia", real: mediaB, codes: refused, vars: id,
			query: `mutation($id: ID!) { removeListingMedia(id: $id) { listing { id } } }`},
		{name: "updateLeadStatus", root: "updateLeadStatus", real: f.LeadB, codes: refused, vars: id,
			query: `mutation($id: ID!) { updateLeadStatus(id: $id, status: SPAM) { lead { id status } } }`},
		{name: "updateSellerProfile", root: "updateSellerProfile", real: f.SellerB.ID, codes: refused, vars: id,
			query: `mutation($id: ID!) { updateSellerProfile(id: $id, input: {companyName: "Hijacked", website: "https://evil.example.com",
				contacts: [{kind: PHONE, value: "+1 555 010 6666"}]}) { seller { id companyName } } }`},
		{name: "createListing for seller B", root: "createListing", real: f.SellerB.ID, codes: refused, vars: id,
			query: `mutation($id: ID!) { createListing(input: {sellerId: $id, title: "Planted", condition: NEW, status: ACTIVE}) { listing { id } } }`},
		// A's own listing placed at B's location: the location id is B's row.
		{name: "createListing at seller B's location", root: "createListing", real: locationB, codes: []string{"BAD_USER_INPUT"},
			vars:  func(id string) map[string]any { return map[string]any{"id": id, "seller": f.SellerA.ID} },
			query: `mutation($id: ID!, $seller: ID!) { createListing(input: {sellerId: $seller, title: "Moved", condition: NEW, locationId: $id}) { listing { id } } }`},
		{name: "updateListing to seller B's location", root: "updateListing", real: locationB, codes: []string{"BAD_USER_INPUT"},
			vars:  func(id string) map[string]any { return map[string]any{"id": id, "listing": f.ListingA.ID} },
			query: `mutation($id: ID!, $listing: ID!) { updateListing(id: $listing, input: {locationId: $id}) { listing { id } } }`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := idorSnapshot(t, api)
			real := api.post(f.TokenA, c.query, c.vars(c.real))
			random := api.post(f.TokenA, c.query, c.vars(uuid.NewString()))
			idorSameDB(t, before, idorSnapshot(t, api))
			if idorShape(real) != idorShape(random) {
				t.Errorf("B's real id and a random id get different answers:\nreal   %s\nrandom %s", real.Raw, random.Raw)
			}
			if len(c.codes) == 0 {
				if len(real.Errors) > 0 || real.Status != 200 {
					t.Fatalf("want an empty list without errors, got %s", real.Raw)
				}
				if n := real.Get(c.root + ".totalCount"); n != float64(0) {
					t.Errorf("totalCount %v, want 0: %s", n, real.Raw)
				}
				if ids := idorIDs(t, real, c.root+".nodes"); len(ids) != 0 {
					t.Errorf("seller A sees %v: %s", ids, real.Raw)
				}
				return
			}
			if len(real.Errors) != 1 || !slices.Contains(c.codes, real.Errors[0].Code()) {
				t.Fatalf("want one error with a code in %v, got %s", c.codes, real.Raw)
			}
			if real.Get(c.root) != nil {
				t.Errorf("want %s null, got %s", c.root, real.Raw)
			}
		})
	}

	// seller(id: B) is public, but its leads are B's: @owner denies the field
	// alone, and the rest of the seller stands.
	t.Run("seller leads", func(t *testing.T) {
		before := idorSnapshot(t, api)
		r := api.post(f.TokenA, `query($id: ID!) { seller(id: $id) { id companyName leads { totalCount nodes { id buyerName } } } }`,
			map[string]any{"id": f.SellerB.ID})
		idorSameDB(t, before, idorSnapshot(t, api))
		if r.Get("seller.id") != f.SellerB.ID {
			t.Fatalf("the public seller did not stand: %s", r.Raw)
		}
		if r.Get("seller.leads") != nil {
			t.Errorf("seller A reads B's leads: %s", r.Raw)
		}
		if len(r.Errors) != 1 || r.Errors[0].Code() != "FORBIDDEN" || r.Errors[0].PathString() != "seller.leads" {
			t.Errorf("want one FORBIDDEN on seller.leads, got %s", r.Raw)
		}
	})
	t.Run("listing leads", func(t *testing.T) {
		r := api.post(f.TokenA, `query($id: ID!) { listing(id: $id) { id leads { totalCount nodes { id } } } }`,
			map[string]any{"id": f.ListingB.ID})
		if r.Get("listing.id") != f.ListingB.ID || r.Get("listing.leads") != nil {
			t.Fatalf("want B's public listing with leads null, got %s", r.Raw)
		}
		if len(r.Errors) != 1 || r.Errors[0].Code() != "FORBIDDEN" || r.Errors[0].PathString() != "listing.leads" {
			t.Errorf("want one FORBIDDEN on listing.leads, got %s", r.Raw)
		}
	})

	// Nothing of B's changed through all of the above.
	var listingB, draftB store.Listing
	if err := api.DB.Get(&listingB, `SELECT title, status, updated_at FROM listings WHERE id = $1`, f.ListingB.ID); err != nil {
		t.Fatal(err)
	}
	if err := api.DB.Get(&draftB, `SELECT title, status, updated_at FROM listings WHERE id = $1`, f.DraftB.ID); err != nil {
		t.Fatal(err)
	}
	if listingB.Title != f.ListingB.Title || listingB.Status != store.ListingActive || !listingB.UpdatedAt.Equal(f.ListingB.UpdatedAt) ||
		draftB.Title != f.DraftB.Title || draftB.Status != store.ListingDraft || !draftB.UpdatedAt.Equal(f.DraftB.UpdatedAt) {
		t.Errorf("B's listings changed: %+v %+v", listingB, draftB)
	}
	var leadStatus string
	if err := api.DB.Get(&leadStatus, `SELECT status FROM leads WHERE id = $1`, f.LeadB); err != nil || leadStatus != "NEW" {
		t.Errorf("B's lead is %q (%v), want NEW", leadStatus, err)
	}
	var companyName string
	if err := api.DB.Get(&companyName, `SELECT company_name FROM sellers WHERE id = $1`, f.SellerB.ID); err != nil || companyName != f.SellerB.CompanyName {
		t.Errorf("B's company name is %q (%v), want %q", companyName, err, f.SellerB.CompanyName)
	}
	var media int
	if err := api.DB.Get(&media, `SELECT count(*) FROM media WHERE id = $1`, mediaB); err != nil || media != 1 {
		t.Errorf("B's media: %d rows (%v), want 1", media, err)
	}
	var locationOfA *string
	if err := api.DB.Get(&locationOfA, `SELECT location_id FROM listings WHERE id = $1`, f.ListingA.ID); err != nil ||
		locationOfA == nil || *locationOfA == locationB {
		t.Errorf("A's listing is at location %v (%v), want A's own %s", locationOfA, err, locationA)
	}
}

// TestIDORPublicSeesOnlyPublicRows checks what anonymous callers see: only
// ACTIVE listings of ACTIVE sellers and only ACTIVE sellers, with hidden rows
// answered by id exactly as ids that do not exist. A seller sees its own
// drafts, and only its own.
func TestIDORPublicSeesOnlyPublicRows(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	suspendedListing := api.mustListing(f.Suspended.ID, "Hydraulic pump suspended", store.ListingActive)
	pending := api.mustSeller("Pending Pumps", store.SellerPending)
	pendingListing := api.mustListing(pending.ID, "Hydraulic pump pending", store.ListingActive)
	pausedA := api.mustListing(f.SellerA.ID, "Hydraulic pump paused", store.ListingPaused)
	soldA := api.mustListing(f.SellerA.ID, "Hydraulic pump sold", store.ListingSold)
	removedA := api.mustListing(f.SellerA.ID, "Hydraulic pump removed", store.ListingRemoved)

	hidden := map[string]string{
		"draft":                    f.DraftA.ID,
		"paused":                   pausedA.ID,
		"sold":                     soldA.ID,
		"removed":                  removedA.ID,
		"suspended seller's":       suspendedListing.ID,
		"pending seller's":         pendingListing.ID,
		"another seller's draft B": f.DraftB.ID,
	}
	for name, id := range hidden {
		t.Run("listing by id/"+name, func(t *testing.T) {
			const q = `query($id: ID!) { listing(id: $id) { id title status } }`
			real := api.post("", q, map[string]any{"id": id})
			random := api.post("", q, map[string]any{"id": uuid.NewString()})
			if real.Get("listing") != nil || len(real.Errors) != 1 || real.Errors[0].Code() != "NOT_FOUND" {
				t.Fatalf("anonymous: want listing null and NOT_FOUND, got %s", real.Raw)
			}
			if idorShape(real) != idorShape(random) {
				t.Errorf("hidden and random ids get different answers:\nhidden %s\nrandom %s", real.Raw, random.Raw)
			}
		})
	}
	for name, s := range map[string]*store.Seller{"suspended": f.Suspended, "pending": pending} {
		t.Run("seller by id/"+name, func(t *testing.T) {
			const q = `query($id: ID!) { seller(id: $id) { id companyName } }`
			real := api.post("", q, map[string]any{"id": s.ID})
			random := api.post("", q, map[string]any{"id": uuid.NewString()})
			if real.Get("seller") != nil || len(real.Errors) != 1 || real.Errors[0].Code() != "NOT_FOUND" {
				t.Fatalf("anonymous: want seller null and NOT_FOUND, got %s", real.Raw)
			}
			if idorShape(real) != idorShape(random) {
				t.Errorf("hidden and random ids get different answers:\nhidden %s\nrandom %s", real.Raw, random.Raw)
			}
			const bySlug = `query($slug: String!) { sellerBySlug(slug: $slug) { id } }`
			realSlug := api.post("", bySlug, map[string]any{"slug": s.Slug})
			randomSlug := api.post("", bySlug, map[string]any{"slug": "no-such-seller-" + uuid.NewString()[:8]})
			if realSlug.Get("sellerBySlug") != nil || idorShape(realSlug) != idorShape(randomSlug) {
				t.Errorf("sellerBySlug: hidden %s, random %s", realSlug.Raw, randomSlug.Raw)
			}
		})
	}

	public := idorSorted(f.ListingA.ID, f.ListingB.ID)
	listingQueries := []struct {
		name string
		q    string
		vars map[string]any
		want []string
	}{
		{"all", `{ listings(first: 100) { totalCount nodes { id status seller { id status } } } }`, nil, public},
		{"search", `{ listings(search: "hydraulic pump", first: 100) { totalCount nodes { id status seller { id status } } } }`, nil,
			idorSorted(f.ListingA.ID)},
		{"non-ACTIVE statuses", `{ listings(first: 100, filter: {status: [DRAFT, PAUSED, SOLD, REMOVED]}) { totalCount nodes { id status seller { id status } } } }`, nil, nil},
		{"ACTIVE status", `{ listings(first: 100, filter: {status: [ACTIVE]}) { totalCount nodes { id status seller { id status } } } }`, nil, public},
		{"suspended seller", `query($s: ID!) { listings(first: 100, filter: {sellerId: $s}) { totalCount nodes { id status seller { id status } } } }`,
			map[string]any{"s": f.Suspended.ID}, nil},
		{"pending seller", `query($s: ID!) { listings(first: 100, filter: {sellerId: $s}) { totalCount nodes { id status seller { id status } } } }`,
			map[string]any{"s": pending.ID}, nil},
		{"seller A's drafts", `query($s: ID!) { listings(first: 100, filter: {sellerId: $s, status: [DRAFT]}) { totalCount nodes { id status seller { id status } } } }`,
			map[string]any{"s": f.SellerA.ID}, nil},
	}
	for _, lq := range listingQueries {
		t.Run("anonymous listings/"+lq.name, func(t *testing.T) {
			r := api.mustPost("", lq.q, lq.vars)
			got := idorIDs(t, r, "listings.nodes")
			if !slices.Equal(got, lq.want) && !(len(got) == 0 && len(lq.want) == 0) {
				t.Errorf("anonymous sees %v, want %v: %s", got, lq.want, r.Raw)
			}
			if n := r.Get("listings.totalCount"); n != float64(len(lq.want)) {
				t.Errorf("totalCount %v, want %d", n, len(lq.want))
			}
			for _, n := range r.Get("listings.nodes").([]any) {
				node := n.(map[string]any)
				seller := node["seller"].(map[string]any)
				if node["status"] != "ACTIVE" || seller["status"] != "ACTIVE" {
					t.Errorf("anonymous sees listing %v (%v) of seller %v (%v)", node["id"], node["status"], seller["id"], seller["status"])
				}
			}
		})
	}
	t.Run("anonymous seller listings", func(t *testing.T) {
		r := api.mustPost("", `query($id: ID!) { seller(id: $id) { listings(first: 100) { totalCount nodes { id } } } }`,
			map[string]any{"id": f.SellerA.ID})
		if got := idorIDs(t, r, "seller.listings.nodes"); !slices.Equal(got, []string{f.ListingA.ID}) {
			t.Errorf("anonymous sees %v of seller A, want only %s", got, f.ListingA.ID)
		}
		if n := r.Get("seller.listings.totalCount"); n != float64(1) {
			t.Errorf("totalCount %v, want 1", n)
		}
	})

	active := idorSorted(f.SellerA.ID, f.SellerB.ID)
	for _, sq := range []struct {
		name, q string
		want    []string
	}{
		{"all", `{ sellers(first: 100) { totalCount nodes { id status } } }`, active},
		{"status SUSPENDED", `{ sellers(first: 100, filter: {status: SUSPENDED}) { totalCount nodes { id status } } }`, nil},
		{"status PENDING", `{ sellers(first: 100, filter: {status: PENDING}) { totalCount nodes { id status } } }`, nil},
		{"region", `{ sellers(first: 100, filter: {region: "tx"}) { totalCount nodes { id status } } }`, active},
	} {
		t.Run("anonymous sellers/"+sq.name, func(t *testing.T) {
			r := api.mustPost("", sq.q, nil)
			got := idorIDs(t, r, "sellers.nodes")
			if !slices.Equal(got, sq.want) && !(len(got) == 0 && len(sq.want) == 0) {
				t.Errorf("anonymous sees sellers %v, want %v: %s", got, sq.want, r.Raw)
			}
			if n := r.Get("sellers.totalCount"); n != float64(len(sq.want)) {
				t.Errorf("totalCount %v, want %d", n, len(sq.want))
			}
		})
	}

	t.Run("seller sees its own drafts only", func(t *testing.T) {
		r := api.mustPost(f.TokenA, `{ listings(first: 100, filter: {status: DRAFT}) { totalCount nodes { id status } } }`, nil)
		if got := idorIDs(t, r, "listings.nodes"); !slices.Equal(got, []string{f.DraftA.ID}) {
			t.Errorf("seller A's drafts: %v, want only %s (B's draft is %s)", got, f.DraftA.ID, f.DraftB.ID)
		}
		if n := r.Get("listings.totalCount"); n != float64(1) {
			t.Errorf("totalCount %v, want 1", n)
		}
		r = api.mustPost(f.TokenA, `query($b: ID!) { listings(first: 100, filter: {sellerId: $b, status: [DRAFT, PAUSED, SOLD, REMOVED]}) { totalCount nodes { id } } }`,
			map[string]any{"b": f.SellerB.ID})
		if got := idorIDs(t, r, "listings.nodes"); len(got) != 0 {
			t.Errorf("seller A sees B's non-public listings %v", got)
		}
		r = api.mustPost(f.TokenA, `query($b: ID!) { seller(id: $b) { listings(first: 100, filter: {status: DRAFT}) { nodes { id } } } }`,
			map[string]any{"b": f.SellerB.ID})
		if got := idorIDs(t, r, "seller.listings.nodes"); len(got) != 0 {
			t.Errorf("seller A sees B's drafts through seller(id: B): %v", got)
		}
		r = api.mustPost(f.TokenA, `{ listings(first: 100) { nodes { id } } }`, nil)
		got := idorIDs(t, r, "listings.nodes")
		if slices.Contains(got, f.DraftB.ID) || slices.Contains(got, suspendedListing.ID) || slices.Contains(got, pendingListing.ID) {
			t.Errorf("seller A's listings include another seller's non-public listing: %v", got)
		}
		if !slices.Contains(got, f.ListingB.ID) {
			t.Errorf("seller A's listings %v should hold B's public listing", got)
		}
	})
}
