package store_test

import (
	"bytes"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/partsmarket/gateway/internal/pii"
	"github.com/partsmarket/gateway/store"
)

func TestCreateLead(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	s := MustCreateActiveSeller(t, st, "Leads Co")
	l := MustCreateListing(t, st, store.NewListing{SellerID: s.ID})
	n := store.NewLead{SellerID: s.ID, ListingID: &l.ID, BuyerName: "Jane Buyer", Email: "jane@example.com",
		Phone: ptr("+1 555 0100"), Company: ptr("Acme"), Message: "Still available?", BuyerLocation: ptr("Tulsa, OK"),
		Timeline: ptr("this week"), SourcePage: ptr("/listings/x"), Status: store.LeadNew}
	id, err := st.CreateLead(t.Context(), n)
	mustOK(t, err, "CreateLead")
	got, err := st.Lead(t.Context(), store.Scope{SellerID: s.ID}, id)
	mustOK(t, err, "Lead")
	want := &store.Lead{ID: id, SellerID: s.ID, ListingID: &l.ID, BuyerName: "Jane Buyer", Email: "jane@example.com",
		Phone: ptr("+1 555 0100"), Company: ptr("Acme"), Message: "Still available?", BuyerLocation: ptr("Tulsa, OK"),
		Timeline: ptr("this week"), SourcePage: ptr("/listings/x"), Status: store.LeadNew, CreatedAt: got.CreatedAt, UpdatedAt: got.UpdatedAt}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", *got, *want)
	}
	t.Run("a lead for the seller in general", func(t *testing.T) {
		g := MustCreateLead(t, st, store.NewLead{SellerID: s.ID})
		if g.ListingID != nil {
			t.Errorf("got listing %s, want none", *g.ListingID)
		}
	})
	t.Run("a malformed or unknown id is not an SQL error", func(t *testing.T) {
		for _, tt := range []struct {
			name string
			n    store.NewLead
		}{
			{"malformed seller", store.NewLead{SellerID: "abc"}},
			{"unknown seller", store.NewLead{SellerID: unknownID}},
			{"malformed listing", store.NewLead{SellerID: s.ID, ListingID: ptr("abc")}},
			{"unknown listing", store.NewLead{SellerID: s.ID, ListingID: ptr(unknownID)}},
		} {
			tt.n.BuyerName, tt.n.Email, tt.n.Message, tt.n.Status = "J", "j@example.com", "m", store.LeadNew
			_, err := st.CreateLead(t.Context(), tt.n)
			if code := store.ErrorCode(err); code != store.ENOTFOUND && code != store.EINVALID {
				t.Errorf("%s: got code %q (%v), want %s or %s", tt.name, code, err, store.ENOTFOUND, store.EINVALID)
			}
		}
	})
}

