package store_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/partsmarket/gateway/internal/database"
	"github.com/partsmarket/gateway/internal/testdb"
	"github.com/partsmarket/gateway/store"
)

// searchCatalog is a small public catalogue for search tests.
type searchCatalog struct {
	filter, turbo, pump, alternator, draft *store.Listing
	names                                  map[string]string
}

func newSearchCatalog(t *testing.T, st *store.Store) searchCatalog {
	t.Helper()
	s := MustCreateActiveSeller(t, st, "Heavy Parts Co")
	c := searchCatalog{
		filter: MustCreateListing(t, st, store.NewListing{SellerID: s.ID, Title: "Fuel filter",
			ListingText: store.ListingText{PartNumber: ptr("1R-0750"), Brand: ptr("Caterpillar"),
				Description: ptr("Spin-on element for D6 dozers")}}),
		turbo: MustCreateListing(t, st, store.NewListing{SellerID: s.ID, Title: "Turbocharger",
			ListingText: store.ListingText{PartNumber: ptr("1R-0751"), Brand: ptr("Garrett")}}),
		pump: MustCreateListing(t, st, store.NewListing{SellerID: s.ID, Title: "Hydraulic pump",
			ListingText: store.ListingText{PartNumber: ptr("9T-5080"), Brand: ptr("Komatsu"),
				Description: ptr("Main pump, remanufactured")}}),
		alternator: MustCreateListing(t, st, store.NewListing{SellerID: s.ID, Title: "Alternator 24V",
			ListingText: store.ListingText{PartNumber: ptr("AL 123"), Brand: ptr("Delco Remy"),
				Description: ptr("Heavy duty alternator with warranty")}}),
		// A draft with the same part number is never found by the public.
		draft: MustCreateListing(t, st, store.NewListing{SellerID: s.ID, Title: "Fuel filter (draft)", Status: store.ListingDraft,
			ListingText: store.ListingText{PartNumber: ptr("1R-0750"), Brand: ptr("Caterpillar")}}),
	}
	c.names = map[string]string{c.filter.ID: "filter", c.turbo.ID: "turbo", c.pump.ID: "pump",
		c.alternator.ID: "alternator", c.draft.ID: "draft"}
	return c
}

func TestListingsSearch(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	c := newSearchCatalog(t, st)
	tests := []struct {
		name   string
		search string
		want   []*store.Listing
	}{
		{"title word", "turbocharger", []*store.Listing{c.turbo}},
		{"title word stemmed", "pumps", []*store.Listing{c.pump}},
		{"description word", "dozers", []*store.Listing{c.filter}},
		{"description word warranty", "warranty", []*store.Listing{c.alternator}},
		{"brand", "komatsu", []*store.Listing{c.pump}},
		{"brand two words", "Delco Remy", []*store.Listing{c.alternator}},
		{"part number as written", "1R-0750", []*store.Listing{c.filter}},
		{"part number lower case without dash", "1r0750", []*store.Listing{c.filter}},
		{"part number with a space", "1R 0750", []*store.Listing{c.filter}},
		{"part number lower case with dash", "1r-0750", []*store.Listing{c.filter}},
		{"part number padded", "  1R-0750  ", []*store.Listing{c.filter}},
		{"part number with extra dashes and spaces", "1-r 07-50", []*store.Listing{c.filter}},
		{"part number stored with a space, searched without", "al123", []*store.Listing{c.alternator}},
		{"part number prefix", "1R-07", []*store.Listing{c.filter, c.turbo}},
		{"part number prefix lower case", "1r07", []*store.Listing{c.filter, c.turbo}},
		{"part number other", "9t5080", []*store.Listing{c.pump}},
		{"two words, both required", "fuel filter", []*store.Listing{c.filter}},
		{"no match", "flux capacitor", nil},
		{"no match for a part number", "ZZ-9999", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lq := store.ListingQuery{Search: tt.search}
			p, err := st.Listings(t.Context(), lq, store.PageArgs{Limit: 20})
			mustOK(t, err, "Listings")
			sameSet(t, "found", idsOf(p.Items), idsOf(tt.want), c.names)
			if p.HasNextPage {
				t.Errorf("got HasNextPage true, want false")
			}
			if p.Total == nil {
				t.Fatalf("got Total nil on the first page of a search, want %d", len(tt.want))
			}
			if got, want := *p.Total, len(tt.want); got != want {
				t.Errorf("got Total %d, want %d", got, want)
			}
			n, err := st.CountListings(t.Context(), lq)
			mustOK(t, err, "CountListings")
			if got, want := n, *p.Total; got != want {
				t.Errorf("got CountListings %d, want Total %d", got, want)
			}
		})
	}
}

func TestListingsSearchNoMatchIsEmptyPage(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	newSearchCatalog(t, st)
	for _, sort := range []store.ListingSort{"", store.SortRelevance, store.SortNewest, store.SortPriceAsc, store.SortPriceDesc} {
		t.Run(string(sort)+"_sort", func(t *testing.T) {
			p, err := st.Listings(t.Context(), store.ListingQuery{Search: "nothingmatchesthis", Sort: sort}, store.PageArgs{Limit: 20})
			mustOK(t, err, "Listings")
			if got := len(p.Items); got != 0 {
				t.Errorf("got %d rows, want 0", got)
			}
			if p.HasNextPage {
				t.Errorf("got HasNextPage true, want false")
			}
			if p.Total == nil {
				t.Fatalf("got Total nil, want 0")
			}
			if got, want := *p.Total, 0; got != want {
				t.Errorf("got Total %d, want %d", got, want)
			}
		})
	}
}

