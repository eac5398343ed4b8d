package main

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/partsmarket/gateway/internal/access"
	"github.com/partsmarket/gateway/store"
)

// mutGenerousLimits keeps the abuse rate limits out of the way of tests that
// send many leads and reports from one address.
var mutGenerousLimits = map[string]string{
	"RATE_LIMIT_LEADS_PER_IP_PER_HOUR":   "10000",
	"RATE_LIMIT_LEADS_PER_EMAIL_PER_DAY": "10000",
	"RATE_LIMIT_REPORTS_PER_IP_PER_HOUR": "10000",
	"RATE_LIMIT_POINTS_PER_MINUTE":       "10000000",
}

const (
	mutSubmitLead    = `mutation($input: SubmitLeadInput!) { submitLead(input: $input) { leadId } }`
	mutReportListing = `mutation($input: ReportListingInput!) { reportListing(input: $input) { reportId } }`
	mutCreateSeller  = `mutation($input: CreateSellerInput!) { createSeller(input: $input) { seller { id slug companyName status } } }`
	mutCreateListing = `mutation($input: CreateListingInput!) { createListing(input: $input) {
		listing { id status sku currency description quantity priceCents location { id city } } } }`
	mutUpdateListing = `mutation($id: ID!, $input: UpdateListingInput!) { updateListing(id: $id, input: $input) {
		listing { id title status sku currency description quantity priceCents } } }`
	mutSetListingStatus = `mutation($id: ID!, $status: ListingStatus!) { setListingStatus(id: $id, status: $status) { listing { id status removalReason } } }`
	mutUpdateLeadStatus = `mutation($id: ID!, $status: LeadStatus!) { updateLeadStatus(id: $id, status: $status) { lead { id status } } }`
	mutPublicListings   = `{ listings(first: 100) { nodes { id } } }`
)

// mutSeq makes emails and messages unique, so no two leads of a test look
// like the same lead sent twice.
var mutSeq atomic.Int64

// mutLead returns a valid submitLead input for listingID with over applied
// (a nil value deletes the key).
func mutLead(listingID string, over map[string]any) map[string]any {
	n := mutSeq.Add(1)
	in := map[string]any{
		"listingId":    listingID,
		"buyerName":    "Jane Buyer",
		"email":        fmt.Sprintf("buyer%d@example.com", n),
		"phone":        "+1 555 010 1234",
		"message":      fmt.Sprintf("Is part %d still available?", n),
		"captchaToken": "ok",
	}
	if listingID == "" {
		delete(in, "listingId")
	}
	for k, v := range over {
		if v == nil {
			delete(in, k)
		} else {
			in[k] = v
		}
	}
	return in
}

// mutCount counts the rows of table.
func mutCount(t *testing.T, api *testAPI, table string) int {
	t.Helper()
	var n int
	if err := api.DB.Get(&n, `SELECT count(*) FROM `+table); err != nil {
		t.Fatal(err)
	}
	return n
}

// mutFields returns the sorted extensions.field of each error, failing the
// test unless every error is BAD_USER_INPUT.
func mutFields(t *testing.T, r gqlResponse) []string {
	t.Helper()
	var out []string
	for _, e := range r.Errors {
		if e.Code() != "BAD_USER_INPUT" {
			t.Errorf("error %q has code %q, want BAD_USER_INPUT: %s", e.Message, e.Code(), r.Raw)
		}
		out = append(out, e.Field())
	}
	sort.Strings(out)
	return out
}

// mutWantInvalid checks that r refused the mutation with exactly one
// BAD_USER_INPUT error per field in fields and no data.
func mutWantInvalid(t *testing.T, r gqlResponse, fields ...string) {
	t.Helper()
	want := slices.Clone(fields)
	sort.Strings(want)
	if got := mutFields(t, r); !slices.Equal(got, want) {
		t.Errorf("got errors on %v, want one BAD_USER_INPUT on each of %v: %s", got, want, r.Raw)
	}
	if r.Data != nil {
		t.Errorf("want data null, got %s", r.Raw)
	}
}

// mutWantCode checks that r refused the mutation with one error of code.
func mutWantCode(t *testing.T, r gqlResponse, code string) {
	t.Helper()
	if len(r.Errors) != 1 || r.Errors[0].Code() != code {
		t.Errorf("want one %s error, got %s", code, r.Raw)
	}
	if r.Data != nil {
		t.Errorf("want data null, got %s", r.Raw)
	}
}

// mutStatus reads a row's status column directly.
func mutStatus(t *testing.T, api *testAPI, table, id string) string {
	t.Helper()
	var s string
	if err := api.DB.Get(&s, `SELECT status FROM `+table+` WHERE id = $1`, id); err != nil {
		t.Fatalf("status of %s %s: %v", table, id, err)
	}
	return s
}

// mutPublicIDs returns the ids of the listings anonymous callers see.
func mutPublicIDs(t *testing.T, api *testAPI) []string {
	t.Helper()
	return idorIDs(t, api.mustPost("", mutPublicListings, nil), "listings.nodes")
}

