package store_test

import (
	"reflect"
	"testing"

	"github.com/partsmarket/gateway/store"
)

func TestSellersVisibility(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	active := MustCreateSellerWithStatus(t, st, store.SellerActive, store.NewSeller{Slug: "active-co", CompanyName: "Active Co"})
	active2 := MustCreateSellerWithStatus(t, st, store.SellerActive, store.NewSeller{Slug: "active-two", CompanyName: "Active Two"})
	pending := MustCreateSellerWithStatus(t, st, store.SellerPending, store.NewSeller{Slug: "pending-co", CompanyName: "Pending Co"})
	suspended := MustCreateSellerWithStatus(t, st, store.SellerSuspended, store.NewSeller{Slug: "suspended-co", CompanyName: "Suspended Co"})
	every := []*store.Seller{active, active2, pending, suspended}
	names := map[string]string{}
	for _, s := range every {
		names[s.ID] = s.Slug
	}
	tests := []struct {
		name  string
		scope store.Scope
		want  []*store.Seller
	}{
		{"public sees ACTIVE sellers", store.Scope{}, []*store.Seller{active, active2}},
		{"a pending seller sees itself", store.Scope{SellerID: pending.ID}, []*store.Seller{active, active2, pending}},
		{"a suspended seller sees itself", store.Scope{SellerID: suspended.ID}, []*store.Seller{active, active2, suspended}},
		{"an active seller does not see others that are not active", store.Scope{SellerID: active.ID}, []*store.Seller{active, active2}},
		{"a malformed seller scope is public", store.Scope{SellerID: "abc"}, []*store.Seller{active, active2}},
		{"all sees every seller", store.Scope{All: true}, every},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := idsOf(tt.want)
			visible := map[string]bool{}
			for _, id := range want {
				visible[id] = true
			}

			byID, err := st.SellersByID(t.Context(), tt.scope, append(idsOf(every), "abc", unknownID))
			mustOK(t, err, "SellersByID")
			sameSet(t, "SellersByID", idsOf(byID), want, names)

			p, err := st.Sellers(t.Context(), store.SellerQuery{Scope: tt.scope}, store.PageArgs{Limit: 100})
			mustOK(t, err, "Sellers")
			sameSet(t, "Sellers", idsOf(p.Items), want, names)

			n, err := st.CountSellers(t.Context(), store.SellerQuery{Scope: tt.scope})
			mustOK(t, err, "CountSellers")
			if got, want := n, len(want); got != want {
				t.Errorf("got CountSellers %d, want %d", got, want)
			}

			for _, s := range every {
				got, err := st.Seller(t.Context(), tt.scope, s.ID)
				gotBySlug, errBySlug := st.SellerBySlug(t.Context(), tt.scope, s.Slug)
				if visible[s.ID] {
					if err != nil || got.ID != s.ID {
						t.Errorf("Seller(%s): got %v, %v; want the seller", s.Slug, got, err)
					}
					if errBySlug != nil || gotBySlug.ID != s.ID {
						t.Errorf("SellerBySlug(%s): got %v, %v; want the seller", s.Slug, gotBySlug, errBySlug)
					}
					continue
				}
				if code := store.ErrorCode(err); code != store.ENOTFOUND {
					t.Errorf("Seller(%s): got code %q (%v), want %s", s.Slug, code, err, store.ENOTFOUND)
				}
				if code := store.ErrorCode(errBySlug); code != store.ENOTFOUND {
					t.Errorf("SellerBySlug(%s): got code %q (%v), want %s", s.Slug, code, errBySlug, store.ENOTFOUND)
				}
			}
		})
	}
	t.Run("unknown slug", func(t *testing.T) {
		_, err := st.SellerBySlug(t.Context(), store.Scope{All: true}, "no-such-seller")
		wantError(t, err, store.ENOTFOUND, "")
	})
	t.Run("SellerStatus ignores scope", func(t *testing.T) {
		for _, s := range every {
			got, err := st.SellerStatus(t.Context(), s.ID)
			mustOK(t, err, "SellerStatus")
			if want := string(s.Status); got != want {
				t.Errorf("%s: got %s, want %s", s.Slug, got, want)
			}
		}
	})
}