func TestListingsSearchTotal(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	s := MustCreateActiveSeller(t, st, "Pumps Inc")
	other := MustCreateActiveSeller(t, st, "Other Inc")
	for i := 0; i < 7; i++ {
		MustCreateListing(t, st, store.NewListing{SellerID: s.ID, Title: "Hydraulic pump"})
	}
	MustCreateListing(t, st, store.NewListing{SellerID: other.ID, Title: "Hydraulic pump"})
	MustCreateListing(t, st, store.NewListing{SellerID: s.ID, Title: "Hydraulic pump", Status: store.ListingPaused})
	MustCreateListing(t, st, store.NewListing{SellerID: s.ID, Title: "Alternator"})
	tests := []struct {
		name  string
		query store.ListingQuery
		want  int
	}{
		{"public", store.ListingQuery{Search: "pump"}, 8},
		{"public by seller", store.ListingQuery{Search: "pump", Filter: store.ListingFilter{SellerID: &s.ID}}, 7},
		{"admin", store.ListingQuery{Search: "pump", Scope: store.Scope{All: true}}, 9},
		{"price order", store.ListingQuery{Search: "pump", Sort: store.SortPriceAsc}, 8},
		{"newest order", store.ListingQuery{Search: "pump", Sort: store.SortNewest}, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := st.Listings(t.Context(), tt.query, store.PageArgs{Limit: 3})
			mustOK(t, err, "Listings")
			if got, want := len(p.Items), 3; got != want {
				t.Errorf("got %d rows, want %d", got, want)
			}
			if !p.HasNextPage {
				t.Errorf("got HasNextPage false, want true")
			}
			if p.Total == nil {
				t.Fatalf("got Total nil on the first page of a search, want %d", tt.want)
			}
			if got := *p.Total; got != tt.want {
				t.Errorf("got Total %d, want %d", got, tt.want)
			}
			n, err := st.CountListings(t.Context(), tt.query)
			mustOK(t, err, "CountListings")
			if got := n; got != tt.want {
				t.Errorf("got CountListings %d, want %d", got, tt.want)
			}
		})
	}
}

// TestListingsRelevanceExactPartNumberFirst: a buyer who types a part number
// wants the listing with that part number first, even when other listings
// mention the number in their text (cross references are common).
func TestListingsRelevanceExactPartNumberFirst(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	s := MustCreateActiveSeller(t, st, "Filters Co")
	exact := MustCreateListing(t, st, store.NewListing{SellerID: s.ID, Title: "Fuel filter",
		ListingText: store.ListingText{PartNumber: ptr("1R-0750"), Brand: ptr("Caterpillar")}})
	longer := MustCreateListing(t, st, store.NewListing{SellerID: s.ID, Title: "Fuel filter kit",
		ListingText: store.ListingText{PartNumber: ptr("1R-0750K"), Brand: ptr("Caterpillar")}})
	// Titles that repeat the number are common on parts marketplaces.
	mention := MustCreateListing(t, st, store.NewListing{SellerID: s.ID, Title: "1R0750 fuel filter - replaces CAT 1R0750",
		ListingText: store.ListingText{PartNumber: ptr("FF-5052"), Brand: ptr("Fleetguard"),
			Description: ptr("Cross reference 1R0750, 1R-0750, 1R 0750. Fits every 1R0750 application; 1R0750 equivalent.")}})
	names := map[string]string{exact.ID: "exact", longer.ID: "longer", mention.ID: "mention"}
	for _, term := range []string{"1R-0750", "1r0750", "1R0750", "1R 0750", "1r-0750"} {
		for _, sort := range []store.ListingSort{"", store.SortRelevance} {
			t.Run(term+"/"+string(sort), func(t *testing.T) {
				p, err := st.Listings(t.Context(), store.ListingQuery{Search: term, Sort: sort}, store.PageArgs{Limit: 10})
				mustOK(t, err, "Listings")
				if len(p.Items) == 0 {
					t.Fatalf("got no rows, want %s first", "exact")
				}
				if got, want := names[p.Items[0].ID], "exact"; got != want {
					order := make([]string, len(p.Items))
					for i, l := range p.Items {
						order[i] = names[l.ID]
					}
					t.Errorf("got %q first (order %v), want %q", got, order, want)
				}
			})
		}
	}
}

// filterCatalog: two active sellers, listings of every kind.
type filterCatalog struct {
	s1, s2           *store.Seller
	a, b, c, d, e, f *store.Listing
	names            map[string]string
}

func newFilterCatalog(t *testing.T, st *store.Store) filterCatalog {
	t.Helper()
	s1 := MustCreateSellerWithStatus(t, st, store.SellerActive, store.NewSeller{CompanyName: "North", Locations: []store.NewLocation{
		{City: "Dallas", Region: ptr("TX"), Country: "US"},
		{City: "Calgary", Region: ptr("AB"), Country: "CA"},
	}})
	s2 := MustCreateSellerWithStatus(t, st, store.SellerActive, store.NewSeller{CompanyName: "South", Locations: []store.NewLocation{
		{City: "Denver", Region: ptr("CO"), Country: "US"},
	}})
	locs1 := MustLocations(t, st, s1.ID)
	c := filterCatalog{s1: s1, s2: s2}
	c.a = MustCreateListing(t, st, store.NewListing{SellerID: s1.ID, Condition: store.ConditionNew,
		ListingText: store.ListingText{Category: ptr("Filters"), Brand: ptr("Caterpillar")}})
	c.b = MustCreateListing(t, st, store.NewListing{SellerID: s1.ID, Condition: store.ConditionUsed,
		ListingText: store.ListingText{Category: ptr("Pumps"), Brand: ptr("caterpillar"), LocationID: &locs1[1].ID}})
	c.c = MustCreateListing(t, st, store.NewListing{SellerID: s1.ID, Condition: store.ConditionRemanufactured, Status: store.ListingPaused,
		ListingText: store.ListingText{Category: ptr("Pumps"), Brand: ptr("Komatsu")}})
	c.d = MustCreateListing(t, st, store.NewListing{SellerID: s2.ID, Condition: store.ConditionUsed,
		ListingText: store.ListingText{Category: ptr("Filters"), Brand: ptr("Donaldson")}})
	c.e = MustCreateListing(t, st, store.NewListing{SellerID: s2.ID, Condition: store.ConditionForParts, Status: store.ListingSold,
		ListingText: store.ListingText{Category: ptr("Engines"), Brand: ptr("CATERPILLAR")}})
	c.f = MustCreateListing(t, st, store.NewListing{SellerID: s1.ID, Condition: store.ConditionNew, Status: store.ListingDraft,
		ListingText: store.ListingText{Category: ptr("Filters"), Brand: ptr("Caterpillar")}})
	c.names = map[string]string{c.a.ID: "a", c.b.ID: "b", c.c.ID: "c", c.d.ID: "d", c.e.ID: "e", c.f.ID: "f"}
	return c
}

