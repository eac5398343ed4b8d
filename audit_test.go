package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/partsmarket/gateway/store"
)

// auditRow is one row of audit_events as the tests read it.
type auditRow struct {
	ID         string  `db:"id"`
	ActorID    *string `db:"actor_id"`
	ActorRole  *string `db:"actor_role"`
	Action     string  `db:"action"`
	TargetType string  `db:"target_type"`
	TargetID   *string `db:"target_id"`
	Changes    *string `db:"changes"`
	RequestID  *string `db:"request_id"`
	IP         *string `db:"ip"`
}

// auditEventsOf returns the audit events written by the request with id,
// oldest first.
func auditEventsOf(t *testing.T, api *testAPI, requestID string) []auditRow {
	t.Helper()
	var rows []auditRow
	err := api.DB.Select(&rows, `SELECT id, actor_id, actor_role, action, target_type, target_id, changes::text AS changes,
		request_id, ip FROM audit_events WHERE request_id = $1 ORDER BY created_at, id`, requestID)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// auditCount counts every audit event.
func auditCount(t *testing.T, api *testAPI) int {
	t.Helper()
	return mutCount(t, api, "audit_events")
}

// fixturePersonalData are the fixture's buyer and reporter values, which no
// audit event may hold.
var fixturePersonalData = []string{"Jane Buyer", "jane.buyer@example.com", "+1 555 010 1234", "Acme Mining",
	"Is this still available?", "reporter@example.org"}

// TestAuditEveryMutation: every mutation of an admin or a seller writes
// exactly one audit event, in its own transaction, naming the actor (token
// subject and role), the request id, the client's truncated IP, the action
// and the target, with before/after values and no personal data; a failed
// mutation writes none, and anonymous mutations write none.
func TestAuditEveryMutation(t *testing.T) {
	api := newTestAPI(t, map[string]string{"MEDIA_DIR": t.TempDir()})
	f := api.newFixture()
	var mediaA string
	if err := api.DB.Get(&mediaA, `SELECT id FROM media WHERE listing_id = $1 LIMIT 1`, f.ListingA.ID); err != nil {
		t.Fatal(err)
	}
	post := func(token, query string, vars map[string]any) func() gqlResponse {
		return func() gqlResponse { return api.post(token, query, vars) }
	}
	fixed := func(id string) func(gqlResponse) string { return func(gqlResponse) string { return id } }
	from := func(path string) func(gqlResponse) string {
		return func(r gqlResponse) string { s, _ := r.Get(path).(string); return s }
	}
	cases := []struct {
		name       string
		do         func() gqlResponse
		role       string // ADMIN or SELLER
		action     string
		targetType string
		target     func(gqlResponse) string
		// changes, when set, must be among the event's changes.
		changes map[string]any
	}{
		{"createSeller", post(f.Admin, mutCreateSeller, map[string]any{"input": map[string]any{"companyName": "Delta Diesel"}}),
			"ADMIN", "seller.create", "seller", from("createSeller.seller.id"),
			map[string]any{"companyName": map[string]any{"from": nil, "to": "Delta Diesel"}, "status": map[string]any{"from": nil, "to": "PENDING"}}},
		{"setSellerStatus", post(f.Admin, `mutation($id: ID!) { setSellerStatus(id: $id, status: ACTIVE) { seller { id } } }`,
			map[string]any{"id": f.Suspended.ID}),
			"ADMIN", "seller.status", "seller", fixed(f.Suspended.ID),
			map[string]any{"status": map[string]any{"from": "SUSPENDED", "to": "ACTIVE"}}},
		{"verifySeller", post(f.Admin, `mutation($id: ID!) { verifySeller(id: $id, notes: "called them") { seller { id } } }`,
			map[string]any{"id": f.SellerB.ID}),
			"ADMIN", "seller.verify", "seller", fixed(f.SellerB.ID),
			map[string]any{"verificationNotes": map[string]any{"from": "checked the registry", "to": "called them"}}},
		{"updateSellerProfile", post(f.TokenA, `mutation($id: ID!) { updateSellerProfile(id: $id, input: {description: "Since 1990",
			contacts: [{kind: EMAIL, value: "sales@alpha.example"}, {kind: PHONE, value: "+1 555 010 7777"}]}) { seller { id } } }`,
			map[string]any{"id": f.SellerA.ID}),
			"SELLER", "seller.update", "seller", fixed(f.SellerA.ID),
			map[string]any{"description": map[string]any{"from": nil, "to": "Since 1990"}, "contacts": map[string]any{"from": 1.0, "to": 2.0}}},
		{"createListing", post(f.TokenA, mutCreateListing, map[string]any{"input": map[string]any{
			"sellerId": f.SellerA.ID, "title": "Turbocharger", "condition": "NEW"}}),
			"SELLER", "listing.create", "listing", from("createListing.listing.id"),
			map[string]any{"title": map[string]any{"from": nil, "to": "Turbocharger"}}},
		{"updateListing", post(f.TokenA, mutUpdateListing, map[string]any{"id": f.ListingA.ID, "input": map[string]any{"title": "Hydraulic pump 1R-0751"}}),
			"SELLER", "listing.update", "listing", fixed(f.ListingA.ID),
			map[string]any{"title": map[string]any{"from": "Hydraulic pump 1R-0750", "to": "Hydraulic pump 1R-0751"}}},
		{"updateListing by an admin", post(f.Admin, mutUpdateListing, map[string]any{"id": f.ListingA.ID, "input": map[string]any{"quantity": 3}}),
			"ADMIN", "listing.update", "listing", fixed(f.ListingA.ID),
			map[string]any{"quantity": map[string]any{"from": nil, "to": 3.0}}},
		{"setListingStatus", post(f.TokenA, mutSetListingStatus, map[string]any{"id": f.DraftA.ID, "status": "ACTIVE"}),
			"SELLER", "listing.status", "listing", fixed(f.DraftA.ID),
			map[string]any{"status": map[string]any{"from": "DRAFT", "to": "ACTIVE"}}},
		{"removeListing", post(f.Admin, `mutation($id: ID!) { removeListing(id: $id, reason: "Counterfeit") { listing { id } } }`,
			map[string]any{"id": f.DraftB.ID}),
			"ADMIN", "listing.remove", "listing", fixed(f.DraftB.ID),
			map[string]any{"status": map[string]any{"from": "DRAFT", "to": "REMOVED"}, "removalReason": map[string]any{"from": nil, "to": "Counterfeit"}}},
		{"addListingMedia", post(f.TokenA, `mutation($id: ID!) { addListingMedia(input: {listingId: $id, url: "https://images.example.com/x.jpg"}) {
			media { id } } }`, map[string]any{"id": f.ListingA.ID}),
			"SELLER", "media.add", "media", from("addListingMedia.media.id"),
			map[string]any{"listingId": map[string]any{"from": nil, "to": f.ListingA.ID}}},
		{"removeListingMedia", post(f.TokenA, `mutation($id: ID!) { removeListingMedia(id: $id) { listing { id } } }`, map[string]any{"id": mediaA}),
			"SELLER", "media.remove", "media", fixed(mediaA),
			map[string]any{"listingId": map[string]any{"from": f.ListingA.ID, "to": nil}}},
		{"updateLeadStatus", post(f.TokenA, mutUpdateLeadStatus, map[string]any{"id": f.LeadA, "status": "CONTACTED"}),
			"SELLER", "lead.status", "lead", fixed(f.LeadA),
			map[string]any{"status": map[string]any{"from": "NEW", "to": "CONTACTED"}}},
		{"resendNotification", post(f.Admin, `mutation($id: ID!) { resendNotification(leadId: $id) { lead { id status } } }`,
			map[string]any{"id": f.LeadB}),
			"ADMIN", "notification.resend", "lead", fixed(f.LeadB), nil},
		{"importListings", func() gqlResponse {
			return api.postUpload(f.TokenB, importMutation, map[string]any{"seller": f.SellerB.ID}, "file", "stock.csv",
				[]byte("sku,title,condition\nINJ-9,Injector,NEW\n"))
		}, "SELLER", "import.create", "import_batch", from("importListings.batch.id"),
			map[string]any{"sellerId": map[string]any{"from": nil, "to": f.SellerB.ID}}},
		{"resolveReport", post(f.Admin, `mutation($id: ID!) { resolveReport(id: $id, action: REMOVE_LISTING, note: "Duplicate") {
			report { id } } }`, map[string]any{"id": f.ReportB}),
			"ADMIN", "report.resolve", "report", fixed(f.ReportB),
			map[string]any{"status": map[string]any{"from": "OPEN", "to": "ACTIONED"}, "listingStatus": map[string]any{"from": "ACTIVE", "to": "REMOVED"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := auditCount(t, api)
			resp := c.do()
			if resp.Status != http.StatusOK || len(resp.Errors) > 0 {
				t.Fatalf("%s: status %d: %s", c.name, resp.Status, resp.Raw)
			}
			rid := resp.Header.Get("X-Request-Id")
			events := auditEventsOf(t, api, rid)
			if got := auditCount(t, api) - before; got != 1 || len(events) != 1 {
				t.Fatalf("%s wrote %d audit events (%d with its request id), want 1", c.name, got, len(events))
			}
			e := events[0]
			wantActor := "test-" + strings.ToLower(c.role)
			if deref(e.ActorID) != wantActor || deref(e.ActorRole) != c.role {
				t.Errorf("actor %q/%q, want %q/%q", deref(e.ActorID), deref(e.ActorRole), wantActor, c.role)
			}
			if e.Action != c.action || e.TargetType != c.targetType || deref(e.TargetID) != c.target(resp) || deref(e.TargetID) == "" {
				t.Errorf("event %s %s/%s, want %s %s/%s", e.Action, e.TargetType, deref(e.TargetID), c.action, c.targetType, c.target(resp))
			}
			if got, want := deref(e.IP), "127.0.0.0/24"; got != want {
				t.Errorf("ip %q, want %q", got, want)
			}
			var changes map[string]any
			if e.Changes != nil {
				if err := json.Unmarshal([]byte(*e.Changes), &changes); err != nil {
					t.Fatal(err)
				}
			}
			for k, want := range c.changes {
				if got := changes[k]; fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("changes[%s] = %v, want %v (all: %s)", k, got, want, deref(e.Changes))
				}
			}
		})
	}

	t.Run("a failed mutation writes nothing", func(t *testing.T) {
		before := auditCount(t, api)
		resp := api.post(f.TokenA, mutUpdateListing, map[string]any{"id": f.ListingA.ID, "input": map[string]any{"sku": *f.DraftA.SKU}})
		mutWantCode(t, resp, "BAD_USER_INPUT")
		resp = api.post(f.Admin, `mutation($id: ID!) { resolveReport(id: $id, action: DISMISS) { report { id } } }`, map[string]any{"id": f.ReportB})
		mutWantCode(t, resp, "BAD_USER_INPUT")
		if got := auditCount(t, api) - before; got != 0 {
			t.Errorf("failed mutations wrote %d audit events, want 0", got)
		}
	})
	t.Run("anonymous mutations write nothing", func(t *testing.T) {
		before := auditCount(t, api)
		api.mustPost("", mutSubmitLead, map[string]any{"input": mutLead(f.ListingA.ID, nil)})
		api.mustPost("", mutReportListing, map[string]any{"input": map[string]any{"listingId": f.ListingA.ID, "reason": "SCAM",
			"reporterEmail": "anon.reporter@example.net", "captchaToken": "ok"}})
		if got := auditCount(t, api) - before; got != 0 {
			t.Errorf("anonymous mutations wrote %d audit events, want 0", got)
		}
	})
	t.Run("a change whose event cannot be written is rolled back", func(t *testing.T) {
		failAuditOf(t, api, "listing.update")
		resp := api.post(f.TokenA, mutUpdateListing, map[string]any{"id": f.ListingA.ID, "input": map[string]any{"title": "Never"}})
		if len(resp.Errors) != 1 || resp.Errors[0].Code() != "INTERNAL_SERVER_ERROR" {
			t.Errorf("update whose audit fails: %s, want INTERNAL_SERVER_ERROR", resp.Raw)
		}
		var title string
		if err := api.DB.Get(&title, `SELECT title FROM listings WHERE id = $1`, f.ListingA.ID); err != nil || title == "Never" {
			t.Errorf("listing title %q (%v): the change outlived its failed audit", title, err)
		}
	})
	t.Run("no personal data in the log", func(t *testing.T) {
		var dump string
		if err := api.DB.Get(&dump, `SELECT coalesce(string_agg(row_to_json(e)::text, E'\n'), '') FROM audit_events e`); err != nil {
			t.Fatal(err)
		}
		for _, v := range append(fixturePersonalData, "@") {
			if strings.Contains(dump, v) {
				t.Errorf("the audit log holds personal data %q", v)
			}
		}
	})
}

// failAuditOf makes the database refuse audit events of action from now on
// in api's database.
func failAuditOf(t *testing.T, api *testAPI, action string) {
	t.Helper()
	api.DB.MustExec(`CREATE FUNCTION test_refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION 'test: audit refused'; END $$`)
	api.DB.MustExec(`CREATE TRIGGER test_refuse_audit BEFORE INSERT ON audit_events FOR EACH ROW
		WHEN (NEW.action = '` + action + `') EXECUTE FUNCTION test_refuse_audit()`)
}

// TestAuditLogIsAppendOnly: the database itself refuses UPDATE, DELETE and
// TRUNCATE on audit_events, even for a superuser.
func TestAuditLogIsAppendOnly(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	api.mustPost(f.Admin, `mutation($id: ID!) { verifySeller(id: $id) { seller { id } } }`, map[string]any{"id": f.SellerA.ID})
	var super bool
	if err := api.DB.Get(&super, `SELECT rolsuper FROM pg_roles WHERE rolname = current_user`); err != nil {
		t.Fatal(err)
	}
	t.Logf("connected as a superuser: %t", super)
	digest := func() (n int, sum string) {
		t.Helper()
		var d struct {
			N   int    `db:"n"`
			Sum string `db:"sum"`
		}
		if err := api.DB.Get(&d, `SELECT count(*) AS n, md5(coalesce(string_agg(row_to_json(e)::text, '' ORDER BY id), '')) AS sum
			FROM audit_events e`); err != nil {
			t.Fatal(err)
		}
		return d.N, d.Sum
	}
	before, sum := digest()
	if before == 0 {
		t.Fatal("no audit events to tamper with")
	}
	for _, stmt := range []string{
		`UPDATE audit_events SET action = 'seller.nothing'`,
		`UPDATE audit_events SET actor_id = NULL WHERE action = 'seller.verify'`,
		`DELETE FROM audit_events`,
		`DELETE FROM audit_events WHERE action = 'seller.verify'`,
		`TRUNCATE audit_events`,
		`TRUNCATE audit_events CASCADE`,
	} {
		t.Run(stmt, func(t *testing.T) {
			_, err := api.DB.Exec(stmt)
			if err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("%s: error %v, want the append-only refusal", stmt, err)
			}
		})
	}
	if after, afterSum := digest(); after != before || afterSum != sum {
		t.Errorf("audit log has %d rows (digest %s) after the attempts, want %d unchanged (%s)", after, afterSum, before, sum)
	}
}

