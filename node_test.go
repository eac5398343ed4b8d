package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// nodeQuery reads any node with a field of each type, the personal ones
// included (masked for analysts).
const nodeQuery = `query($id: ID!) { node(id: $id) { __typename id
	... on Seller { companyName } ... on Listing { title } ... on Lead { email }
	... on ListingReport { reason } ... on ImportBatch { mode } ... on Media { url } ... on AuditEvent { action } } }`

// nodeFixture is one row of each Node type, and the typed field (if any)
// that reads it, for the comparison of access rules.
type nodeCase struct {
	name, id, typename string
	typed              string // a query of the typed field with $id, or ""
	// visible lists the principals that may see the row.
	visible map[string]bool
}

// TestNodeAccess: node(id) answers every type under the typed fields' access
// rules, for every principal; a hidden row answers exactly like a missing
// one; nodes(ids) answers the same, in order, with one batch of reads.
func TestNodeAccess(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	var mediaA, mediaDraft, batchA, auditID string
	api.DB.Get(&mediaA, `SELECT id FROM media WHERE listing_id = $1`, f.ListingA.ID)
	api.DB.Get(&mediaDraft, `SELECT id FROM media WHERE listing_id = $1`, f.DraftA.ID)
	api.DB.Get(&batchA, `INSERT INTO import_batches (seller_id, mode, status, file_key) VALUES ($1, 'UPSERT', 'PARTIAL', 'k') RETURNING id`, f.SellerA.ID)
	api.DB.Get(&auditID, `SELECT id FROM audit_events ORDER BY created_at DESC, id DESC LIMIT 1`)
	if mediaA == "" || mediaDraft == "" || batchA == "" || auditID == "" {
		t.Fatal("fixture rows missing")
	}
	tokens := map[string]string{"anonymous": "", "seller A": f.TokenA, "seller B": f.TokenB, "admin": f.Admin, "analyst": f.Analyst}
	all := map[string]bool{"anonymous": true, "seller A": true, "seller B": true, "admin": true, "analyst": true}
	ownerAndStaff := map[string]bool{"seller A": true, "admin": true, "analyst": true}
	cases := []nodeCase{
		{"active seller", f.SellerA.ID, "Seller", `query($id: ID!) { seller(id: $id) { id } }`, all},
		{"suspended seller", f.Suspended.ID, "Seller", `query($id: ID!) { seller(id: $id) { id } }`,
			map[string]bool{"admin": true, "analyst": true}},
		{"active listing", f.ListingA.ID, "Listing", `query($id: ID!) { listing(id: $id) { id } }`, all},
		{"draft listing", f.DraftA.ID, "Listing", `query($id: ID!) { listing(id: $id) { id } }`, ownerAndStaff},
		{"lead", f.LeadA, "Lead", `query($id: ID!) { lead(id: $id) { id } }`, ownerAndStaff},
		{"report", f.ReportA, "ListingReport", "", ownerAndStaff},
		{"import batch", batchA, "ImportBatch", `query($id: ID!) { importBatch(id: $id) { id } }`, ownerAndStaff},
		{"media of an active listing", mediaA, "Media", "", all},
		{"media of a draft", mediaDraft, "Media", "", ownerAndStaff},
		{"audit event", auditID, "AuditEvent", `query { auditEvents(first: 100) { nodes { id } } }`, map[string]bool{"admin": true}},
	}
	missing := uuid.NewString()
	for who, token := range tokens {
		want := api.post(token, nodeQuery, map[string]any{"id": missing})
		if want.Get("node") != nil || len(want.Errors) != 1 || want.Errors[0].Code() != "NOT_FOUND" {
			t.Fatalf("%s: a missing id: %s, want null and NOT_FOUND", who, want.Raw)
		}
		missingErr := errorsJSON(t, want)
		for _, c := range cases {
			r := api.post(token, nodeQuery, map[string]any{"id": c.id})
			if c.visible[who] {
				if len(r.Errors) > 0 || r.Get("node.id") != c.id || r.Get("node.__typename") != c.typename {
					t.Errorf("%s, %s: got %s, want the %s", who, c.name, r.Raw, c.typename)
				}
			} else if r.Get("node") != nil || errorsJSON(t, r) != missingErr {
				t.Errorf("%s, %s: got %s, want exactly the answer to a missing id %s", who, c.name, r.Raw, missingErr)
			}
			if c.typed != "" {
				typed := api.post(token, c.typed, map[string]any{"id": c.id})
				if seen := strings.Contains(typed.Raw, c.id); seen != c.visible[who] {
					t.Errorf("%s, %s: the typed field sees it %v, node %v: %s", who, c.name, seen, c.visible[who], typed.Raw)
				}
			}
		}
	}
	// The masks apply on the node path too.
	if got := api.post(f.Analyst, nodeQuery, map[string]any{"id": f.LeadA}).Get("node.email"); got != "j***@***.com" {
		t.Errorf("analyst reads a lead's email through node as %v, want it masked", got)
	}
	if got := api.post(f.TokenA, nodeQuery, map[string]any{"id": f.LeadA}).Get("node.email"); got != "jane.buyer@example.com" {
		t.Errorf("the owning seller reads a lead's email through node as %v, want it in clear", got)
	}

	// nodes: every case and a missing id in one call, per principal.
	ids := []string{missing}
	for _, c := range cases {
		ids = append(ids, c.id)
	}
	nodesQuery := strings.Replace(nodeQuery, "($id: ID!) { node(id: $id)", "($ids: [ID!]!) { nodes(ids: $ids)", 1)
	for who, token := range tokens {
		r := api.post(token, nodesQuery, map[string]any{"ids": ids})
		got, _ := r.Get("nodes").([]any)
		if len(got) != len(ids) {
			t.Fatalf("%s: nodes: %s", who, r.Raw)
		}
		notFound := map[string]bool{}
		for _, e := range r.Errors {
			if e.Code() != "NOT_FOUND" {
				t.Errorf("%s: nodes: error %+v, want NOT_FOUND only", who, e)
			}
			notFound[e.PathString()] = true
		}
		for i, id := range ids {
			visible := i > 0 && cases[i-1].visible[who]
			n, _ := got[i].(map[string]any)
			switch {
			case visible && (n == nil || n["id"] != id):
				t.Errorf("%s: nodes[%d]: got %v, want %s", who, i, got[i], id)
			case !visible && (n != nil || !notFound[fmt.Sprintf("nodes.%d", i)]):
				t.Errorf("%s: nodes[%d]: got %v (errors %s), want null with NOT_FOUND at its index", who, i, got[i], r.Raw)
			}
		}
	}

	// Batched: ten listings cost the statements of two.
	statements := func(id string, n int) int {
		list := make([]string, n)
		for i := range list {
			list[i] = f.ListingA.ID
			if i%2 == 1 {
				list[i] = f.ListingB.ID
			}
		}
		r := api.postLimits(id, f.Admin, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": list}, nil)
		if len(r.Errors) > 0 {
			t.Fatalf("nodes: %s", r.Raw)
		}
		return api.statementsOf(id)
	}
	two, ten := statements("nodes-2", 2), statements("nodes-10", 10)
	t.Logf("nodes of 2 listings: %d SQL statements; of 10: %d", two, ten)
	if two != ten || two == 0 {
		t.Errorf("nodes of 2 listings ran %d statements, of 10 %d: want the same, more than 0", two, ten)
	}

	// Ids that are not UUIDs are bad input naming the argument; so are
	// more than 100.
	for _, c := range []struct {
		query string
		vars  map[string]any
		field string
	}{
		{nodeQuery, map[string]any{"id": "not-a-uuid"}, "id"},
		{nodesQuery, map[string]any{"ids": []string{f.ListingA.ID, "42"}}, "ids"},
		{nodesQuery, map[string]any{"ids": strings.Split(strings.Repeat(f.ListingA.ID+",", 101)[:101*37-1], ",")}, "ids"},
	} {
		r := api.post(f.Admin, c.query, c.vars)
		if len(r.Errors) != 1 || r.Errors[0].Code() != "BAD_USER_INPUT" || !strings.HasPrefix(r.Errors[0].Field(), c.field) {
			t.Errorf("%v: got %s, want BAD_USER_INPUT on %s", c.vars, r.Raw, c.field)
		}
	}
}

// errorsJSON returns a response's errors as JSON, for comparing two answers.
func errorsJSON(t *testing.T, r gqlResponse) string {
	t.Helper()
	var out struct {
		Errors json.RawMessage `json:"errors"`
	}
	if err := json.Unmarshal([]byte(r.Raw), &out); err != nil {
		t.Fatal(err)
	}
	return string(out.Errors)
}