func TestListingsFilters(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	c := newFilterCatalog(t, st)
	public, all := store.Scope{}, store.Scope{All: true}
	s1Scope, s2Scope := store.Scope{SellerID: c.s1.ID}, store.Scope{SellerID: c.s2.ID}
	cond := func(v store.ListingCondition) *store.ListingCondition { return &v }
	tests := []struct {
		name   string
		scope  store.Scope
		filter store.ListingFilter
		want   []*store.Listing
	}{
		{"no filter, public", public, store.ListingFilter{}, []*store.Listing{c.a, c.b, c.d}},
		{"no filter, all", all, store.ListingFilter{}, []*store.Listing{c.a, c.b, c.c, c.d, c.e, c.f}},
		{"sellerId, public", public, store.ListingFilter{SellerID: &c.s1.ID}, []*store.Listing{c.a, c.b}},
		{"sellerId, all", all, store.ListingFilter{SellerID: &c.s1.ID}, []*store.Listing{c.a, c.b, c.c, c.f}},
		{"sellerId, the seller itself", s1Scope, store.ListingFilter{SellerID: &c.s1.ID}, []*store.Listing{c.a, c.b, c.c, c.f}},
		{"sellerId, another seller", s2Scope, store.ListingFilter{SellerID: &c.s1.ID}, []*store.Listing{c.a, c.b}},
		{"sellerId malformed matches nothing", all, store.ListingFilter{SellerID: ptr("abc")}, nil},
		{"sellerId unknown matches nothing", all, store.ListingFilter{SellerID: ptr(unknownID)}, nil},
		{"sellerId empty is unset", public, store.ListingFilter{SellerID: ptr("")}, []*store.Listing{c.a, c.b, c.d}},
		{"category", all, store.ListingFilter{Category: ptr("Pumps")}, []*store.Listing{c.b, c.c}},
		{"category, public", public, store.ListingFilter{Category: ptr("Filters")}, []*store.Listing{c.a, c.d}},
		{"category unknown", all, store.ListingFilter{Category: ptr("Tyres")}, nil},
		{"category empty is unset", public, store.ListingFilter{Category: ptr("")}, []*store.Listing{c.a, c.b, c.d}},
		{"brand, any case, public", public, store.ListingFilter{Brand: ptr("CATERPILLAR")}, []*store.Listing{c.a, c.b}},
		{"brand, any case, all", all, store.ListingFilter{Brand: ptr("caterPillar")}, []*store.Listing{c.a, c.b, c.e, c.f}},
		{"brand other", all, store.ListingFilter{Brand: ptr("komatsu")}, []*store.Listing{c.c}},
		{"condition USED", all, store.ListingFilter{Condition: cond(store.ConditionUsed)}, []*store.Listing{c.b, c.d}},
		{"condition NEW, public", public, store.ListingFilter{Condition: cond(store.ConditionNew)}, []*store.Listing{c.a}},
		{"condition FOR_PARTS", all, store.ListingFilter{Condition: cond(store.ConditionForParts)}, []*store.Listing{c.e}},
		{"region of the default location, lower case", all, store.ListingFilter{Region: ptr("tx")}, []*store.Listing{c.a, c.c, c.f}},
		{"region of a chosen location", all, store.ListingFilter{Region: ptr("AB")}, []*store.Listing{c.b}},
		{"region, mixed case, public", public, store.ListingFilter{Region: ptr("Co")}, []*store.Listing{c.d}},
		{"region unknown", all, store.ListingFilter{Region: ptr("ZZ")}, nil},
		{"status list", all, store.ListingFilter{Status: []store.ListingStatus{store.ListingPaused, store.ListingSold}}, []*store.Listing{c.c, c.e}},
		{"status DRAFT, public sees none", public, store.ListingFilter{Status: []store.ListingStatus{store.ListingDraft}}, nil},
		{"status DRAFT, owner", s1Scope, store.ListingFilter{Status: []store.ListingStatus{store.ListingDraft}}, []*store.Listing{c.f}},
		{"status DRAFT, another seller", s2Scope, store.ListingFilter{Status: []store.ListingStatus{store.ListingDraft}}, nil},
		{"status ACTIVE, public", public, store.ListingFilter{Status: []store.ListingStatus{store.ListingActive}}, []*store.Listing{c.a, c.b, c.d}},
		{"brand and condition", all, store.ListingFilter{Brand: ptr("caterpillar"), Condition: cond(store.ConditionUsed)}, []*store.Listing{c.b}},
		{"category and region", all, store.ListingFilter{Category: ptr("Filters"), Region: ptr("co")}, []*store.Listing{c.d}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lq := store.ListingQuery{Scope: tt.scope, Filter: tt.filter}
			got := allListings(t, st, lq)
			sameSet(t, "listings", idsOf(got), idsOf(tt.want), c.names)
			n, err := st.CountListings(t.Context(), lq)
			mustOK(t, err, "CountListings")
			if want := len(tt.want); n != want {
				t.Errorf("got CountListings %d, want %d", n, want)
			}
		})
	}
}

// visibilityCatalog: sellers in every status and listings in every status.
type visibilityCatalog struct {
	s1, s2, pending, suspended *store.Seller
	listings                   map[string]*store.Listing // by label
	names                      map[string]string
}