// mutEventually polls cond every 50 ms for up to 5 s.
func mutEventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 5 s: %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestSubmitLead(t *testing.T) {
	api := newTestAPI(t, mutGenerousLimits)
	f := api.newFixture()
	suspendedListing := api.mustListing(f.Suspended.ID, "Suspended pump", store.ListingActive)
	pausedA := api.mustListing(f.SellerA.ID, "Paused pump", store.ListingPaused)
	removedA := api.mustListing(f.SellerA.ID, "Removed pump", store.ListingRemoved)

	// refused sends input and checks that no lead was written.
	refused := func(t *testing.T, input map[string]any) gqlResponse {
		t.Helper()
		before := mutCount(t, api, "leads")
		r := api.post("", mutSubmitLead, map[string]any{"input": input})
		if after := mutCount(t, api, "leads"); after != before {
			t.Errorf("a refused lead was written: %d leads before, %d after: %s", before, after, r.Raw)
		}
		return r
	}

	t.Run("success is committed before the answer", func(t *testing.T) {
		in := mutLead(f.ListingA.ID, map[string]any{"company": "Acme Mining", "buyerLocation": "Perth", "timeline": "this week",
			"sourcePage": "https://parts.example.com/l/1"})
		r := api.mustPost("", mutSubmitLead, map[string]any{"input": in})
		id, _ := r.Get("submitLead.leadId").(string)
		if _, err := uuid.Parse(id); err != nil {
			t.Fatalf("leadId %q: %s", id, r.Raw)
		}
		var row struct {
			SellerID  string  `db:"seller_id"`
			ListingID *string `db:"listing_id"`
			Status    string  `db:"status"`
		}
		if err := api.DB.Get(&row, `SELECT seller_id, listing_id, status FROM leads WHERE id = $1`, id); err != nil {
			t.Fatalf("the lead is not in the database right after the answer: %v", err)
		}
		if row.SellerID != f.SellerA.ID || row.ListingID == nil || *row.ListingID != f.ListingA.ID || row.Status != "NEW" {
			t.Errorf("stored lead %+v, want seller A, listing A, NEW", row)
		}
		got := api.mustPost(f.TokenA, `query($id: ID!) { lead(id: $id) { buyerName email phone company message status listing { id } seller { id } } }`,
			map[string]any{"id": id})
		for field, want := range map[string]any{"buyerName": "Jane Buyer", "email": in["email"], "phone": in["phone"],
			"company": "Acme Mining", "message": in["message"], "status": "NEW", "listing.id": f.ListingA.ID, "seller.id": f.SellerA.ID} {
			if v := got.Get("lead." + field); v != want {
				t.Errorf("lead.%s = %v, want %v", field, v, want)
			}
		}
	})

	t.Run("a lead for a seller in general", func(t *testing.T) {
		r := api.mustPost("", mutSubmitLead, map[string]any{"input": mutLead("", map[string]any{"sellerId": f.SellerB.ID})})
		id := r.Get("submitLead.leadId")
		var row struct {
			SellerID  string  `db:"seller_id"`
			ListingID *string `db:"listing_id"`
		}
		if err := api.DB.Get(&row, `SELECT seller_id, listing_id FROM leads WHERE id = $1`, id); err != nil {
			t.Fatal(err)
		}
		if row.SellerID != f.SellerB.ID || row.ListingID != nil {
			t.Errorf("stored %+v, want seller B and no listing", row)
		}
		// An empty listingId is no listingId.
		r = api.mustPost("", mutSubmitLead, map[string]any{"input": mutLead("", map[string]any{"listingId": "", "sellerId": f.SellerB.ID})})
		if err := api.DB.Get(&row, `SELECT seller_id, listing_id FROM leads WHERE id = $1`, r.Get("submitLead.leadId")); err != nil {
			t.Fatal(err)
		}
		if row.SellerID != f.SellerB.ID || row.ListingID != nil {
			t.Errorf("stored %+v, want seller B and no listing", row)
		}
	})

	t.Run("message of exactly 5000 characters", func(t *testing.T) {
		msg := strings.Repeat("é", 4990) + fmt.Sprintf("%010d", mutSeq.Add(1))
		api.mustPost("", mutSubmitLead, map[string]any{"input": mutLead(f.ListingA.ID, map[string]any{"message": msg})})
	})

	invalid := []struct {
		name   string
		over   map[string]any
		fields []string
	}{
		{"empty buyerName", map[string]any{"buyerName": ""}, []string{"input.buyerName"}},
		{"blank buyerName", map[string]any{"buyerName": "   "}, []string{"input.buyerName"}},
		{"malformed email", map[string]any{"email": "jane.example.com"}, []string{"input.email"}},
		{"email with two ats", map[string]any{"email": "jane@@example.com"}, []string{"input.email"}},
		{"email with a display name", map[string]any{"email": "Jane <jane@example.com>"}, []string{"input.email"}},
		{"blank email", map[string]any{"email": " "}, []string{"input.email"}},
		{"malformed phone", map[string]any{"phone": "call me maybe"}, []string{"input.phone"}},
		{"phone with too few digits", map[string]any{"phone": "12 34"}, []string{"input.phone"}},
		{"message over 5000 characters", map[string]any{"message": strings.Repeat("a", 5001)}, []string{"input.message"}},
		{"blank message", map[string]any{"message": "  "}, []string{"input.message"}},
		// A value both too long and malformed is still one invalid field.
		{"email over 254 characters", map[string]any{"email": strings.Repeat("j", 250) + "@example.com"}, []string{"input.email"}},
		{"phone over 40 characters", map[string]any{"phone": "+1 " + strings.Repeat("5", 45)}, []string{"input.phone"}},
		{"several fields", map[string]any{"buyerName": "", "email": "nope", "phone": "call me", "message": strings.Repeat("b", 5001)},
			[]string{"input.buyerName", "input.email", "input.phone", "input.message"}},
	}
	for _, c := range invalid {
		t.Run("invalid/"+c.name, func(t *testing.T) {
			mutWantInvalid(t, refused(t, mutLead(f.ListingA.ID, c.over)), c.fields...)
		})
	}

	t.Run("invalid/missing buyerName", func(t *testing.T) {
		// buyerName is String! in the contract's SubmitLeadInput, so leaving
		// it out is an invalid request (GRAPHQL_VALIDATION_FAILED) before
		// the resolver runs; BAD_USER_INPUT on input.buyerName would do too.
		r := refused(t, mutLead(f.ListingA.ID, map[string]any{"buyerName": nil}))
		if len(r.Errors) == 0 || r.Data != nil {
			t.Fatalf("want a refusal, got %s", r.Raw)
		}
		e := r.Errors[0]
		if e.Code() != "GRAPHQL_VALIDATION_FAILED" && !(e.Code() == "BAD_USER_INPUT" && e.Field() == "input.buyerName") {
			t.Errorf("want GRAPHQL_VALIDATION_FAILED or BAD_USER_INPUT on input.buyerName, got %s", r.Raw)
		}
	})

	// Every listing the public cannot see gets the answer of one that does
	// not exist.
	t.Run("listing not public", func(t *testing.T) {
		ids := []struct{ name, id string }{
			{"does not exist", uuid.NewString()},
			{"malformed id", "listing-1"},
			{"draft", f.DraftA.ID},
			{"paused", pausedA.ID},
			{"removed", removedA.ID},
			{"suspended seller's", suspendedListing.ID},
		}
		var first gqlResponse
		for i, c := range ids {
			r := refused(t, mutLead(c.id, nil))
			mutWantInvalid(t, r, "input.listingId")
			if len(r.Errors) != 1 {
				continue
			}
			if i == 0 {
				first = r
			} else if len(first.Errors) == 1 && r.Errors[0].Message != first.Errors[0].Message {
				t.Errorf("%s listing: message %q, want %q as for a listing that does not exist", c.name, r.Errors[0].Message, first.Errors[0].Message)
			}
		}
	})
	t.Run("listingId longer than a UUID", func(t *testing.T) {
		long := refused(t, mutLead(strings.Repeat("f", 40), nil))
		random := refused(t, mutLead(uuid.NewString(), nil))
		mutWantInvalid(t, long, "input.listingId")
		if idorShape(long) != idorShape(random) {
			t.Errorf("a 40-character listingId: %s; an unknown one: %s; want the same answer", long.Raw, random.Raw)
		}
	})
	t.Run("seller not public", func(t *testing.T) {
		random := refused(t, mutLead("", map[string]any{"sellerId": uuid.NewString()}))
		suspended := refused(t, mutLead("", map[string]any{"sellerId": f.Suspended.ID}))
		mutWantInvalid(t, random, "input.sellerId")
		mutWantInvalid(t, suspended, "input.sellerId")
		if idorShape(random) != idorShape(suspended) {
			t.Errorf("suspended seller %s, unknown seller %s: want the same answer", suspended.Raw, random.Raw)
		}
	})

	t.Run("empty optional strings are null", func(t *testing.T) {
		r := api.mustPost("", mutSubmitLead, map[string]any{"input": mutLead(f.ListingA.ID, map[string]any{
			"company": "", "phone": "", "buyerLocation": "", "timeline": "", "sourcePage": "", "website": ""})})
		id := r.Get("submitLead.leadId")
		got := api.mustPost(f.Admin, `query($id: ID!) { lead(id: $id) { company phone buyerLocation timeline sourcePage status } }`,
			map[string]any{"id": id})
		for _, field := range []string{"company", "phone", "buyerLocation", "timeline", "sourcePage"} {
			if v := got.Get("lead." + field); v != nil {
				t.Errorf("lead.%s = %q, want null", field, v)
			}
		}
		if s := mutStatus(t, api, "leads", id.(string)); s != "NEW" {
			t.Errorf("status %s, want NEW (an empty honeypot is no spam)", s)
		}
	})

	t.Run("honeypot", func(t *testing.T) {
		r := api.mustPost("", mutSubmitLead, map[string]any{"input": mutLead(f.ListingA.ID, map[string]any{"website": "http://spam"})})
		id, _ := r.Get("submitLead.leadId").(string)
		if _, err := uuid.Parse(id); err != nil {
			t.Fatalf("want a leadId like any success, got %s", r.Raw)
		}
		if s := mutStatus(t, api, "leads", id); s != "SPAM" {
			t.Errorf("honeypot lead stored as %s, want SPAM", s)
		}
	})

	for name, token := range map[string]any{"fail": "fail", "missing": nil, "empty": ""} {
		t.Run("captcha "+name, func(t *testing.T) {
			mutWantCode(t, refused(t, mutLead(f.ListingA.ID, map[string]any{"captchaToken": token})), "CAPTCHA_FAILED")
		})
	}
	t.Run("captcha missing on a spam bot", func(t *testing.T) {
		mutWantCode(t, refused(t, mutLead(f.ListingA.ID, map[string]any{"captchaToken": nil, "website": "http://spam"})), "CAPTCHA_FAILED")
	})
}