func TestLeadsVisibilityAndFilters(t *testing.T) {
	t.Parallel()
	st, db := newStore(t)
	s1 := MustCreateActiveSeller(t, st, "One")
	s2 := MustCreateActiveSeller(t, st, "Two")
	pending := MustCreateSellerWithStatus(t, st, store.SellerPending, store.NewSeller{})
	l1 := MustCreateListing(t, st, store.NewListing{SellerID: s1.ID})
	l2 := MustCreateListing(t, st, store.NewListing{SellerID: s2.ID})
	a := MustCreateLead(t, st, store.NewLead{SellerID: s1.ID, ListingID: &l1.ID, Email: "Jane.Doe@Example.com"})
	b := MustCreateLead(t, st, store.NewLead{SellerID: s1.ID, Status: store.LeadWon})
	c := MustCreateLead(t, st, store.NewLead{SellerID: s2.ID, ListingID: &l2.ID})
	d := MustCreateLead(t, st, store.NewLead{SellerID: pending.ID})
	names := map[string]string{a.ID: "a", b.ID: "b", c.ID: "c", d.ID: "d"}
	every := []*store.Lead{a, b, c, d}
	base := time.Date(2025, 1, 10, 12, 0, 0, 0, time.UTC)
	for i, l := range every {
		at := base.Add(time.Duration(i) * 24 * time.Hour)
		MustSetCreatedAt(t, db, "leads", l.ID, at)
	}

	scopes := []struct {
		name  string
		scope store.Scope
		want  []*store.Lead
	}{
		{"public sees none", store.Scope{}, nil},
		{"seller sees its own", store.Scope{SellerID: s1.ID}, []*store.Lead{a, b}},
		{"other seller sees its own", store.Scope{SellerID: s2.ID}, []*store.Lead{c}},
		{"pending seller sees its own", store.Scope{SellerID: pending.ID}, []*store.Lead{d}},
		{"malformed seller scope sees none", store.Scope{SellerID: "abc"}, nil},
		{"all sees every lead", store.Scope{All: true}, every},
	}
	for _, tt := range scopes {
		t.Run(tt.name, func(t *testing.T) {
			q := store.LeadQuery{Scope: tt.scope}
			p, err := st.Leads(t.Context(), q, store.PageArgs{Limit: 100})
			mustOK(t, err, "Leads")
			sameSet(t, "Leads", idsOf(p.Items), idsOf(tt.want), names)
			n, err := st.CountLeads(t.Context(), q)
			mustOK(t, err, "CountLeads")
			if got, want := n, len(tt.want); got != want {
				t.Errorf("got CountLeads %d, want %d", got, want)
			}
			visible := map[string]bool{}
			for _, l := range tt.want {
				visible[l.ID] = true
			}
			for _, l := range every {
				got, err := st.Lead(t.Context(), tt.scope, l.ID)
				if visible[l.ID] {
					if err != nil || got.ID != l.ID {
						t.Errorf("Lead(%s): got %v, %v; want the lead", names[l.ID], got, err)
					}
					continue
				}
				if code := store.ErrorCode(err); code != store.ENOTFOUND {
					t.Errorf("Lead(%s): got code %q (%v), want %s", names[l.ID], code, err, store.ENOTFOUND)
				}
			}
		})
	}

	status := func(s store.LeadStatus) *store.LeadStatus { return &s }
	from, to := base.Add(24*time.Hour), base.Add(3*24*time.Hour)
	filters := []struct {
		name   string
		filter store.LeadFilter
		want   []*store.Lead
	}{
		{"status", store.LeadFilter{Status: status(store.LeadWon)}, []*store.Lead{b}},
		{"email, any case, padded", store.LeadFilter{Email: ptr("  jane.doe@EXAMPLE.com ")}, []*store.Lead{a}},
		{"email unknown", store.LeadFilter{Email: ptr("nobody@example.com")}, nil},
		{"email empty is unset", store.LeadFilter{Email: ptr("")}, every},
		{"listing", store.LeadFilter{ListingID: &l1.ID}, []*store.Lead{a}},
		{"malformed listing matches nothing", store.LeadFilter{ListingID: ptr("abc")}, nil},
		{"empty listing is unset", store.LeadFilter{ListingID: ptr("")}, every},
		{"seller", store.LeadFilter{SellerID: &s2.ID}, []*store.Lead{c}},
		{"malformed seller matches nothing", store.LeadFilter{SellerID: ptr("abc")}, nil},
		{"from is inclusive, to exclusive", store.LeadFilter{From: &from, To: &to}, []*store.Lead{b, c}},
	}
	for _, tt := range filters {
		t.Run(tt.name, func(t *testing.T) {
			q := store.LeadQuery{Scope: store.Scope{All: true}, Filter: tt.filter}
			p, err := st.Leads(t.Context(), q, store.PageArgs{Limit: 100})
			mustOK(t, err, "Leads")
			sameSet(t, "Leads", idsOf(p.Items), idsOf(tt.want), names)
			n, err := st.CountLeads(t.Context(), q)
			mustOK(t, err, "CountLeads")
			if got, want := n, len(tt.want); got != want {
				t.Errorf("got CountLeads %d, want %d", got, want)
			}
		})
	}
	t.Run("a seller filtering on another seller sees nothing", func(t *testing.T) {
		p, err := st.Leads(t.Context(), store.LeadQuery{Scope: store.Scope{SellerID: s1.ID}, Filter: store.LeadFilter{SellerID: &s2.ID}}, store.PageArgs{Limit: 100})
		mustOK(t, err, "Leads")
		if len(p.Items) != 0 {
			t.Errorf("got %d leads, want 0", len(p.Items))
		}
	})
}