func newVisibilityCatalog(t *testing.T, st *store.Store) visibilityCatalog {
	t.Helper()
	c := visibilityCatalog{
		s1:        MustCreateSellerWithStatus(t, st, store.SellerActive, store.NewSeller{CompanyName: "Active One"}),
		s2:        MustCreateSellerWithStatus(t, st, store.SellerActive, store.NewSeller{CompanyName: "Active Two"}),
		pending:   MustCreateSellerWithStatus(t, st, store.SellerPending, store.NewSeller{CompanyName: "Pending"}),
		suspended: MustCreateSellerWithStatus(t, st, store.SellerActive, store.NewSeller{CompanyName: "Suspended"}),
		listings:  map[string]*store.Listing{},
		names:     map[string]string{},
	}
	add := func(label string, s *store.Seller, status store.ListingStatus) {
		l := MustCreateListing(t, st, store.NewListing{SellerID: s.ID, Title: "Part " + label, Status: status})
		c.listings[label] = l
		c.names[l.ID] = label
	}
	add("s1Active", c.s1, store.ListingActive)
	add("s1Draft", c.s1, store.ListingDraft)
	add("s1Paused", c.s1, store.ListingPaused)
	add("s1Sold", c.s1, store.ListingSold)
	add("s1Removed", c.s1, store.ListingRemoved)
	add("s2Active", c.s2, store.ListingActive)
	add("s2Draft", c.s2, store.ListingDraft)
	add("pendingActive", c.pending, store.ListingActive)
	add("pendingDraft", c.pending, store.ListingDraft)
	add("suspendedActive", c.suspended, store.ListingActive)
	// Suspend after listing, as happens to a seller with live listings.
	if _, err := st.SetSellerStatus(t.Context(), c.suspended.ID, store.SellerSuspended); err != nil {
		t.Fatalf("SetSellerStatus: %v", err)
	}
	return c
}

func (c visibilityCatalog) pick(labels ...string) []string {
	out := make([]string, len(labels))
	for i, l := range labels {
		out[i] = c.listings[l].ID
	}
	return out
}

func TestListingsVisibility(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	c := newVisibilityCatalog(t, st)
	var everyID []string
	for _, l := range c.listings {
		everyID = append(everyID, l.ID)
	}
	tests := []struct {
		name  string
		scope store.Scope
		want  []string
	}{
		{"public sees ACTIVE listings of ACTIVE sellers", store.Scope{}, c.pick("s1Active", "s2Active")},
		{"seller sees all its own and public ones", store.Scope{SellerID: c.s1.ID},
			c.pick("s1Active", "s1Draft", "s1Paused", "s1Sold", "s1Removed", "s2Active")},
		{"other seller does not see s1's drafts", store.Scope{SellerID: c.s2.ID}, c.pick("s1Active", "s2Active", "s2Draft")},
		{"pending seller sees its own", store.Scope{SellerID: c.pending.ID},
			c.pick("s1Active", "s2Active", "pendingActive", "pendingDraft")},
		{"suspended seller sees its own", store.Scope{SellerID: c.suspended.ID}, c.pick("s1Active", "s2Active", "suspendedActive")},
		{"malformed seller scope is public", store.Scope{SellerID: "abc"}, c.pick("s1Active", "s2Active")},
		{"unknown seller scope is public", store.Scope{SellerID: unknownID}, c.pick("s1Active", "s2Active")},
		{"all sees everything", store.Scope{All: true}, everyID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lq := store.ListingQuery{Scope: tt.scope}
			sameSet(t, "Listings", idsOf(allListings(t, st, lq)), tt.want, c.names)

			n, err := st.CountListings(t.Context(), lq)
			mustOK(t, err, "CountListings")
			if got, want := n, len(tt.want); got != want {
				t.Errorf("got CountListings %d, want %d", got, want)
			}

			byID, err := st.ListingsByID(t.Context(), tt.scope, append(everyID, "abc", unknownID))
			mustOK(t, err, "ListingsByID")
			sameSet(t, "ListingsByID", idsOf(byID), tt.want, c.names)

			visible := map[string]bool{}
			for _, id := range tt.want {
				visible[id] = true
			}
			for _, id := range everyID {
				l, err := st.Listing(t.Context(), tt.scope, id)
				if visible[id] {
					if err != nil {
						t.Errorf("Listing(%s): got %v, want the listing", c.names[id], err)
					} else if l.ID != id {
						t.Errorf("Listing(%s): got id %s, want %s", c.names[id], l.ID, id)
					}
					continue
				}
				if got := store.ErrorCode(err); got != store.ENOTFOUND {
					t.Errorf("Listing(%s): got code %q (%v), want %s", c.names[id], got, err, store.ENOTFOUND)
				}
			}
		})
	}
	t.Run("search respects scope", func(t *testing.T) {
		for _, tt := range tests {
			got := allListings(t, st, store.ListingQuery{Scope: tt.scope, Search: "part"})
			sameSet(t, tt.name, idsOf(got), tt.want, c.names)
		}
	})
}