func TestReportListing(t *testing.T) {
	api := newTestAPI(t, mutGenerousLimits)
	f := api.newFixture()
	suspendedListing := api.mustListing(f.Suspended.ID, "Suspended pump", store.ListingActive)
	report := func(listingID string, over map[string]any) map[string]any {
		in := map[string]any{"listingId": listingID, "reason": "WRONG_INFO", "details": "The photo shows another part",
			"reporterEmail": "reporter@example.org", "captchaToken": "ok"}
		for k, v := range over {
			if v == nil {
				delete(in, k)
			} else {
				in[k] = v
			}
		}
		return map[string]any{"input": in}
	}
	refused := func(t *testing.T, vars map[string]any) gqlResponse {
		t.Helper()
		before := mutCount(t, api, "listing_reports")
		r := api.post("", mutReportListing, vars)
		if after := mutCount(t, api, "listing_reports"); after != before {
			t.Errorf("a refused report was written: %d before, %d after: %s", before, after, r.Raw)
		}
		return r
	}

	t.Run("success", func(t *testing.T) {
		r := api.mustPost("", mutReportListing, report(f.ListingB.ID, nil))
		id, _ := r.Get("reportListing.reportId").(string)
		var row struct {
			ListingID string `db:"listing_id"`
			Reason    string `db:"reason"`
			Status    string `db:"status"`
		}
		if err := api.DB.Get(&row, `SELECT listing_id, reason, status FROM listing_reports WHERE id = $1`, id); err != nil {
			t.Fatalf("report %q not stored: %v (%s)", id, err, r.Raw)
		}
		if row.ListingID != f.ListingB.ID || row.Reason != "WRONG_INFO" || row.Status != "OPEN" {
			t.Errorf("stored %+v", row)
		}
	})
	t.Run("success without reporter email", func(t *testing.T) {
		api.mustPost("", mutReportListing, report(f.ListingB.ID, map[string]any{"reporterEmail": nil, "details": nil}))
		api.mustPost("", mutReportListing, report(f.ListingB.ID, map[string]any{"reporterEmail": "", "details": ""}))
	})
	t.Run("listing not public", func(t *testing.T) {
		random := refused(t, report(uuid.NewString(), nil))
		mutWantInvalid(t, random, "input.listingId")
		for name, id := range map[string]string{"draft": f.DraftA.ID, "suspended seller's": suspendedListing.ID} {
			r := refused(t, report(id, nil))
			mutWantInvalid(t, r, "input.listingId")
			if idorShape(r) != idorShape(random) {
				t.Errorf("%s listing: %s; unknown listing: %s; want the same answer", name, r.Raw, random.Raw)
			}
		}
	})
	t.Run("bad reporter email", func(t *testing.T) {
		mutWantInvalid(t, refused(t, report(f.ListingB.ID, map[string]any{"reporterEmail": "not-an-email"})), "input.reporterEmail")
	})
	t.Run("reporter email over 254 characters", func(t *testing.T) {
		mutWantInvalid(t, refused(t, report(f.ListingB.ID, map[string]any{"reporterEmail": strings.Repeat("r", 250) + "@example.org"})), "input.reporterEmail")
	})
	t.Run("bad reporter email and hidden listing", func(t *testing.T) {
		mutWantInvalid(t, refused(t, report(f.DraftB.ID, map[string]any{"reporterEmail": "x@"})), "input.listingId", "input.reporterEmail")
	})
	t.Run("captcha fail", func(t *testing.T) {
		mutWantCode(t, refused(t, report(f.ListingB.ID, map[string]any{"captchaToken": "fail"})), "CAPTCHA_FAILED")
	})
}