func TestSetLeadStatus(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	s := MustCreateActiveSeller(t, st, "Inbox Co")
	l := MustCreateLead(t, st, store.NewLead{SellerID: s.ID})
	// The seller's scope, as its requests carry it.
	ctx := store.WithScope(t.Context(), store.Scope{SellerID: s.ID})
	seller := store.Actor{ID: "user-7", Role: "seller"}
	admin := store.Actor{ID: "admin-1", Role: "admin"}
	type change struct {
		From, To           store.LeadStatus
		ActorID, ActorRole string
	}
	steps := []struct {
		name   string
		status store.LeadStatus
		by     store.Actor
		record bool // whether the step is a change to record
	}{
		{"contacted", store.LeadContacted, seller, true},
		{"qualified", store.LeadQualified, seller, true},
		{"the same status again is no change", store.LeadQualified, admin, false},
		{"won", store.LeadWon, admin, true},
		{"lost", store.LeadLost, seller, true},
		{"spam by an unnamed actor", store.LeadSpam, store.Actor{}, true},
		{"back to new", store.LeadNew, seller, true},
	}
	var want []change
	prev := l
	for _, tt := range steps {
		t.Run(tt.name, func(t *testing.T) {
			got, err := st.SetLeadStatus(ctx, l.ID, tt.status, tt.by, nil)
			mustOK(t, err, "SetLeadStatus")
			if got.Status != tt.status {
				t.Errorf("got %s, want %s", got.Status, tt.status)
			}
			stored, err := st.Lead(t.Context(), store.Scope{All: true}, l.ID)
			mustOK(t, err, "Lead")
			if stored.Status != tt.status {
				t.Errorf("stored %s, want %s", stored.Status, tt.status)
			}
			if stored.Message != l.Message || stored.Email != l.Email || stored.BuyerName != l.BuyerName {
				t.Errorf("other fields changed: got %+v", *stored)
			}
			if !tt.record && !stored.UpdatedAt.Equal(prev.UpdatedAt) {
				t.Errorf("no change, but UpdatedAt moved from %v to %v", prev.UpdatedAt, stored.UpdatedAt)
			}
			if tt.record {
				want = append(want, change{prev.Status, tt.status, tt.by.ID, tt.by.Role})
			}
			prev = stored
			cs, err := st.StatusChangesByLeadID(ctx, []string{l.ID, "abc"})
			mustOK(t, err, "StatusChangesByLeadID")
			var changes []change
			for _, c := range cs {
				changes = append(changes, change{c.From, c.To, derefEmpty(c.ActorID), derefEmpty(c.ActorRole)})
			}
			if !reflect.DeepEqual(changes, want) {
				t.Errorf("got changes %v, want %v", changes, want)
			}
		})
	}
	for _, id := range []string{unknownID, "abc"} {
		t.Run("missing "+id, func(t *testing.T) {
			_, err := st.SetLeadStatus(ctx, id, store.LeadWon, admin, nil)
			wantError(t, err, store.ENOTFOUND, "")
		})
	}
}

// TestSetLeadStatusRule: the rule sees the locked lead's status and the
// wanted one; its refusal is returned and nothing changes, the history
// included.
func TestSetLeadStatusRule(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	s := MustCreateActiveSeller(t, st, "Rule Inbox Co")
	l := MustCreateLead(t, st, store.NewLead{SellerID: s.ID, Status: store.LeadSpam})
	var asked []store.LeadStatus
	refuse := func(from, to store.LeadStatus) error {
		asked = append(asked, from, to)
		return store.Errorf(store.EFORBIDDEN, "no")
	}
	_, err := st.SetLeadStatus(store.WithScope(t.Context(), store.Scope{SellerID: s.ID}), l.ID, store.LeadContacted, store.Actor{ID: "user-7", Role: "SELLER"}, refuse)
	wantError(t, err, store.EFORBIDDEN, "")
	if want := []store.LeadStatus{store.LeadSpam, store.LeadContacted}; !reflect.DeepEqual(asked, want) {
		t.Errorf("rule asked about %v, want %v", asked, want)
	}
	stored, err := st.Lead(t.Context(), store.Scope{All: true}, l.ID)
	mustOK(t, err, "Lead")
	if stored.Status != store.LeadSpam {
		t.Errorf("stored %s, want SPAM", stored.Status)
	}
	cs, err := st.StatusChangesByLeadID(t.Context(), []string{l.ID})
	mustOK(t, err, "StatusChangesByLeadID")
	if len(cs) != 0 {
		t.Errorf("%d status changes recorded after a refusal, want 0", len(cs))
	}
}