func TestCreateListing(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	s := MustCreateSellerWithStatus(t, st, store.SellerActive, store.NewSeller{Locations: []store.NewLocation{
		{City: "Dallas", Region: ptr("TX"), Country: "US"},
		{City: "Austin", Region: ptr("TX"), Country: "US"},
	}})
	locs := MustLocations(t, st, s.ID)
	other := MustCreateSellerWithStatus(t, st, store.SellerActive, store.NewSeller{Locations: []store.NewLocation{
		{City: "Denver", Region: ptr("CO"), Country: "US"},
	}})
	otherLocs := MustLocations(t, st, other.ID)
	bare := MustCreateSellerWithStatus(t, st, store.SellerActive, store.NewSeller{})

	t.Run("stores every field", func(t *testing.T) {
		n := store.NewListing{SellerID: s.ID, Title: "Fuel filter", Condition: store.ConditionNew, Status: store.ListingDraft,
			Quantity: ptr(4), PriceCents: ptr(1999), ListingText: store.ListingText{
				Description: ptr("Spin-on"), PartNumber: ptr("1R-0750"), SKU: ptr("SKU-1"), Brand: ptr("Caterpillar"),
				Category: ptr("Filters"), PriceLabel: ptr("Each"), Currency: ptr("USD")}}
		l, err := st.CreateListing(t.Context(), n)
		mustOK(t, err, "CreateListing")
		got, err := st.Listing(t.Context(), store.Scope{All: true}, l.ID)
		mustOK(t, err, "Listing")
		want := &store.Listing{ID: l.ID, SellerID: s.ID, LocationID: &locs[0].ID, Title: "Fuel filter", Description: ptr("Spin-on"),
			PartNumber: ptr("1R-0750"), SKU: ptr("SKU-1"), Brand: ptr("Caterpillar"), Category: ptr("Filters"),
			Condition: store.ConditionNew, Quantity: ptr(4), PriceLabel: ptr("Each"), PriceCents: ptr(1999), Currency: ptr("USD"),
			Status: store.ListingDraft, CreatedAt: got.CreatedAt, UpdatedAt: got.UpdatedAt}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got %+v, want %+v", *got, *want)
		}
		if !reflect.DeepEqual(l, got) {
			t.Errorf("CreateListing returned %+v, but the stored listing is %+v", *l, *got)
		}
		if got.CreatedAt.IsZero() {
			t.Errorf("got zero CreatedAt")
		}
	})

	tests := []struct {
		name     string
		n        store.NewListing
		wantLoc  *string
		wantCode string
		field    string
	}{
		{"location defaults to the seller's first", store.NewListing{SellerID: s.ID}, &locs[0].ID, "", ""},
		{"an own location is kept", store.NewListing{SellerID: s.ID, ListingText: store.ListingText{LocationID: &locs[1].ID}}, &locs[1].ID, "", ""},
		{"no location for a seller without any", store.NewListing{SellerID: bare.ID}, nil, "", ""},
		{"another seller's location is refused", store.NewListing{SellerID: s.ID, ListingText: store.ListingText{LocationID: &otherLocs[0].ID}}, nil, store.EINVALID, "locationId"},
		{"an unknown location is refused", store.NewListing{SellerID: s.ID, ListingText: store.ListingText{LocationID: ptr(unknownID)}}, nil, store.EINVALID, "locationId"},
		{"a malformed location is refused", store.NewListing{SellerID: s.ID, ListingText: store.ListingText{LocationID: ptr("abc")}}, nil, store.EINVALID, "locationId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.n.Title, tt.n.Condition, tt.n.Status = "Part", store.ConditionUsed, store.ListingActive
			l, err := st.CreateListing(t.Context(), tt.n)
			if tt.wantCode != "" {
				wantError(t, err, tt.wantCode, tt.field)
				return
			}
			mustOK(t, err, "CreateListing")
			if !reflect.DeepEqual(l.LocationID, tt.wantLoc) {
				t.Errorf("got location %v, want %v", deref(l.LocationID), deref(tt.wantLoc))
			}
		})
	}

	t.Run("SKU is unique per seller", func(t *testing.T) {
		MustCreateListing(t, st, store.NewListing{SellerID: s.ID, ListingText: store.ListingText{SKU: ptr("DUP-1")}})
		_, err := st.CreateListing(t.Context(), store.NewListing{SellerID: s.ID, Title: "Again", Condition: store.ConditionUsed,
			Status: store.ListingDraft, ListingText: store.ListingText{SKU: ptr("DUP-1")}})
		wantError(t, err, store.EINVALID, "sku")
	})
	t.Run("the same SKU for two sellers is fine", func(t *testing.T) {
		MustCreateListing(t, st, store.NewListing{SellerID: s.ID, ListingText: store.ListingText{SKU: ptr("SHARED-1")}})
		MustCreateListing(t, st, store.NewListing{SellerID: other.ID, ListingText: store.ListingText{SKU: ptr("SHARED-1")}})
	})
	t.Run("listings without SKU do not clash", func(t *testing.T) {
		MustCreateListing(t, st, store.NewListing{SellerID: other.ID})
		MustCreateListing(t, st, store.NewListing{SellerID: other.ID})
	})
	t.Run("a malformed or unknown seller is not an SQL error", func(t *testing.T) {
		for _, id := range []string{"abc", unknownID} {
			_, err := st.CreateListing(t.Context(), store.NewListing{SellerID: id, Title: "Part", Condition: store.ConditionUsed, Status: store.ListingDraft})
			if code := store.ErrorCode(err); code != store.ENOTFOUND && code != store.EINVALID {
				t.Errorf("seller %q: got code %q (%v), want %s or %s", id, code, err, store.ENOTFOUND, store.EINVALID)
			}
		}
	})
}