func TestListingStatusRules(t *testing.T) {
	api := newTestAPI(t, map[string]string{"CACHE_LIST_STALENESS": "100ms"})
	f := api.newFixture()
	set := func(token, id, status string) gqlResponse {
		return api.post(token, mutSetListingStatus, map[string]any{"id": id, "status": status})
	}

	t.Run("seller sets DRAFT, ACTIVE, PAUSED and SOLD", func(t *testing.T) {
		for _, status := range []string{"ACTIVE", "PAUSED", "SOLD", "DRAFT", "ACTIVE"} {
			r := set(f.TokenA, f.DraftA.ID, status)
			if len(r.Errors) > 0 || r.Get("setListingStatus.listing.status") != status {
				t.Fatalf("set %s: %s", status, r.Raw)
			}
			if got := mutStatus(t, api, "listings", f.DraftA.ID); got != status {
				t.Fatalf("stored %s, want %s", got, status)
			}
		}
		if !slices.Contains(mutPublicIDs(t, api), f.DraftA.ID) {
			t.Errorf("the listing set ACTIVE is not public")
		}
		set(f.TokenA, f.DraftA.ID, "DRAFT")
	})
	t.Run("seller may not set REMOVED", func(t *testing.T) {
		mutWantCode(t, set(f.TokenA, f.ListingA.ID, "REMOVED"), "FORBIDDEN")
		if got := mutStatus(t, api, "listings", f.ListingA.ID); got != "ACTIVE" {
			t.Errorf("stored %s, want ACTIVE", got)
		}
	})

	const reason = "Counterfeit part reported by the brand"
	t.Run("admin removes with a reason", func(t *testing.T) {
		r := api.mustPost(f.Admin, `mutation($id: ID!, $reason: String!) { removeListing(id: $id, reason: $reason) { listing { id status removalReason } } }`,
			map[string]any{"id": f.ListingA.ID, "reason": reason})
		if r.Get("removeListing.listing.status") != "REMOVED" || r.Get("removeListing.listing.removalReason") != reason {
			t.Errorf("removeListing: %s", r.Raw)
		}
		var row struct {
			Status string  `db:"status"`
			Reason *string `db:"removal_reason"`
		}
		if err := api.DB.Get(&row, `SELECT status, removal_reason FROM listings WHERE id = $1`, f.ListingA.ID); err != nil {
			t.Fatal(err)
		}
		if row.Status != "REMOVED" || row.Reason == nil || *row.Reason != reason {
			t.Errorf("stored %s / %v", row.Status, row.Reason)
		}
	})
	t.Run("owner sees the removal reason", func(t *testing.T) {
		r := api.mustPost(f.TokenA, `query($id: ID!) { listing(id: $id) { status removalReason } }`, map[string]any{"id": f.ListingA.ID})
		if r.Get("listing.status") != "REMOVED" || r.Get("listing.removalReason") != reason {
			t.Errorf("owner reads %s", r.Raw)
		}
		r = api.mustPost(f.TokenA, `{ listings(filter: {status: REMOVED}) { nodes { id removalReason } } }`, nil)
		if r.Get("listings.nodes.0.id") != f.ListingA.ID || r.Get("listings.nodes.0.removalReason") != reason {
			t.Errorf("owner's removed listings: %s", r.Raw)
		}
	})
	t.Run("removed listing is not public", func(t *testing.T) {
		if slices.Contains(mutPublicIDs(t, api), f.ListingA.ID) {
			t.Errorf("anonymous listings still show the removed listing")
		}
		r := api.post("", `query($id: ID!) { listing(id: $id) { id } }`, map[string]any{"id": f.ListingA.ID})
		if r.Get("listing") != nil || len(r.Errors) != 1 || r.Errors[0].Code() != "NOT_FOUND" {
			t.Errorf("anonymous listing(id) of a removed listing: %s", r.Raw)
		}
	})
	t.Run("seller cannot lift REMOVED", func(t *testing.T) {
		for _, status := range []string{"ACTIVE", "DRAFT", "PAUSED", "SOLD"} {
			mutWantCode(t, set(f.TokenA, f.ListingA.ID, status), "FORBIDDEN")
			var row struct {
				Status string  `db:"status"`
				Reason *string `db:"removal_reason"`
			}
			if err := api.DB.Get(&row, `SELECT status, removal_reason FROM listings WHERE id = $1`, f.ListingA.ID); err != nil {
				t.Fatal(err)
			}
			if row.Status != "REMOVED" || row.Reason == nil || *row.Reason != reason {
				t.Fatalf("after the seller set %s: stored %s / %v, want REMOVED with its reason", status, row.Status, row.Reason)
			}
		}
	})
	t.Run("admin lifts REMOVED", func(t *testing.T) {
		r := set(f.Admin, f.ListingA.ID, "ACTIVE")
		if len(r.Errors) > 0 || r.Get("setListingStatus.listing.status") != "ACTIVE" {
			t.Fatalf("admin set ACTIVE: %s", r.Raw)
		}
		if got := mutStatus(t, api, "listings", f.ListingA.ID); got != "ACTIVE" {
			t.Errorf("stored %s, want ACTIVE", got)
		}
		// A listing entering the public lists shows within the lists'
		// staleness (CACHE_LIST_STALENESS, short here).
		mutEventually(t, "the listing is public again", func() bool {
			return slices.Contains(mutPublicIDs(t, api), f.ListingA.ID)
		})
	})
	t.Run("admin sets REMOVED", func(t *testing.T) {
		r := set(f.Admin, f.ListingB.ID, "REMOVED")
		if len(r.Errors) > 0 || mutStatus(t, api, "listings", f.ListingB.ID) != "REMOVED" {
			t.Errorf("admin set REMOVED: %s", r.Raw)
		}
	})
}

func TestResolveReport(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	const resolve = `mutation($id: ID!, $action: ReportAction!, $note: String) { resolveReport(id: $id, action: $action, note: $note) {
		report { id status resolutionNote resolvedAt listing { id status } } } }`
	const note = "Confirmed duplicate of another listing"
	type reportRow struct {
		Status     string     `db:"status"`
		Note       *string    `db:"resolution_note"`
		ResolvedAt *time.Time `db:"resolved_at"`
	}
	readReport := func(id string) reportRow {
		var r reportRow
		if err := api.DB.Get(&r, `SELECT status, resolution_note, resolved_at FROM listing_reports WHERE id = $1`, id); err != nil {
			t.Fatal(err)
		}
		return r
	}

	start := time.Now().Add(-time.Minute)
	r := api.mustPost(f.Admin, resolve, map[string]any{"id": f.ReportA, "action": "REMOVE_LISTING", "note": note})
	if r.Get("resolveReport.report.status") != "ACTIONED" || r.Get("resolveReport.report.resolutionNote") != note {
		t.Errorf("resolveReport: %s", r.Raw)
	}
	at, err := time.Parse(time.RFC3339Nano, fmt.Sprint(r.Get("resolveReport.report.resolvedAt")))
	if err != nil || at.Before(start) {
		t.Errorf("resolvedAt %v (%v), want now", r.Get("resolveReport.report.resolvedAt"), err)
	}
	row := readReport(f.ReportA)
	if row.Status != "ACTIONED" || row.ResolvedAt == nil || row.Note == nil || *row.Note != note {
		t.Errorf("stored report %+v", row)
	}
	if s := mutStatus(t, api, "listings", f.ListingA.ID); s != "REMOVED" {
		t.Errorf("listing is %s, want REMOVED", s)
	}
	owner := api.mustPost(f.TokenA, `query($id: ID!) { listing(id: $id) { status removalReason } }`, map[string]any{"id": f.ListingA.ID})
	if owner.Get("listing.status") != "REMOVED" || owner.Get("listing.removalReason") != note {
		t.Errorf("owner reads %s, want REMOVED with the note as the removal reason", owner.Raw)
	}
	if slices.Contains(mutPublicIDs(t, api), f.ListingA.ID) {
		t.Errorf("the removed listing is still public")
	}

	t.Run("resolving twice", func(t *testing.T) {
		for _, action := range []string{"REMOVE_LISTING", "DISMISS"} {
			again := api.post(f.Admin, resolve, map[string]any{"id": f.ReportA, "action": action, "note": "again"})
			mutWantCode(t, again, "BAD_USER_INPUT")
			if got := readReport(f.ReportA); got.Status != "ACTIONED" || *got.Note != note || !got.ResolvedAt.Equal(*row.ResolvedAt) {
				t.Errorf("a second resolution changed the report: %+v", got)
			}
		}
	})
	t.Run("dismiss leaves the listing", func(t *testing.T) {
		r := api.mustPost(f.Admin, resolve, map[string]any{"id": f.ReportB, "action": "DISMISS"})
		if r.Get("resolveReport.report.status") != "DISMISSED" || r.Get("resolveReport.report.resolvedAt") == nil {
			t.Errorf("dismiss: %s", r.Raw)
		}
		if s := mutStatus(t, api, "listings", f.ListingB.ID); s != "ACTIVE" {
			t.Errorf("listing B is %s after a dismissal, want ACTIVE", s)
		}
		mutWantCode(t, api.post(f.Admin, resolve, map[string]any{"id": f.ReportB, "action": "REMOVE_LISTING", "note": "changed my mind"}), "BAD_USER_INPUT")
		if s := mutStatus(t, api, "listings", f.ListingB.ID); s != "ACTIVE" {
			t.Errorf("resolving a dismissed report again removed listing B (%s)", s)
		}
	})
	t.Run("unknown report", func(t *testing.T) {
		mutWantCode(t, api.post(f.Admin, resolve, map[string]any{"id": uuid.NewString(), "action": "DISMISS"}), "NOT_FOUND")
	})
}

