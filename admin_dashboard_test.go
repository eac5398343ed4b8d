package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/lib/pq"

	"github.com/partsmarket/gateway/store"
)

// TestReportByID: report(id) answers its listing's seller, admins and
// analysts, NOT_FOUND for another seller, UNAUTHENTICATED anonymously.
func TestReportByID(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	const q = `query($id: ID!) { report(id: $id) { id reason listing { id } } }`
	for _, tt := range []struct {
		who, token, code string
	}{
		{"owning seller", f.TokenA, ""},
		{"admin", f.Admin, ""},
		{"analyst", f.Analyst, ""},
		{"another seller", f.TokenB, "NOT_FOUND"},
		{"anonymous", "", "UNAUTHENTICATED"},
	} {
		t.Run(tt.who, func(t *testing.T) {
			r := api.post(tt.token, q, map[string]any{"id": f.ReportA})
			if tt.code == "" {
				if len(r.Errors) > 0 || r.Get("report.id") != f.ReportA || r.Get("report.listing.id") != f.ListingA.ID {
					t.Errorf("got %s, want report %s", r.Raw, f.ReportA)
				}
				return
			}
			if len(r.Errors) != 1 || r.Errors[0].Code() != tt.code || r.Get("report") != nil {
				t.Errorf("got %s, want %s and null", r.Raw, tt.code)
			}
		})
	}
}

// TestSetSellerInternalNotes: only an admin writes the internal notes; the
// change is audited with its values; an empty string clears them; notes
// over 5,000 characters are BAD_USER_INPUT.
func TestSetSellerInternalNotes(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	const m = `mutation($id: ID!, $n: String!) { setSellerInternalNotes(id: $id, notes: $n) { seller { id internalNotes } } }`
	r := api.mustPost(f.Admin, m, map[string]any{"id": f.SellerA.ID, "n": "  pays late  "})
	if got := r.Get("setSellerInternalNotes.seller.internalNotes"); got != "pays late" {
		t.Errorf("internalNotes = %v, want the trimmed notes", got)
	}
	var changes []string
	if err := api.DB.Select(&changes, `SELECT changes::text FROM audit_events
		WHERE action = 'seller.internal_notes' AND target_id = $1`, f.SellerA.ID); err != nil {
		t.Fatal(err)
	}
	if len(changes) != 1 || !strings.Contains(changes[0], "pays late") {
		t.Errorf("audit changes %v, want one event with the new notes", changes)
	}
	r = api.mustPost(f.Admin, m, map[string]any{"id": f.SellerA.ID, "n": ""})
	if got := r.Get("setSellerInternalNotes.seller"); got == nil || r.Get("setSellerInternalNotes.seller.internalNotes") != nil {
		t.Errorf("after clearing: %s, want internalNotes null", r.Raw)
	}
	mutWantCode(t, api.post(f.TokenA, m, map[string]any{"id": f.SellerA.ID, "n": "mine"}), "FORBIDDEN")
	mutWantInvalid(t, api.post(f.Admin, m, map[string]any{"id": f.SellerA.ID, "n": strings.Repeat("x", 5001)}), "notes")
	mutWantCode(t, api.post(f.Admin, m, map[string]any{"id": "00000000-0000-0000-0000-000000000000", "n": "x"}), "NOT_FOUND")
}