func deref(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

func TestUpdateListing(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	s := MustCreateSellerWithStatus(t, st, store.SellerActive, store.NewSeller{Locations: []store.NewLocation{
		{City: "Dallas", Region: ptr("TX"), Country: "US"},
		{City: "Austin", Region: ptr("TX"), Country: "US"},
	}})
	locs := MustLocations(t, st, s.ID)
	other := MustCreateSellerWithStatus(t, st, store.SellerActive, store.NewSeller{Locations: []store.NewLocation{
		{City: "Denver", Region: ptr("CO"), Country: "US"},
	}})
	otherLocs := MustLocations(t, st, other.ID)
	full := func(t *testing.T, sku string) *store.Listing {
		return MustCreateListing(t, st, store.NewListing{SellerID: s.ID, Title: "Fuel filter", Condition: store.ConditionNew,
			Quantity: ptr(4), PriceCents: ptr(1999), ListingText: store.ListingText{
				Description: ptr("Spin-on"), PartNumber: ptr("1R-0750"), SKU: ptr(sku), Brand: ptr("Caterpillar"),
				Category: ptr("Filters"), PriceLabel: ptr("Each"), Currency: ptr("USD")}})
	}
	cond := store.ConditionUsed
	tests := []struct {
		name   string
		change store.ListingChanges
		edit   func(l *store.Listing) // what the listing should look like after
	}{
		{"nothing", store.ListingChanges{}, func(l *store.Listing) {}},
		{"title only", store.ListingChanges{Title: ptr("Fuel filter element")}, func(l *store.Listing) { l.Title = "Fuel filter element" }},
		{"description only", store.ListingChanges{ListingText: store.ListingText{Description: ptr("New text")}},
			func(l *store.Listing) { l.Description = ptr("New text") }},
		{"condition, quantity and price", store.ListingChanges{Condition: &cond, Quantity: ptr(0), PriceCents: ptr(500)},
			func(l *store.Listing) { l.Condition, l.Quantity, l.PriceCents = store.ConditionUsed, ptr(0), ptr(500) }},
		{"empty strings clear text fields", store.ListingChanges{ListingText: store.ListingText{
			Description: ptr(""), PartNumber: ptr(""), SKU: ptr(""), Brand: ptr(""), Category: ptr(""), PriceLabel: ptr(""), Currency: ptr("")}},
			func(l *store.Listing) {
				l.Description, l.PartNumber, l.SKU, l.Brand, l.Category, l.PriceLabel, l.Currency = nil, nil, nil, nil, nil, nil, nil
			}},
		{"another own location", store.ListingChanges{ListingText: store.ListingText{LocationID: &locs[1].ID}},
			func(l *store.Listing) { l.LocationID = &locs[1].ID }},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := full(t, "UPD-"+string(rune('A'+i)))
			got, err := st.UpdateListing(t.Context(), before.ID, tt.change)
			mustOK(t, err, "UpdateListing")
			want := *before
			tt.edit(&want)
			want.UpdatedAt = got.UpdatedAt
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("got  %+v\nwant %+v", *got, want)
			}
			if got.UpdatedAt.Before(before.UpdatedAt) {
				t.Errorf("got UpdatedAt %v, before %v", got.UpdatedAt, before.UpdatedAt)
			}
			stored, err := st.Listing(t.Context(), store.Scope{All: true}, before.ID)
			mustOK(t, err, "Listing")
			if !reflect.DeepEqual(stored, got) {
				t.Errorf("stored %+v, UpdateListing returned %+v", *stored, *got)
			}
		})
	}

	errTests := []struct {
		name   string
		id     func(t *testing.T) string
		change store.ListingChanges
		code   string
		field  string
	}{
		{"missing listing", func(*testing.T) string { return unknownID }, store.ListingChanges{Title: ptr("x")}, store.ENOTFOUND, ""},
		{"malformed id", func(*testing.T) string { return "abc" }, store.ListingChanges{Title: ptr("x")}, store.ENOTFOUND, ""},
		{"another seller's location", func(t *testing.T) string { return full(t, "ERR-1").ID },
			store.ListingChanges{ListingText: store.ListingText{LocationID: &otherLocs[0].ID}}, store.EINVALID, "locationId"},
		{"an unknown location", func(t *testing.T) string { return full(t, "ERR-2").ID },
			store.ListingChanges{ListingText: store.ListingText{LocationID: ptr(unknownID)}}, store.EINVALID, "locationId"},
		{"a malformed location", func(t *testing.T) string { return full(t, "ERR-3").ID },
			store.ListingChanges{ListingText: store.ListingText{LocationID: ptr("abc")}}, store.EINVALID, "locationId"},
		{"a SKU another listing of the seller has", func(t *testing.T) string { full(t, "TAKEN"); return full(t, "ERR-4").ID },
			store.ListingChanges{ListingText: store.ListingText{SKU: ptr("TAKEN")}}, store.EINVALID, "sku"},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			id := tt.id(t)
			var before *store.Listing
			if store.ValidID(id) && id != unknownID {
				before, _ = st.Listing(t.Context(), store.Scope{All: true}, id)
			}
			_, err := st.UpdateListing(t.Context(), id, tt.change)
			wantError(t, err, tt.code, tt.field)
			if before != nil {
				after, err := st.Listing(t.Context(), store.Scope{All: true}, id)
				mustOK(t, err, "Listing")
				if !reflect.DeepEqual(after, before) {
					t.Errorf("a refused update changed the listing: got %+v, want %+v", *after, *before)
				}
			}
		})
	}

	t.Run("the SKU another seller has is fine", func(t *testing.T) {
		MustCreateListing(t, st, store.NewListing{SellerID: other.ID, ListingText: store.ListingText{SKU: ptr("OTHERS")}})
		l := full(t, "MINE")
		got, err := st.UpdateListing(t.Context(), l.ID, store.ListingChanges{ListingText: store.ListingText{SKU: ptr("OTHERS")}})
		mustOK(t, err, "UpdateListing")
		if got, want := deref(got.SKU), "OTHERS"; got != want {
			t.Errorf("got SKU %q, want %q", got, want)
		}
	})
}

func TestSetListingStatus(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	s := MustCreateActiveSeller(t, st, "Status Co")
	l := MustCreateListing(t, st, store.NewListing{SellerID: s.ID, Status: store.ListingDraft})
	set := func(status store.ListingStatus) func() (*store.Listing, error) {
		return func() (*store.Listing, error) { return st.SetListingStatus(t.Context(), l.ID, status, nil) }
	}
	remove := func(reason string) func() (*store.Listing, error) {
		return func() (*store.Listing, error) { return st.RemoveListing(t.Context(), l.ID, reason) }
	}
	steps := []struct {
		name       string
		do         func() (*store.Listing, error)
		status     store.ListingStatus
		wantReason *string
	}{
		{"activate", set(store.ListingActive), store.ListingActive, nil},
		{"remove with a reason", remove("Counterfeit"), store.ListingRemoved, ptr("Counterfeit")},
		{"remove again with another reason", remove("Still counterfeit"), store.ListingRemoved, ptr("Still counterfeit")},
		{"REMOVED again keeps the reason", set(store.ListingRemoved), store.ListingRemoved, ptr("Still counterfeit")},
		{"lift clears the reason", set(store.ListingActive), store.ListingActive, nil},
		{"remove without a reason", set(store.ListingRemoved), store.ListingRemoved, nil},
		{"pause", set(store.ListingPaused), store.ListingPaused, nil},
		{"sold", set(store.ListingSold), store.ListingSold, nil},
		{"back to draft", set(store.ListingDraft), store.ListingDraft, nil},
	}
	for _, tt := range steps {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.do()
			mustOK(t, err, "SetListingStatus")
			if got.Status != tt.status {
				t.Errorf("got status %s, want %s", got.Status, tt.status)
			}
			if !reflect.DeepEqual(got.RemovalReason, tt.wantReason) {
				t.Errorf("got removal reason %s, want %s", deref(got.RemovalReason), deref(tt.wantReason))
			}
			stored, err := st.Listing(t.Context(), store.Scope{All: true}, l.ID)
			mustOK(t, err, "Listing")
			if stored.Status != tt.status || !reflect.DeepEqual(stored.RemovalReason, tt.wantReason) {
				t.Errorf("stored %s/%s, want %s/%s", stored.Status, deref(stored.RemovalReason), tt.status, deref(tt.wantReason))
			}
		})
	}
	for _, id := range []string{unknownID, "abc"} {
		t.Run("missing "+id, func(t *testing.T) {
			_, err := st.SetListingStatus(t.Context(), id, store.ListingActive, nil)
			wantError(t, err, store.ENOTFOUND, "")
		})
	}
}