// TestAuditPersonalDataReads: an ADMIN's read of a lead's personal
// fields writes one lead.read_pii event per lead and request, however many
// fields and paths reach the lead, in one statement; reads of other fields,
// sellers' reads of their own leads and analysts' masked reads write none.
// Reporters' emails and sellers' notification emails are audited alike.
func TestAuditPersonalDataReads(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	const both = `query($a: ID!) {
		lead(id: $a) { id email phone buyerName }
		again: lead(id: $a) { email message }
		leads(first: 10) { nodes { id email company } }
		listing(id: $a) { id }
	}`
	resp := api.postWithID("pii-read-1", f.Admin, both, map[string]any{"a": f.LeadA})
	if resp.Get("lead.email") != "jane.buyer@example.com" {
		t.Fatalf("admin reads %s", resp.Raw)
	}
	events := auditEventsOf(t, api, "pii-read-1")
	var targets []string
	for _, e := range events {
		if e.Action != "lead.read_pii" || e.TargetType != "lead" || deref(e.ActorID) != "test-admin" ||
			deref(e.ActorRole) != "ADMIN" || e.Changes != nil {
			t.Errorf("event %+v, want lead.read_pii on a lead by test-admin without changes", e)
		}
		targets = append(targets, deref(e.TargetID))
	}
	slices.Sort(targets)
	want := []string{f.LeadA, f.LeadB}
	slices.Sort(want)
	if !slices.Equal(targets, want) {
		t.Errorf("read events for %v, want one for each of %v", targets, want)
	}

	t.Run("one statement for the audit", func(t *testing.T) {
		const q = `query($a: ID!) { lead(id: $a) { id status %s } }`
		api.postWithID("pii-read-plain", f.Admin, fmt.Sprintf(q, ""), map[string]any{"a": f.LeadA})
		api.postWithID("pii-read-email", f.Admin, fmt.Sprintf(q, "email"), map[string]any{"a": f.LeadA})
		plain, email := api.statementsOf("pii-read-plain"), api.statementsOf("pii-read-email")
		if email != plain+1 {
			t.Errorf("reading the email took %d statements, %d without it; want one more", email, plain)
		}
		if n := len(auditEventsOf(t, api, "pii-read-plain")); n != 0 {
			t.Errorf("reading no personal field wrote %d events, want 0", n)
		}
		if n := len(auditEventsOf(t, api, "pii-read-email")); n != 1 {
			t.Errorf("reading the email wrote %d events, want 1", n)
		}
	})
	t.Run("reports and sellers", func(t *testing.T) {
		api.mustPost(f.TokenA, setNotificationsMutation, map[string]any{"id": f.SellerA.ID,
			"input": map[string]any{"notificationEmail": "private.leads@alpha.example"}})
		r := api.postWithID("pii-read-others", f.Admin, `query($s: ID!) {
			reports(first: 10) { nodes { id reporterEmail } }
			seller(id: $s) { notificationEmail } plain: seller(id: $s) { companyName } }`,
			map[string]any{"s": f.SellerA.ID})
		if len(r.Errors) > 0 {
			t.Fatal(r.Raw)
		}
		var got []string
		for _, e := range auditEventsOf(t, api, "pii-read-others") {
			got = append(got, e.Action+" "+e.TargetType+" "+deref(e.TargetID))
		}
		slices.Sort(got)
		want := []string{"report.read_pii report " + f.ReportA, "report.read_pii report " + f.ReportB,
			"seller.read_pii seller " + f.SellerA.ID}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("events %v, want %v", got, want)
		}
	})
	t.Run("no data leaves unaudited", func(t *testing.T) {
		failAuditOf(t, api, "lead.read_pii")
		r := api.post(f.Admin, `query($a: ID!) { lead(id: $a) { email } }`, map[string]any{"a": f.LeadA})
		if len(r.Errors) != 1 || r.Errors[0].Code() != "INTERNAL_SERVER_ERROR" || r.Data != nil || strings.Contains(r.Raw, "example.com") {
			t.Errorf("read whose audit fails: %s, want no data and INTERNAL_SERVER_ERROR", r.Raw)
		}
	})
	t.Run("sellers and analysts are not audited", func(t *testing.T) {
		api.postWithID("pii-read-seller", f.TokenA, `query($a: ID!) { lead(id: $a) { email } }`, map[string]any{"a": f.LeadA})
		api.postWithID("pii-read-analyst", f.Analyst, `query($a: ID!) { lead(id: $a) { email } }`, map[string]any{"a": f.LeadA})
		for _, rid := range []string{"pii-read-seller", "pii-read-analyst"} {
			if n := len(auditEventsOf(t, api, rid)); n != 0 {
				t.Errorf("%s wrote %d events, want 0", rid, n)
			}
		}
	})
}