func TestSetSellerStatusSuspends(t *testing.T) {
	api := newTestAPI(t, map[string]string{"CACHE_LIST_STALENESS": "100ms"})
	f := api.newFixture()
	extra := api.mustListing(f.SellerB.ID, "Injector nozzle", store.ListingActive)
	const setStatus = `mutation($id: ID!, $status: SellerStatus!) { setSellerStatus(id: $id, status: $status) { seller { id status } } }`
	const viewer = `{ viewer { role seller { id } } }`

	api.mustPost(f.TokenB, viewer, nil)
	if ids := mutPublicIDs(t, api); !slices.Contains(ids, f.ListingB.ID) || !slices.Contains(ids, extra.ID) {
		t.Fatalf("B's listings are not public before the suspension: %v", ids)
	}

	r := api.mustPost(f.Admin, setStatus, map[string]any{"id": f.SellerB.ID, "status": "SUSPENDED"})
	if r.Get("setSellerStatus.seller.status") != "SUSPENDED" || mutStatus(t, api, "sellers", f.SellerB.ID) != "SUSPENDED" {
		t.Fatalf("setSellerStatus: %s", r.Raw)
	}
	ids := mutPublicIDs(t, api)
	if slices.Contains(ids, f.ListingB.ID) || slices.Contains(ids, extra.ID) {
		t.Errorf("a suspended seller's listings are still public: %v", ids)
	}
	if !slices.Contains(ids, f.ListingA.ID) {
		t.Errorf("seller A's listing disappeared too: %v", ids)
	}
	search := api.mustPost("", `{ listings(search: "injector") { totalCount nodes { id } } }`, nil)
	if n := search.Get("listings.totalCount"); n != float64(0) {
		t.Errorf("a search still finds the suspended seller's listings: %s", search.Raw)
	}

	for name, q := range map[string]string{
		"query":    viewer,
		"mutation": `mutation($id: ID!) { setListingStatus(id: $id, status: PAUSED) { listing { id } } }`,
	} {
		t.Run("token refused on "+name, func(t *testing.T) {
			r := api.post(f.TokenB, q, map[string]any{"id": f.ListingB.ID})
			if r.Status != 401 || len(r.Errors) != 1 || r.Errors[0].Code() != "UNAUTHENTICATED" || r.Data != nil {
				t.Errorf("suspended seller's token: status %d, %s; want 401 UNAUTHENTICATED", r.Status, r.Raw)
			}
		})
	}
	if s := mutStatus(t, api, "listings", f.ListingB.ID); s != "ACTIVE" {
		t.Errorf("the suspended seller changed its listing to %s", s)
	}

	t.Run("reinstated", func(t *testing.T) {
		api.mustPost(f.Admin, setStatus, map[string]any{"id": f.SellerB.ID, "status": "ACTIVE"})
		api.mustPost(f.TokenB, viewer, nil)
		// A listing entering the public lists shows within the lists'
		// staleness (CACHE_LIST_STALENESS, short here).
		mutEventually(t, "a reinstated seller's listing is public again", func() bool {
			return slices.Contains(mutPublicIDs(t, api), f.ListingB.ID)
		})
	})
}