// TestSetListingStatusRule: the rule sees the locked listing's status and the
// wanted one; its refusal is returned and nothing changes, audit included.
func TestSetListingStatusRule(t *testing.T) {
	t.Parallel()
	st, db := newStore(t)
	s := MustCreateActiveSeller(t, st, "Rule Co")
	l := MustCreateListing(t, st, store.NewListing{SellerID: s.ID, Status: store.ListingActive})
	_, err := st.RemoveListing(t.Context(), l.ID, "Counterfeit")
	mustOK(t, err, "RemoveListing")
	var asked []store.ListingStatus
	refuse := func(from, to store.ListingStatus) error {
		asked = append(asked, from, to)
		return store.Errorf(store.EFORBIDDEN, "no")
	}
	_, err = st.SetListingStatus(t.Context(), l.ID, store.ListingActive, refuse)
	wantError(t, err, store.EFORBIDDEN, "")
	if want := []store.ListingStatus{store.ListingRemoved, store.ListingActive}; !reflect.DeepEqual(asked, want) {
		t.Errorf("rule asked about %v, want %v", asked, want)
	}
	stored, err := st.Listing(t.Context(), store.Scope{All: true}, l.ID)
	mustOK(t, err, "Listing")
	if stored.Status != store.ListingRemoved || deref(stored.RemovalReason) != "Counterfeit" {
		t.Errorf("stored %s/%s, want REMOVED/Counterfeit", stored.Status, deref(stored.RemovalReason))
	}
	var n int
	mustOK(t, db.Get(&n, `SELECT count(*) FROM audit_events WHERE target_id = $1 AND action = 'listing.status'`, l.ID), "count")
	if n != 0 {
		t.Errorf("%d listing.status audit events after a refusal, want 0", n)
	}
}

func TestMedia(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	s := MustCreateActiveSeller(t, st, "Media Co")
	l := MustCreateListing(t, st, store.NewListing{SellerID: s.ID})
	other := MustCreateListing(t, st, store.NewListing{SellerID: s.ID})

	t.Run("appends positions 0, 1, 2", func(t *testing.T) {
		for i, want := range []int{0, 1, 2} {
			m, err := st.AddMedia(t.Context(), store.NewMedia{ListingID: l.ID, URL: "https://img.example.com/" + string(rune('a'+i)) + ".jpg",
				AltText: ptr("photo"), ContentType: ptr("image/jpeg")})
			mustOK(t, err, "AddMedia")
			if m.Position != want {
				t.Errorf("image %d: got position %d, want %d", i, m.Position, want)
			}
			if m.ListingID != l.ID || deref(m.AltText) != "photo" || deref(m.ContentType) != "image/jpeg" {
				t.Errorf("image %d: got %+v", i, *m)
			}
		}
		ms, err := st.MediaByListingID(t.Context(), []string{l.ID, other.ID, "abc"})
		mustOK(t, err, "MediaByListingID")
		var positions []int
		for _, m := range ms {
			positions = append(positions, m.Position)
		}
		if want := []int{0, 1, 2}; !reflect.DeepEqual(positions, want) {
			t.Errorf("got positions %v, want %v", positions, want)
		}
	})
	t.Run("a given position is kept", func(t *testing.T) {
		m, err := st.AddMedia(t.Context(), store.NewMedia{ListingID: other.ID, URL: "https://img.example.com/x.jpg", Position: ptr(7)})
		mustOK(t, err, "AddMedia")
		if got, want := m.Position, 7; got != want {
			t.Errorf("got position %d, want %d", got, want)
		}
		m, err = st.AddMedia(t.Context(), store.NewMedia{ListingID: other.ID, URL: "https://img.example.com/y.jpg"})
		mustOK(t, err, "AddMedia")
		if got, want := m.Position, 8; got != want {
			t.Errorf("after position 7: got position %d, want %d", got, want)
		}
	})
	t.Run("the 21st image is refused", func(t *testing.T) {
		full := MustCreateListing(t, st, store.NewListing{SellerID: s.ID})
		for i := 0; i < store.MaxMediaPerListing; i++ {
			MustAddMedia(t, st, full.ID, "https://img.example.com/full.jpg")
		}
		_, err := st.AddMedia(t.Context(), store.NewMedia{ListingID: full.ID, URL: "https://img.example.com/21.jpg"})
		wantError(t, err, store.EINVALID, "")
		ms, err := st.MediaByListingID(t.Context(), []string{full.ID})
		mustOK(t, err, "MediaByListingID")
		if got, want := len(ms), store.MaxMediaPerListing; got != want {
			t.Errorf("got %d images, want %d", got, want)
		}
	})
	t.Run("Media and RemoveMedia", func(t *testing.T) {
		m := MustAddMedia(t, st, other.ID, "https://img.example.com/gone.jpg")
		got, err := st.Media(t.Context(), m.ID)
		mustOK(t, err, "Media")
		if !reflect.DeepEqual(got, m) {
			t.Errorf("got %+v, want %+v", *got, *m)
		}
		mustOK(t, st.RemoveMedia(t.Context(), m.ID), "RemoveMedia")
		_, err = st.Media(t.Context(), m.ID)
		wantError(t, err, store.ENOTFOUND, "")
		wantError(t, st.RemoveMedia(t.Context(), m.ID), store.ENOTFOUND, "")
	})
	missing := []struct {
		name string
		id   string
	}{{"unknown id", unknownID}, {"malformed id", "abc"}}
	for _, tt := range missing {
		t.Run("RemoveMedia "+tt.name, func(t *testing.T) {
			wantError(t, st.RemoveMedia(t.Context(), tt.id), store.ENOTFOUND, "")
		})
		t.Run("Media "+tt.name, func(t *testing.T) {
			_, err := st.Media(t.Context(), tt.id)
			wantError(t, err, store.ENOTFOUND, "")
		})
		t.Run("AddMedia to "+tt.name, func(t *testing.T) {
			_, err := st.AddMedia(t.Context(), store.NewMedia{ListingID: tt.id, URL: "https://img.example.com/a.jpg"})
			wantError(t, err, store.ENOTFOUND, "")
		})
	}
}