// TestSellersQuery: sellers(filter: {query}) finds sellers by part of the
// name or slug and by a whole contact email, ignoring case, takes LIKE
// wildcards literally, keeps the visibility rules, and bounds the term.
func TestSellersQuery(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	api.DB.MustExec(`INSERT INTO seller_contacts (seller_id, kind, value, position) VALUES ($1, 'EMAIL', 'Sales@Bravo.example', 9)`, f.SellerB.ID)
	const q = `query($q: String) { sellers(filter: {query: $q}, first: 50) { totalCount nodes { id } } }`
	names := map[string]string{f.SellerA.ID: "Alpha", f.SellerB.ID: "Bravo", f.Suspended.ID: "Shady"}
	for _, tt := range []struct {
		name, token, query string
		want               []string
	}{
		{"name part", "", "lpha par", []string{"Alpha"}},
		{"slug part", "", "bravo-hydr", []string{"Bravo"}},
		{"email whole, any case", "", "sales@bravo.EXAMPLE", []string{"Bravo"}},
		{"email part is not enough", "", "bravo.example", nil},
		{"wildcards are literal", "", "%", nil},
		{"underscore is literal", "", "_", nil},
		{"hidden seller stays hidden", "", "shady", nil},
		{"admin finds a suspended seller", f.Admin, "shady", []string{"Shady"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := api.mustPost(tt.token, q, map[string]any{"q": tt.query})
			var got []string
			for _, n := range r.Get("sellers.nodes").([]any) {
				if name, ok := names[n.(map[string]any)["id"].(string)]; ok {
					got = append(got, name)
				} else {
					t.Errorf("unexpected seller %v", n)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) || r.Get("sellers.totalCount") != float64(len(tt.want)) {
				t.Errorf("found %v (totalCount %v), want %v", got, r.Get("sellers.totalCount"), tt.want)
			}
		})
	}
	r := api.post("", q, map[string]any{"q": strings.Repeat("a", 201)})
	if len(r.Errors) != 1 || r.Errors[0].Code() != "BAD_USER_INPUT" || !strings.Contains(r.Raw, "filter.query") {
		t.Errorf("a 201-character query: %s, want BAD_USER_INPUT naming filter.query", r.Raw)
	}
}

// TestNotificationsOutbox: admins page through the lead-mail outbox newest
// first, forwards and backwards, filter it by status and reach each
// notification's lead; everyone else is refused.
func TestNotificationsOutbox(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	ids := []string{f.LeadB, f.LeadA} // newest first
	for i := range 3 {
		id, err := api.Store.CreateLead(t.Context(), store.NewLead{SellerID: f.SellerA.ID, ListingID: &f.ListingA.ID,
			BuyerName: "Outbox Buyer", Email: "outbox@example.com", Message: "hello " + string(rune('a'+i)), Status: store.LeadNew})
		if err != nil {
			t.Fatal(err)
		}
		ids = append([]string{id}, ids...)
	}
	api.DB.MustExec(`UPDATE lead_notifications SET created_at = now() - (x.n * interval '1 minute')
		FROM unnest($1::uuid[]) WITH ORDINALITY AS x (id, n) WHERE lead_id = x.id`, pq.Array(ids))
	api.DB.MustExec(`UPDATE lead_notifications SET status = 'FAILED', last_error = 'mailbox full' WHERE lead_id = $1`, ids[1])

	const q = `query($f: NotificationFilter, $first: Int, $after: String, $last: Int, $before: String) {
		notifications(filter: $f, first: $first, after: $after, last: $last, before: $before) {
			totalCount nodes { status lastError lead { id } }
			pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`
	leadsOf := func(r gqlResponse) []string {
		var out []string
		for _, n := range r.Get("notifications.nodes").([]any) {
			out = append(out, n.(map[string]any)["lead"].(map[string]any)["id"].(string))
		}
		return out
	}
	all := api.mustPost(f.Admin, q, map[string]any{"first": 10})
	if got := leadsOf(all); !slices.Equal(got, ids) || all.Get("notifications.totalCount") != float64(len(ids)) {
		t.Fatalf("outbox %v (totalCount %v), want %v newest first", got, all.Get("notifications.totalCount"), ids)
	}
	first := api.mustPost(f.Admin, q, map[string]any{"first": 2})
	next := api.mustPost(f.Admin, q, map[string]any{"first": 2, "after": first.Get("notifications.pageInfo.endCursor")})
	if got := append(leadsOf(first), leadsOf(next)...); !slices.Equal(got, ids[:4]) || next.Get("notifications.pageInfo.hasPreviousPage") != true {
		t.Errorf("two forward pages %v, want %v", got, ids[:4])
	}
	back := api.mustPost(f.Admin, q, map[string]any{"last": 2, "before": next.Get("notifications.pageInfo.startCursor")})
	if got := leadsOf(back); !slices.Equal(got, ids[:2]) || back.Get("notifications.pageInfo.hasNextPage") != true {
		t.Errorf("a backward page %v, want %v", got, ids[:2])
	}
	failed := api.mustPost(f.Admin, q, map[string]any{"f": map[string]any{"status": "FAILED"}, "first": 10})
	if got := leadsOf(failed); !slices.Equal(got, ids[1:2]) || failed.Get("notifications.nodes.0.lastError") != "mailbox full" {
		t.Errorf("FAILED notifications %s, want only %s with its error", failed.Raw, ids[1])
	}
	for who, token := range map[string]string{"seller": f.TokenA, "analyst": f.Analyst, "anonymous": ""} {
		r := api.post(token, q, map[string]any{"first": 10})
		if len(r.Errors) != 1 || r.Get("notifications") != nil || r.Errors[0].Code() != refusalFor(token) {
			t.Errorf("%s: %s, want %s and null", who, r.Raw, refusalFor(token))
		}
	}
	bad := api.post(f.Admin, q, map[string]any{"first": 2, "after": "bm90LWEtY3Vyc29y"})
	if len(bad.Errors) != 1 || bad.Errors[0].Code() != "BAD_USER_INPUT" {
		t.Errorf("a foreign cursor: %s, want BAD_USER_INPUT", bad.Raw)
	}
}

// TestSellerAndLeadSorts: sellers by NAME, NEWEST and LISTINGS (public
// listings for the public, every listing for an admin) and leads NEWEST or
// OLDEST, each paged forwards and backwards through the same order.
func TestSellerAndLeadSorts(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	busy := api.mustSeller("Zulu Loaders", store.SellerActive)
	// Public listings: Zulu 4, Alpha 2, Bravo 1; all: Bravo 6, Zulu 4,
	// Alpha 3, Shady 0 (no ties, which the id would break).
	for i := range 4 {
		api.mustListing(busy.ID, fmt.Sprintf("Bucket tooth %d", i), store.ListingActive)
	}
	api.mustListing(f.SellerA.ID, "Ripper shank", store.ListingActive)
	for i := range 4 {
		api.mustListing(f.SellerB.ID, fmt.Sprintf("Draft seal kit %d", i), store.ListingDraft)
	}
	api.DB.MustExec(`UPDATE sellers SET created_at = now() - interval '1 day' WHERE id = $1`, f.SellerA.ID)
	const sellers = `query($s: SellerSort, $first: Int, $after: String, $last: Int, $before: String) {
		sellers(sort: $s, first: $first, after: $after, last: $last, before: $before) {
			nodes { companyName } pageInfo { startCursor endCursor } } }`
	names := func(r gqlResponse) []string {
		var out []string
		for _, n := range r.Get("sellers.nodes").([]any) {
			out = append(out, n.(map[string]any)["companyName"].(string))
		}
		return out
	}
	for _, tt := range []struct {
		sort, token string
		want        []string
	}{
		{"NAME", "", []string{"Alpha Parts", "Bravo Hydraulics", "Zulu Loaders"}},
		{"NEWEST", "", []string{"Zulu Loaders", "Bravo Hydraulics", "Alpha Parts"}},
		{"LISTINGS", "", []string{"Zulu Loaders", "Alpha Parts", "Bravo Hydraulics"}},
		{"LISTINGS", f.Admin, []string{"Bravo Hydraulics", "Zulu Loaders", "Alpha Parts", "Shady Salvage"}},
	} {
		all := api.mustPost(tt.token, sellers, map[string]any{"s": tt.sort, "first": 10})
		if got := names(all); !slices.Equal(got, tt.want) {
			t.Errorf("%s (admin %t): %v, want %v", tt.sort, tt.token != "", got, tt.want)
			continue
		}
		first := api.mustPost(tt.token, sellers, map[string]any{"s": tt.sort, "first": 2})
		rest := api.mustPost(tt.token, sellers, map[string]any{"s": tt.sort, "first": 10, "after": first.Get("sellers.pageInfo.endCursor")})
		back := api.mustPost(tt.token, sellers, map[string]any{"s": tt.sort, "last": 10, "before": rest.Get("sellers.pageInfo.startCursor")})
		if got := append(names(first), names(rest)...); !slices.Equal(got, tt.want) || !slices.Equal(names(back), tt.want[:2]) {
			t.Errorf("%s paged: %v then back %v, want %v", tt.sort, got, names(back), tt.want)
		}
	}
	other := api.post("", sellers, map[string]any{"s": "NEWEST", "first": 2,
		"after": api.mustPost("", sellers, map[string]any{"s": "NAME", "first": 1}).Get("sellers.pageInfo.endCursor")})
	if len(other.Errors) != 1 || other.Errors[0].Code() != "BAD_USER_INPUT" {
		t.Errorf("a NAME cursor in a NEWEST list: %s, want BAD_USER_INPUT", other.Raw)
	}

	second, err := api.Store.CreateLead(t.Context(), store.NewLead{SellerID: f.SellerA.ID, ListingID: &f.ListingA.ID,
		BuyerName: "Later Buyer", Email: "later@example.com", Message: "Any news?", Status: store.LeadNew})
	if err != nil {
		t.Fatal(err)
	}
	const leads = `query($s: LeadSort) { leads(sort: $s, first: 10) { nodes { id } } }`
	ids := func(r gqlResponse) []string {
		var out []string
		for _, n := range r.Get("leads.nodes").([]any) {
			out = append(out, n.(map[string]any)["id"].(string))
		}
		return out
	}
	if got := ids(api.mustPost(f.TokenA, leads, map[string]any{"s": "OLDEST"})); !slices.Equal(got, []string{f.LeadA, second}) {
		t.Errorf("leads OLDEST: %v, want %v", got, []string{f.LeadA, second})
	}
	if got := ids(api.mustPost(f.TokenA, leads, nil)); !slices.Equal(got, []string{second, f.LeadA}) {
		t.Errorf("leads by default: %v, want newest first", got)
	}
}