func TestCreateSeller(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	slug := regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	create := func(in map[string]any) gqlResponse {
		return api.post(f.Admin, mutCreateSeller, map[string]any{"input": in})
	}
	refused := func(t *testing.T, in map[string]any) gqlResponse {
		t.Helper()
		before := mutCount(t, api, "sellers")
		r := create(in)
		if after := mutCount(t, api, "sellers"); after != before {
			t.Errorf("a refused seller was stored: %d sellers before, %d after", before, after)
		}
		return r
	}

	var first string
	t.Run("slug from the company name", func(t *testing.T) {
		r := create(map[string]any{"companyName": "Delta Diesel & Sons, Inc."})
		first, _ = r.Get("createSeller.seller.slug").(string)
		if len(r.Errors) > 0 || !slug.MatchString(first) || !strings.HasPrefix(first, "delta-diesel") {
			t.Fatalf("slug %q: %s", first, r.Raw)
		}
		var stored string
		if err := api.DB.Get(&stored, `SELECT slug FROM sellers WHERE id = $1`, r.Get("createSeller.seller.id")); err != nil || stored != first {
			t.Errorf("stored slug %q (%v), want %q", stored, err, first)
		}
	})
	t.Run("same name, another slug", func(t *testing.T) {
		r := create(map[string]any{"companyName": "Delta Diesel & Sons, Inc."})
		second, _ := r.Get("createSeller.seller.slug").(string)
		if len(r.Errors) > 0 || !slug.MatchString(second) || second == first {
			t.Errorf("second slug %q (first %q): %s", second, first, r.Raw)
		}
		r = create(map[string]any{"companyName": "Alpha Parts"}) // the fixture's seller A holds alpha-parts
		if s := r.Get("createSeller.seller.slug"); len(r.Errors) > 0 || s == f.SellerA.Slug {
			t.Errorf("slug %v for a name whose slug is taken: %s", s, r.Raw)
		}
	})
	t.Run("explicit taken slug", func(t *testing.T) {
		mutWantInvalid(t, refused(t, map[string]any{"companyName": "Someone Else", "slug": f.SellerA.Slug}), "input.slug")
	})
	t.Run("empty optional strings are null", func(t *testing.T) {
		r := create(map[string]any{"companyName": "Lima Loaders", "slug": "", "website": "", "description": ""})
		s, _ := r.Get("createSeller.seller.slug").(string)
		if len(r.Errors) > 0 || !slug.MatchString(s) || !strings.HasPrefix(s, "lima-loaders") {
			t.Fatalf("empty slug should be generated: %s", r.Raw)
		}
		got := api.mustPost(f.Admin, `query($id: ID!) { seller(id: $id) { website description } }`, map[string]any{"id": r.Get("createSeller.seller.id")})
		if got.Get("seller.website") != nil || got.Get("seller.description") != nil {
			t.Errorf("empty website/description stored as values: %s", got.Raw)
		}
	})
	t.Run("concurrent sellers with one name", func(t *testing.T) {
		const n = 8
		results := make(chan gqlResponse, n)
		for range n {
			go func() { results <- create(map[string]any{"companyName": "Mike Motors"}) }()
		}
		seen := map[string]bool{}
		for range n {
			r := <-results
			s, _ := r.Get("createSeller.seller.slug").(string)
			if len(r.Errors) > 0 || s == "" {
				t.Errorf("createSeller without a slug failed: %s", r.Raw)
				continue
			}
			if seen[s] {
				t.Errorf("slug %s given twice", s)
			}
			seen[s] = true
		}
	})
	t.Run("explicit free slug", func(t *testing.T) {
		r := create(map[string]any{"companyName": "Echo Engines", "slug": "echo-engines-tx"})
		if len(r.Errors) > 0 || r.Get("createSeller.seller.slug") != "echo-engines-tx" {
			t.Errorf("explicit slug: %s", r.Raw)
		}
	})

	invalid := []struct {
		name  string
		in    map[string]any
		field []string
	}{
		{"malformed slug", map[string]any{"companyName": "Foxtrot", "slug": "Foxtrot Parts!"}, []string{"input.slug"}},
		{"three-letter country", map[string]any{"companyName": "Golf", "locations": []any{
			map[string]any{"city": "Houston", "country": "USA"}}}, []string{"input.locations.0.country"}},
		{"country name in the second location", map[string]any{"companyName": "Golf", "locations": []any{
			map[string]any{"city": "Houston", "country": "US"}, map[string]any{"city": "Leeds", "country": "United Kingdom"}}},
			[]string{"input.locations.1.country"}},
		{"website without scheme", map[string]any{"companyName": "Hotel", "website": "not a website"}, []string{"input.website"}},
		{"website with another scheme", map[string]any{"companyName": "Hotel", "website": "javascript:alert(1)"}, []string{"input.website"}},
		{"contact email", map[string]any{"companyName": "India", "contacts": []any{
			map[string]any{"kind": "PHONE", "value": "+1 555 010 2000"}, map[string]any{"kind": "EMAIL", "value": "sales-at-example.com"}}},
			[]string{"input.contacts.1.value"}},
		{"blank company name", map[string]any{"companyName": "  "}, []string{"input.companyName"}},
		{"website over 2048 characters", map[string]any{"companyName": "Hotel", "website": "https://example.com/" + strings.Repeat("p", 2048)},
			[]string{"input.website"}},
		{"several", map[string]any{"companyName": "Juliett", "website": "nope", "contacts": []any{
			map[string]any{"kind": "EMAIL", "value": "nope"}}, "locations": []any{map[string]any{"city": "Oslo", "country": "Norway"}}},
			[]string{"input.website", "input.contacts.0.value", "input.locations.0.country"}},
	}
	for _, c := range invalid {
		t.Run("invalid/"+c.name, func(t *testing.T) {
			mutWantInvalid(t, refused(t, c.in), c.field...)
		})
	}
	t.Run("full profile", func(t *testing.T) {
		r := create(map[string]any{"companyName": "Kilo Cranes", "website": "https://kilo.example.com", "description": "Cranes",
			"contacts":  []any{map[string]any{"kind": "EMAIL", "value": "sales@kilo.example.com", "label": "Sales"}},
			"locations": []any{map[string]any{"city": "Leeds", "country": "GB", "postalCode": "LS1 4AP"}}})
		if len(r.Errors) > 0 {
			t.Fatalf("full profile refused: %s", r.Raw)
		}
		got := api.mustPost(f.Admin, `query($id: ID!) { seller(id: $id) { website contacts { kind value label } locations { city country postalCode } } }`,
			map[string]any{"id": r.Get("createSeller.seller.id")})
		if got.Get("seller.contacts.0.value") != "sales@kilo.example.com" || got.Get("seller.locations.0.country") != "GB" {
			t.Errorf("stored profile: %s", got.Raw)
		}
	})
}

