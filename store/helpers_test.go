package store_test

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq" // registers the "postgres" driver

	"github.com/partsmarket/gateway/internal/testdb"
	"github.com/partsmarket/gateway/store"
)

// newStore returns a store on a fresh migrated database, connected as the
// serving role (bound by row-level security, as in production), and the
// database itself as the server's superuser, for the statements a test
// needs that the store does not offer (backdating rows, reading columns the
// store does not expose).
func newStore(t *testing.T) (*store.Store, *sqlx.DB) {
	t.Helper()
	u := testdb.New(t)
	db := sqlx.MustConnect("postgres", u)
	serving := sqlx.MustConnect("postgres", testdb.ServingURL(t, u))
	t.Cleanup(func() { _ = db.Close(); _ = serving.Close() })
	return store.New(serving), db
}

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }

// seq makes slugs and names unique within a test process.
var seq atomic.Int64

// MustCreateSeller creates a seller; an empty slug or company name gets a
// unique default. The seller is PENDING, as every new seller is.
func MustCreateSeller(t *testing.T, st *store.Store, n store.NewSeller) *store.Seller {
	t.Helper()
	i := seq.Add(1)
	if n.Slug == "" {
		n.Slug = fmt.Sprintf("seller-%d", i)
	}
	if n.CompanyName == "" {
		n.CompanyName = fmt.Sprintf("Seller %d", i)
	}
	s, err := st.CreateSeller(t.Context(), n)
	if err != nil {
		t.Fatalf("CreateSeller(%q): %v", n.Slug, err)
	}
	return s
}

// MustCreateSellerWithStatus creates a seller (as MustCreateSeller) and sets
// its status.
func MustCreateSellerWithStatus(t *testing.T, st *store.Store, status store.SellerStatus, n store.NewSeller) *store.Seller {
	t.Helper()
	s := MustCreateSeller(t, st, n)
	if status == store.SellerPending {
		return s
	}
	s, err := st.SetSellerStatus(t.Context(), s.ID, status)
	if err != nil {
		t.Fatalf("SetSellerStatus(%s, %s): %v", s.ID, status, err)
	}
	return s
}

// MustCreateActiveSeller creates an ACTIVE seller with one location.
func MustCreateActiveSeller(t *testing.T, st *store.Store, name string) *store.Seller {
	t.Helper()
	return MustCreateSellerWithStatus(t, st, store.SellerActive, store.NewSeller{
		CompanyName: name,
		Locations:   []store.NewLocation{{City: "Dallas", Region: ptr("TX"), Country: "US"}},
	})
}

// MustLocations returns the locations of seller id, in display order.
func MustLocations(t *testing.T, st *store.Store, sellerID string) []*store.SellerLocation {
	t.Helper()
	ls, err := st.LocationsBySellerID(t.Context(), []string{sellerID})
	if err != nil {
		t.Fatalf("LocationsBySellerID(%s): %v", sellerID, err)
	}
	return ls
}

// MustCreateListing creates a listing. Zero fields get defaults: title
// "Part", condition USED and status ACTIVE (the API's default is DRAFT; most
// tests here want public listings, so they say DRAFT when they mean it).
func MustCreateListing(t *testing.T, st *store.Store, n store.NewListing) *store.Listing {
	t.Helper()
	if n.Title == "" {
		n.Title = "Part"
	}
	if n.Condition == "" {
		n.Condition = store.ConditionUsed
	}
	if n.Status == "" {
		n.Status = store.ListingActive
	}
	l, err := st.CreateListing(t.Context(), n)
	if err != nil {
		t.Fatalf("CreateListing(%q): %v", n.Title, err)
	}
	return l
}