// derefEmpty returns *p, or "" for nil.
func derefEmpty(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// TestCreateLeadDeduplicates: the same lead (email ignoring case, listing or
// seller, message) sent again within 24 hours is stored once and answers the
// first lead's id.
func TestCreateLeadDeduplicates(t *testing.T) {
	t.Parallel()
	st, db := newStore(t)
	s := MustCreateActiveSeller(t, st, "Dedupe Co")
	other := MustCreateActiveSeller(t, st, "Other Co")
	l1 := MustCreateListing(t, st, store.NewListing{SellerID: s.ID})
	l2 := MustCreateListing(t, st, store.NewListing{SellerID: s.ID})
	tests := []struct {
		name     string
		age      time.Duration // how old the first lead is when the second arrives
		change   func(n *store.NewLead)
		wantSame bool
	}{
		{"identical", 0, func(n *store.NewLead) {}, true},
		{"email in another case", 0, func(n *store.NewLead) { n.Email = "JANE.DOE@EXAMPLE.COM" }, true},
		{"other personal fields differ", 0, func(n *store.NewLead) { n.BuyerName, n.Phone = "J. Doe", ptr("+1 555 0199") }, true},
		{"first one 23 hours old", 23 * time.Hour, func(n *store.NewLead) {}, true},
		{"first one 25 hours old", 25 * time.Hour, func(n *store.NewLead) {}, false},
		{"another message", 0, func(n *store.NewLead) { n.Message += " Also need a seal kit." }, false},
		{"another email", 0, func(n *store.NewLead) { n.Email = "john@example.com" }, false},
		{"another listing of the seller", 0, func(n *store.NewLead) { n.ListingID = &l2.ID }, false},
		{"the seller in general", 0, func(n *store.NewLead) { n.ListingID = nil }, false},
		{"another seller in general", 0, func(n *store.NewLead) { n.SellerID, n.ListingID = other.ID, nil }, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			first := store.NewLead{SellerID: s.ID, ListingID: &l1.ID, BuyerName: "Jane Doe", Email: "jane.doe@example.com",
				Message: fmt.Sprintf("Is the pump still available? (case %d)", i), Status: store.LeadNew}
			var before, after int
			mustOK(t, db.GetContext(t.Context(), &before, `SELECT count(*) FROM leads`), "count")
			id1, err := st.CreateLead(t.Context(), first)
			mustOK(t, err, "CreateLead")
			if tt.age > 0 {
				MustSetCreatedAt(t, db, "leads", id1, time.Now().Add(-tt.age))
			}
			second := first
			tt.change(&second)
			id2, err := st.CreateLead(t.Context(), second)
			mustOK(t, err, "CreateLead again")
			if got := id2 == id1; got != tt.wantSame {
				t.Errorf("got same id %t (%s, %s), want %t", got, id1, id2, tt.wantSame)
			}
			mustOK(t, db.GetContext(t.Context(), &after, `SELECT count(*) FROM leads`), "count")
			want := 2
			if tt.wantSame {
				want = 1
			}
			if n := after - before; n != want {
				t.Errorf("got %d leads stored, want %d", n, want)
			}
		})
	}
}

// TestCreateLeadConcurrentRepeatsStoredOnce: a buyer double-clicking (or a
// client retrying) sends the same lead several times at once; it is stored
// once and every request answers the same id.
func TestCreateLeadConcurrentRepeatsStoredOnce(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	s := MustCreateActiveSeller(t, st, "Busy Co")
	l := MustCreateListing(t, st, store.NewListing{SellerID: s.ID})
	const parallel = 8
	for round := 0; round < 5; round++ {
		t.Run(fmt.Sprintf("round %d", round), func(t *testing.T) {
			n := store.NewLead{SellerID: s.ID, ListingID: &l.ID, BuyerName: "Jane", Email: fmt.Sprintf("race%d@example.com", round),
				Message: "Need it today", Status: store.LeadNew}
			ids := make([]string, parallel)
			errs := make([]error, parallel)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := 0; i < parallel; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					ids[i], errs[i] = st.CreateLead(t.Context(), n)
				}()
			}
			close(start)
			wg.Wait()
			for i, err := range errs {
				mustOK(t, err, fmt.Sprintf("CreateLead #%d", i))
			}
			stored, err := st.CountLeads(t.Context(), store.LeadQuery{Scope: store.Scope{All: true}, Filter: store.LeadFilter{Email: &n.Email}})
			mustOK(t, err, "count")
			if stored != 1 {
				t.Errorf("got %d leads stored for %d concurrent identical requests, want 1", stored, parallel)
			}
			for i, id := range ids {
				if id != ids[0] {
					t.Errorf("request %d got id %s, request 0 got %s; want the same id", i, id, ids[0])
				}
			}
		})
	}
}