func TestCreateAndUpdateListing(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	create := func(token string, in map[string]any) gqlResponse {
		return api.post(token, mutCreateListing, map[string]any{"input": in})
	}
	update := func(token, id string, in map[string]any) gqlResponse {
		return api.post(token, mutUpdateListing, map[string]any{"id": id, "input": in})
	}
	refusedCreate := func(t *testing.T, in map[string]any) gqlResponse {
		t.Helper()
		before := mutCount(t, api, "listings")
		r := create(f.TokenA, in)
		if after := mutCount(t, api, "listings"); after != before {
			t.Errorf("a refused listing was stored: %d before, %d after", before, after)
		}
		return r
	}
	base := func(over map[string]any) map[string]any {
		in := map[string]any{"sellerId": f.SellerA.ID, "title": "Track roller", "condition": "USED"}
		for k, v := range over {
			in[k] = v
		}
		return in
	}

	t.Run("defaults", func(t *testing.T) {
		// A seller with two locations: the listing goes to the first.
		region := "TX"
		s, err := api.Store.CreateSeller(t.Context(), store.NewSeller{Slug: "two-yards", CompanyName: "Two Yards",
			Locations: []store.NewLocation{{City: "Dallas", Region: &region, Country: "US"}, {City: "Austin", Region: &region, Country: "US"}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := api.Store.SetSellerStatus(t.Context(), s.ID, store.SellerActive); err != nil {
			t.Fatal(err)
		}
		var firstLocation string
		if err := api.DB.Get(&firstLocation, `SELECT id FROM seller_locations WHERE seller_id = $1 AND city = 'Dallas'`, s.ID); err != nil {
			t.Fatal(err)
		}
		r := create(api.token(access.RoleSeller, s.ID), map[string]any{"sellerId": s.ID, "title": "Track roller", "condition": "USED"})
		if len(r.Errors) > 0 {
			t.Fatalf("createListing: %s", r.Raw)
		}
		if r.Get("createListing.listing.status") != "DRAFT" {
			t.Errorf("status %v, want DRAFT", r.Get("createListing.listing.status"))
		}
		if r.Get("createListing.listing.location.city") != "Dallas" || r.Get("createListing.listing.location.id") != firstLocation {
			t.Errorf("location %v, want the seller's first (Dallas %s)", r.Get("createListing.listing.location"), firstLocation)
		}
		var row struct {
			Status     string  `db:"status"`
			LocationID *string `db:"location_id"`
		}
		if err := api.DB.Get(&row, `SELECT status, location_id FROM listings WHERE id = $1`, r.Get("createListing.listing.id")); err != nil {
			t.Fatal(err)
		}
		if row.Status != "DRAFT" || row.LocationID == nil || *row.LocationID != firstLocation {
			t.Errorf("stored %s at %v, want DRAFT at %s", row.Status, row.LocationID, firstLocation)
		}
		if slices.Contains(mutPublicIDs(t, api), fmt.Sprint(r.Get("createListing.listing.id"))) {
			t.Errorf("a new draft is public")
		}
	})
	t.Run("zero quantity and price", func(t *testing.T) {
		r := create(f.TokenA, base(map[string]any{"quantity": 0, "priceCents": 0, "title": "Free washer"}))
		if len(r.Errors) > 0 || r.Get("createListing.listing.quantity") != float64(0) || r.Get("createListing.listing.priceCents") != float64(0) {
			t.Errorf("zero quantity and price: %s", r.Raw)
		}
	})
	t.Run("negative quantity", func(t *testing.T) {
		mutWantInvalid(t, refusedCreate(t, base(map[string]any{"quantity": -1})), "input.quantity")
	})
	t.Run("negative price", func(t *testing.T) {
		mutWantInvalid(t, refusedCreate(t, base(map[string]any{"priceCents": -100})), "input.priceCents")
	})
	t.Run("negative quantity and price", func(t *testing.T) {
		mutWantInvalid(t, refusedCreate(t, base(map[string]any{"quantity": -1, "priceCents": -1})), "input.quantity", "input.priceCents")
	})
	t.Run("blank title", func(t *testing.T) {
		mutWantInvalid(t, refusedCreate(t, base(map[string]any{"title": " "})), "input.title")
	})
	t.Run("bad currency", func(t *testing.T) {
		mutWantInvalid(t, refusedCreate(t, base(map[string]any{"currency": "euro"})), "input.currency")
	})
	t.Run("seller may not create REMOVED", func(t *testing.T) {
		r := refusedCreate(t, base(map[string]any{"status": "REMOVED"}))
		if len(r.Errors) != 1 || r.Data != nil || (r.Errors[0].Code() != "FORBIDDEN" && r.Errors[0].Code() != "BAD_USER_INPUT") {
			t.Errorf("want a refusal, got %s", r.Raw)
		}
	})
	t.Run("duplicate SKU", func(t *testing.T) {
		sku := *f.ListingA.SKU
		mutWantInvalid(t, refusedCreate(t, base(map[string]any{"sku": sku})), "input.sku")
		before := mutCount(t, api, "listings")
		mutWantInvalid(t, update(f.TokenA, f.DraftA.ID, map[string]any{"sku": sku, "title": "Renamed"}), "input.sku")
		var row struct {
			SKU   *string `db:"sku"`
			Title string  `db:"title"`
		}
		if err := api.DB.Get(&row, `SELECT sku, title FROM listings WHERE id = $1`, f.DraftA.ID); err != nil {
			t.Fatal(err)
		}
		if row.SKU == nil || *row.SKU != *f.DraftA.SKU || row.Title != f.DraftA.Title || mutCount(t, api, "listings") != before {
			t.Errorf("a refused update changed the draft: %+v", row)
		}
		// Another seller may use the same SKU.
		r := create(f.TokenB, map[string]any{"sellerId": f.SellerB.ID, "title": "Pump", "condition": "USED", "sku": sku})
		if len(r.Errors) > 0 || r.Get("createListing.listing.sku") != sku {
			t.Errorf("seller B with A's SKU: %s", r.Raw)
		}
	})
	t.Run("empty SKU is no SKU", func(t *testing.T) {
		for i := range 2 {
			r := create(f.TokenA, base(map[string]any{"sku": "", "title": fmt.Sprintf("Bolt %d", i)}))
			if len(r.Errors) > 0 || r.Get("createListing.listing.sku") != nil {
				t.Errorf("listing %d with an empty SKU: %s", i, r.Raw)
			}
		}
	})
	t.Run("currency is upper-cased", func(t *testing.T) {
		r := create(f.TokenA, base(map[string]any{"currency": "eur", "priceCents": 4500, "title": "Seal kit"}))
		if len(r.Errors) > 0 || r.Get("createListing.listing.currency") != "EUR" {
			t.Fatalf("create with eur: %s", r.Raw)
		}
		id := r.Get("createListing.listing.id")
		r = update(f.TokenA, id.(string), map[string]any{"currency": "gbp"})
		if len(r.Errors) > 0 || r.Get("updateListing.listing.currency") != "GBP" {
			t.Errorf("update with gbp: %s", r.Raw)
		}
		var stored string
		if err := api.DB.Get(&stored, `SELECT currency FROM listings WHERE id = $1`, id); err != nil || stored != "GBP" {
			t.Errorf("stored currency %q (%v), want GBP", stored, err)
		}
	})
	t.Run("empty description clears it", func(t *testing.T) {
		r := update(f.TokenA, f.DraftA.ID, map[string]any{"description": "Rebuilt in 2023"})
		if len(r.Errors) > 0 || r.Get("updateListing.listing.description") != "Rebuilt in 2023" {
			t.Fatalf("set description: %s", r.Raw)
		}
		r = update(f.TokenA, f.DraftA.ID, map[string]any{"description": ""})
		if len(r.Errors) > 0 || r.Get("updateListing.listing.description") != nil {
			t.Errorf("clear description: %s", r.Raw)
		}
		var row struct {
			Description *string `db:"description"`
			Title       string  `db:"title"`
			SKU         *string `db:"sku"`
		}
		if err := api.DB.Get(&row, `SELECT description, title, sku FROM listings WHERE id = $1`, f.DraftA.ID); err != nil {
			t.Fatal(err)
		}
		if row.Description != nil {
			t.Errorf("stored description %q, want NULL", *row.Description)
		}
		if row.Title != f.DraftA.Title || row.SKU == nil || *row.SKU != *f.DraftA.SKU {
			t.Errorf("fields left out changed: %+v", row)
		}
	})
	t.Run("update negative values", func(t *testing.T) {
		mutWantInvalid(t, update(f.TokenA, f.DraftA.ID, map[string]any{"quantity": -5, "priceCents": -5}), "input.quantity", "input.priceCents")
	})
	t.Run("update blank title", func(t *testing.T) {
		mutWantInvalid(t, update(f.TokenA, f.DraftA.ID, map[string]any{"title": ""}), "input.title")
	})
}

func TestUpdateLeadStatus(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	set := func(token, status string) gqlResponse {
		return api.post(token, mutUpdateLeadStatus, map[string]any{"id": f.LeadA, "status": status})
	}
	step := func(t *testing.T, token, status string) {
		t.Helper()
		r := set(token, status)
		if len(r.Errors) > 0 || r.Get("updateLeadStatus.lead.status") != status {
			t.Fatalf("set %s: %s", status, r.Raw)
		}
		if got := mutStatus(t, api, "leads", f.LeadA); got != status {
			t.Fatalf("stored %s, want %s", got, status)
		}
	}
	step(t, f.TokenA, "CONTACTED")
	step(t, f.TokenA, "QUALIFIED")
	step(t, f.TokenA, "SPAM")
	for _, status := range []string{"NEW", "CONTACTED", "WON"} {
		mutWantCode(t, set(f.TokenA, status), "FORBIDDEN")
		if got := mutStatus(t, api, "leads", f.LeadA); got != "SPAM" {
			t.Fatalf("the owner took the lead out of SPAM (%s)", got)
		}
	}
	mutWantCode(t, set(f.Analyst, "NEW"), "FORBIDDEN")
	step(t, f.Admin, "NEW")
	step(t, f.TokenA, "CONTACTED")
}

func TestSearchIsRecorded(t *testing.T) {
	api := newTestAPI(t, map[string]string{"EVENT_FLUSH_INTERVAL": "100ms"})
	f := api.newFixture()
	api.mustListing(f.SellerB.ID, "Water pump", store.ListingActive)
	type rec struct {
		Term        string `db:"term"`
		ResultCount int    `db:"result_count"`
	}
	records := func() []rec {
		var out []rec
		if err := api.DB.Select(&out, `SELECT term, result_count FROM search_queries ORDER BY id`); err != nil {
			t.Fatal(err)
		}
		return out
	}
	find := func(pred func(rec) bool) *rec {
		for _, r := range records() {
			if pred(r) {
				return &r
			}
		}
		return nil
	}
	search := func(term string, first int) gqlResponse {
		return api.mustPost("", `query($s: String!, $first: Int) { listings(search: $s, first: $first) { nodes { id } } }`,
			map[string]any{"s": term, "first": first})
	}

	t.Run("result count", func(t *testing.T) {
		// Two public listings match; the page holds one. The count is of all
		// matches.
		r := search("pump", 1)
		if n := len(r.Get("listings.nodes").([]any)); n != 1 {
			t.Fatalf("page of %d", n)
		}
		var got *rec
		mutEventually(t, "no search_queries row for pump", func() bool {
			got = find(func(r rec) bool { return r.Term == "pump" })
			return got != nil
		})
		if got.ResultCount != 2 {
			t.Errorf("result_count %d, want 2", got.ResultCount)
		}
	})
	t.Run("email redacted", func(t *testing.T) {
		search("call me at jane@example.com", 20)
		mutEventually(t, "no redacted search row", func() bool {
			return find(func(r rec) bool { return strings.Contains(r.Term, "[email]") }) != nil
		})
		for _, r := range records() {
			if strings.Contains(r.Term, "jane") || strings.Contains(r.Term, "example.com") || strings.Contains(r.Term, "@") {
				t.Errorf("stored term %q holds the email", r.Term)
			}
		}
	})
	t.Run("phone redacted", func(t *testing.T) {
		search("pump call +1 555 010 1234", 20)
		mutEventually(t, "no redacted phone row", func() bool {
			return find(func(r rec) bool { return strings.Contains(r.Term, "[phone]") }) != nil
		})
		for _, r := range records() {
			if strings.Contains(r.Term, "010 1234") || strings.Contains(r.Term, "5550101234") {
				t.Errorf("stored term %q holds the phone number", r.Term)
			}
		}
	})
	t.Run("zero results", func(t *testing.T) {
		if n := len(search("flux capacitor", 20).Get("listings.nodes").([]any)); n != 0 {
			t.Fatalf("flux capacitor found %d listings", n)
		}
		var got *rec
		mutEventually(t, "no search_queries row for the zero-result search", func() bool {
			got = find(func(r rec) bool { return r.Term == "flux capacitor" })
			return got != nil
		})
		if got.ResultCount != 0 {
			t.Errorf("result_count %d, want 0", got.ResultCount)
		}
	})
	t.Run("paging is not a new search", func(t *testing.T) {
		const q = `query($s: String!, $after: String, $before: String) {
			listings(search: $s, first: 1, after: $after, before: $before) { pageInfo { endCursor } } }`
		first := api.mustPost("", q, map[string]any{"s": "water pump"})
		cursor, _ := first.Get("listings.pageInfo.endCursor").(string)
		if cursor == "" {
			t.Fatalf("no cursor to page with: %v", first)
		}
		api.mustPost("", q, map[string]any{"s": "water pump", "after": cursor})
		api.mustPost("", q, map[string]any{"s": "water pump", "before": cursor})
		search("paging marker", 1) // recorded after the pages: once it is stored, so would they be
		mutEventually(t, "no search_queries row for the marker", func() bool {
			return find(func(r rec) bool { return r.Term == "paging marker" }) != nil
		})
		n := 0
		for _, r := range records() {
			if r.Term == "water pump" {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d search_queries rows for one search paged twice, want 1", n)
		}
	})
}

// TestSubmitLeadSentTwiceIsStoredOnce: the same lead (same email, listing and
// message within 24 h) is stored once and the repeat answers the first
// leadId; a different message is a new lead.
func TestSubmitLeadSentTwiceIsStoredOnce(t *testing.T) {
	api := newTestAPI(t, mutGenerousLimits)
	f := api.newFixture()
	in := mutLead(f.ListingA.ID, nil)
	before := mutCount(t, api, "leads")
	first := api.mustPost("", mutSubmitLead, map[string]any{"input": in}).Get("submitLead.leadId")
	again := api.mustPost("", mutSubmitLead, map[string]any{"input": in}).Get("submitLead.leadId")
	if first == nil || again != first {
		t.Errorf("the repeat answered leadId %v, want the first %v", again, first)
	}
	if n := mutCount(t, api, "leads") - before; n != 1 {
		t.Errorf("%d leads stored for one lead sent twice, want 1", n)
	}
	other := mutLead(f.ListingA.ID, map[string]any{"email": in["email"], "message": "And do you ship to Chile?"})
	third := api.mustPost("", mutSubmitLead, map[string]any{"input": other}).Get("submitLead.leadId")
	if third == nil || third == first {
		t.Errorf("a different message answered leadId %v, want a new lead", third)
	}
}