func TestRecordSearches(t *testing.T) {
	t.Parallel()
	url := testdb.New(t)
	// A counting pool, so the test sees how many statements a batch costs.
	db, err := database.Open(t.Context(), url, "store-test", 2)
	mustOK(t, err, "database.Open")
	t.Cleanup(func() { _ = db.Close() })
	st := store.New(db)

	at := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	recs := []store.SearchRecord{
		{Term: "1r0750", Filters: map[string]string{"category": "Filters", "region": "TX"}, ResultCount: 3, SessionID: ptr("s-1"), At: at},
		{Term: "flux capacitor", Filters: map[string]string{}, ResultCount: 0, At: at.Add(time.Second)},
		{Term: "[redacted]", Filters: nil, ResultCount: 0, SessionID: ptr("s-2"), At: at.Add(2 * time.Second)},
		{Term: `quote " and \ backslash`, Filters: map[string]string{"brand": `Cat "Yellow"`}, ResultCount: 12, At: at.Add(3 * time.Second)},
	}
	ctx := database.WithStatementCounter(t.Context())
	mustOK(t, st.RecordSearches(ctx, recs), "RecordSearches")
	if got, want := database.StatementCount(ctx), int64(1); got != want {
		t.Errorf("got %d statements for a batch of %d, want %d", got, len(recs), want)
	}

	ctx = database.WithStatementCounter(t.Context())
	mustOK(t, st.RecordSearches(ctx, nil), "RecordSearches(nil)")
	if got, want := database.StatementCount(ctx), int64(0); got != want {
		t.Errorf("got %d statements for an empty batch, want %d", got, want)
	}

	type row struct {
		Term        string    `db:"term"`
		Filters     string    `db:"filters"`
		ResultCount int       `db:"result_count"`
		SessionID   *string   `db:"session_id"`
		CreatedAt   time.Time `db:"created_at"`
		Kind        string    `db:"kind"`
	}
	var rows []row
	err = db.SelectContext(t.Context(), &rows, `SELECT term, filters::text AS filters, jsonb_typeof(filters) AS kind,
		result_count, session_id, created_at FROM search_queries ORDER BY id`)
	mustOK(t, err, "select search_queries")
	if got, want := len(rows), len(recs); got != want {
		t.Fatalf("got %d rows, want %d", got, want)
	}
	for i, r := range recs {
		t.Run(r.Term, func(t *testing.T) {
			got := rows[i]
			if got.Term != r.Term {
				t.Errorf("got term %q, want %q", got.Term, r.Term)
			}
			if got.ResultCount != r.ResultCount {
				t.Errorf("got result count %d, want %d", got.ResultCount, r.ResultCount)
			}
			if !reflect.DeepEqual(got.SessionID, r.SessionID) {
				t.Errorf("got session %s, want %s", deref(got.SessionID), deref(r.SessionID))
			}
			if !got.CreatedAt.Equal(r.At) {
				t.Errorf("got created_at %v, want %v", got.CreatedAt, r.At)
			}
			if got, want := got.Kind, "object"; got != want {
				t.Errorf("got filters of JSON type %s (%s), want %s", got, rows[i].Filters, want)
			}
			var filters map[string]string
			if err := json.Unmarshal([]byte(got.Filters), &filters); err != nil {
				t.Fatalf("filters %q: %v", got.Filters, err)
			}
			want := r.Filters
			if want == nil {
				want = map[string]string{}
			}
			if filters == nil {
				filters = map[string]string{}
			}
			if !reflect.DeepEqual(filters, want) {
				t.Errorf("got filters %v, want %v", filters, want)
			}
		})
	}
}

// TestListingRegionFollowsYard: the region filter (listings.region, kept by
// migration 00011's triggers) follows a listing's yard through every way the
// yard can change: replaced locations (same address kept, others moved to
// the first), a region edited in place, a yard deleted.
func TestListingRegionFollowsYard(t *testing.T) {
	t.Parallel()
	st, db := newStore(t)
	seller := MustCreateSellerWithStatus(t, st, store.SellerActive, store.NewSeller{Locations: []store.NewLocation{
		{City: "Dallas", Region: ptr("TX"), Country: "US"},
		{City: "Calgary", Region: ptr("AB"), Country: "CA"},
	}})
	locs := MustLocations(t, st, seller.ID)
	dallas := MustCreateListing(t, st, store.NewListing{SellerID: seller.ID, ListingText: store.ListingText{LocationID: &locs[0].ID}, Title: "Dallas part"})
	calgary := MustCreateListing(t, st, store.NewListing{SellerID: seller.ID, ListingText: store.ListingText{LocationID: &locs[1].ID}, Title: "Calgary part"})
	inRegion := func(step, region string, want ...*store.Listing) {
		t.Helper()
		p, err := st.Listings(t.Context(), store.ListingQuery{Filter: store.ListingFilter{Region: &region}}, store.PageArgs{Limit: 20})
		mustOK(t, err, "Listings")
		sameSet(t, step+": region "+region, idsOf(p.Items), idsOf(want), map[string]string{dallas.ID: "dallas", calgary.ID: "calgary"})
	}
	inRegion("created", "tx", dallas)
	inRegion("created", "AB", calgary)

	// Dallas is kept (same address, new row); Calgary goes, so its listing
	// moves to the first location, Denver.
	if _, err := st.UpdateSellerProfile(t.Context(), seller.ID, store.SellerProfile{Locations: &[]store.NewLocation{
		{City: "Denver", Region: ptr("CO"), Country: "US"},
		{City: "Dallas", Region: ptr("TX"), Country: "US"},
	}}); err != nil {
		t.Fatal(err)
	}
	inRegion("locations replaced", "TX", dallas)
	inRegion("locations replaced", "CO", calgary)
	inRegion("locations replaced", "AB")

	db.MustExec(`UPDATE seller_locations SET region = 'OK' WHERE seller_id = $1 AND city = 'Dallas'`, seller.ID)
	inRegion("region edited", "ok", dallas)
	inRegion("region edited", "tx")

	db.MustExec(`DELETE FROM seller_locations WHERE seller_id = $1 AND city = 'Dallas'`, seller.ID)
	inRegion("yard deleted", "ok")
}