// TestCreateLeadQueuesNotification: a lead's seller notification is queued in
// the outbox with the lead (one row per lead), except for SPAM; a repeat that
// is answered with the first lead's id queues nothing more.
func TestCreateLeadQueuesNotification(t *testing.T) {
	t.Parallel()
	st, db := newStore(t)
	s := MustCreateActiveSeller(t, st, "Outbox Co")
	outbox := func(t *testing.T, leadID string) int {
		t.Helper()
		var n int
		mustOK(t, db.GetContext(t.Context(), &n, `SELECT count(*) FROM lead_notifications WHERE lead_id = $1`, leadID), "count outbox")
		return n
	}
	tests := []struct {
		name   string
		status store.LeadStatus
		want   int
	}{
		{"new lead", store.LeadNew, 1},
		{"spam", store.LeadSpam, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := store.NewLead{SellerID: s.ID, BuyerName: "Jane", Email: "outbox-" + string(tt.status) + "@example.com",
				Message: "Do you ship?", Status: tt.status}
			id, err := st.CreateLead(t.Context(), n)
			mustOK(t, err, "CreateLead")
			if got := outbox(t, id); got != tt.want {
				t.Errorf("got %d queued notifications, want %d", got, tt.want)
			}
			again, err := st.CreateLead(t.Context(), n)
			mustOK(t, err, "CreateLead again")
			if again != id {
				t.Fatalf("repeat got id %s, want %s", again, id)
			}
			if got := outbox(t, id); got != tt.want {
				t.Errorf("after a repeat: got %d queued notifications, want %d", got, tt.want)
			}
		})
	}
}

// TestCreateLeadDedupeKey: a lead's dedupe key is a 32-byte keyed hash that
// holds neither the email nor the message, and equal leads share it.
func TestCreateLeadDedupeKey(t *testing.T) {
	t.Parallel()
	st, db := newStore(t)
	s := MustCreateActiveSeller(t, st, "Key Co")
	l := MustCreateListing(t, st, store.NewListing{SellerID: s.ID})
	a := MustCreateLead(t, st, store.NewLead{SellerID: s.ID, ListingID: &l.ID, Email: "keyed.buyer@example.com", Message: "Keyed message"})
	b := MustCreateLead(t, st, store.NewLead{SellerID: s.ID, ListingID: &l.ID, Email: "keyed.buyer@example.com", Message: "Other message"})
	key := func(id string) []byte {
		t.Helper()
		var k []byte
		mustOK(t, db.Get(&k, `SELECT dedupe_key FROM leads WHERE id = $1`, id), "dedupe key")
		return k
	}
	ka, kb := key(a.ID), key(b.ID)
	if len(ka) != 32 || len(kb) != 32 {
		t.Fatalf("dedupe keys of %d and %d bytes, want 32", len(ka), len(kb))
	}
	if bytes.Equal(ka, kb) {
		t.Error("two messages share a dedupe key")
	}
	for _, v := range []string{"keyed.buyer", "Keyed message", s.ID, l.ID} {
		if bytes.Contains(bytes.ToLower(ka), bytes.ToLower([]byte(v))) {
			t.Errorf("the dedupe key holds %q", v)
		}
	}
	if bytes.Equal(ka, pii.Dev().BlindIndex("keyed.buyer@example.com")) {
		t.Error("the dedupe key is the email's blind index")
	}
}

// TestCreateLeadUnknownTarget: a well-formed id of no seller or listing fails
// the insert inside submit_lead and answers EINVALID naming the field.
func TestCreateLeadUnknownTarget(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	s := MustCreateActiveSeller(t, st, "Target Co")
	n := store.NewLead{SellerID: unknownID, BuyerName: "J", Email: "j@example.com", Message: "m", Status: store.LeadNew}
	_, err := st.CreateLead(t.Context(), n)
	wantError(t, err, store.EINVALID, "sellerId")
	n.SellerID, n.ListingID = s.ID, ptr(unknownID)
	_, err = st.CreateLead(t.Context(), n)
	wantError(t, err, store.EINVALID, "listingId")
}