func TestSellersFilter(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	tx := MustCreateSellerWithStatus(t, st, store.SellerActive, store.NewSeller{Slug: "texas", Locations: []store.NewLocation{
		{City: "Denver", Region: ptr("CO"), Country: "US"}, {City: "Dallas", Region: ptr("TX"), Country: "US"}}})
	co := MustCreateSellerWithStatus(t, st, store.SellerActive, store.NewSeller{Slug: "colorado", Locations: []store.NewLocation{
		{City: "Denver", Region: ptr("CO"), Country: "US"}}})
	verified, err := st.VerifySeller(t.Context(), co.ID, ptr("checked papers"))
	mustOK(t, err, "VerifySeller")
	pending := MustCreateSellerWithStatus(t, st, store.SellerPending, store.NewSeller{Slug: "pending", Locations: []store.NewLocation{
		{City: "Dallas", Region: ptr("TX"), Country: "US"}}})
	names := map[string]string{tx.ID: "texas", co.ID: "colorado", pending.ID: "pending"}
	status := func(s store.SellerStatus) *store.SellerStatus { return &s }
	tests := []struct {
		name   string
		scope  store.Scope
		filter store.SellerFilter
		want   []string
	}{
		{"region, any case", store.Scope{All: true}, store.SellerFilter{Region: ptr("tx")}, []string{tx.ID, pending.ID}},
		{"region, public", store.Scope{}, store.SellerFilter{Region: ptr("TX")}, []string{tx.ID}},
		{"region of a second location", store.Scope{}, store.SellerFilter{Region: ptr("co")}, []string{tx.ID, co.ID}},
		{"region empty is unset", store.Scope{}, store.SellerFilter{Region: ptr("")}, []string{tx.ID, co.ID}},
		{"verified", store.Scope{All: true}, store.SellerFilter{Verified: ptr(true)}, []string{verified.ID}},
		{"not verified", store.Scope{All: true}, store.SellerFilter{Verified: ptr(false)}, []string{tx.ID, pending.ID}},
		{"status PENDING, all", store.Scope{All: true}, store.SellerFilter{Status: status(store.SellerPending)}, []string{pending.ID}},
		{"status PENDING, public", store.Scope{}, store.SellerFilter{Status: status(store.SellerPending)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := store.SellerQuery{Scope: tt.scope, Filter: tt.filter}
			p, err := st.Sellers(t.Context(), q, store.PageArgs{Limit: 100})
			mustOK(t, err, "Sellers")
			sameSet(t, "Sellers", idsOf(p.Items), tt.want, names)
			n, err := st.CountSellers(t.Context(), q)
			mustOK(t, err, "CountSellers")
			if got, want := n, len(tt.want); got != want {
				t.Errorf("got CountSellers %d, want %d", got, want)
			}
		})
	}
	if !verified.Verified || deref(verified.VerificationNotes) != "checked papers" {
		t.Errorf("VerifySeller: got verified %t notes %s, want true, %q", verified.Verified, deref(verified.VerificationNotes), "checked papers")
	}
}

