package store_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/partsmarket/gateway/store"
)

func TestReportsVisibilityAndFilters(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	s1 := MustCreateActiveSeller(t, st, "One")
	s2 := MustCreateActiveSeller(t, st, "Two")
	l1 := MustCreateListing(t, st, store.NewListing{SellerID: s1.ID})
	l1b := MustCreateListing(t, st, store.NewListing{SellerID: s1.ID, Status: store.ListingPaused})
	l2 := MustCreateListing(t, st, store.NewListing{SellerID: s2.ID})
	a := MustCreateReport(t, st, store.NewReport{ListingID: l1.ID, Reason: store.ReasonScam, Details: ptr("fake"), ReporterEmail: ptr("r@example.com")})
	b := MustCreateReport(t, st, store.NewReport{ListingID: l1b.ID, Reason: store.ReasonAlreadySold})
	c := MustCreateReport(t, st, store.NewReport{ListingID: l2.ID, Reason: store.ReasonScam})
	every := []*store.ListingReport{a, b, c}
	names := map[string]string{a.ID: "a", b.ID: "b", c.ID: "c"}

	t.Run("stored fields", func(t *testing.T) {
		want := &store.ListingReport{ID: a.ID, ListingID: l1.ID, SellerID: s1.ID, Reason: store.ReasonScam, Details: ptr("fake"),
			ReporterEmail: ptr("r@example.com"), Status: store.ReportOpen, CreatedAt: a.CreatedAt}
		if !reflect.DeepEqual(a, want) {
			t.Errorf("got  %+v\nwant %+v", *a, *want)
		}
	})

	scopes := []struct {
		name  string
		scope store.Scope
		want  []*store.ListingReport
	}{
		{"public sees none", store.Scope{}, nil},
		{"seller sees reports about its listings", store.Scope{SellerID: s1.ID}, []*store.ListingReport{a, b}},
		{"other seller", store.Scope{SellerID: s2.ID}, []*store.ListingReport{c}},
		{"malformed seller scope sees none", store.Scope{SellerID: "abc"}, nil},
		{"all sees every report", store.Scope{All: true}, every},
	}
	for _, tt := range scopes {
		t.Run(tt.name, func(t *testing.T) {
			q := store.ReportQuery{Scope: tt.scope}
			p, err := st.Reports(t.Context(), q, store.PageArgs{Limit: 100})
			mustOK(t, err, "Reports")
			sameSet(t, "Reports", idsOf(p.Items), idsOf(tt.want), names)
			n, err := st.CountReports(t.Context(), q)
			mustOK(t, err, "CountReports")
			if got, want := n, len(tt.want); got != want {
				t.Errorf("got CountReports %d, want %d", got, want)
			}
			visible := map[string]bool{}
			for _, r := range tt.want {
				visible[r.ID] = true
			}
			for _, r := range every {
				got, err := st.Report(t.Context(), tt.scope, r.ID)
				if visible[r.ID] {
					if err != nil || got.ID != r.ID {
						t.Errorf("Report(%s): got %v, %v; want the report", names[r.ID], got, err)
					}
					continue
				}
				if code := store.ErrorCode(err); code != store.ENOTFOUND {
					t.Errorf("Report(%s): got code %q (%v), want %s", names[r.ID], code, err, store.ENOTFOUND)
				}
			}
		})
	}

	status := func(s store.ReportStatus) *store.ReportStatus { return &s }
	reason := func(r store.ReportReason) *store.ReportReason { return &r }
	filters := []struct {
		name   string
		filter store.ReportFilter
		want   []*store.ListingReport
	}{
		{"reason", store.ReportFilter{Reason: reason(store.ReasonScam)}, []*store.ListingReport{a, c}},
		{"status OPEN", store.ReportFilter{Status: status(store.ReportOpen)}, every},
		{"status DISMISSED", store.ReportFilter{Status: status(store.ReportDismissed)}, nil},
		{"seller", store.ReportFilter{SellerID: &s1.ID}, []*store.ListingReport{a, b}},
		{"malformed seller matches nothing", store.ReportFilter{SellerID: ptr("abc")}, nil},
		{"listing", store.ReportFilter{ListingID: &l2.ID}, []*store.ListingReport{c}},
		{"malformed listing matches nothing", store.ReportFilter{ListingID: ptr("abc")}, nil},
		{"reason and seller", store.ReportFilter{Reason: reason(store.ReasonScam), SellerID: &s1.ID}, []*store.ListingReport{a}},
	}
	for _, tt := range filters {
		t.Run(tt.name, func(t *testing.T) {
			q := store.ReportQuery{Scope: store.Scope{All: true}, Filter: tt.filter}
			p, err := st.Reports(t.Context(), q, store.PageArgs{Limit: 100})
			mustOK(t, err, "Reports")
			sameSet(t, "Reports", idsOf(p.Items), idsOf(tt.want), names)
			n, err := st.CountReports(t.Context(), q)
			mustOK(t, err, "CountReports")
			if got, want := n, len(tt.want); got != want {
				t.Errorf("got CountReports %d, want %d", got, want)
			}
		})
	}
}

func TestReportsNewestWalk(t *testing.T) {
	t.Parallel()
	st, db := newStore(t)
	s := MustCreateActiveSeller(t, st, "Reported")
	l := MustCreateListing(t, st, store.NewListing{SellerID: s.ID})
	base := time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)
	var want []*store.ListingReport
	for i := 0; i < 10; i++ {
		r := MustCreateReport(t, st, store.NewReport{ListingID: l.ID})
		MustSetCreatedAt(t, db, "listing_reports", r.ID, base.Add(time.Duration(i/2)*time.Hour)) // pairs tie
		want = append(want, r)
	}
	got := walk(t, 3, func(p store.PageArgs) (store.Page[*store.ListingReport], error) {
		return st.Reports(t.Context(), store.ReportQuery{Scope: store.Scope{SellerID: s.ID}}, p)
	})
	sameSet(t, "walk", idsOf(got), idsOf(want), nil)
	if len(got) != len(want) {
		t.Fatalf("got %d reports, want %d (each once)", len(got), len(want))
	}
	for i := 1; i < len(got); i++ {
		if got[i].CreatedAt.After(got[i-1].CreatedAt) {
			t.Errorf("row %d (%v) is newer than row %d (%v)", i, got[i].CreatedAt, i-1, got[i-1].CreatedAt)
		}
	}
}