// TestAuditEventsQuery: auditEvents is ADMIN only, pages newest first with
// opaque cursors, and filters by actor, action, target and time.
func TestAuditEventsQuery(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	dbNow := func() time.Time {
		t.Helper()
		var now time.Time
		if err := api.DB.Get(&now, `SELECT clock_timestamp()`); err != nil {
			t.Fatal(err)
		}
		return now
	}
	start := dbNow()
	for _, title := range []string{"One", "Two", "Three"} {
		api.mustPost(f.TokenA, mutUpdateListing, map[string]any{"id": f.ListingA.ID, "input": map[string]any{"title": title}})
	}
	api.mustPost(f.Admin, `mutation($id: ID!) { setSellerStatus(id: $id, status: PENDING) { seller { id } } }`, map[string]any{"id": f.SellerB.ID})
	mid := dbNow()
	api.mustPost(f.Admin, `mutation($id: ID!) { verifySeller(id: $id) { seller { id } } }`, map[string]any{"id": f.SellerB.ID})

	const q = `query($filter: AuditEventFilter, $first: Int, $after: String) {
		auditEvents(filter: $filter, first: $first, after: $after) {
			totalCount
			edges { cursor node { id actorId actorRole action targetType targetId changes requestId ip createdAt } }
			nodes { id }
			pageInfo { hasNextPage endCursor }
		} }`
	type node struct {
		ID, Action, TargetID, ActorID, ActorRole, CreatedAt string
		Changes                                             map[string]any
	}
	all := func(token string, filter map[string]any, first int) (nodes []node, total int) {
		t.Helper()
		var after any
		for page := 0; ; page++ {
			r := api.mustPost(token, q, map[string]any{"filter": filter, "first": first, "after": after})
			total = int(r.Get("auditEvents.totalCount").(float64))
			edges := r.Get("auditEvents.edges").([]any)
			if len(edges) > first {
				t.Fatalf("page of %d edges, want at most %d", len(edges), first)
			}
			for _, e := range edges {
				n := e.(map[string]any)["node"].(map[string]any)
				str := func(k string) string { s, _ := n[k].(string); return s }
				ch, _ := n["changes"].(map[string]any)
				nodes = append(nodes, node{ID: str("id"), Action: str("action"), TargetID: str("targetId"), ActorID: str("actorId"),
					ActorRole: str("actorRole"), CreatedAt: str("createdAt"), Changes: ch})
			}
			if r.Get("auditEvents.pageInfo.hasNextPage") != true {
				return nodes, total
			}
			after = r.Get("auditEvents.pageInfo.endCursor")
			if page > 100 {
				t.Fatal("endless pages")
			}
		}
	}

	t.Run("newest first, every row once", func(t *testing.T) {
		nodes, total := all(f.Admin, nil, 2)
		if len(nodes) != total || total < 5 {
			t.Fatalf("%d nodes over the pages, totalCount %d", len(nodes), total)
		}
		seen := map[string]bool{}
		for i, n := range nodes {
			if seen[n.ID] {
				t.Errorf("event %s twice", n.ID)
			}
			seen[n.ID] = true
			if i > 0 && n.CreatedAt > nodes[i-1].CreatedAt {
				t.Errorf("event %d (%s) is newer than event %d (%s)", i, n.CreatedAt, i-1, nodes[i-1].CreatedAt)
			}
		}
		if nodes[0].Action != "seller.verify" || nodes[0].ActorRole != "ADMIN" || nodes[0].ActorID != "test-admin" {
			t.Errorf("newest event %+v, want the admin's seller.verify", nodes[0])
		}
	})
	t.Run("filters", func(t *testing.T) {
		for _, c := range []struct {
			name    string
			filter  map[string]any
			actions []string
		}{
			{"action", map[string]any{"action": "listing.update"}, []string{"listing.update", "listing.update", "listing.update"}},
			{"actor", map[string]any{"actorId": "test-admin"}, []string{"seller.verify", "seller.status"}},
			{"target", map[string]any{"targetType": "seller", "targetId": f.SellerB.ID, "from": start.Format(time.RFC3339Nano)},
				[]string{"seller.verify", "seller.status"}},
			{"time window", map[string]any{"from": start.Format(time.RFC3339Nano), "to": mid.Format(time.RFC3339Nano)},
				[]string{"seller.status", "listing.update", "listing.update", "listing.update"}},
			{"no match", map[string]any{"action": "listing.update", "actorId": "test-admin"}, nil},
		} {
			t.Run(c.name, func(t *testing.T) {
				nodes, total := all(f.Admin, c.filter, 2)
				var got []string
				for _, n := range nodes {
					got = append(got, n.Action)
				}
				if !slices.Equal(got, c.actions) || total != len(c.actions) {
					t.Errorf("got %v (totalCount %d), want %v", got, total, c.actions)
				}
			})
		}
		nodes, _ := all(f.Admin, map[string]any{"action": "listing.update"}, 10)
		if ch := nodes[0].Changes["title"]; fmt.Sprint(ch) != "map[from:Two to:Three]" {
			t.Errorf("newest listing.update changes title %v, want Two to Three", ch)
		}
	})
	t.Run("bad paging", func(t *testing.T) {
		other := api.mustPost(f.Admin, `{ reports(first: 1) { pageInfo { endCursor } } }`, nil)
		for _, vars := range []map[string]any{{"first": 0}, {"first": 101}, {"after": "not-a-cursor"},
			{"after": other.Get("reports.pageInfo.endCursor")}} {
			r := api.post(f.Admin, q, vars)
			if len(r.Errors) != 1 || r.Errors[0].Code() != "BAD_USER_INPUT" || r.Data["auditEvents"] != nil {
				t.Errorf("%v: %s, want auditEvents null and BAD_USER_INPUT", vars, r.Raw)
			}
		}
	})
	t.Run("admin only", func(t *testing.T) {
		for name, token := range map[string]string{"anonymous": "", "seller": f.TokenA, "analyst": f.Analyst} {
			r := api.post(token, q, map[string]any{"first": 5})
			if len(r.Errors) != 1 || r.Errors[0].Code() != refusalFor(token) || r.Data["auditEvents"] != nil {
				t.Errorf("%s: %s, want auditEvents null and %s", name, r.Raw, refusalFor(token))
			}
		}
	})
}