// MustCreateLead creates a lead; zero personal fields get defaults (a unique
// email and message) and the status defaults to NEW. It returns the stored
// lead.
func MustCreateLead(t *testing.T, st *store.Store, n store.NewLead) *store.Lead {
	t.Helper()
	if n.BuyerName == "" {
		n.BuyerName = "Jane Buyer"
	}
	// Unique defaults: the same lead sent twice within 24 hours is stored once.
	i := seq.Add(1)
	if n.Email == "" {
		n.Email = fmt.Sprintf("buyer%d@example.com", i)
	}
	if n.Message == "" {
		n.Message = fmt.Sprintf("Is part %d still available?", i)
	}
	if n.Status == "" {
		n.Status = store.LeadNew
	}
	id, err := st.CreateLead(t.Context(), n)
	if err != nil {
		t.Fatalf("CreateLead: %v", err)
	}
	l, err := st.Lead(t.Context(), store.Scope{All: true}, id)
	if err != nil {
		t.Fatalf("Lead(%s): %v", id, err)
	}
	return l
}

// MustCreateReport reports listingID; the reason defaults to WRONG_INFO. It
// returns the stored report.
func MustCreateReport(t *testing.T, st *store.Store, n store.NewReport) *store.ListingReport {
	t.Helper()
	if n.Reason == "" {
		n.Reason = store.ReasonWrongInfo
	}
	id, err := st.CreateReport(t.Context(), n)
	if err != nil {
		t.Fatalf("CreateReport: %v", err)
	}
	r, err := st.Report(t.Context(), store.Scope{All: true}, id)
	if err != nil {
		t.Fatalf("Report(%s): %v", id, err)
	}
	return r
}

// MustAddMedia adds an image to a listing.
func MustAddMedia(t *testing.T, st *store.Store, listingID, url string) *store.Media {
	t.Helper()
	m, err := st.AddMedia(t.Context(), store.NewMedia{ListingID: listingID, URL: url})
	if err != nil {
		t.Fatalf("AddMedia(%s, %s): %v", listingID, url, err)
	}
	return m
}

// MustSetCreatedAt backdates row id of table (listings, leads, sellers,
// listing_reports) to at.
func MustSetCreatedAt(t *testing.T, db *sqlx.DB, table, id string, at time.Time) {
	t.Helper()
	switch table {
	case "listings", "leads", "sellers", "listing_reports":
	default:
		t.Fatalf("MustSetCreatedAt: unexpected table %q", table)
	}
	res, err := db.ExecContext(t.Context(), `UPDATE `+table+` SET created_at = $2 WHERE id = $1`, id, at)
	if err != nil {
		t.Fatalf("backdate %s %s: %v", table, id, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("backdate %s %s: %d rows, want 1", table, id, n)
	}
}

// wantError fails unless err is a *store.Error with code and, when field is
// not empty, that field. It accepts nothing else: an SQL error (whose code
// would be INTERNAL_SERVER_ERROR) fails with its text so the bug is plain.
func wantError(t *testing.T, err error, code, field string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s (field %q)", code, field)
	}
	var e *store.Error
	if !errors.As(err, &e) {
		t.Fatalf("got error %T %q (code %s), want a *store.Error with code %s (field %q)", err, err, store.ErrorCode(err), code, field)
	}
	if e.Code != code {
		t.Fatalf("got code %s (%q), want %s", e.Code, e, code)
	}
	if field != "" && e.Field != field {
		t.Fatalf("got field %q (%q), want %q", e.Field, e, field)
	}
}

// mustOK fails the test on an unexpected error.
func mustOK(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// idOf returns the id of a row that has an ID.
type identified interface {
	*store.Listing | *store.Seller | *store.Lead | *store.ListingReport | *store.Media
}

func idOf[T identified](v T) string {
	switch x := any(v).(type) {
	case *store.Listing:
		return x.ID
	case *store.Seller:
		return x.ID
	case *store.Lead:
		return x.ID
	case *store.ListingReport:
		return x.ID
	case *store.Media:
		return x.ID
	}
	return ""
}

// idsOf returns the ids of rows in order.
func idsOf[T identified](rows []T) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = idOf(r)
	}
	return out
}

// sorted returns a sorted copy of ids, for comparing sets.
func sorted(ids []string) []string {
	out := slices.Clone(ids)
	sort.Strings(out)
	if out == nil {
		out = []string{}
	}
	return out
}