func TestCreateSeller(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	n := store.NewSeller{
		Slug: "heavy-parts", CompanyName: "Heavy Parts", Description: ptr("Used parts"), Website: ptr("https://heavy.example.com"),
		Contacts: []store.NewContact{
			{Kind: store.ContactPhone, Value: "+1 555 0100", Label: ptr("Sales")},
			{Kind: store.ContactEmail, Value: "sales@heavy.example.com"},
			{Kind: store.ContactText, Value: "+1 555 0101", Label: ptr("")},
		},
		Locations: []store.NewLocation{
			{City: "Dallas", Region: ptr("TX"), Country: "US", PostalCode: ptr("75201")},
			{City: "Calgary", Country: "CA", Region: ptr("")},
		},
	}
	s, err := st.CreateSeller(t.Context(), n)
	mustOK(t, err, "CreateSeller")

	t.Run("seller", func(t *testing.T) {
		want := &store.Seller{ID: s.ID, Slug: "heavy-parts", CompanyName: "Heavy Parts", Description: ptr("Used parts"),
			Website: ptr("https://heavy.example.com"), Status: store.SellerPending, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt}
		if !reflect.DeepEqual(s, want) {
			t.Errorf("got %+v, want %+v", *s, *want)
		}
		got, err := st.Seller(t.Context(), store.Scope{All: true}, s.ID)
		mustOK(t, err, "Seller")
		if !reflect.DeepEqual(got, s) {
			t.Errorf("stored %+v, CreateSeller returned %+v", *got, *s)
		}
	})
	t.Run("contacts in order", func(t *testing.T) {
		cs, err := st.ContactsBySellerID(t.Context(), []string{s.ID, "abc"})
		mustOK(t, err, "ContactsBySellerID")
		type contact struct {
			Kind  store.ContactKind
			Value string
			Label string
		}
		var got []contact
		for _, c := range cs {
			got = append(got, contact{c.Kind, c.Value, deref(c.Label)})
		}
		want := []contact{{store.ContactPhone, "+1 555 0100", "Sales"}, {store.ContactEmail, "sales@heavy.example.com", "<nil>"},
			{store.ContactText, "+1 555 0101", "<nil>"}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})
	t.Run("locations in order", func(t *testing.T) {
		ls := MustLocations(t, st, s.ID)
		type location struct{ City, Region, Country, Postal string }
		var got []location
		for _, l := range ls {
			got = append(got, location{l.City, deref(l.Region), l.Country, deref(l.PostalCode)})
		}
		want := []location{{"Dallas", "TX", "US", "75201"}, {"Calgary", "<nil>", "CA", "<nil>"}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})
	t.Run("a taken slug", func(t *testing.T) {
		_, err := st.CreateSeller(t.Context(), store.NewSeller{Slug: "heavy-parts", CompanyName: "Other"})
		wantError(t, err, store.EINVALID, "slug")
		sellers, err := st.Sellers(t.Context(), store.SellerQuery{Scope: store.Scope{All: true}}, store.PageArgs{Limit: 10})
		mustOK(t, err, "Sellers")
		if got, want := len(sellers.Items), 1; got != want {
			t.Errorf("got %d sellers after a refused create, want %d", got, want)
		}
	})
}

func TestFreeSlug(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	ctx := t.Context()
	free := func(base string) string {
		t.Helper()
		s, err := st.FreeSlug(ctx, base)
		mustOK(t, err, "FreeSlug")
		return s
	}
	steps := []struct {
		name string
		base string
		want string
	}{
		{"free base", "acme", "acme"},
		{"base taken", "acme", "acme-2"},
		{"base and -2 taken", "acme", "acme-3"},
		{"a longer slug sharing the prefix does not count", "acme-parts", "acme-parts"},
	}
	for _, tt := range steps {
		t.Run(tt.name, func(t *testing.T) {
			got := free(tt.base)
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			MustCreateSeller(t, st, store.NewSeller{Slug: got})
		})
	}
	t.Run("a gap is reused", func(t *testing.T) {
		MustCreateSeller(t, st, store.NewSeller{Slug: "gap"})
		MustCreateSeller(t, st, store.NewSeller{Slug: "gap-3"})
		if got, want := free("gap"), "gap-2"; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	})
	t.Run("other bases do not interfere", func(t *testing.T) {
		MustCreateSeller(t, st, store.NewSeller{Slug: "bolt-2"})
		if got, want := free("bolt"), "bolt"; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	})
}

func TestUpdateSellerProfile(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	newSeller := func(t *testing.T) *store.Seller {
		return MustCreateSellerWithStatus(t, st, store.SellerActive, store.NewSeller{
			CompanyName: "Before", Description: ptr("Old description"), Website: ptr("https://old.example.com"),
			Contacts: []store.NewContact{{Kind: store.ContactPhone, Value: "+1 555 0100"}},
			Locations: []store.NewLocation{
				{City: "Dallas", Region: ptr("TX"), Country: "US"},
				{City: "Austin", Region: ptr("TX"), Country: "US"},
			},
		})
	}
	tests := []struct {
		name    string
		profile store.SellerProfile
		edit    func(s *store.Seller)
	}{
		{"nothing", store.SellerProfile{}, func(s *store.Seller) {}},
		{"company name only", store.SellerProfile{CompanyName: ptr("After")}, func(s *store.Seller) { s.CompanyName = "After" }},
		{"description only", store.SellerProfile{Description: ptr("New")}, func(s *store.Seller) { s.Description = ptr("New") }},
		{"empty strings clear", store.SellerProfile{Description: ptr(""), Website: ptr("")},
			func(s *store.Seller) { s.Description, s.Website = nil, nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := newSeller(t)
			got, err := st.UpdateSellerProfile(t.Context(), before.ID, tt.profile)
			mustOK(t, err, "UpdateSellerProfile")
			want := *before
			tt.edit(&want)
			want.UpdatedAt = got.UpdatedAt
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("got  %+v\nwant %+v", *got, want)
			}
			if got := MustLocations(t, st, before.ID); len(got) != 2 {
				t.Errorf("got %d locations, want the 2 untouched", len(got))
			}
			cs, err := st.ContactsBySellerID(t.Context(), []string{before.ID})
			mustOK(t, err, "ContactsBySellerID")
			if len(cs) != 1 {
				t.Errorf("got %d contacts, want the 1 untouched", len(cs))
			}
		})
	}

	t.Run("contacts replaced", func(t *testing.T) {
		s := newSeller(t)
		_, err := st.UpdateSellerProfile(t.Context(), s.ID, store.SellerProfile{Contacts: &[]store.NewContact{
			{Kind: store.ContactEmail, Value: "a@example.com"}, {Kind: store.ContactText, Value: "+1 555 0199", Label: ptr("Cell")}}})
		mustOK(t, err, "UpdateSellerProfile")
		cs, err := st.ContactsBySellerID(t.Context(), []string{s.ID})
		mustOK(t, err, "ContactsBySellerID")
		var got []string
		for _, c := range cs {
			got = append(got, string(c.Kind)+" "+c.Value+" "+deref(c.Label))
		}
		if want := []string{"EMAIL a@example.com <nil>", "TEXT +1 555 0199 Cell"}; !reflect.DeepEqual(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})
	t.Run("empty contact list clears", func(t *testing.T) {
		s := newSeller(t)
		_, err := st.UpdateSellerProfile(t.Context(), s.ID, store.SellerProfile{Contacts: &[]store.NewContact{}})
		mustOK(t, err, "UpdateSellerProfile")
		cs, err := st.ContactsBySellerID(t.Context(), []string{s.ID})
		mustOK(t, err, "ContactsBySellerID")
		if len(cs) != 0 {
			t.Errorf("got %d contacts, want 0", len(cs))
		}
	})
	t.Run("replacing locations resets listings to the first new location", func(t *testing.T) {
		s := newSeller(t)
		otherSeller := newSeller(t)
		old := MustLocations(t, st, s.ID)
		atFirst := MustCreateListing(t, st, store.NewListing{SellerID: s.ID})
		atSecond := MustCreateListing(t, st, store.NewListing{SellerID: s.ID, ListingText: store.ListingText{LocationID: &old[1].ID}})
		draft := MustCreateListing(t, st, store.NewListing{SellerID: s.ID, Status: store.ListingDraft, ListingText: store.ListingText{LocationID: &old[1].ID}})
		others := MustCreateListing(t, st, store.NewListing{SellerID: otherSeller.ID})

		_, err := st.UpdateSellerProfile(t.Context(), s.ID, store.SellerProfile{Locations: &[]store.NewLocation{
			{City: "Houston", Region: ptr("TX"), Country: "US"}, {City: "Tulsa", Region: ptr("OK"), Country: "US"}}})
		mustOK(t, err, "UpdateSellerProfile")
		now := MustLocations(t, st, s.ID)
		if got, want := len(now), 2; got != want {
			t.Fatalf("got %d locations, want %d", got, want)
		}
		if got, want := now[0].City+","+now[1].City, "Houston,Tulsa"; got != want {
			t.Errorf("got locations %s, want %s", got, want)
		}
		for _, tt := range []struct {
			name string
			l    *store.Listing
			want string
		}{{"listing at the old first", atFirst, now[0].ID}, {"listing at the old second", atSecond, now[0].ID}, {"draft", draft, now[0].ID}} {
			got, err := st.Listing(t.Context(), store.Scope{All: true}, tt.l.ID)
			mustOK(t, err, "Listing")
			if deref(got.LocationID) != tt.want {
				t.Errorf("%s: got location %s, want %s (Houston)", tt.name, deref(got.LocationID), tt.want)
			}
		}
		got, err := st.Listing(t.Context(), store.Scope{All: true}, others.ID)
		mustOK(t, err, "Listing")
		if !reflect.DeepEqual(got.LocationID, others.LocationID) {
			t.Errorf("another seller's listing: got location %s, want %s", deref(got.LocationID), deref(others.LocationID))
		}
		// The region filter follows the new location.
		ls := allListings(t, st, store.ListingQuery{Scope: store.Scope{All: true}, Filter: store.ListingFilter{SellerID: &s.ID, Region: ptr("tx")}})
		if got, want := len(ls), 3; got != want {
			t.Errorf("got %d listings in TX after the move, want %d", got, want)
		}
	})
	t.Run("removing every location leaves listings without one", func(t *testing.T) {
		s := newSeller(t)
		l := MustCreateListing(t, st, store.NewListing{SellerID: s.ID})
		_, err := st.UpdateSellerProfile(t.Context(), s.ID, store.SellerProfile{Locations: &[]store.NewLocation{}})
		mustOK(t, err, "UpdateSellerProfile")
		got, err := st.Listing(t.Context(), store.Scope{All: true}, l.ID)
		mustOK(t, err, "Listing")
		if got.LocationID != nil {
			t.Errorf("got location %s, want none", *got.LocationID)
		}
	})
	for _, id := range []string{unknownID, "abc"} {
		t.Run("missing seller "+id, func(t *testing.T) {
			_, err := st.UpdateSellerProfile(t.Context(), id, store.SellerProfile{CompanyName: ptr("x")})
			wantError(t, err, store.ENOTFOUND, "")
		})
	}
}

func TestSetSellerStatusAndVerify(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	s := MustCreateSeller(t, st, store.NewSeller{})
	for _, status := range []store.SellerStatus{store.SellerActive, store.SellerSuspended, store.SellerPending, store.SellerActive} {
		t.Run(string(status), func(t *testing.T) {
			got, err := st.SetSellerStatus(t.Context(), s.ID, status)
			mustOK(t, err, "SetSellerStatus")
			if got.Status != status {
				t.Errorf("got %s, want %s", got.Status, status)
			}
			stored, err := st.SellerStatus(t.Context(), s.ID)
			mustOK(t, err, "SellerStatus")
			if stored != string(status) {
				t.Errorf("stored %s, want %s", stored, status)
			}
		})
	}
	t.Run("verify keeps earlier notes when given none", func(t *testing.T) {
		_, err := st.VerifySeller(t.Context(), s.ID, ptr("first"))
		mustOK(t, err, "VerifySeller")
		v, err := st.VerifySeller(t.Context(), s.ID, nil)
		mustOK(t, err, "VerifySeller")
		if !v.Verified || deref(v.VerificationNotes) != "first" {
			t.Errorf("got verified %t notes %s, want true, first", v.Verified, deref(v.VerificationNotes))
		}
	})
}

// TestReplaceLocationsKeepsSurvivingAddresses: replacing a seller's
// locations keeps a listing on its location when that address is still in
// the new list, and moves it to the first location otherwise.
func TestReplaceLocationsKeepsSurvivingAddresses(t *testing.T) {
	st, _ := newStore(t)
	s := MustCreateSeller(t, st, store.NewSeller{Locations: []store.NewLocation{
		{City: "Dallas", Region: ptr("TX"), Country: "US"},
		{City: "Tulsa", Region: ptr("OK"), Country: "US"},
		{City: "Omaha", Region: ptr("NE"), Country: "US"},
	}})
	old := MustLocations(t, st, s.ID)
	onTulsa := MustCreateListing(t, st, store.NewListing{SellerID: s.ID, ListingText: store.ListingText{LocationID: &old[1].ID}})
	onOmaha := MustCreateListing(t, st, store.NewListing{SellerID: s.ID, ListingText: store.ListingText{LocationID: &old[2].ID}})

	locs := []store.NewLocation{{City: "Austin", Region: ptr("TX"), Country: "US"}, {City: "Tulsa", Region: ptr("OK"), Country: "US"}}
	if _, err := st.UpdateSellerProfile(t.Context(), s.ID, store.SellerProfile{Locations: &locs}); err != nil {
		t.Fatal(err)
	}
	fresh := MustLocations(t, st, s.ID)
	for _, tt := range []struct {
		name    string
		listing *store.Listing
		want    *store.SellerLocation
	}{{"kept address", onTulsa, fresh[1]}, {"removed address", onOmaha, fresh[0]}} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := st.Listing(t.Context(), store.Scope{All: true}, tt.listing.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.LocationID == nil || *got.LocationID != tt.want.ID {
				t.Errorf("location = %v, want %s (%s)", got.LocationID, tt.want.ID, tt.want.City)
			}
		})
	}
}