// TestModeration: reports(filter) for admins, sellers seeing reports about
// their own listings without the reporter's identity, and a listing removed
// by a report without a note still telling its seller why.
func TestModeration(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	const reports = `query($filter: ReportFilter) { reports(filter: $filter, first: 50) { totalCount nodes { id reason status
		details listing { id } } } }`
	ids := func(r gqlResponse) []string {
		var out []string
		for _, n := range r.Get("reports.nodes").([]any) {
			out = append(out, n.(map[string]any)["id"].(string))
		}
		slices.Sort(out)
		return out
	}
	sorted := func(s ...string) []string { slices.Sort(s); return s }
	for _, c := range []struct {
		name   string
		token  string
		filter map[string]any
		want   []string
	}{
		{"admin, all", f.Admin, nil, sorted(f.ReportA, f.ReportB)},
		{"admin, by seller", f.Admin, map[string]any{"sellerId": f.SellerB.ID}, []string{f.ReportB}},
		{"admin, by status and reason", f.Admin, map[string]any{"status": "OPEN", "reason": "DUPLICATE"}, sorted(f.ReportA, f.ReportB)},
		{"admin, other reason", f.Admin, map[string]any{"reason": "SCAM"}, nil},
		{"admin, by listing", f.Admin, map[string]any{"listingId": f.ListingA.ID}, []string{f.ReportA}},
		{"seller, its own only", f.TokenA, nil, []string{f.ReportA}},
		{"seller, another seller's", f.TokenA, map[string]any{"sellerId": f.SellerB.ID}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := api.mustPost(c.token, reports, map[string]any{"filter": c.filter})
			if got := ids(r); !slices.Equal(got, c.want) || r.Get("reports.totalCount") != float64(len(c.want)) {
				t.Errorf("got %v (totalCount %v), want %v", got, r.Get("reports.totalCount"), c.want)
			}
		})
	}
	t.Run("seller never sees the reporter", func(t *testing.T) {
		r := api.post(f.TokenA, `{ reports { nodes { id details reporterEmail } } }`, nil)
		if r.Get("reports.nodes.0.details") != "Looks like a duplicate" || r.Get("reports.nodes.0.reporterEmail") != nil {
			t.Errorf("seller reads %s", r.Raw)
		}
		if len(r.Errors) != 1 || r.Errors[0].Code() != "FORBIDDEN" || strings.Contains(r.Raw, "reporter@example.org") {
			t.Errorf("seller's read of reporterEmail: %s, want one FORBIDDEN and no email", r.Raw)
		}
	})
	t.Run("removal without a note tells the seller why", func(t *testing.T) {
		api.mustPost(f.Admin, `mutation($id: ID!) { resolveReport(id: $id, action: REMOVE_LISTING) { report { id } } }`,
			map[string]any{"id": f.ReportA})
		r := api.mustPost(f.TokenA, `query($id: ID!) { listing(id: $id) { status removalReason } }`, map[string]any{"id": f.ListingA.ID})
		if r.Get("listing.status") != "REMOVED" || r.Get("listing.removalReason") != "Removed after a report (DUPLICATE)" {
			t.Errorf("seller reads %s", r.Raw)
		}
		if r := api.post("", `query($id: ID!) { listing(id: $id) { id } }`, map[string]any{"id": f.ListingA.ID}); len(r.Errors) != 1 ||
			r.Errors[0].Code() != "NOT_FOUND" {
			t.Errorf("the removed listing for the public: %s, want NOT_FOUND", r.Raw)
		}
	})
	t.Run("verifySeller", func(t *testing.T) {
		s, err := api.Store.CreateSeller(t.Context(), store.NewSeller{Slug: "echo-engines", CompanyName: "Echo Engines"})
		if err != nil {
			t.Fatal(err)
		}
		r := api.mustPost(f.Admin, `mutation($id: ID!) { verifySeller(id: $id, notes: "registry ok") { seller { id verified verificationNotes } } }`,
			map[string]any{"id": s.ID})
		if r.Get("verifySeller.seller.verified") != true || r.Get("verifySeller.seller.verificationNotes") != "registry ok" {
			t.Errorf("verifySeller: %s", r.Raw)
		}
		mutWantCode(t, api.post(f.TokenA, `mutation($id: ID!) { verifySeller(id: $id) { seller { id } } }`, map[string]any{"id": s.ID}), "FORBIDDEN")
		mutWantCode(t, api.post(f.Admin, `mutation($id: ID!) { verifySeller(id: $id) { seller { id } } }`, map[string]any{"id": uuid.NewString()}), "NOT_FOUND")
	})
}