// sameSet fails unless got and want hold the same ids (ignoring order),
// naming the rows by label when a name map is given.
func sameSet(t *testing.T, what string, got, want []string, names map[string]string) {
	t.Helper()
	if g, w := sorted(got), sorted(want); !slices.Equal(g, w) {
		t.Errorf("%s: got %s, want %s", what, label(g, names), label(w, names))
	}
}

// label names ids for messages.
func label(ids []string, names map[string]string) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		if n, ok := names[id]; ok {
			parts[i] = n
		} else {
			parts[i] = id
		}
	}
	sort.Strings(parts)
	return "[" + strings.Join(parts, " ") + "]"
}

// walk reads a whole keyset-paginated list page by page with pages of size
// and checks the page contract on the way: at most size rows, a cursor per
// row, HasNextPage on every page but the last (which alone may be short).
func walk[T any](t *testing.T, size int, fetch func(store.PageArgs) (store.Page[T], error)) []T {
	t.Helper()
	var all []T
	var after *store.Cursor
	for pageNo := 1; ; pageNo++ {
		if pageNo > 200 {
			t.Fatalf("walk: more than 200 pages; the cursor does not advance")
		}
		p, err := fetch(store.PageArgs{Limit: size, After: after})
		if err != nil {
			t.Fatalf("page %d: %v", pageNo, err)
		}
		if len(p.Items) > size {
			t.Fatalf("page %d: got %d rows, want at most %d", pageNo, len(p.Items), size)
		}
		if len(p.Cursors) != len(p.Items) {
			t.Fatalf("page %d: got %d cursors for %d rows", pageNo, len(p.Cursors), len(p.Items))
		}
		if len(p.Items) == 0 && pageNo > 1 {
			t.Errorf("page %d: empty, but the page before said HasNextPage", pageNo)
		}
		all = append(all, p.Items...)
		if !p.HasNextPage {
			return all
		}
		if len(p.Items) != size {
			t.Fatalf("page %d: HasNextPage with %d rows, want a full page of %d", pageNo, len(p.Items), size)
		}
		c, err := store.DecodeCursor(p.Cursors[len(p.Cursors)-1])
		if err != nil {
			t.Fatalf("page %d: the store's own cursor does not decode: %v", pageNo, err)
		}
		after = c
	}
}

// allListings returns every listing of lq in one page of 1000.
func allListings(t *testing.T, st *store.Store, lq store.ListingQuery) []*store.Listing {
	t.Helper()
	return allListingsPage(t, st, lq).Items
}

// allListingsPage returns the one page of every listing lq finds, with
// their cursors.
func allListingsPage(t *testing.T, st *store.Store, lq store.ListingQuery) store.Page[*store.Listing] {
	t.Helper()
	p, err := st.Listings(t.Context(), lq, store.PageArgs{Limit: 1000})
	if err != nil {
		t.Fatalf("Listings(%+v): %v", lq, err)
	}
	if p.HasNextPage {
		t.Fatalf("Listings(%+v): more than 1000 rows", lq)
	}
	return p
}

// mustCursor decodes a cursor the store made.
func mustCursor(t *testing.T, s string) *store.Cursor {
	t.Helper()
	c, err := store.DecodeCursor(s)
	if err != nil {
		t.Fatalf("the store's own cursor does not decode: %v", err)
	}
	return c
}

// unknownID is a well-formed id that no row has.
const unknownID = "00000000-0000-4000-8000-000000000000"

