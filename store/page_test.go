package store_test

import (
	"encoding/base64"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/partsmarket/gateway/store"
)

func TestCursorRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		c    store.Cursor
	}{
		{"timestamp key", store.Cursor{Sort: "newest", Key: "2025-01-02T03:04:05.123456Z", ID: unknownID}},
		{"numeric key", store.Cursor{Sort: "price_asc", Key: "9223372036854775807", ID: unknownID}},
		{"text key with quotes and unicode", store.Cursor{Sort: "name", Key: `Zoë "the" parts/co`, ID: unknownID}},
		{"empty key", store.Cursor{Sort: "name", Key: "", ID: unknownID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := store.DecodeCursor(tt.c.Encode())
			mustOK(t, err, "DecodeCursor")
			if *got != tt.c {
				t.Errorf("got %+v, want %+v", *got, tt.c)
			}
		})
	}
}

func TestDecodeCursorRefusesJunk(t *testing.T) {
	t.Parallel()
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name string
		raw  string
	}{
		{"empty", ""},
		{"not base64", "!!! not a cursor !!!"},
		{"standard base64 with padding", base64.StdEncoding.EncodeToString([]byte(`{"s":"newest","k":"x","i":"`+unknownID+`"}`)) + "=="},
		{"base64 of junk", b64("{not json")},
		{"base64 of a JSON string", b64(`"newest"`)},
		{"base64 of a JSON array", b64(`["newest","2025-01-01T00:00:00Z"]`)},
		{"base64 of null", b64(`null`)},
		{"wrong JSON types", b64(`{"s":1,"k":2,"i":3}`)},
		{"no id", b64(`{"s":"newest","k":"2025-01-01T00:00:00Z"}`)},
		{"malformed id", b64(`{"s":"newest","k":"2025-01-01T00:00:00Z","i":"abc"}`)},
		{"no sort", b64(`{"k":"2025-01-01T00:00:00Z","i":"` + unknownID + `"}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := store.DecodeCursor(tt.raw)
			wantError(t, err, store.EINVALID, "after")
		})
	}
}

func TestValidID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		id   string
		want bool
	}{
		{unknownID, true},
		{"6f1c1b9e-8a7d-4e0b-9a1e-3c2b1a0f9e8d", true},
		{"", false},
		{"abc", false},
		{"6f1c1b9e8a7d4e0b9a1e3c2b1a0f9e8d", false},
		{"{6f1c1b9e-8a7d-4e0b-9a1e-3c2b1a0f9e8d}", false},
		{"urn:uuid:6f1c1b9e-8a7d-4e0b-9a1e-3c2b1a0f9e8d", false},
		{"6f1c1b9e-8a7d-4e0b-9a1e-3c2b1a0f9e8g", false},
		{"' OR 1=1 --", false},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			if got := store.ValidID(tt.id); got != tt.want {
				t.Errorf("got %t, want %t", got, tt.want)
			}
		})
	}
}

func TestNormalizePartNumber(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"1R-0750", "1r0750"},
		{"1r 0750", "1r0750"},
		{" 1R--07 50 ", "1r0750"},
		{"AB.12/34_x", "ab1234x"},
		{"", ""},
		{"---", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := store.NormalizePartNumber(tt.in); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// pagingCatalog is ~20 public listings with ties in created_at and in price,
// NULL prices, and listings the public must not see.
type pagingCatalog struct {
	public   []*store.Listing // every public listing
	pumps    []*store.Listing // the public listings that match "pump"
	exact    *store.Listing   // part number "PUMP"
	group    map[string]int   // relevance group of each pump listing: 0 exact, 1 strong, 2 title, 3 description only
	names    map[string]string
	sellerID string
}

func newPagingCatalog(t *testing.T, st *store.Store) pagingCatalog {
	t.Helper()
	db := st.DB()
	s := MustCreateActiveSeller(t, st, "Pumps R Us")
	o := MustCreateActiveSeller(t, st, "Other Pumps")
	hidden := MustCreateSellerWithStatus(t, st, store.SellerPending, store.NewSeller{})
	c := pagingCatalog{group: map[string]int{}, names: map[string]string{}, sellerID: s.ID}
	base := time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC)
	for i := 0; i < 21; i++ {
		n := store.NewListing{SellerID: s.ID}
		if i%2 == 1 {
			n.SellerID = o.ID
		}
		group := 0
		switch {
		case i == 10:
			n.Title, n.PartNumber, group = "Hydraulic pump", ptr("PUMP"), 0
		case i%3 == 0:
			n.Title, n.Description, group = "Hydraulic pump", ptr("Pump for excavators; every pump is tested"), 1
		case i%3 == 1:
			n.Title, group = "Hydraulic pump", 2
		default:
			n.Title, n.Description, group = "Gear assembly", ptr("Fits the pump housing"), 3
		}
		if i%5 != 0 {
			n.PriceCents = ptr((i % 4) * 1000) // ties, and zero
		}
		l := MustCreateListing(t, st, n)
		MustSetCreatedAt(t, db, "listings", l.ID, base.Add(time.Duration(i/3)*time.Minute)) // three share each minute
		c.pumps = append(c.pumps, l)
		c.group[l.ID] = group
		c.names[l.ID] = fmt.Sprintf("L%02d", i)
		if i == 10 {
			c.exact = l
		}
	}
	for i := 0; i < 2; i++ {
		l := MustCreateListing(t, st, store.NewListing{SellerID: s.ID, Title: "Alternator", PriceCents: ptr(1000)})
		MustSetCreatedAt(t, db, "listings", l.ID, base.Add(3*time.Minute)) // ties with pumps
		c.public = append(c.public, l)
		c.names[l.ID] = fmt.Sprintf("alternator%d", i)
	}
	c.public = append(c.public, c.pumps...)
	// Not public: drafts, a paused one, and a pending seller's listing.
	MustCreateListing(t, st, store.NewListing{SellerID: s.ID, Title: "Hydraulic pump", Status: store.ListingDraft})
	MustCreateListing(t, st, store.NewListing{SellerID: o.ID, Title: "Hydraulic pump", Status: store.ListingPaused})
	MustCreateListing(t, st, store.NewListing{SellerID: hidden.ID, Title: "Hydraulic pump"})
	// Reload, so created_at is the backdated one.
	ls, err := st.ListingsByID(t.Context(), store.Scope{All: true}, idsOf(c.public))
	mustOK(t, err, "ListingsByID")
	byID := map[string]*store.Listing{}
	for _, l := range ls {
		byID[l.ID] = l
	}
	for i, l := range c.public {
		c.public[i] = byID[l.ID]
	}
	for i, l := range c.pumps {
		c.pumps[i] = byID[l.ID]
	}
	return c
}

// price returns a listing's price, with NULL as -1.
func price(l *store.Listing) int {
	if l.PriceCents == nil {
		return -1
	}
	return *l.PriceCents
}

func TestListingsKeysetWalk(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	c := newPagingCatalog(t, st)

	newest := func(t *testing.T, got []*store.Listing) {
		for i := 1; i < len(got); i++ {
			if got[i].CreatedAt.After(got[i-1].CreatedAt) {
				t.Errorf("row %d (%s, %v) is newer than row %d (%s, %v)", i, c.names[got[i].ID], got[i].CreatedAt,
					i-1, c.names[got[i-1].ID], got[i-1].CreatedAt)
			}
		}
	}
	priceOrder := func(asc bool) func(t *testing.T, got []*store.Listing) {
		return func(t *testing.T, got []*store.Listing) {
			for i := 1; i < len(got); i++ {
				prev, cur := price(got[i-1]), price(got[i])
				switch {
				case prev == -1 && cur != -1:
					t.Errorf("row %d (%s) has price %d after a NULL price; NULL prices come last", i, c.names[got[i].ID], cur)
				case prev == -1 || cur == -1:
				case asc && cur < prev, !asc && cur > prev:
					t.Errorf("row %d (%s) has price %d after %d", i, c.names[got[i].ID], cur, prev)
				}
			}
		}
	}
	relevance := func(t *testing.T, got []*store.Listing) {
		if len(got) > 0 && got[0].ID != c.exact.ID {
			t.Errorf("got %s first, want the exact part number match %s", c.names[got[0].ID], c.names[c.exact.ID])
		}
		for i := 1; i < len(got); i++ {
			if c.group[got[i].ID] < c.group[got[i-1].ID] {
				t.Errorf("row %d (%s, group %d) after row %d (%s, group %d): want more relevant first", i, c.names[got[i].ID],
					c.group[got[i].ID], i-1, c.names[got[i-1].ID], c.group[got[i-1].ID])
			}
		}
	}
	tests := []struct {
		name  string
		query store.ListingQuery
		want  []*store.Listing
		order func(t *testing.T, got []*store.Listing)
	}{
		{"NEWEST", store.ListingQuery{Sort: store.SortNewest}, c.public, newest},
		{"default without search is NEWEST", store.ListingQuery{}, c.public, newest},
		{"RELEVANCE without search is NEWEST", store.ListingQuery{Sort: store.SortRelevance}, c.public, newest},
		{"PRICE_ASC", store.ListingQuery{Sort: store.SortPriceAsc}, c.public, priceOrder(true)},
		{"PRICE_DESC", store.ListingQuery{Sort: store.SortPriceDesc}, c.public, priceOrder(false)},
		{"RELEVANCE", store.ListingQuery{Search: "pump", Sort: store.SortRelevance}, c.pumps, relevance},
		{"default with search is RELEVANCE", store.ListingQuery{Search: "pump"}, c.pumps, relevance},
		{"NEWEST with search", store.ListingQuery{Search: "pump", Sort: store.SortNewest}, c.pumps, newest},
		{"PRICE_ASC with search", store.ListingQuery{Search: "pump", Sort: store.SortPriceAsc}, c.pumps, priceOrder(true)},
		{"PRICE_DESC with search", store.ListingQuery{Search: "pump", Sort: store.SortPriceDesc}, c.pumps, priceOrder(false)},
		{"NEWEST for a seller with a filter", store.ListingQuery{Scope: store.Scope{SellerID: c.sellerID},
			Filter: store.ListingFilter{SellerID: &c.sellerID, Status: []store.ListingStatus{store.ListingActive}}, Sort: store.SortNewest},
			sellersOwn(c), newest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, size := range []int{3, 1, 7} {
				t.Run(fmt.Sprintf("pages of %d", size), func(t *testing.T) {
					got := walk(t, size, func(p store.PageArgs) (store.Page[*store.Listing], error) {
						return st.Listings(t.Context(), tt.query, p)
					})
					ids := idsOf(got)
					if len(ids) != len(tt.want) {
						t.Errorf("got %d rows, want %d", len(ids), len(tt.want))
					}
					seen := map[string]bool{}
					for _, id := range ids {
						if seen[id] {
							t.Errorf("got %s twice", c.names[id])
						}
						seen[id] = true
					}
					sameSet(t, "rows", ids, idsOf(tt.want), c.names)
					tt.order(t, got)
					// Pages of any size read the same order as one big page.
					if one := idsOf(allListings(t, st, tt.query)); !slices.Equal(ids, one) {
						t.Errorf("walk order differs from the one-page order:\n got %v\nwant %v", names(ids, c.names), names(one, c.names))
					}
					// Backwards, pages of any size read the same rows in the
					// same order. A search needs a cursor to page back from:
					// the last row's, which is then left out.
					fetch := func(p store.PageArgs) (store.Page[*store.Listing], error) {
						return st.Listings(t.Context(), tt.query, p)
					}
					var before *store.Cursor
					want := ids
					if tt.query.Search != "" && len(ids) > 0 {
						last := allListingsPage(t, st, tt.query)
						before, want = mustCursor(t, last.Cursors[len(last.Cursors)-1]), ids[:len(ids)-1]
					}
					if back := idsOf(walkBack(t, size, before, fetch)); !slices.Equal(back, want) {
						t.Errorf("backward walk differs from the forward one:\n got %v\nwant %v", names(back, c.names), names(want, c.names))
					}
				})
			}
		})
	}
}

// sellersOwn returns the public listings of the catalogue's first seller.
func sellersOwn(c pagingCatalog) []*store.Listing {
	var out []*store.Listing
	for _, l := range c.public {
		if l.SellerID == c.sellerID {
			out = append(out, l)
		}
	}
	return out
}

// names labels ids in order.
func names(ids []string, labels map[string]string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = labels[id]
	}
	return out
}

func TestListingsCursorOfAnotherSort(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	newPagingCatalog(t, st)
	sorts := []store.ListingSort{store.SortNewest, store.SortPriceAsc, store.SortPriceDesc, store.SortRelevance}
	cursors := map[store.ListingSort]*store.Cursor{}
	for _, sort := range sorts {
		p, err := st.Listings(t.Context(), store.ListingQuery{Search: "pump", Sort: sort}, store.PageArgs{Limit: 3})
		mustOK(t, err, "Listings")
		c, err := store.DecodeCursor(p.Cursors[len(p.Cursors)-1])
		mustOK(t, err, "DecodeCursor")
		cursors[sort] = c
	}
	sp, err := st.Sellers(t.Context(), store.SellerQuery{}, store.PageArgs{Limit: 1})
	mustOK(t, err, "Sellers")
	sellerCursor, err := store.DecodeCursor(sp.Cursors[0])
	mustOK(t, err, "DecodeCursor")
	for _, from := range sorts {
		for _, to := range sorts {
			if from == to {
				continue
			}
			t.Run(string(from)+" cursor in "+string(to), func(t *testing.T) {
				_, err := st.Listings(t.Context(), store.ListingQuery{Search: "pump", Sort: to}, store.PageArgs{Limit: 3, After: cursors[from]})
				wantError(t, err, store.EINVALID, "after")
			})
		}
		t.Run("sellers cursor in "+string(from), func(t *testing.T) {
			_, err := st.Listings(t.Context(), store.ListingQuery{Search: "pump", Sort: from}, store.PageArgs{Limit: 3, After: sellerCursor})
			wantError(t, err, store.EINVALID, "after")
		})
	}
	t.Run("RELEVANCE cursor after the search was dropped", func(t *testing.T) {
		_, err := st.Listings(t.Context(), store.ListingQuery{}, store.PageArgs{Limit: 3, After: cursors[store.SortRelevance]})
		wantError(t, err, store.EINVALID, "after")
	})
	t.Run("listings cursor in sellers", func(t *testing.T) {
		_, err := st.Sellers(t.Context(), store.SellerQuery{}, store.PageArgs{Limit: 3, After: cursors[store.SortNewest]})
		wantError(t, err, store.EINVALID, "after")
	})
}

// tamper returns an encoded cursor with the given parts.
func tamper(sort, key, id string) string {
	return store.Cursor{Sort: sort, Key: key, ID: id}.Encode()
}

func TestTamperedCursors(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	c := newPagingCatalog(t, st)
	MustCreateLead(t, st, store.NewLead{SellerID: c.sellerID})
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	type lister func(after *store.Cursor) error
	listings := func(q store.ListingQuery) lister {
		return func(after *store.Cursor) error {
			_, err := st.Listings(t.Context(), q, store.PageArgs{Limit: 3, After: after})
			return err
		}
	}
	sellers := func(after *store.Cursor) error {
		_, err := st.Sellers(t.Context(), store.SellerQuery{}, store.PageArgs{Limit: 3, After: after})
		return err
	}
	leads := func(after *store.Cursor) error {
		_, err := st.Leads(t.Context(), store.LeadQuery{Scope: store.Scope{All: true}}, store.PageArgs{Limit: 3, After: after})
		return err
	}
	reports := func(after *store.Cursor) error {
		_, err := st.Reports(t.Context(), store.ReportQuery{Scope: store.Scope{All: true}}, store.PageArgs{Limit: 3, After: after})
		return err
	}
	newest := listings(store.ListingQuery{Sort: store.SortNewest})
	priceAsc := listings(store.ListingQuery{Sort: store.SortPriceAsc})
	priceDesc := listings(store.ListingQuery{Sort: store.SortPriceDesc})
	relevance := listings(store.ListingQuery{Search: "pump"})
	tests := []struct {
		name string
		list lister
		raw  string
	}{
		{"garbage base64", newest, "%%%garbage%%%"},
		{"valid base64 of junk JSON", newest, b64(`{"s":"newest",`)},
		{"valid base64 of binary", newest, b64("\x00\x01\x02\xff")},
		{"NEWEST: key is not a timestamp", newest, tamper("newest", "yesterday", unknownID)},
		{"NEWEST: key is empty", newest, tamper("newest", "", unknownID)},
		{"NEWEST: key is a number", newest, tamper("newest", "1700000000", unknownID)},
		{"NEWEST: key is a timestamp in year 0", newest, tamper("newest", "0000-01-01T00:00:00Z", unknownID)},
		{"NEWEST: key has an out-of-range offset", newest, tamper("newest", "2025-01-01T00:00:00+23:59", unknownID)},
		{"NEWEST: key is SQL", newest, tamper("newest", "2025-01-01'; DROP TABLE listings; --", unknownID)},
		{"PRICE_ASC: key is not a number", priceAsc, tamper("price_asc", "cheap", unknownID)},
		{"PRICE_ASC: key is a fraction", priceAsc, tamper("price_asc", "1.5", unknownID)},
		{"PRICE_ASC: key overflows bigint", priceAsc, tamper("price_asc", "99999999999999999999", unknownID)},
		{"PRICE_DESC: key is a timestamp", priceDesc, tamper("price_desc", "2025-01-01T00:00:00Z", unknownID)},
		{"RELEVANCE: key is not a number", relevance, tamper("relevance", "high", unknownID)},
		{"RELEVANCE: key overflows real", relevance, tamper("relevance", "1e39", unknownID)},
		{"sellers: garbage", sellers, "garbage"},
		{"sellers: key with a NUL byte", sellers, tamper("name", "Acme\x00", unknownID)},
		{"leads: key is not a timestamp", leads, tamper("newest", "soon", unknownID)},
		{"leads: key is a timestamp in year 0", leads, tamper("newest", "0000-06-01T00:00:00Z", unknownID)},
		{"reports: key is not a timestamp", reports, tamper("newest", "1", unknownID)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			after, err := store.DecodeCursor(tt.raw)
			if err == nil {
				err = tt.list(after)
			}
			wantError(t, err, store.EINVALID, "after")
		})
	}
}

func TestSellersKeysetWalk(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	words := []string{"Golf", "Alpha", "Echo", "Bravo", "Delta", "Charlie", "Foxtrot"}
	var want []*store.Seller
	labels := map[string]string{}
	for i := 0; i < 20; i++ {
		name := words[i%len(words)] // names tie
		s := MustCreateSellerWithStatus(t, st, store.SellerActive, store.NewSeller{CompanyName: name})
		want = append(want, s)
		labels[s.ID] = fmt.Sprintf("%s#%d", name, i)
	}
	MustCreateSellerWithStatus(t, st, store.SellerPending, store.NewSeller{CompanyName: "Alpha"})
	MustCreateSellerWithStatus(t, st, store.SellerSuspended, store.NewSeller{CompanyName: "Bravo"})
	for _, size := range []int{3, 1, 6} {
		t.Run(fmt.Sprintf("pages of %d", size), func(t *testing.T) {
			got := walk(t, size, func(p store.PageArgs) (store.Page[*store.Seller], error) {
				return st.Sellers(t.Context(), store.SellerQuery{}, p)
			})
			if len(got) != len(want) {
				t.Errorf("got %d sellers, want %d (each once)", len(got), len(want))
			}
			sameSet(t, "sellers", idsOf(got), idsOf(want), labels)
			for i := 1; i < len(got); i++ {
				if got[i].CompanyName < got[i-1].CompanyName {
					t.Errorf("row %d %q after %q: want company name order", i, got[i].CompanyName, got[i-1].CompanyName)
				}
			}
			one, err := st.Sellers(t.Context(), store.SellerQuery{}, store.PageArgs{Limit: 100})
			mustOK(t, err, "Sellers")
			if ids := idsOf(got); !slices.Equal(ids, idsOf(one.Items)) {
				t.Errorf("walk order differs from the one-page order:\n got %v\nwant %v", names(ids, labels), names(idsOf(one.Items), labels))
			}
		})
	}
	t.Run("admin walks every seller", func(t *testing.T) {
		got := walk(t, 3, func(p store.PageArgs) (store.Page[*store.Seller], error) {
			return st.Sellers(t.Context(), store.SellerQuery{Scope: store.Scope{All: true}}, p)
		})
		if got, want := len(got), len(want)+2; got != want {
			t.Errorf("got %d sellers, want %d", got, want)
		}
	})
}

func TestLeadsKeysetWalk(t *testing.T) {
	t.Parallel()
	st, db := newStore(t)
	s := MustCreateActiveSeller(t, st, "Inbox")
	other := MustCreateActiveSeller(t, st, "Other inbox")
	base := time.Date(2025, 4, 1, 9, 0, 0, 0, time.UTC)
	var want []*store.Lead
	labels := map[string]string{}
	for i := 0; i < 20; i++ {
		l := MustCreateLead(t, st, store.NewLead{SellerID: s.ID})
		MustSetCreatedAt(t, db, "leads", l.ID, base.Add(time.Duration(i/4)*time.Hour).Add(time.Duration(i%2)*time.Microsecond))
		want = append(want, l)
		labels[l.ID] = fmt.Sprintf("lead%02d", i)
	}
	for i := 0; i < 3; i++ {
		l := MustCreateLead(t, st, store.NewLead{SellerID: other.ID})
		MustSetCreatedAt(t, db, "leads", l.ID, base.Add(time.Hour))
	}
	for _, size := range []int{3, 1, 8} {
		t.Run(fmt.Sprintf("pages of %d", size), func(t *testing.T) {
			got := walk(t, size, func(p store.PageArgs) (store.Page[*store.Lead], error) {
				return st.Leads(t.Context(), store.LeadQuery{Scope: store.Scope{SellerID: s.ID}}, p)
			})
			if len(got) != len(want) {
				t.Errorf("got %d leads, want %d (each once)", len(got), len(want))
			}
			sameSet(t, "leads", idsOf(got), idsOf(want), labels)
			for i := 1; i < len(got); i++ {
				if got[i].CreatedAt.After(got[i-1].CreatedAt) {
					t.Errorf("row %d (%v) is newer than row %d (%v)", i, got[i].CreatedAt, i-1, got[i-1].CreatedAt)
				}
			}
			one, err := st.Leads(t.Context(), store.LeadQuery{Scope: store.Scope{SellerID: s.ID}}, store.PageArgs{Limit: 100})
			mustOK(t, err, "Leads")
			if ids := idsOf(got); !slices.Equal(ids, idsOf(one.Items)) {
				t.Errorf("walk order differs from the one-page order:\n got %v\nwant %v", names(ids, labels), names(idsOf(one.Items), labels))
			}
		})
	}
	t.Run("admin walks every lead", func(t *testing.T) {
		got := walk(t, 3, func(p store.PageArgs) (store.Page[*store.Lead], error) {
			return st.Leads(t.Context(), store.LeadQuery{Scope: store.Scope{All: true}}, p)
		})
		if got, want := len(got), len(want)+3; got != want {
			t.Errorf("got %d leads, want %d", got, want)
		}
	})
	t.Run("public walks nothing", func(t *testing.T) {
		got := walk(t, 3, func(p store.PageArgs) (store.Page[*store.Lead], error) {
			return st.Leads(t.Context(), store.LeadQuery{}, p)
		})
		if len(got) != 0 {
			t.Errorf("got %d leads, want 0", len(got))
		}
	})
}

// TestMalformedIDs: every method that takes an id answers NOT_FOUND for an
// id that cannot exist, never an SQL error.
func TestMalformedIDs(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	all := store.Scope{All: true}
	methods := []struct {
		name string
		call func(id string) error
	}{
		{"Listing", func(id string) error { _, err := st.Listing(t.Context(), all, id); return err }},
		{"UpdateListing", func(id string) error {
			_, err := st.UpdateListing(t.Context(), id, store.ListingChanges{Title: ptr("x")})
			return err
		}},
		{"SetListingStatus", func(id string) error {
			_, err := st.SetListingStatus(t.Context(), id, store.ListingRemoved, nil)
			return err
		}},
		{"Seller", func(id string) error { _, err := st.Seller(t.Context(), all, id); return err }},
		{"SellerStatus", func(id string) error { _, err := st.SellerStatus(t.Context(), id); return err }},
		{"UpdateSellerProfile", func(id string) error {
			_, err := st.UpdateSellerProfile(t.Context(), id, store.SellerProfile{CompanyName: ptr("x")})
			return err
		}},
		{"SetSellerStatus", func(id string) error {
			_, err := st.SetSellerStatus(t.Context(), id, store.SellerActive)
			return err
		}},
		{"VerifySeller", func(id string) error { _, err := st.VerifySeller(t.Context(), id, nil); return err }},
		{"Lead", func(id string) error { _, err := st.Lead(t.Context(), all, id); return err }},
		{"SetLeadStatus", func(id string) error {
			_, err := st.SetLeadStatus(t.Context(), id, store.LeadWon, store.Actor{}, nil)
			return err
		}},
		{"Report", func(id string) error { _, err := st.Report(t.Context(), all, id); return err }},
		{"ResolveReport", func(id string) error {
			_, err := st.ResolveReport(t.Context(), id, true, ptr("x"), "admin")
			return err
		}},
		{"Media", func(id string) error { _, err := st.Media(t.Context(), id); return err }},
		{"RemoveMedia", func(id string) error { return st.RemoveMedia(t.Context(), id) }},
		{"AddMedia", func(id string) error {
			_, err := st.AddMedia(t.Context(), store.NewMedia{ListingID: id, URL: "https://img.example.com/a.jpg"})
			return err
		}},
	}
	ids := []string{"abc", "", "' OR 1=1 --", "6f1c1b9e-8a7d-4e0b-9a1e-3c2b1a0f9e8g", unknownID}
	for _, m := range methods {
		for _, id := range ids {
			t.Run(fmt.Sprintf("%s(%q)", m.name, id), func(t *testing.T) {
				wantError(t, m.call(id), store.ENOTFOUND, "")
			})
		}
	}
	lists := []struct {
		name string
		call func(ids []string) (int, error)
	}{
		{"ListingsByID", func(ids []string) (int, error) { r, err := st.ListingsByID(t.Context(), all, ids); return len(r), err }},
		{"SellersByID", func(ids []string) (int, error) { r, err := st.SellersByID(t.Context(), all, ids); return len(r), err }},
		{"ContactsBySellerID", func(ids []string) (int, error) { r, err := st.ContactsBySellerID(t.Context(), ids); return len(r), err }},
		{"LocationsBySellerID", func(ids []string) (int, error) {
			r, err := st.LocationsBySellerID(t.Context(), ids)
			return len(r), err
		}},
		{"MediaByListingID", func(ids []string) (int, error) { r, err := st.MediaByListingID(t.Context(), ids); return len(r), err }},
	}
	for _, l := range lists {
		t.Run(l.name+" of malformed ids", func(t *testing.T) {
			n, err := l.call(ids)
			mustOK(t, err, l.name)
			if n != 0 {
				t.Errorf("got %d rows, want 0", n)
			}
		})
	}
}