func TestResolveReport(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	s := MustCreateActiveSeller(t, st, "Moderated")

	t.Run("remove listing", func(t *testing.T) {
		l := MustCreateListing(t, st, store.NewListing{SellerID: s.ID})
		r := MustCreateReport(t, st, store.NewReport{ListingID: l.ID, Reason: store.ReasonScam})
		got, err := st.ResolveReport(t.Context(), r.ID, true, ptr("Counterfeit part"), "admin-1")
		mustOK(t, err, "ResolveReport")
		if got.Status != store.ReportActioned {
			t.Errorf("got status %s, want %s", got.Status, store.ReportActioned)
		}
		if deref(got.ResolutionNote) != "Counterfeit part" {
			t.Errorf("got note %s, want %q", deref(got.ResolutionNote), "Counterfeit part")
		}
		if got.ResolvedAt == nil {
			t.Errorf("got no ResolvedAt")
		}
		if got.SellerID != s.ID || got.ListingID != l.ID {
			t.Errorf("got seller %s listing %s, want %s %s", got.SellerID, got.ListingID, s.ID, l.ID)
		}
		ll, err := st.Listing(t.Context(), store.Scope{All: true}, l.ID)
		mustOK(t, err, "Listing")
		if ll.Status != store.ListingRemoved {
			t.Errorf("got listing status %s, want %s", ll.Status, store.ListingRemoved)
		}
		if got, want := deref(ll.RemovalReason), "Counterfeit part"; got != want {
			t.Errorf("got removal reason %q, want %q", got, want)
		}
		if ll.ModerationNote == nil {
			t.Errorf("got no moderation note on the removed listing")
		}
		if _, err := st.Listing(t.Context(), store.Scope{}, l.ID); store.ErrorCode(err) != store.ENOTFOUND {
			t.Errorf("public Listing of a removed listing: got %v, want %s", err, store.ENOTFOUND)
		}

		_, err = st.ResolveReport(t.Context(), r.ID, false, ptr("again"), "admin-1")
		wantError(t, err, store.EINVALID, "")
		again, err := st.Report(t.Context(), store.Scope{All: true}, r.ID)
		mustOK(t, err, "Report")
		if again.Status != store.ReportActioned || deref(again.ResolutionNote) != "Counterfeit part" {
			t.Errorf("a refused second resolve changed the report: got %s %s", again.Status, deref(again.ResolutionNote))
		}
	})
	t.Run("remove listing without a note", func(t *testing.T) {
		l := MustCreateListing(t, st, store.NewListing{SellerID: s.ID})
		r := MustCreateReport(t, st, store.NewReport{ListingID: l.ID})
		_, err := st.ResolveReport(t.Context(), r.ID, true, nil, "admin-1")
		mustOK(t, err, "ResolveReport")
		ll, err := st.Listing(t.Context(), store.Scope{All: true}, l.ID)
		mustOK(t, err, "Listing")
		if ll.Status != store.ListingRemoved {
			t.Errorf("got listing status %s, want %s", ll.Status, store.ListingRemoved)
		}
	})
	t.Run("dismiss leaves the listing alone", func(t *testing.T) {
		l := MustCreateListing(t, st, store.NewListing{SellerID: s.ID})
		r := MustCreateReport(t, st, store.NewReport{ListingID: l.ID})
		got, err := st.ResolveReport(t.Context(), r.ID, false, ptr("Looks fine"), "admin-1")
		mustOK(t, err, "ResolveReport")
		if got.Status != store.ReportDismissed {
			t.Errorf("got status %s, want %s", got.Status, store.ReportDismissed)
		}
		ll, err := st.Listing(t.Context(), store.Scope{All: true}, l.ID)
		mustOK(t, err, "Listing")
		if ll.Status != store.ListingActive || ll.RemovalReason != nil {
			t.Errorf("got listing %s/%s, want ACTIVE without a removal reason", ll.Status, deref(ll.RemovalReason))
		}
		_, err = st.ResolveReport(t.Context(), r.ID, true, ptr("changed my mind"), "admin-1")
		wantError(t, err, store.EINVALID, "")
		ll, err = st.Listing(t.Context(), store.Scope{All: true}, l.ID)
		mustOK(t, err, "Listing")
		if ll.Status != store.ListingActive {
			t.Errorf("a refused resolve removed the listing: got %s", ll.Status)
		}
	})
	for _, id := range []string{unknownID, "abc"} {
		t.Run("missing "+id, func(t *testing.T) {
			_, err := st.ResolveReport(t.Context(), id, true, nil, "admin-1")
			wantError(t, err, store.ENOTFOUND, "")
		})
	}
	t.Run("a malformed or unknown listing is not an SQL error", func(t *testing.T) {
		for _, id := range []string{"abc", unknownID} {
			_, err := st.CreateReport(t.Context(), store.NewReport{ListingID: id, Reason: store.ReasonOther})
			if code := store.ErrorCode(err); code != store.ENOTFOUND && code != store.EINVALID {
				t.Errorf("listing %q: got code %q (%v), want %s or %s", id, code, err, store.ENOTFOUND, store.EINVALID)
			}
		}
	})
}