// TestErrorTypes covers the error values the helpers above rely on.
func TestErrorTypes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		err       error
		wantCode  string
		wantField string
		wantText  string
	}{
		{"nil", nil, "", "", ""},
		{"not found", store.NotFound("listing"), store.ENOTFOUND, "", "listing not found"},
		{"invalid field", store.Invalid("input.email", "not an email"), store.EINVALID, "input.email", "input.email: not an email"},
		{"formatted", store.Errorf(store.EFORBIDDEN, "only %s", "admins"), store.EFORBIDDEN, "", "only admins"},
		{"wrapped", fmt.Errorf("context: %w", store.NotFound("lead")), store.ENOTFOUND, "", "context: lead not found"},
		{"plain error is internal", errors.New("pq: boom"), store.EINTERNAL, "", "pq: boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := store.ErrorCode(tt.err); got != tt.wantCode {
				t.Errorf("got code %q, want %q", got, tt.wantCode)
			}
			if tt.err == nil {
				return
			}
			if got := tt.err.Error(); got != tt.wantText {
				t.Errorf("got text %q, want %q", got, tt.wantText)
			}
			var e *store.Error
			if errors.As(tt.err, &e) && e.Field != tt.wantField {
				t.Errorf("got field %q, want %q", e.Field, tt.wantField)
			}
		})
	}
	t.Run("field errors keep the first error per field", func(t *testing.T) {
		var fe store.FieldErrors
		if fe.Err() != nil {
			t.Fatalf("got %v from no field errors, want nil", fe.Err())
		}
		fe.Add("input.email", "required")
		fe.Add("input.email", "not an email")
		fe.Add("input.title", "too long")
		err := fe.Err()
		if got, want := err.Error(), "input.email: required; input.title: too long"; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
		var got store.FieldErrors
		if !errors.As(err, &got) || len(got) != 2 {
			t.Fatalf("got %v, want two field errors", err)
		}
		for _, e := range got {
			if e.Code != store.EINVALID {
				t.Errorf("%s: got code %s, want %s", e.Field, e.Code, store.EINVALID)
			}
		}
	})
	t.Run("owner ids", func(t *testing.T) {
		id := unknownID
		owners := []struct {
			name string
			got  string
		}{
			{"seller", (&store.Seller{ID: id}).OwnerID()},
			{"listing", (&store.Listing{ID: "x", SellerID: id}).OwnerID()},
			{"lead", (&store.Lead{ID: "x", SellerID: id}).OwnerID()},
			{"report", (&store.ListingReport{ID: "x", SellerID: id}).OwnerID()},
		}
		for _, o := range owners {
			if o.got != id {
				t.Errorf("%s: got owner %q, want %q", o.name, o.got, id)
			}
		}
	})
}

// walkBack reads a list backwards with pages of size, from before (nil: the
// end of the list), each page with Last, and returns its rows in the list's
// order. It checks each page's HasPreviousPage and HasNextPage.
func walkBack[T any](t *testing.T, size int, before *store.Cursor, fetch func(store.PageArgs) (store.Page[T], error)) []T {
	t.Helper()
	var pages [][]T
	for pageNo := 1; ; pageNo++ {
		if pageNo > 200 {
			t.Fatalf("walkBack: more than 200 pages; the cursor does not move")
		}
		p, err := fetch(store.PageArgs{Limit: size, Before: before, Last: true})
		if err != nil {
			t.Fatalf("page %d from the end: %v", pageNo, err)
		}
		if len(p.Items) > size || len(p.Cursors) != len(p.Items) {
			t.Fatalf("page %d from the end: %d rows and %d cursors, want at most %d of each", pageNo, len(p.Items), len(p.Cursors), size)
		}
		if got, want := p.HasNextPage, before != nil; got != want {
			t.Errorf("page %d from the end: HasNextPage %v, want %v", pageNo, got, want)
		}
		pages = append(pages, p.Items)
		if !p.HasPreviousPage {
			break
		}
		if len(p.Items) != size {
			t.Fatalf("page %d from the end: HasPreviousPage with %d rows, want a full page of %d", pageNo, len(p.Items), size)
		}
		if before, err = store.DecodeCursorArg("before", p.Cursors[0]); err != nil {
			t.Fatalf("page %d from the end: the store's own cursor does not decode: %v", pageNo, err)
		}
	}
	var all []T
	for i := len(pages) - 1; i >= 0; i-- {
		all = append(all, pages[i]...)
	}
	return all
}
